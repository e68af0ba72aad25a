"""Sweeps: specs, designs, executors, chunked storage, the sweep itself and its indices.

``spec`` (the spec file), ``designs`` (grid, LHS, Sobol, Morris), ``executors`` (serial, process
pool, Dask), ``store`` (chunked atomic storage), ``run`` (orchestration and resume) and
``analysis`` (Sobol and Morris indices, tables only). Imports :mod:`sim.input`,
:mod:`sim.model` and :mod:`sim.results`.
"""
