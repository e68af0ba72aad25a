"""What the model records and what is derived from it: pure functions of recorded state.

Recorded variables (:data:`RECORDED`), the record of runs (:class:`Batch`, one run a batch of one),
influence, primary patrons, hedging, summary metrics, and observables that can be checked
against the world. The observable so far is the predicted vote of each state on a UN General
Assembly resolution condemning Russia:

The predicted vote of each state on a UN General Assembly resolution condemning Russia:

- ``absent`` when the state's neutrality doctrine is at least ``absent_neutrality`` (it avoids
  taking sides at all, as Turkmenistan does);
- ``yes`` when its alignment with the West (the mean over ``west`` powers) exceeds its alignment
  with Russia by more than ``yes_margin``;
- ``no`` when its alignment with Russia exceeds that with the West by more than ``no_margin``;
- ``abstain`` otherwise.

The thresholds are assumptions (see ``docs/ODD.md``): a state votes against Moscow only when it
leans West on balance, and votes with Moscow only when it is a near-client with little Western
tie; everything between is an abstention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import numpy as np

from sim.model.dynamics import (
    REMITTANCES,
    FloatArray,
    IndexArray,
    IntArray,
    WorldState,
    deployed,
    hedging_index,
)

__all__ = [
    "DERIVED",
    "RECORDED",
    "VOTES",
    "Answered",
    "Batch",
    "EventRecord",
    "VoteRule",
    "influence",
    "predicted_vote",
    "primary_patron",
    "snapshot",
    "summarize",
]

RECORDED: dict[str, str] = {
    "alignment": "state-power",
    "trust": "state-power",
    "threat": "state-power",
    "dependence": "state-power",
    "credibility": "power",
    "attention": "power",
    "stance": "state-power",
    "participation": "state-power",
    "request": "state-power",
    "offer": "state-power",
    "sanctions": "state-power",
    "response": "state-power",
    "remittances": "state",
}
"""Variables recorded every month and their index kind."""
DERIVED: dict[str, str] = {
    "hedging": "state",
    "primary_patron": "state-power",
    "influence": "power",
}
"""Variables derived from the recorded ones (:meth:`Batch.derived`) and their index kind."""


def snapshot(state: WorldState, channel_weights: FloatArray) -> dict[str, FloatArray]:
    """The recorded variables of a state, each with its batch axis.

    Args:
        state: The world state.
        channel_weights: ``(B, K)`` weights giving overall dependence.

    Returns:
        ``alignment``, ``trust``, ``threat``, ``dependence``, ``stance`` (-1 distance, 0
        neutral, +1 rapprochement), ``participation`` (in the power's blocs: the state's
        ``membership``) and ``request`` (the answer to the state's latest call for help under
        the power it asked: +1 honoured, -1 refused, 0 not asked) and ``offer`` (the answer to
        each power's latest package: +1 accepted, -1 refused, 0 none offered) and ``sanctions``
        (the stance toward the sanctions on the power: -1 comply, 0 stay out, +1 facilitate)
        and ``response`` (the power's response to the state's drift, chosen for the next
        month: +1 courts, -1 punishes, 0 ignores) as ``(B, S, P)``;
        ``credibility`` and ``attention`` (deployed, with opportunistic entry:
        ``dynamics.deployed``) as ``(B, P)``; ``remittances`` (the remittance dependence summed
        over the powers, read in per cent of GDP by ``greatgame observe``) as ``(B, S)``.
    """
    return {
        "alignment": state.alignment.copy(),
        "trust": state.trust.copy(),
        "threat": state.threat.copy(),
        "dependence": np.einsum("bspk,bk->bsp", state.dependence, channel_weights),
        "credibility": state.credibility.copy(),
        "attention": deployed(state),
        "stance": state.stance.copy(),
        "participation": state.membership.copy(),
        "request": state.request.copy(),
        "offer": state.offer.copy(),
        "sanctions": state.sanctions_stance.copy(),
        "response": state.response.copy(),
        "remittances": state.dependence[..., REMITTANCES].sum(axis=-1),
    }


def primary_patron(alignment: FloatArray) -> IndexArray:
    """Index of the power each state is most aligned with (ties: first in file order).

    Args:
        alignment: ``(..., S, P)``.

    Returns:
        ``(..., S)`` integer power indices.
    """
    return np.argmax(alignment, axis=-1)


def influence(alignment: FloatArray, population: FloatArray) -> FloatArray:
    """Regional influence of each power: population-weighted mean alignment toward it.

    Args:
        alignment: ``(..., S, P)``.
        population: ``(S,)`` populations.

    Returns:
        ``(..., P)`` in [0, 1].
    """
    total = population.sum()
    w = population / total if total > 0 else np.full(len(population), 1.0 / len(population))
    out: FloatArray = np.einsum("...sp,s->...p", alignment, w)
    return out


class Answered(TypedDict):
    """One answer an event put to an agent, as the event log keeps it (:class:`EventRecord`).

    Attributes:
        state: The calling state, or the state offered a package.
        power: The power the state asked (``""``: it asked nobody), or the offering power.
        kind: ``call`` (a call for help, or a side's call in a border war) or ``offer``.
        yes: Whether the asked power answered the call, or the state accepted the package
            (False where nobody was asked).
    """

    state: str
    power: str
    kind: str
    yes: bool


class EventRecord(TypedDict):
    """One entry of a run's event log (see :class:`sim.model.mesa_model.GreatGameModel`).

    Attributes:
        step: Months after ``meta.start`` when the event fired.
        date: Its ``YYYY-MM`` month.
        id: Event id from the scenario.
        type: Event type.
        magnitude: Its magnitude.
        outcome: What came of it (which powers honoured a call for help; for a decision, the
            stance taken), or ``""``.
        who: The actors' ids (for a decision, the deciding state).
        why: For a decision, the numbers behind it; ``""`` for a scenario event.
        answers: For a scenario event that put decisions to agents (a crisis, a call for help,
            a border war, a package), each answer, in the order of ``outcome`` (the
            structured form of its text; ``answers.csv`` of a results folder).
    """

    step: int
    date: str
    id: str
    type: str
    magnitude: float
    outcome: str
    who: str
    why: str
    answers: NotRequired[list[Answered]]


def summarize(
    values: dict[str, FloatArray],
    population: FloatArray,
    states: list[str],
    powers: list[str],
) -> dict[str, FloatArray]:
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
    out: dict[str, FloatArray] = {}
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


@dataclass
class Batch:
    """The record of one or more runs of one scenario structure: the one run record.

    Every engine returns one (a single run is a batch of one); the results folder's long table
    (:func:`sim.results.tables.long_table`) and a sweep's rows are built from it.

    Attributes:
        seeds: Seed of each run, ``(B,)``.
        dates: ``YYYY-MM`` label of each record: record ``t`` is the state at the end of that
            month, so record 0 (the initial state) is dated the month before ``meta.start``.
        states: State ids.
        powers: Power ids.
        population: ``(S,)`` populations in millions (from the first scenario).
        values: Recorded variable (:data:`RECORDED`) to ``(B, T + 1, S, P)`` or
            ``(B, T + 1, P)`` array.
        events: Each run's event log (empty lists when the engine logs none).
    """

    seeds: IntArray
    dates: list[str]
    states: list[str]
    powers: list[str]
    population: FloatArray
    values: dict[str, FloatArray]
    events: list[list[EventRecord]] = field(default_factory=list)

    @property
    def n_runs(self) -> int:
        """Number of runs, ``B``."""
        return len(self.seeds)

    def derived(self) -> dict[str, FloatArray]:
        """Variables derived from the recorded ones (:data:`DERIVED`).

        Returns:
            ``hedging`` ``(B, T + 1, S)``, ``primary_patron`` as a 0/1 indicator
            ``(B, T + 1, S, P)`` and ``influence`` ``(B, T + 1, P)``.
        """
        a = self.values["alignment"]
        patron = primary_patron(a)
        indicator = (patron[..., None] == np.arange(a.shape[-1])).astype(float)
        return {
            "hedging": hedging_index(a),
            "primary_patron": indicator,
            "influence": influence(a, self.population),
        }

    def summary(self) -> dict[str, FloatArray]:
        """Summary metrics per run (see :func:`sim.model.metrics.summarize`)."""
        return summarize(self.values, self.population, self.states, self.powers)

    @classmethod
    def concat(cls, batches: Sequence[Batch]) -> Batch:
        """Join batches of one scenario structure along the batch axis, in order."""
        first = batches[0]
        return cls(
            seeds=np.concatenate([b.seeds for b in batches]),
            dates=first.dates,
            states=first.states,
            powers=first.powers,
            population=first.population,
            values={k: np.concatenate([b.values[k] for b in batches]) for k in first.values},
            events=[log for b in batches for log in b.events],
        )


VOTES: tuple[str, ...] = ("yes", "abstain", "no", "absent")
"""Possible votes, in the order used for codes."""


@dataclass(frozen=True)
class VoteRule:
    """Parameters of the vote rule (assumptions, with plausible ranges in the docstrings).

    Attributes:
        target: Power the resolution condemns.
        west: Powers whose mean alignment counts as alignment with the West.
        yes_margin: West minus target alignment above which a state votes yes (range 0-0.2).
        no_margin: Target minus West alignment above which a state votes no (range 0.6-0.8).
        absent_neutrality: Neutrality at or above which a state does not vote (range 0.3-0.6).
    """

    target: str = "russia"
    west: tuple[str, ...] = ("usa", "eu")
    yes_margin: float = 0.1
    no_margin: float = 0.7
    absent_neutrality: float = 0.4


def predicted_vote(
    alignment: FloatArray,
    powers: Sequence[str],
    neutrality: FloatArray,
    rule: VoteRule = VoteRule(),
) -> IntArray:
    """Predicted vote of each state (codes into :data:`VOTES`).

    Args:
        alignment: ``(..., S, P)`` alignment.
        powers: Power ids along the last axis.
        neutrality: ``(S,)`` neutrality of each state.
        rule: The rule's parameters.

    Returns:
        ``(..., S)`` integer codes: 0 yes, 1 abstain, 2 no, 3 absent.

    Raises:
        ValueError: If the target or western powers are not in ``powers``.
    """
    missing = [p for p in (rule.target, *rule.west) if p not in powers]
    if missing:
        raise ValueError(f"vote rule needs powers {missing}, not in this scenario")
    target = alignment[..., list(powers).index(rule.target)]
    west = alignment[..., [list(powers).index(p) for p in rule.west]].mean(axis=-1)
    margin = west - target
    codes = np.where(margin > rule.yes_margin, 0, np.where(-margin > rule.no_margin, 2, 1))
    return np.where(np.asarray(neutrality) >= rule.absent_neutrality, 3, codes)
