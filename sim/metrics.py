"""Named reporters and derived observables: pure functions of recorded state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.dynamics import WorldState, hedging_index

__all__ = [
    "RECORDED",
    "Trajectory",
    "influence",
    "primary_patron",
    "snapshot",
    "stack",
    "summarize",
]

RECORDED: dict[str, str] = {
    "alignment": "state-power",
    "trust": "state-power",
    "threat": "state-power",
    "dependence": "state-power",
    "credibility": "power",
}
"""Variables recorded every month and their index kind."""


def snapshot(state: WorldState, channel_weights: np.ndarray) -> dict[str, np.ndarray]:
    """The recorded variables of a state, each with its batch axis.

    Args:
        state: The world state.
        channel_weights: ``(B, K)`` weights giving overall dependence.

    Returns:
        ``alignment``, ``trust``, ``threat``, ``dependence`` as ``(B, S, P)`` and ``credibility``
        as ``(B, P)``.
    """
    return {
        "alignment": state.alignment.copy(),
        "trust": state.trust.copy(),
        "threat": state.threat.copy(),
        "dependence": np.einsum("bspk,bk->bsp", state.dependence, channel_weights),
        "credibility": state.credibility.copy(),
    }


def primary_patron(alignment: np.ndarray) -> np.ndarray:
    """Index of the power each state is most aligned with (ties: first in file order).

    Args:
        alignment: ``(..., S, P)``.

    Returns:
        ``(..., S)`` integer power indices.
    """
    return np.argmax(alignment, axis=-1)


def influence(alignment: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Regional influence of each power: population-weighted mean alignment toward it.

    Args:
        alignment: ``(..., S, P)``.
        population: ``(S,)`` populations.

    Returns:
        ``(..., P)`` in [0, 1].
    """
    total = population.sum()
    w = population / total if total > 0 else np.full(len(population), 1.0 / len(population))
    return np.einsum("...sp,s->...p", alignment, w)


@dataclass
class Trajectory:
    """The recorded history of one run.

    Attributes:
        seed: The run's seed.
        dates: ``YYYY-MM`` label of each record: record ``t`` is the state at the end of that
            month, so record 0 (the initial state) is dated the month before ``meta.start``.
        states: State ids.
        powers: Power ids.
        population: ``(S,)`` populations in millions.
        values: Variable name to array ``(T + 1, S, P)`` or ``(T + 1, P)``.
        events: Event log entries (dicts).
    """

    seed: int
    dates: list[str]
    states: list[str]
    powers: list[str]
    population: np.ndarray
    values: dict[str, np.ndarray]
    events: list[dict] = field(default_factory=list)

    def derived(self) -> dict[str, np.ndarray]:
        """Derived variables of the run.

        Returns:
            ``hedging`` ``(T + 1, S)``, ``primary_patron`` as a 0/1 indicator ``(T + 1, S, P)``
            and ``influence`` ``(T + 1, P)``.
        """
        a = self.values["alignment"]
        patron = primary_patron(a)
        indicator = (patron[..., None] == np.arange(a.shape[-1])).astype(float)
        return {
            "hedging": hedging_index(a),
            "primary_patron": indicator,
            "influence": influence(a, self.population),
        }


def summarize(
    values: dict[str, np.ndarray],
    population: np.ndarray,
    states: list[str],
    powers: list[str],
) -> dict[str, np.ndarray]:
    """Summary metrics of a batch of runs, one number per run each.

    Metric names:

    - ``alignment_end.<state>.<power>``: alignment at the end of the last month;
    - ``alignment_change.<state>.<power>``: end minus initial alignment;
    - ``hedging_end.<state>``: hedging index at the end;
    - ``influence_end.<power>``: regional influence (population-weighted alignment) at the end;
    - ``hedging_mean_change``: mean over states of the change in hedging index.

    Args:
        values: Recorded variables with batch and time axes, ``alignment`` as ``(B, T + 1, S, P)``.
        population: ``(S,)`` populations.
        states: State ids.
        powers: Power ids.

    Returns:
        Metric name to ``(B,)`` array, in a fixed order.
    """
    a = values["alignment"]
    first, last = a[:, 0], a[:, -1]
    hedge_first, hedge_last = hedging_index(first), hedging_index(last)
    infl = influence(last, population)
    out: dict[str, np.ndarray] = {}
    for i, s in enumerate(states):
        for j, p in enumerate(powers):
            out[f"alignment_end.{s}.{p}"] = last[:, i, j]
    for i, s in enumerate(states):
        for j, p in enumerate(powers):
            out[f"alignment_change.{s}.{p}"] = last[:, i, j] - first[:, i, j]
    for i, s in enumerate(states):
        out[f"hedging_end.{s}"] = hedge_last[:, i]
    for j, p in enumerate(powers):
        out[f"influence_end.{p}"] = infl[:, j]
    out["hedging_mean_change"] = (hedge_last - hedge_first).mean(axis=1)
    return out


def stack(trajectories: list[Trajectory]) -> dict[str, np.ndarray]:
    """Stack the recorded variables of runs of one scenario along a leading batch axis."""
    return {k: np.stack([t.values[k] for t in trajectories]) for k in trajectories[0].values}
