"""Engines that simulate a batch of runs of one scenario structure.

Every engine takes scenarios that share their structure (the same powers, states, events and
period; only numbers differ) and one seed per run, and returns the recorded variables with a
leading batch axis. The Mesa engine runs :class:`sim.model.GreatGameModel` once per run; other
engines register themselves in :data:`ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.ensemble import ensemble_engine
from sim.metrics import stack, summarize
from sim.model import GreatGameModel
from sim.scenario import Scenario

__all__ = ["ENGINES", "Batch", "mesa_engine", "simulate"]


@dataclass
class Batch:
    """Recorded variables of a batch of runs.

    Attributes:
        seeds: Seed of each run, ``(B,)``.
        dates: ``YYYY-MM`` label of each record (see :class:`sim.metrics.Trajectory`).
        states: State ids.
        powers: Power ids.
        population: ``(S,)`` populations (from the first scenario).
        values: Variable name to ``(B, T + 1, S, P)`` or ``(B, T + 1, P)`` array.
    """

    seeds: np.ndarray
    dates: list[str]
    states: list[str]
    powers: list[str]
    population: np.ndarray
    values: dict[str, np.ndarray]

    def summary(self) -> dict[str, np.ndarray]:
        """Summary metrics per run (see :func:`sim.metrics.summarize`)."""
        return summarize(self.values, self.population, self.states, self.powers)


def mesa_engine(scenarios: Sequence[Scenario], seeds: Sequence[int]) -> Batch:
    """Run each (scenario, seed) pair with the Mesa model.

    Args:
        scenarios: One scenario per run.
        seeds: One seed per run.

    Returns:
        The batch.
    """
    runs = [
        GreatGameModel(sc, rng=int(seed)).run() for sc, seed in zip(scenarios, seeds, strict=True)
    ]
    first = runs[0]
    return Batch(
        seeds=np.array([r.seed for r in runs], dtype=np.int64),
        dates=first.dates,
        states=first.states,
        powers=first.powers,
        population=first.population,
        values=stack(runs),
    )


ENGINES: dict[str, Callable[[Sequence[Scenario], Sequence[int]], Batch]] = {
    "mesa": mesa_engine,
    "ensemble": ensemble_engine,
}
"""Engine name to function; ``simulate`` looks engines up here."""


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
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if len(scenarios) != len(seeds) or not scenarios:
        raise ValueError(f"expected one seed per scenario, found {len(scenarios)} and {len(seeds)}")
    return ENGINES[engine](scenarios, seeds)
