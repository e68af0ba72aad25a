"""Calibration: ABC-SMC of a scenario's assumption parameters against the pre-2022 record.

``abc`` (the sampler, for batch simulators), ``record`` (the yearly UN agreement record and its
observation equation), ``spec`` (the calibration spec file) and ``run`` (the folder, resume and
posterior draws). Imports :mod:`sim.input`, :mod:`sim.model`, :mod:`sim.results` and
:mod:`sim.sweep` (the spec's parameter checks).
"""
