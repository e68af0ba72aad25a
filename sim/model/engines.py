"""Engines that simulate a batch of runs of one scenario structure.

Every engine takes scenarios that share their structure (the same powers, states, events and
period; only numbers differ) and one seed per run, and returns the recorded variables with a
leading batch axis. The Mesa engine runs :class:`sim.model.mesa_model.GreatGameModel` once per run;
other engines register themselves in :data:`ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module

from sim.input.scenario import Scenario
from sim.model.ensemble import ensemble_engine
from sim.model.metrics import Batch

__all__ = ["ENGINES", "Engine", "get_engine", "simulate"]

Engine = Callable[[Sequence[Scenario], Sequence[int]], Batch]
"""An engine: one scenario and one seed per run in, the batch of recorded variables out."""


ENGINES: dict[str, Engine | str] = {
    "mesa": "sim.model.mesa_model:mesa_engine",
    "ensemble": ensemble_engine,
}
"""Engine name to function, or to ``"module:function"`` for an engine imported on first use (the
Mesa engine: importing Mesa costs a second, and only ``--engine mesa`` needs it)."""


def get_engine(name: str) -> Engine:
    """The engine function of a name in :data:`ENGINES`, imported if need be.

    Raises:
        ValueError: For an unknown engine.
    """
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
    found = ENGINES[name]
    if isinstance(found, str):
        module, function = found.split(":")
        found = ENGINES[name] = getattr(import_module(module), function)
    return found


def simulate(scenarios: Sequence[Scenario], seeds: Sequence[int], engine: str = "mesa") -> Batch:
    """Simulate a batch of runs with the named engine.

    Args:
        scenarios: One scenario per run, all of one structure.
        seeds: One seed per run.
        engine: A key of :data:`ENGINES`.

    Returns:
        The batch.

    Raises:
        ValueError: For an unknown engine or mismatched lengths.
    """
    run = get_engine(engine)
    if len(scenarios) != len(seeds) or not scenarios:
        raise ValueError(f"expected one seed per scenario, found {len(scenarios)} and {len(seeds)}")
    return run(scenarios, seeds)
