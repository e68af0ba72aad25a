"""Compile a validated scenario for the engines: arrays, events and noise.

The arrays are those of :mod:`sim.model.dynamics` (a batch of one run); events get their ids
resolved to indices; :func:`draw_noise` draws all the noise of a run, the one place both engines
take it from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.input.modelparams import model_parameters
from sim.input.scenario import CHANNELS, EVENT_RULES, PROFILED, ModelParams, Scenario
from sim.model.dynamics import (
    FloatArray,
    Params,
    ShockProfile,
    WorldState,
    planned_reliability,
    response_name,
    stance_name,
    status_quo,
)
from sim.model.metrics import EventRecord
from sim.model.noise import standard_normals

__all__ = [
    "PROFILE_FIELDS",
    "CompiledEvent",
    "Reader",
    "compile_events",
    "compile_run",
    "decision_record",
    "draw_noise",
    "event_magnitudes",
    "event_record",
    "exit_record",
    "initial_state",
    "model_arrays",
    "response_record",
    "sanctions_record",
    "shock_profiles",
    "to_params",
]


@dataclass(frozen=True)
class CompiledEvent:
    """An event with ids resolved to array indices.

    Attributes:
        id: Event id from the scenario.
        step: Months after ``meta.start`` when it fires (before that month's step).
        kind: Event type.
        actors: Indices of acting powers or states.
        targets: Indices of target powers or states.
        magnitude: Magnitude from the scenario.
        variable: Power variable for ``power_shock``.
        onset: For ``power_shock`` and ``sanctions``, months to full effect (``Event.onset``).
        persistence: For those, months at full effect after the onset.
        decay: For those, share of the remaining shock that fades each month after.
        who: The ids of the actors, comma-separated (the ``who`` of ``events.csv``).
    """

    id: str
    step: int
    kind: str
    actors: tuple[int, ...]
    targets: tuple[int, ...]
    magnitude: float
    variable: str | None
    onset: float = 0.0
    persistence: float = 0.0
    decay: float = 0.0
    who: str = ""


def event_record(
    event: CompiledEvent,
    date: str,
    magnitude: float,
    calls: Sequence[tuple[int, int, bool, bool]],
    states: Sequence[str],
    powers: Sequence[str],
) -> EventRecord:
    """One run's log entry for an event that fired (the same text from every engine).

    Args:
        event: The event.
        date: Its ``YYYY-MM`` month.
        magnitude: Its magnitude in this run.
        calls: The decisions the event led to in this run (``dynamics.Answer``): for a crisis,
            a call for help or a border war, the calling state, the power it asked (-1: nobody),
            whether that power answered and False; for an aid package or an arms deal, the
            state offered it, the offering power, whether the state accepted and True.
        states: State ids.
        powers: Power ids.

    Returns:
        The entry of ``events.csv``; its outcome reads, for instance, ``kazakhstan asks russia:
        honoured``, ``kazakhstan asks nobody`` or ``kazakhstan accepts; kyrgyzstan refuses``,
        and where the event put decisions to agents its ``answers`` give them structured
        (:class:`sim.model.metrics.Answered`).
    """
    record: EventRecord = {
        "step": event.step,
        "date": date,
        "id": event.id,
        "type": event.kind,
        "magnitude": magnitude,
        "outcome": "; ".join(
            f"{states[s]} {'accepts' if ok else 'refuses'}"
            if offer
            else f"{states[s]} asks "
            + ("nobody" if p < 0 else f"{powers[p]}: {'honoured' if ok else 'refused'}")
            for s, p, ok, offer in calls
        ),
        "who": event.who,
        "why": "",
    }
    if calls:
        record["answers"] = [
            {
                "state": states[s],
                "power": "" if p < 0 else powers[p],
                "kind": "offer" if offer else "call",
                "yes": bool(ok),
            }
            for s, p, ok, offer in calls
        ]
    return record


def _decision(
    step: int, date: str, kind: str, magnitude: float, outcome: str, who: str, why: str
) -> EventRecord:
    """A state's decision as an entry of ``events.csv`` (type ``decision``, id ``kind``)."""
    return {
        "step": step,
        "date": date,
        "id": kind,
        "type": "decision",
        "magnitude": magnitude,
        "outcome": outcome,
        "who": who,
        "why": why,
    }


def decision_record(
    step: int, date: str, state: str, power: str, stance: float, pull: float, cost: float
) -> EventRecord:
    """One run's log entry for a change of a state's public stance (same text from every engine).

    Args:
        step: Month of the decision (months after ``meta.start``).
        date: Its ``YYYY-MM`` month.
        state: The deciding state's id.
        power: The power the stance is toward.
        stance: The new stance, -1, 0 or +1.
        pull: ``a*_judged - a0``, how far the state's judgement of the power has moved.
        cost: The cost of a stance in the direction of the pull.

    Returns:
        The entry of ``events.csv`` (type ``decision``, id ``stance``).
    """
    name = stance_name(stance)
    what = "neutral toward" if name == "neutral" else f"{name} {'from' if stance < 0 else 'with'}"
    why = f"target moved {pull:+.3f} from the start against a cost of {cost:.3f}"
    return _decision(step, date, "stance", float(stance), f"{what} {power}", state, why)


def exit_record(
    step: int, date: str, state: str, power: str, start: float, threshold: float
) -> EventRecord:
    """One run's log entry for a state leaving a power's blocs (same text from every engine).

    Args:
        step: Month of the decision (months after ``meta.start``).
        date: Its ``YYYY-MM`` month.
        state: The leaving state's id.
        power: The power whose blocs it leaves.
        start: Its initial participation in them, ``m0``.
        threshold: The run's ``exit_threshold``.

    Returns:
        The entry of ``events.csv`` (type ``decision``, id ``exit``).
    """
    why = (
        f"kept its distance until its participation fell below {threshold:.2f} of its "
        f"initial {start:.3f}"
    )
    return _decision(step, date, "exit", 0.0, f"leaves the blocs of {power}", state, why)


def sanctions_record(
    step: int, date: str, state: str, power: str, stance: float, margin: float
) -> EventRecord:
    """One run's log entry for a change of a state's stance toward the sanctions on a power.

    Args:
        step: Month of the decision (months after ``meta.start``).
        date: Its ``YYYY-MM`` month.
        state: The deciding state's id.
        power: The sanctioned power.
        stance: The new stance, -1 (comply), 0 (stay out) or +1 (facilitate).
        margin: The net gain of facilitating the power's trade
            (:func:`sim.model.dynamics.choose_sanctions_stance`).

    Returns:
        The entry of ``events.csv`` (type ``decision``, id ``sanctions``).
    """
    what = {
        -1.0: f"complies with the sanctions on {power}",
        0.0: f"stays out of the sanctions on {power}",
        1.0: f"facilitates the trade of {power}",
    }[float(stance)]
    why = f"trade to gain net of the sanctioners' risk {margin:+.3f}"
    return _decision(step, date, "sanctions", float(stance), what, state, why)


def response_record(
    step: int, date: str, power: str, state: str, response: float, court: float, punish: float
) -> EventRecord:
    """One run's log entry for a change of a power's response to a state's drift.

    Args:
        step: Month of the decision (months after ``meta.start``).
        date: Its ``YYYY-MM`` month.
        power: The deciding power's id.
        state: The state it responds to.
        response: The new response, +1 (court), -1 (punish) or 0 (ignore).
        court: The one-month gain of courting the state, net of the money's return elsewhere.
        punish: The one-month gain of punishing it
            (:func:`sim.model.dynamics.choose_response`); both exactly 0 where the state's
            drift is below ``model.response_threshold`` (nothing was weighed).

    Returns:
        The entry of ``events.csv`` (type ``decision``, id ``response``).
    """
    what = f"{response_name(response)} {state}"
    if court == punish == 0.0:  # below model.response_threshold: not weighed at all
        why = "its drift is below the response threshold"
    else:
        why = f"gain of courting {court:+.3g}, of punishing {punish:+.3g}"
    return _decision(step, date, "response", float(response), what, power, why)


def _membership(sc: Scenario) -> FloatArray:
    """Share of a power's blocs that the state also belongs to, ``(S, P)``."""
    out = np.zeros((len(sc.states), len(sc.powers)))
    for i, s in enumerate(sc.states):
        for j, p in enumerate(sc.powers):
            if p.memberships:
                out[i, j] = len(set(s.memberships) & set(p.memberships)) / len(set(p.memberships))
    return out


def _peers(sc: Scenario) -> FloatArray:
    """Row-normalised neighbour matrix; a state with no neighbours listed watches all others."""
    ids = sc.state_ids
    n = len(ids)
    out = np.zeros((n, n))
    for i, s in enumerate(sc.states):
        for nid in s.neighbours:
            out[i, ids.index(nid)] = 1.0
        if not out[i].any() and n > 1:
            out[i] = 1.0
            out[i, i] = 0.0
    rows = out.sum(axis=1, keepdims=True)
    return np.divide(out, rows, out=np.zeros_like(out), where=rows > 0)


_PREFIX = {None: "", "weights": "w_"}
"""Array name prefix of the numbers of each group of ``ModelParams`` (None: not in a group)."""
_VECTOR = "channel_weights"
"""The group that becomes one array over ``CHANNELS``, normalised to sum 1."""


class Reader:
    """Reads a scenario's numbers into arrays with a leading batch axis of ``n`` runs.

    Every number is the scenario's own, except the numbers of ``swept``: a swept path (the
    dotted id path of :func:`sim.input.params.collect_numbers`, such as
    ``powers.russia.credibility``) takes its ``(n,)`` values, one a run. So one compile of a base
    scenario gives a whole batch of parameter points, each exactly as if its values had been
    written into the scenario (the arrays are built by the same operations), without validating
    or converting a scenario per point. With nothing swept and ``n = 1`` it is a plain compile.

    Args:
        swept: Path to its values, ``(n,)`` each.
        n: Runs in the batch (the length of every swept array).

    Attributes:
        used: The swept paths that the compile read (a swept path it never reads is one the
            arrays do not depend on; :func:`sim.model.ensemble.prepare_swept` refuses it).
    """

    def __init__(self, swept: Mapping[str, FloatArray] | None = None, n: int = 1) -> None:
        self.swept = dict(swept or {})
        self.n = n
        self.used: set[str] = set()
        for path, values in self.swept.items():
            if np.shape(values) != (n,):
                raise ValueError(f"{path}: expected {n} values, found shape {np.shape(values)}")

    def array(self, values: Any, paths: Callable[[], Any] | str | None = None) -> FloatArray:
        """The array of ``values`` with the batch axis in front, swept entries filled in.

        Args:
            values: A number or a nested list of numbers, as the scenario gives them.
            paths: The path of a single number, or a function that returns the path of every
                entry, nested like ``values`` (None where an entry is no scenario number, e.g. a
                default); only called when something is swept.

        Returns:
            ``(n, *shape of values)`` floats.
        """
        base = np.asarray(values, dtype=float)
        out = np.broadcast_to(base, (self.n, *base.shape)).copy()
        if self.swept and paths is not None:
            names = paths if isinstance(paths, str) else paths()
            for index, path in np.ndenumerate(np.asarray(names, dtype=object)):
                got = self.swept.get(path) if isinstance(path, str) else None
                if got is not None:
                    out[(slice(None), *index)] = got
                    self.used.add(path)
        return out


def model_arrays(model: ModelParams, reader: Reader | None = None) -> dict[str, FloatArray]:
    """The ``model:`` section as arrays of :class:`~sim.model.dynamics.Params`.

    Derived from the schema (:func:`sim.input.modelparams.model_parameters`), so a new field of
    ``ModelParams`` needs no code here: a number ``x`` becomes ``params.x`` and a score weight
    ``weights.x`` becomes ``params.w_x``, each of shape ``(B,)``; the channel weights become one
    array ``params.channel_weights``, in ``CHANNELS`` order and normalised to sum 1, ``(B, K)``.

    Args:
        model: The scenario's ``model:`` section (a subclass of ``ModelParams`` works too).
        reader: Reads the numbers (default: a batch of one, nothing swept).

    Returns:
        Array name to array.

    Raises:
        TypeError: For a group of ``ModelParams`` that no rule here turns into arrays.
    """
    read = reader or Reader()
    out: dict[str, FloatArray] = {}
    for p in model_parameters(type(model)):
        if p.group == _VECTOR:
            continue
        prefix = _PREFIX.get(p.group)
        if prefix is None:
            raise TypeError(
                f"{p.path}: no rule turns the group model.{p.group} into arrays; add one to "
                "sim.model.compile.model_arrays"
            )
        out[prefix + p.name] = read.array(p.value_of(model), p.path)
    cw = read.array(
        [getattr(model.channel_weights, c) for c in CHANNELS],
        lambda: [f"model.{_VECTOR}.{c}" for c in CHANNELS],
    )
    out[_VECTOR] = cw / cw.sum(axis=-1, keepdims=True)
    return out


def to_params(
    sc: Scenario, start: WorldState | None = None, reader: Reader | None = None
) -> Params:
    """Fixed parameters of a batch of runs of one scenario, status quo calibrated.

    The model parameters come from :func:`model_arrays`, everything else from the scenario's
    powers and states.

    Args:
        sc: A validated scenario.
        start: Its :func:`initial_state` (read by the same ``reader``), when the caller has it
            already (else built here).
        reader: Reads the numbers (default: a batch of one run, nothing swept).

    Returns:
        The parameters as arrays.
    """
    read = reader or Reader()
    pids, sids = sc.power_ids, sc.state_ids
    states, powers = sc.states, sc.powers
    strat = [p.strategy for p in powers]

    def per_state(field: str) -> FloatArray:
        return read.array(
            [getattr(s, field) for s in states], lambda: [f"states.{s.id}.{field}" for s in states]
        )

    def per_strategy(field: str) -> FloatArray:
        return read.array(
            [getattr(s, field) for s in strat],
            lambda: [f"powers.{p.id}.strategy.{field}" for p in powers],
        )

    start = start if start is not None else initial_state(sc, read)
    russian = per_state("ethnic_russian_share")
    kin = _per_power(sc, read, "kin_minority_weight")
    border = _state_power(sc, read, "border", 0.0)
    zeros = read.array(np.zeros((len(sids), len(pids))))
    params = Params(
        a0=start.alignment.copy(),  # the initial state's arrays: read once, for both
        dep0=start.dependence.copy(),
        budget=_per_power(sc, read, "monthly_budget"),
        mix=_lever_mix(sc, read),
        courting=per_strategy("courting"),
        threat_intensity=per_strategy("threat_intensity"),
        responsiveness=per_strategy("responsiveness"),
        decides=read.array([float(s.response == "decide") for s in strat]),
        entry_response=per_strategy("entry_response"),
        priority=_priorities(sc, read),
        rivalry=read.array(
            [[q.rivalry.get(p, 0.0) for p in pids] for q in powers],
            lambda: [[f"powers.{q.id}.rivalry.{p}" for p in pids] for q in powers],
        ),
        gdp_month=per_state("gdp") * 1000.0 / 12.0,
        exposure=1.0
        - (1.0 - border) * (1.0 - np.clip(russian[:, :, None] * kin[:, None, :], 0.0, 1.0)),
        affinity=_state_power(sc, read, "affinity", 0.0),
        neutrality=per_state("neutrality"),
        peers=read.array(_peers(sc)),
        trust0=start.trust.copy(),
        threat0=start.threat.copy(),
        base_aid=zeros,
        base_security=zeros,
        base_courting=zeros,
        base_threats=zeros,
        base_returns=read.array(np.zeros((len(pids), 3))),
        base_state_returns=zeros,
        residual=zeros,
        reliability0=planned_reliability(start),
        membership0=start.membership.copy(),
        model=model_arrays(sc.model, read),
    )
    return status_quo(params, start)


_LEVERS = ("aid", "security", "rhetoric")
_RESPONSE = {"court": 1.0, "punish": -1.0}
"""The fixed responses to drift, as ``WorldState.response`` codes (``ignore`` and ``decide``
start at 0: nothing has drifted yet)."""
"""The fields of ``LeverMix``, in the order of ``Params.mix`` and ``WorldState.mix``."""


def _lever_mix(sc: Scenario, read: Reader) -> FloatArray:
    """Each power's lever mix from the scenario, ``(B, P, 3)``."""
    strat = [p.strategy for p in sc.powers]
    return read.array(
        [[s.lever_mix.aid, s.lever_mix.security, s.lever_mix.rhetoric] for s in strat],
        lambda: [[f"powers.{p.id}.strategy.lever_mix.{k}" for k in _LEVERS] for p in sc.powers],
    )


def _state_power(
    sc: Scenario, read: Reader, field: str, default: float | None = None
) -> FloatArray:
    """A state field keyed by power (``alignment``, ``border``...), ``(B, S, P)``."""
    pids = sc.power_ids
    return read.array(
        [[getattr(s, field).get(p, default) for p in pids] for s in sc.states],
        lambda: [[f"states.{s.id}.{field}.{p}" for p in pids] for s in sc.states],
    )


def _per_power(sc: Scenario, read: Reader, field: str) -> FloatArray:
    """A power's own field (``credibility``, ``monthly_budget``...), ``(B, P)``."""
    return read.array(
        [getattr(p, field) for p in sc.powers],
        lambda: [f"powers.{p.id}.{field}" for p in sc.powers],
    )


def _priorities(sc: Scenario, read: Reader) -> FloatArray:
    """Each power's priority for each state, ``(n, S, P)`` (1 where the scenario gives none)."""
    sids = sc.state_ids
    return read.array(
        [[p.strategy.priorities.get(sid, 1.0) for p in sc.powers] for sid in sids],
        lambda: [[f"powers.{p.id}.strategy.priorities.{sid}" for p in sc.powers] for sid in sids],
    )


def initial_state(sc: Scenario, reader: Reader | None = None) -> WorldState:
    """State at the start of ``meta.start`` of a batch of runs of one scenario.

    Args:
        sc: A validated scenario.
        reader: Reads the numbers (default: a batch of one run, nothing swept).

    Returns:
        The initial state.
    """
    read = reader or Reader()
    pids = sc.power_ids
    n_s, n_p = len(sc.states), len(pids)
    dependence = read.array(
        [[[getattr(s.dependence[p], c) for c in CHANNELS] for p in pids] for s in sc.states],
        lambda: [
            [[f"states.{s.id}.dependence.{p}.{c}" for c in CHANNELS] for p in pids]
            for s in sc.states
        ],
    )
    return WorldState(
        alignment=_state_power(sc, read, "alignment"),
        trust=_state_power(sc, read, "trust"),
        threat=_state_power(sc, read, "threat"),
        dependence=dependence,
        membership=read.array(_membership(sc)),
        exited=read.array(np.zeros((n_s, n_p))),
        stance=read.array(np.zeros((n_s, n_p))),
        request=read.array(np.zeros((n_s, n_p))),
        offer=read.array(np.zeros((n_s, n_p))),
        sanctions=read.array(np.zeros((n_p, n_p))),
        routes=read.array(np.zeros((n_s, n_p))),
        sanctions_stance=read.array(np.zeros((n_s, n_p))),
        response=read.array(
            [[_RESPONSE.get(p.strategy.response, 0.0) for p in sc.powers] for _ in range(n_s)]
        ),
        insecurity=read.array(np.zeros(n_s)),
        credibility=_per_power(sc, read, "credibility"),
        capacity=_per_power(sc, read, "military_capacity"),
        attention=_per_power(sc, read, "attention"),
        entry=read.array(np.zeros(n_p)),
        budget_factor=read.array(np.ones(n_p)),
        mix=_lever_mix(sc, read),
        weights=_priorities(sc, read),
        extra_aid=read.array(np.zeros((n_s, n_p))),
        extra_security=read.array(np.zeros((n_s, n_p))),
    )


def event_magnitudes(events: Sequence[CompiledEvent], reader: Reader) -> FloatArray:
    """Each run's magnitude of each compiled event, ``(B, E)``."""
    return reader.array(
        [e.magnitude for e in events], lambda: [f"events.{e.id}.magnitude" for e in events]
    )


PROFILE_FIELDS = ("onset", "persistence", "decay")
"""The fields of a power shock's time profile (:class:`sim.model.dynamics.ShockProfile`)."""


def shock_profiles(events: Sequence[CompiledEvent], reader: Reader) -> dict[int, ShockProfile]:
    """Each run's time profile of each power shock that has one, by index into ``events``.

    A shock at full effect at once and for ever in every run (no ``onset``, no ``decay``) is left
    out: :func:`sim.model.dynamics.apply_event` applies it whole and nothing moves it after.

    Args:
        events: Compiled events.
        reader: The batch's reader (swept ``events.{id}.onset`` and so on filled in).

    Returns:
        ``{event index: profile with (B,) arrays}``.
    """
    out = {}
    for e, ev in enumerate(events):
        if ev.kind in PROFILED:
            arrays = [reader.array(getattr(ev, f), f"events.{ev.id}.{f}") for f in PROFILE_FIELDS]
            profile = ShockProfile(*arrays)
            if not profile.is_step():
                out[e] = profile
    return out


def compile_events(sc: Scenario) -> list[CompiledEvent]:
    """Enabled events with indices resolved, in firing order (date, then file order).

    Args:
        sc: A validated scenario.

    Returns:
        The events, sorted stably by step.
    """
    pids, sids = sc.power_ids, sc.state_ids
    out = []
    for ev in sc.events:
        if not ev.enabled:
            continue
        rule = EVENT_RULES[ev.type.value]
        actor_ids = sids if rule["actors"] == "state" else pids
        target_ids = sids if rule["targets"] == "state" else pids
        out.append(
            CompiledEvent(
                id=ev.id,
                step=sc.step_of(ev.date),
                kind=ev.type.value,
                actors=tuple(actor_ids.index(a) for a in ev.actors),
                targets=tuple(target_ids.index(t) for t in ev.targets),
                magnitude=ev.magnitude,
                variable=ev.variable,
                onset=ev.onset,
                persistence=ev.persistence,
                decay=ev.decay,
                who=", ".join(ev.actors),
            )
        )
    return sorted(out, key=lambda e: e.step)


def draw_noise(seed: int, n_steps: int, states: Sequence[str], powers: Sequence[str]) -> FloatArray:
    """All the noise a run uses, ``(n_steps, states, powers)`` standard normals in scenario order.

    The noise is counter-based (:func:`sim.model.noise.standard_normals`, a batch of one run):
    the normal at (month, state, power) is a function of the seed, the month and the ranks of the
    state and the power among the *sorted* ids only, computed by Philox4x32-10 keyed by the seed.
    So each (month, state, power) gets the same number whatever the order of powers and states
    in the YAML and however many months are simulated, and the ensemble engine, which computes
    the noise of a whole batch with the same function (:func:`sim.model.ensemble.noise_blocks`),
    reproduces the run exactly.

    Args:
        seed: The run's seed, in [0, 2**64).
        n_steps: Months simulated.
        states: State ids in scenario order.
        powers: Power ids in scenario order.

    Returns:
        ``(n_steps, len(states), len(powers))`` standard normals, in scenario order.
    """
    block: FloatArray = standard_normals([seed], n_steps, states, powers)[0]
    return block


def compile_run(sc: Scenario) -> tuple[Params, WorldState]:
    """The parameters and the initial state of one run, the state built once for both."""
    start = initial_state(sc)
    return to_params(sc, start), start
