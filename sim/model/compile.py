"""Compile a validated scenario for the engines: arrays, events and noise.

The arrays are those of :mod:`sim.model.dynamics` (a batch of one run); events get their ids
resolved to indices; :func:`draw_noise` draws all the noise of a run, the one place both engines
take it from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.input.modelparams import model_parameters
from sim.input.scenario import CHANNELS, EVENT_RULES, ModelParams, Scenario, Strategy
from sim.model.dynamics import FloatArray, Params, WorldState, status_quo
from sim.model.metrics import EventRecord

__all__ = [
    "CompiledEvent",
    "compile_events",
    "compile_run",
    "draw_noise",
    "initial_state",
    "model_arrays",
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
    """

    id: str
    step: int
    kind: str
    actors: tuple[int, ...]
    targets: tuple[int, ...]
    magnitude: float
    variable: str | None


def event_record(
    event: CompiledEvent,
    date: str,
    magnitude: float,
    honoured: dict[int, bool],
    powers: Sequence[str],
) -> EventRecord:
    """One run's log entry for an event that fired (the same text from every engine).

    Args:
        event: The event.
        date: Its ``YYYY-MM`` month.
        magnitude: Its magnitude in this run.
        honoured: For a call for help, whether each asked power (by index) honoured it.
        powers: Power ids.

    Returns:
        The entry of ``events.csv``.
    """
    return {
        "step": event.step,
        "date": date,
        "id": event.id,
        "type": event.kind,
        "magnitude": magnitude,
        "outcome": "; ".join(
            f"{'honoured' if ok else 'not honoured'} by {powers[p]}" for p, ok in honoured.items()
        ),
    }


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


def model_arrays(model: ModelParams) -> dict[str, FloatArray]:
    """The ``model:`` section as arrays of :class:`~sim.model.dynamics.Params` (batch of one).

    Derived from the schema (:func:`sim.input.modelparams.model_parameters`), so a new field of
    ``ModelParams`` needs no code here: a number ``x`` becomes ``params.x`` and a score weight
    ``weights.x`` becomes ``params.w_x``, each of shape ``(1,)``; the channel weights become one
    array ``params.channel_weights``, in ``CHANNELS`` order and normalised to sum 1, ``(1, K)``.

    Args:
        model: The scenario's ``model:`` section (a subclass of ``ModelParams`` works too).

    Returns:
        Array name to array.

    Raises:
        TypeError: For a group of ``ModelParams`` that no rule here turns into arrays.
    """
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
        out[prefix + p.name] = np.array([p.value_of(model)])
    cw = np.array([getattr(model.channel_weights, c) for c in CHANNELS])
    out[_VECTOR] = (cw / cw.sum())[None]
    return out


def to_params(sc: Scenario, start: WorldState | None = None) -> Params:
    """Fixed parameters of one run (batch axis of length 1), status quo calibrated.

    The model parameters come from :func:`model_arrays`, everything else from the scenario's
    powers and states.

    Args:
        sc: A validated scenario.
        start: Its :func:`initial_state`, when the caller has it already (else built here).

    Returns:
        The parameters as arrays.
    """
    pids, sids = sc.power_ids, sc.state_ids
    n_p = len(pids)
    a0 = np.array([[s.alignment[p] for p in pids] for s in sc.states])
    dep0 = np.array(
        [[[getattr(s.dependence[p], c) for c in CHANNELS] for p in pids] for s in sc.states]
    )
    russian = np.array([s.ethnic_russian_share for s in sc.states])
    kin = np.array([p.kin_minority_weight for p in sc.powers])
    border = np.array([[s.border.get(p, 0.0) for p in pids] for s in sc.states])
    rivalry = np.zeros((n_p, n_p))
    for q, power in enumerate(sc.powers):
        for pid, w in power.rivalry.items():
            rivalry[q, pids.index(pid)] = w
    strat = [p.strategy for p in sc.powers]
    zeros = np.zeros((1, len(sids), n_p))
    params = Params(
        a0=a0[None],
        dep0=dep0[None],
        budget=np.array([[p.monthly_budget for p in sc.powers]]),
        mix=np.array(
            [[[s.lever_mix.aid, s.lever_mix.security, s.lever_mix.rhetoric] for s in strat]]
        ),
        courting=np.array([[s.courting for s in strat]]),
        threat_intensity=np.array([[s.threat_intensity for s in strat]]),
        court_response=np.array([[_response(s, "court") for s in strat]]),
        punish_response=np.array([[_response(s, "punish") for s in strat]]),
        priority=np.array([[[s.priorities.get(sid, 1.0) for s in strat] for sid in sids]]),
        rivalry=rivalry[None],
        gdp_month=np.array([[s.gdp * 1000.0 / 12.0 for s in sc.states]]),
        exposure=np.clip(border + russian[:, None] * kin[None, :], 0.0, 1.0)[None],
        affinity=np.array([[[s.affinity.get(p, 0.0) for p in pids] for s in sc.states]]),
        neutrality=np.array([[s.neutrality for s in sc.states]]),
        peers=_peers(sc)[None],
        trust0=np.array([[[s.trust[p] for p in pids] for s in sc.states]]),
        threat0=np.array([[[s.threat[p] for p in pids] for s in sc.states]]),
        base_aid=zeros,
        base_security=zeros,
        base_courting=zeros,
        base_threats=zeros,
        residual=zeros,
        model=model_arrays(sc.model),
    )
    return status_quo(params, start if start is not None else initial_state(sc))


def _response(strategy: Strategy, kind: str) -> float:
    return strategy.responsiveness if strategy.response == kind else 0.0


def initial_state(sc: Scenario) -> WorldState:
    """State at the start of ``meta.start`` (batch axis of length 1).

    Args:
        sc: A validated scenario.

    Returns:
        The initial state.
    """
    pids = sc.power_ids
    n_s, n_p = len(sc.states), len(pids)

    def grid(field: str) -> FloatArray:
        return np.array([[getattr(s, field)[p] for p in pids] for s in sc.states])[None]

    dep = np.array(
        [[[getattr(s.dependence[p], c) for c in CHANNELS] for p in pids] for s in sc.states]
    )
    return WorldState(
        alignment=grid("alignment"),
        trust=grid("trust"),
        threat=grid("threat"),
        dependence=dep[None],
        membership=_membership(sc)[None],
        insecurity=np.zeros((1, n_s)),
        credibility=np.array([[p.credibility for p in sc.powers]]),
        capacity=np.array([[p.military_capacity for p in sc.powers]]),
        attention=np.array([[p.attention for p in sc.powers]]),
        budget_factor=np.ones((1, n_p)),
        extra_aid=np.zeros((1, n_s, n_p)),
        extra_security=np.zeros((1, n_s, n_p)),
    )


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
            )
        )
    return sorted(out, key=lambda e: e.step)


def draw_noise(
    rng: np.random.Generator, n_steps: int, states: Sequence[str], powers: Sequence[str]
) -> FloatArray:
    """All the noise a run uses, drawn once at the start in a fixed order.

    The run's generator draws one block of standard normals of shape ``(steps, states, powers)``
    before anything else, in C order over the state and power ids *sorted alphabetically* (month
    by month, state by state, power by power); the block is then put into the scenario's order.
    So each (month, state, power) gets the same number whatever the order of powers and states in
    the YAML, and any engine that draws the same block from a generator seeded alike reproduces
    the run exactly.

    Args:
        rng: The run's generator (its first use).
        n_steps: Months simulated.
        states: State ids in scenario order.
        powers: Power ids in scenario order.

    Returns:
        ``(n_steps, len(states), len(powers))`` standard normals, in scenario order.
    """
    block = rng.standard_normal((n_steps, len(states), len(powers)))
    s_rank = np.argsort(np.argsort(np.asarray(states, dtype=object)))
    p_rank = np.argsort(np.argsort(np.asarray(powers, dtype=object)))
    return block[:, s_rank][:, :, p_rank]


def compile_run(sc: Scenario) -> tuple[Params, WorldState]:
    """The parameters and the initial state of one run, the state built once for both."""
    start = initial_state(sc)
    return to_params(sc, start), start
