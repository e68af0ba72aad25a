"""Fast ensemble engine: many runs of one scenario structure advanced together.

The engine stacks the parameters and initial states of a batch of runs (replicates and parameter
points) along the leading batch axis of :mod:`sim.model.dynamics` and advances them all at once with
the very same functions that the Mesa agents call (:func:`~sim.model.dynamics.apply_event`,
:func:`~sim.model.dynamics.allocate`, :func:`~sim.model.dynamics.decide`,
:func:`~sim.model.dynamics.commit`). There is no second copy of the equations.

Each run gives the same trajectory as :class:`sim.model.mesa_model.GreatGameModel` with the same
seed (to 1e-9; in practice bit for bit) because:

- each run's noise is the counter-based noise of its seed (:func:`sim.model.noise.standard_normals`,
  Philox4x32-10 keyed by the seed): :func:`noise_blocks` computes it for the whole batch with
  the very function that :func:`sim.model.compile.draw_noise` calls for the model's one run;
- events of month ``i`` fire, in the model's order (date, then file order), after ``i`` steps
  and before the step of month ``i``, with each run's own magnitude; before them, the power
  shocks of earlier months move along their time profiles (:func:`begin_month`, and the model's
  ``move_shocks`` at the same point of the month);
- the state at the start of a month is the same for every agent (synchronous update), so one
  call over all powers and all states equals the agents' calls over their own column or row.

Runs are processed in chunks of ``chunk_size`` so that memory stays bounded; with
``keep="summary"`` only the initial and final alignment of a chunk are kept to compute
:func:`sim.model.metrics.summarize`, so a million baseline runs keep about 0.5 GiB of summaries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, overload

import numpy as np

from sim.input.scenario import PROFILED, LoadedScenario, Scenario, month_index, month_label
from sim.model import dynamics
from sim.model.compile import (
    PROFILE_FIELDS,
    CompiledEvent,
    Reader,
    compile_events,
    compile_run,
    decision_record,
    event_magnitudes,
    event_record,
    exit_record,
    initial_state,
    response_record,
    sanctions_record,
    shock_profiles,
    to_params,
)
from sim.model.dynamics import FloatArray, IndexArray, IntArray, Params, WorldState
from sim.model.metrics import Batch, EventRecord, snapshot, summarize
from sim.model.noise import standard_normals

__all__ = [
    "DEFAULT_CHUNK",
    "Ensemble",
    "begin_month",
    "ensemble_engine",
    "events_by_step",
    "fixed_by_batch",
    "iter_ensemble",
    "noise_blocks",
    "prepare",
    "prepare_swept",
    "run_ensemble",
    "run_swept",
    "simulate_ensemble",
]

Keep = Literal["summary", "trajectories"]
_Scenarios = Scenario | LoadedScenario | Sequence[Scenario | LoadedScenario]
"""One scenario per run, or one scenario for every run."""
_Seeds = Sequence[int] | IntArray
"""One seed per run."""
_Signature = tuple[
    tuple[str, ...],
    tuple[str, ...],
    str,
    int,
    tuple[tuple[str, int, str, tuple[int, ...], tuple[int, ...], str | None], ...],
]
"""What every run of a batch must share (see :func:`_signature`)."""

DEFAULT_CHUNK = 1_000
"""Runs advanced together by default: small enough for the working arrays to stay in cache."""


@dataclass
class Ensemble:
    """A batch of runs ready to simulate, all of one structure.

    Attributes:
        params: Parameters with batch axis ``B``.
        state: Initial state with batch axis ``B`` (modified by :func:`simulate_ensemble`).
        events: Compiled events in firing order (magnitudes of the first scenario).
        magnitudes: Each run's magnitude of each event, ``(B, E)``.
        profiles: Each run's time profile of each power shock that has one, by event index
            (:func:`sim.model.compile.shock_profiles`).
        seeds: Seed of each run, ``(B,)``.
        dates: ``YYYY-MM`` label of each record, ``T + 1`` of them.
        states: State ids.
        powers: Power ids.
        population: ``(S,)`` populations of the first scenario.
        fired: What :func:`simulate_ensemble` saw fire: each event's index into ``events``
            with the decisions it led to (``dynamics.Answer``: whom each calling state asked
            and whether that power answered, or whether each state offered a package accepted
            it, in each run).
        decisions: The states' changes of public stance that :func:`simulate_ensemble` saw when
            it kept trajectories: month, then run, state and power indices, new stance, pull
            and cost, one array each.
        exits: The states' exits from powers' blocs that :func:`simulate_ensemble` saw when it
            kept trajectories: month, then run, state and power indices.
        sanctions: The states' changes of stance toward sanctions that it saw: month, then
            run, state and power indices, new stance and margin.
        responses: The powers' changes of response to the states' drift that it saw: month,
            then run, state and power indices, new response and the gains of courting and of
            punishing (``dynamics.choose_response``).
        considered: This month's responses before the powers chose, with the gains of
            courting and punishing, kept by :func:`begin_month` for :meth:`note_decisions`.
    """

    params: Params
    state: WorldState
    events: list[CompiledEvent]
    magnitudes: FloatArray
    seeds: IntArray
    dates: list[str]
    states: list[str]
    powers: list[str]
    population: FloatArray
    profiles: dict[int, dynamics.ShockProfile] = field(default_factory=dict)
    fired: list[tuple[int, list[dynamics.Answer]]] = field(default_factory=list)
    decisions: list[tuple[int, tuple[IndexArray, ...], FloatArray, FloatArray, FloatArray]] = field(
        default_factory=list
    )
    exits: list[tuple[int, tuple[IndexArray, ...]]] = field(default_factory=list)
    sanctions: list[tuple[int, tuple[IndexArray, ...], FloatArray, FloatArray]] = field(
        default_factory=list
    )
    responses: list[tuple[int, tuple[IndexArray, ...], FloatArray, FloatArray, FloatArray]] = field(
        default_factory=list
    )
    considered: tuple[FloatArray, FloatArray, FloatArray] | None = None

    def note_decisions(self, t: int, before: WorldState, rows: dynamics.StateRows) -> None:
        """Keep month ``t``'s decisions: the states' and the powers'.

        The states' changes of stance and exits (``before``: the state at the start of the
        month, after :func:`begin_month`) and the powers' changes of response.
        """
        changed = np.nonzero(rows.stance != before.stance)
        if changed[0].size:
            self.decisions.append(
                (t, changed, rows.stance[changed], rows.pull[changed], rows.cost[changed])
            )
        left = np.nonzero(rows.exited != before.exited)
        if left[0].size:
            self.exits.append((t, left))
        turned = np.nonzero(rows.sanctions_stance != before.sanctions_stance)
        if turned[0].size:
            self.sanctions.append((t, turned, rows.sanctions_stance[turned], rows.margin[turned]))
        if self.considered is not None:
            old, court, punish = self.considered
            moved = np.nonzero(before.response != old)
            if moved[0].size:
                new = before.response[moved]
                self.responses.append((t, moved, new, court[moved], punish[moved]))

    def event_logs(self) -> list[list[EventRecord]]:
        """Each run's event log as the Mesa model writes it (:attr:`fired`, :attr:`decisions`).

        In each month the scenario's events come first, then the states' changes of stance, by
        state and then power, then their exits from blocs, then their changes of stance toward
        sanctions, then the powers' changes of response to the states (by state, then power),
        as the Mesa model logs them.
        """
        logs: list[list[tuple[int, int, EventRecord]]] = [[] for _ in range(len(self.seeds))]
        for e, answers in self.fired:
            ev = self.events[e]
            date = self.dates[ev.step + 1]
            mags = self.magnitudes[:, e].tolist()
            calls = [(r.state, r.power.tolist(), r.yes.tolist(), r.offer) for r in answers]
            for b, log in enumerate(logs):
                run_calls = [(s, int(p[b]), bool(ok[b]), offer) for s, p, ok, offer in calls]
                record = event_record(ev, date, mags[b], run_calls, self.states, self.powers)
                log.append((ev.step, 0, record))
        for t, (runs, states, powers), stance, pull, cost in self.decisions:
            date = self.dates[t + 1]
            columns = (runs, states, powers, stance, pull, cost)
            for b, s, p, new, why, price in zip(*(c.tolist() for c in columns), strict=True):
                record = decision_record(t, date, self.states[s], self.powers[p], new, why, price)
                logs[b].append((t, 1, record))
        for t, (runs, states, powers) in self.exits:
            date = self.dates[t + 1]
            for b, s, p in zip(runs.tolist(), states.tolist(), powers.tolist(), strict=True):
                start = float(self.params.membership0[b, s, p])
                threshold = float(self.params.exit_threshold[b])
                record = exit_record(t, date, self.states[s], self.powers[p], start, threshold)
                logs[b].append((t, 2, record))
        for t, (runs, states, powers), stance, margin in self.sanctions:
            date = self.dates[t + 1]
            turns = (runs, states, powers, stance, margin)
            for b, s, p, new, why in zip(*(c.tolist() for c in turns), strict=True):
                record = sanctions_record(t, date, self.states[s], self.powers[p], new, why)
                logs[b].append((t, 3, record))
        for t, (runs, states, powers), response, court, punish in self.responses:
            date = self.dates[t + 1]
            changes = (runs, states, powers, response, court, punish)
            for b, s, p, new, gc, gx in zip(*(c.tolist() for c in changes), strict=True):
                record = response_record(t, date, self.powers[p], self.states[s], new, gc, gx)
                logs[b].append((t, 4, record))
        return [[entry for _, _, entry in sorted(log, key=lambda x: x[:2])] for log in logs]

    @property
    def n_steps(self) -> int:
        """Months simulated."""
        return len(self.dates) - 1


def _as_scenario(sc: Scenario | LoadedScenario) -> Scenario:
    return sc.scenario if isinstance(sc, LoadedScenario) else sc


def _signature(sc: Scenario, events: list[CompiledEvent]) -> _Signature:
    """What every run of a batch must share: ids, period and events without magnitudes."""
    return (
        tuple(sc.power_ids),
        tuple(sc.state_ids),
        sc.meta.start,
        sc.n_steps,
        tuple((e.id, e.step, e.kind, e.actors, e.targets, e.variable) for e in events),
    )


@dataclass(frozen=True)
class _Converted:
    """One distinct scenario as arrays (batch of one)."""

    scenario: Scenario
    params: Params
    state: WorldState
    events: list[CompiledEvent]
    signature: _Signature


class _Converter:
    """Converts each distinct scenario object once, keeping the latest ``size`` of them.

    Replicates pass the same object many times, also across chunks; a bounded cache keeps the
    memory of sweeps with millions of distinct points bounded too. The first scenario converted
    fixes the structure that every later one must share.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.cache: OrderedDict[int, _Converted] = OrderedDict()
        self.expected: _Converted | None = None

    def __call__(self, sc: Scenario | LoadedScenario) -> _Converted:
        key = id(sc)
        if key in self.cache and self.cache[key].scenario is _as_scenario(sc):
            self.cache.move_to_end(key)
            return self.cache[key]
        spec = _as_scenario(sc)
        events = compile_events(spec)
        params, start = compile_run(spec)
        conv = _Converted(spec, params, start, events, _signature(spec, events))
        if self.expected is None:
            self.expected = conv
        elif conv.signature != self.expected.signature:
            raise ValueError(
                "the ensemble engine needs runs of one structure (same powers, states, period and "
                f"events, numbers aside); scenario {spec.meta.name!r} differs from "
                f"{self.expected.scenario.meta.name!r}"
            )
        self.cache[key] = conv
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return conv


def _stack[D: (Params, WorldState)](items: list[D], index: IndexArray, cls: type[D]) -> D:
    """Stack dataclasses of batch-one arrays along axis 0, picking ``items[index[b]]`` for run b."""

    def stacked(arrays: list[FloatArray]) -> FloatArray:
        return np.concatenate(arrays, axis=0).take(index, axis=0)  # a fresh, contiguous copy

    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name == "model":  # Params.model: the model parameters by name
            names = items[0].model if isinstance(items[0], Params) else {}
            out[f.name] = {k: stacked([getattr(item, k) for item in items]) for k in names}
        else:
            out[f.name] = stacked([getattr(item, f.name) for item in items])
    return cls(**out)


def _runs(
    scenarios: _Scenarios, seeds: _Seeds
) -> tuple[Sequence[Scenario | LoadedScenario], IntArray]:
    """Check the lengths; one scenario for every seed becomes a list."""
    seeds = np.asarray(seeds)
    if isinstance(scenarios, (Scenario, LoadedScenario)):
        scenarios = [scenarios] * len(seeds)
    if len(scenarios) != len(seeds) or len(seeds) == 0:
        raise ValueError(f"expected one seed per scenario, found {len(scenarios)} and {len(seeds)}")
    return scenarios, seeds


def prepare(
    scenarios: _Scenarios,
    seeds: _Seeds,
    converter: _Converter | None = None,
) -> Ensemble:
    """Stack the parameters, initial states and event magnitudes of a batch of runs.

    Each distinct scenario object is converted once (replicates of one parameter point pass the
    same object many times, or a single scenario for all seeds).

    Args:
        scenarios: One scenario per run, or one scenario for every run.
        seeds: One seed per run.
        converter: Cache of converted scenarios shared between chunks (a new one by default).

    Returns:
        The batch, ready for :func:`simulate_ensemble`.

    Raises:
        ValueError: When the lengths differ, the batch is empty, or the scenarios do not share
            their structure (powers, states, period and events, magnitudes aside).
    """
    scenarios, seeds = _runs(scenarios, seeds)
    convert = converter or _Converter()
    slots: dict[int, int] = {}
    index = np.empty(len(seeds), dtype=np.intp)
    distinct: list[_Converted] = []
    for b, sc in enumerate(scenarios):
        slot = slots.get(id(sc))
        if slot is None:
            slot = slots[id(sc)] = len(distinct)
            distinct.append(convert(sc))
        index[b] = slot
    first = distinct[0]
    mags = np.array([[e.magnitude for e in d.events] for d in distinct], dtype=float)
    start = month_index(first.scenario.meta.start)
    profiles = {}
    for e, ev in enumerate(first.events):  # each distinct scenario's profile, then each run's
        if ev.kind in PROFILED:
            columns = [[getattr(d.events[e], f) for d in distinct] for f in PROFILE_FIELDS]
            profile = dynamics.ShockProfile(*(np.array(c, dtype=float)[index] for c in columns))
            if not profile.is_step():
                profiles[e] = profile
    return Ensemble(
        params=_stack([d.params for d in distinct], index, Params),
        state=_stack([d.state for d in distinct], index, WorldState),
        events=first.events,
        magnitudes=mags.reshape(len(distinct), len(first.events)).take(index, axis=0),
        seeds=seeds,
        dates=[month_label(start - 1 + t) for t in range(first.scenario.n_steps + 1)],
        states=list(first.scenario.state_ids),
        powers=list(first.scenario.power_ids),
        population=np.array([s.population for s in first.scenario.states], dtype=float),
        profiles=profiles,
    )


def prepare_swept(
    scenario: Scenario | LoadedScenario, swept: Mapping[str, FloatArray], seeds: _Seeds
) -> Ensemble:
    """A batch of runs of one scenario at many parameter points, compiled once.

    The fast path of a sweep: the swept values go straight into the stacked arrays
    (:class:`sim.model.compile.Reader`), so no scenario is validated or converted per point.
    Each run equals a run of the scenario with its values written in
    (:func:`sim.input.params.with_values`) bit for bit; the values must be valid for the
    scenario (a sweep spec checks its ranges against the schema once).

    Args:
        scenario: The base scenario.
        swept: Scenario path (``powers.russia.credibility``) to each run's value, ``(B,)``.
        seeds: One seed per run.

    Returns:
        The batch, ready for :func:`simulate_ensemble`.

    Raises:
        ValueError: For a swept path that no array depends on (not a number of the scenario,
            or one the engine does not vary by run, such as a state's population), or values
            of the wrong length. The magnitude of a disabled event may be swept: it changes
            nothing, as in the scenario itself.
    """
    sc = scenario.scenario if isinstance(scenario, LoadedScenario) else scenario
    seeds = np.asarray(seeds)
    reader = Reader(swept, len(seeds))
    state = initial_state(sc, reader)
    params = to_params(sc, state, reader)
    events = compile_events(sc)
    magnitudes = event_magnitudes(events, reader)
    profiles = shock_profiles(events, reader)
    unread = _unread(sc, swept, reader)
    if unread:
        raise ValueError(
            f"cannot vary {', '.join(unread)} run by run: no array of the model reads it "
            "(the ensemble engine varies the numbers of powers, states, events and model:, "
            "except populations)"
        )
    start = month_index(sc.meta.start)
    return Ensemble(
        params=params,
        state=state,
        events=events,
        magnitudes=magnitudes,
        seeds=seeds,
        dates=[month_label(start - 1 + t) for t in range(sc.n_steps + 1)],
        states=list(sc.state_ids),
        powers=list(sc.power_ids),
        population=np.array([s.population for s in sc.states], dtype=float),
        profiles=profiles,
    )


def _unread(sc: Scenario, swept: Mapping[str, Any], reader: Reader) -> list[str]:
    """The swept paths that no array read (the numbers of a disabled event count as read)."""
    fields = ("magnitude", *PROFILE_FIELDS)
    inert = {f"events.{e.id}.{f}" for e in sc.events if not e.enabled for f in fields}  # never fire
    return sorted(set(swept) - reader.used - inert)


def fixed_by_batch(scenario: Scenario | LoadedScenario, paths: Sequence[str]) -> list[str]:
    """The paths, of those given, that the ensemble engine cannot vary run by run.

    Args:
        scenario: The scenario.
        paths: Scenario paths (``states.kazakhstan.population``...).

    Returns:
        Those no array of the model reads (a state's population: one vector weights the
        influence index of a whole batch), in sorted order.
    """
    sc = scenario.scenario if isinstance(scenario, LoadedScenario) else scenario
    probe = {p: np.zeros(1) for p in paths}
    reader = Reader(probe, 1)
    with np.errstate(all="ignore"):  # only which paths are read; the values are placeholders
        to_params(sc, initial_state(sc, reader), reader)
        events = compile_events(sc)
        event_magnitudes(events, reader)
        shock_profiles(events, reader)
    return _unread(sc, probe, reader)


def run_swept(
    scenario: Scenario | LoadedScenario,
    swept: Mapping[str, FloatArray],
    seeds: _Seeds,
    keep: Keep = "summary",
) -> Batch | dict[str, FloatArray]:
    """Simulate a batch of parameter points of one scenario (see :func:`prepare_swept`).

    Args:
        scenario: The base scenario.
        swept: Scenario path to each run's value, ``(B,)``.
        seeds: One seed per run.
        keep: ``"summary"`` (no trajectories are recorded) or ``"trajectories"``.

    Returns:
        The summary metrics, metric name to ``(B,)`` array, or the batch with its event logs.
    """
    ens = prepare_swept(scenario, swept, seeds)
    out = simulate_ensemble(ens, keep)
    return out if keep == "summary" else _batch(ens, out)


def noise_blocks(seeds: IntArray, n_steps: int, states: list[str], powers: list[str]) -> FloatArray:
    """Every run's noise, ``(B, T, S, P)``: run ``b`` gets ``draw_noise(seeds[b], ...)``.

    One call of :func:`sim.model.noise.standard_normals` for the whole batch (counter-based, no
    loop over runs), the function :func:`sim.model.compile.draw_noise` calls for one run.
    """
    return standard_normals(seeds, n_steps, states, powers)


def events_by_step(ens: Ensemble) -> dict[int, list[int]]:
    """Indices into ``ens.events`` by the month they fire in."""
    by_step: dict[int, list[int]] = {}
    for e, ev in enumerate(ens.events):
        by_step.setdefault(ev.step, []).append(e)
    return by_step


def begin_month(
    ens: Ensemble,
    state: dynamics.WorldState,
    t: int,
    by_step: dict[int, list[int]],
    noise: FloatArray,
) -> tuple[dynamics.Allocation, dynamics.StateRows]:
    """Month ``t`` to its commit: shocks, events, powers enter, allocate, learn; states decide.

    Args:
        ens: The prepared batch (events and their per-run magnitudes).
        state: State at the start of the month; events change it in place.
        t: Month index.
        by_step: From :func:`events_by_step`.
        noise: This month's noise, ``(B, S, P)``.

    Returns:
        The month's allocation and the states' new rows (to pass to ``dynamics.commit``).
    """
    for e, profile in ens.profiles.items():  # shocks of earlier months move along their profile
        ev = ens.events[e]
        if ev.step < t:
            dynamics.move_shock(
                state,
                ev.kind,
                list(ev.actors),
                list(ev.targets),
                ev.variable,
                ens.magnitudes[:, e],
                t - ev.step,
                profile,
            )
    for e in by_step.get(t, ()):  # each fires once: recorded in ens.fired
        ev = ens.events[e]
        answers = dynamics.apply_event(
            state,
            ens.params,
            ev.kind,
            list(ev.actors),
            list(ev.targets),
            ens.magnitudes[:, e],
            ev.variable,
            ens.profiles.get(e),
        )
        ens.fired.append((e, answers))
    state.entry = dynamics.enter(state, ens.params)
    alloc = dynamics.allocate(state, ens.params)
    returns = dynamics.habit_returns(state, ens.params)
    response, court, punish = dynamics.choose_response(state, ens.params, returns)
    ens.considered = (state.response, court, punish)
    weights = dynamics.learn_weights(state, ens.params, returns=returns)
    state.mix = dynamics.learn_mix(state, ens.params, returns=returns)  # spent from the next month
    state.response, state.weights = response, weights  # act from the next month
    return alloc, dynamics.decide(state, ens.params, alloc, noise)


def simulate_ensemble(
    ens: Ensemble,
    keep: Keep = "trajectories",
    on_month: Callable[[int, WorldState], None] | None = None,
    steps: int | None = None,
) -> dict[str, FloatArray]:
    """Advance every run of a batch through every month.

    Args:
        ens: The prepared batch; its ``state`` ends as the final state.
        keep: ``"trajectories"`` records every variable of :func:`sim.model.metrics.snapshot` at
            every month, ``(B, T + 1, S, P)`` or ``(B, T + 1, P)``; ``"summary"`` returns the
            summary metrics of :func:`sim.model.metrics.summarize`, one ``(B,)`` array each.
        on_month: Called after each month ``t`` (1 to ``T``) with ``t`` and the state at its end
            (read it, do not change it): a caller that needs one variable month by month (a
            calibration's observations) reads it here instead of keeping every trajectory.
        steps: Stop after this many months (default: every month of the scenario); the
            summary or the trajectories then end there.

    Returns:
        The recorded variables or the summary metrics.
    """
    if keep not in ("summary", "trajectories"):
        raise ValueError(f"keep must be 'summary' or 'trajectories', found {keep!r}")
    params, state = ens.params, ens.state
    n_b = state.alignment.shape[0]
    n_t = ens.n_steps if steps is None else max(0, min(steps, ens.n_steps))
    noise = noise_blocks(ens.seeds, n_t, ens.states, ens.powers)
    by_step = events_by_step(ens)
    cw = params.channel_weights
    if keep == "trajectories":
        first = snapshot(state, cw)
        values = {k: np.empty((n_b, n_t + 1, *v.shape[1:])) for k, v in first.items()}
        for k, v in first.items():
            values[k][:, 0] = v
    else:
        start_alignment = state.alignment.copy()
    for t in range(n_t):
        _, rows = begin_month(ens, state, t, by_step, noise[:, t])
        if keep == "trajectories":
            ens.note_decisions(t, state, rows)
        state = dynamics.commit(state, [rows], params)
        if on_month is not None:
            on_month(t + 1, state)
        if keep == "trajectories":
            for k, v in snapshot(state, cw).items():
                values[k][:, t + 1] = v
    ens.state = state
    if keep == "trajectories":
        return values
    pair = np.stack([start_alignment, state.alignment], axis=1)
    return summarize({"alignment": pair}, ens.population, ens.states, ens.powers)


def _batch(ens: Ensemble, values: dict[str, FloatArray]) -> Batch:
    """The :class:`sim.model.metrics.Batch` of a simulated ensemble, with its event logs."""
    return Batch(
        seeds=np.asarray(ens.seeds).astype(np.int64),
        dates=ens.dates,
        states=ens.states,
        powers=ens.powers,
        population=ens.population,
        values=values,
        events=ens.event_logs(),
    )


@overload
def iter_ensemble(
    scenarios: _Scenarios,
    seeds: _Seeds,
    keep: Literal["summary"] = ...,
    chunk_size: int = ...,
) -> Iterator[tuple[slice, dict[str, FloatArray]]]: ...
@overload
def iter_ensemble(
    scenarios: _Scenarios, seeds: _Seeds, keep: Literal["trajectories"], chunk_size: int = ...
) -> Iterator[tuple[slice, Batch]]: ...
@overload
def iter_ensemble(
    scenarios: _Scenarios, seeds: _Seeds, keep: Keep, chunk_size: int = ...
) -> Iterator[tuple[slice, Batch | dict[str, FloatArray]]]: ...
def iter_ensemble(
    scenarios: _Scenarios,
    seeds: _Seeds,
    keep: Keep = "summary",
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[tuple[slice, Batch | dict[str, FloatArray]]]:
    """Simulate runs chunk by chunk, so that memory stays bounded by ``chunk_size``.

    Args:
        scenarios: One scenario per run, or one scenario for every run.
        seeds: One seed per run.
        keep: ``"summary"`` or ``"trajectories"`` (see :func:`simulate_ensemble`).
        chunk_size: Runs advanced together.

    Yields:
        ``(runs, result)``: the slice of runs covered and a :class:`sim.model.metrics.Batch` (for
        trajectories) or a dict of summary metrics.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, found {chunk_size}")
    scenarios, seeds = _runs(scenarios, seeds)
    converter = _Converter()
    for lo in range(0, len(seeds), chunk_size):
        runs = slice(lo, min(lo + chunk_size, len(seeds)))
        ens = prepare(scenarios[runs], seeds[runs], converter)
        out = simulate_ensemble(ens, keep)
        if keep == "summary":
            yield runs, out
        else:
            yield runs, _batch(ens, out)


@overload
def run_ensemble(
    scenarios: _Scenarios,
    seeds: _Seeds,
    keep: Literal["summary"] = ...,
    chunk_size: int = ...,
) -> dict[str, FloatArray]: ...
@overload
def run_ensemble(
    scenarios: _Scenarios, seeds: _Seeds, keep: Literal["trajectories"], chunk_size: int = ...
) -> Batch: ...
@overload
def run_ensemble(
    scenarios: _Scenarios, seeds: _Seeds, keep: Keep, chunk_size: int = ...
) -> Batch | dict[str, FloatArray]: ...
def run_ensemble(
    scenarios: _Scenarios,
    seeds: _Seeds,
    keep: Keep = "summary",
    chunk_size: int = DEFAULT_CHUNK,
) -> Batch | dict[str, FloatArray]:
    """Simulate a batch of runs of one structure, in chunks, and gather the results.

    With ``keep="summary"`` only the summary metrics are gathered (``8 * 72`` bytes a run on the
    baseline), so a million runs fit in well under 1 GB; with ``keep="trajectories"`` the full
    :class:`sim.model.metrics.Batch` is gathered, about 25 kB a run on the baseline (use
    :func:`iter_ensemble` to stream large batches instead).

    Args:
        scenarios: One scenario per run, or one scenario for every run. Runs must share powers,
            states, period and events; any number (event magnitudes included) may differ.
        seeds: One seed per run.
        keep: ``"summary"`` or ``"trajectories"``.
        chunk_size: Runs advanced together (bounds the working memory).

    Returns:
        The summary metrics, metric name to ``(B,)`` array, or the batch of trajectories.
    """
    if keep == "summary":
        parts = [out for _, out in iter_ensemble(scenarios, seeds, keep, chunk_size)]
        return {k: np.concatenate([out[k] for out in parts]) for k in parts[0]}
    batches = [out for _, out in iter_ensemble(scenarios, seeds, keep, chunk_size)]
    return batches[0] if len(batches) == 1 else Batch.concat(batches)


def ensemble_engine(scenarios: Sequence[Scenario], seeds: Sequence[int]) -> Batch:
    """The ensemble engine behind :data:`sim.model.engines.ENGINES` ``["ensemble"]``.

    Args:
        scenarios: One scenario per run, all of one structure.
        seeds: One seed per run.

    Returns:
        The batch of trajectories, equal to the Mesa engine's.
    """
    return run_ensemble(scenarios, seeds, keep="trajectories")
