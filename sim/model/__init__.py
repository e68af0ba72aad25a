"""The model: equations, noise, compilation, recorded variables and the engines that run them.

``dynamics`` (the equations on arrays), ``noise`` (the counter-based noise of a batch), ``compile``
(scenario to arrays, events and each run's noise), ``metrics`` (recorded variables, observables,
hedging, ``Batch``), ``ensemble`` (the vectorised engine, no Mesa), ``mesa_model`` (agents and
model: the one Mesa adapter) and ``engines`` (the registry and ``simulate``). Imports only
:mod:`sim.input`; only ``mesa_model`` imports Mesa.
"""
