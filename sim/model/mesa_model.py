"""The one Mesa adapter: powers and states as Mesa agents, dated events through Mesa's scheduling.

The agents are thin: a power allocates its budget, a state decides its relations, and both call
the array functions of :mod:`sim.model.dynamics` on their own row (a batch of one run), so the
Mesa model and the ensemble engine (:mod:`sim.model.ensemble`, no Mesa) share one copy of the
equations. Nothing else in :mod:`sim.model` imports Mesa; the dashboard (:mod:`sim.viz.dashboard`)
reaches Mesa's SolaraViz controls through :func:`model_controller` and :func:`watch_steps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.input.scenario import (
    LoadedScenario,
    Power,
    Scenario,
    State,
    load_scenario,
    month_index,
    month_label,
)
from sim.model import dynamics
from sim.model.compile import (
    CompiledEvent,
    Reader,
    compile_events,
    compile_run,
    decision_record,
    draw_noise,
    event_record,
    exit_record,
    response_record,
    sanctions_record,
    shock_profiles,
)
from sim.model.dynamics import FloatArray
from sim.model.metrics import Batch, EventRecord, snapshot

__all__ = [
    "GreatGameModel",
    "PowerAgent",
    "StateAgent",
    "mesa_engine",
    "model_controller",
    "watch_steps",
]


class PowerAgent(mesa.Agent):
    """A great power. Each month it splits its budget over states and levers.

    Attributes:
        index: Column of this power in the model's arrays.
        spec: The power as given in the scenario.
    """

    model: GreatGameModel

    def __init__(self, model: GreatGameModel, index: int, spec: Power) -> None:
        super().__init__(model)
        self.index = index
        self.spec = spec

    @property
    def credibility(self) -> float:
        """Current credibility in [0, 1]."""
        return float(self.model.world.credibility[0, self.index])

    @property
    def entry(self) -> float:
        """This month's opportunistic entry in [0, 1] (its choice: see ``dynamics.enter``)."""
        return float(self.model.world.entry[0, self.index])

    @property
    def lever_mix(self) -> dict[str, float]:
        """Its shares of spending on each lever now (its choice: ``dynamics.learn_mix``)."""
        mix = self.model.world.mix[0, self.index]
        return {lever: float(mix[k]) for k, lever in enumerate(("aid", "security", "rhetoric"))}

    @property
    def weights(self) -> dict[str, float]:
        """Its allocation weight of each state now, by state id.

        Its priorities at the start, then learnt from the states' returns
        (``dynamics.learn_weights``).
        """
        col = self.model.world.weights[0, :, self.index].tolist()
        return dict(zip(self.model.state_ids, col, strict=True))

    @property
    def responses(self) -> dict[str, str]:
        """Its response to each state's drift now, by state id.

        ``courts``, ``punishes`` or ``ignores``: its choice (``dynamics.choose_response``),
        unless the scenario fixes it.
        """
        col = self.model.world.response[0, :, self.index].tolist()
        ids = self.model.state_ids
        return {s: dynamics.response_name(v) for s, v in zip(ids, col, strict=True)}

    def step(self) -> None:
        """Decide this month's entry, allocate the budget, choose responses, learn the mix.

        The responses to the states' drift and the lever mix learnt from the levers' returns
        are spent from the next month. Only this power's column is computed or written; its
        returns and gains depend on its own spending alone (``dynamics.lever_returns``), so
        the order of the powers does not matter.
        """
        cols = slice(self.index, self.index + 1)
        world = self.model.world
        params = self.model.params
        world.entry[:, cols] = dynamics.enter(world, params, powers=cols)
        mine = dynamics.allocate(world, params, powers=cols)
        alloc = self.model.allocation
        for name in ("aid", "security", "rhetoric", "threat_level", "share"):
            getattr(alloc, name)[:, :, cols] = getattr(mine, name)
        returns = dynamics.habit_returns(world, params)
        response, court, punish = dynamics.choose_response(world, params, returns, powers=cols)
        self.model.response_gains[0][:, :, cols] = court
        self.model.response_gains[1][:, :, cols] = punish
        weights = dynamics.learn_weights(world, params, powers=cols, returns=returns)
        world.mix[:, cols] = dynamics.learn_mix(world, params, powers=cols, returns=returns)
        world.response[:, :, cols] = response
        world.weights[:, :, cols] = weights


class StateAgent(mesa.Agent):
    """A Central Asian state. Each month it updates its relations with every power.

    Attributes:
        index: Row of this state in the model's arrays.
        spec: The state as given in the scenario.
    """

    model: GreatGameModel

    def __init__(self, model: GreatGameModel, index: int, spec: State) -> None:
        super().__init__(model)
        self.index = index
        self.spec = spec

    def alignment(self) -> dict[str, float]:
        """Current alignment toward each power, by power id."""
        row = self.model.world.alignment[0, self.index]
        return dict(zip(self.model.power_ids, row.tolist(), strict=True))

    @property
    def stance(self) -> dict[str, str]:
        """Its current public stance toward each power, by power id.

        ``distance``, ``neutral`` or ``rapprochement``: its own choice (``dynamics.choose_stance``).
        """
        row = self.model.world.stance[0, self.index].tolist()
        return {p: dynamics.stance_name(v) for p, v in zip(self.model.power_ids, row, strict=True)}

    @property
    def participation(self) -> dict[str, float]:
        """Its current participation in each power's blocs, in [0, 1], by power id."""
        row = self.model.world.membership[0, self.index]
        return dict(zip(self.model.power_ids, row.tolist(), strict=True))

    @property
    def sanctions(self) -> dict[str, str]:
        """Its stance toward the sanctions on each sanctioned power, by power id.

        ``comply``, ``stay out`` or ``facilitate`` (``dynamics.choose_sanctions_stance``); powers
        under no sanctions are left out.
        """
        world = self.model.world
        row = world.sanctions_stance[0, self.index].tolist()
        under = dynamics.bite(world)[0] > 0
        return {
            p: dynamics.sanctions_stance_name(v)
            for p, v, on in zip(self.model.power_ids, row, under.tolist(), strict=True)
            if on
        }

    @property
    def left(self) -> list[str]:
        """The powers whose blocs it has left for good, in file order (``dynamics.decide``)."""
        row = self.model.world.exited[0, self.index].tolist()
        return [p for p, v in zip(self.model.power_ids, row, strict=True) if v]

    @property
    def request(self) -> dict[str, str] | None:
        """Its latest call for help, or None before its first crisis (or if it asked nobody).

        ``{"power": id, "answer": "honoured" | "refused"}``: whom it chose to ask
        (``dynamics.choose_request``) and what that power decided (``dynamics.answer_requests``).
        """
        row = self.model.world.request[0, self.index]
        asked = np.flatnonzero(row)
        if not asked.size:
            return None
        p = int(asked[0])
        return {"power": self.model.power_ids[p], "answer": "honoured" if row[p] > 0 else "refused"}

    @property
    def offers(self) -> dict[str, str]:
        """Its answer to each power's latest aid or arms package, by power id (none: absent).

        ``"accepted"`` or ``"refused"`` (``dynamics.accept_offer``).
        """
        row = self.model.world.offer[0, self.index].tolist()
        return {
            self.model.power_ids[p]: "accepted" if v > 0 else "refused"
            for p, v in enumerate(row)
            if v != 0
        }

    def step(self) -> None:
        """Decide this month's trust, threat, dependence and alignment (committed by the model)."""
        rows = slice(self.index, self.index + 1)
        update = dynamics.decide(
            self.model.world,
            self.model.params,
            self.model.allocation,
            self.model.month_noise(),
            rows=rows,
        )
        self.model.pending.append(update)


class _Trigger:
    """Fires one compiled event; kept alive by the model (Mesa holds weak references)."""

    def __init__(
        self, model: GreatGameModel, event: CompiledEvent, profile: dynamics.ShockProfile | None
    ) -> None:
        self.model = model
        self.event = event
        self.profile = profile

    def fire(self) -> None:
        self.model.apply(self.event, self.profile)


class GreatGameModel(mesa.Model):
    """Great powers and Central Asian states, one step per month.

    Time: model time ``t`` counts completed months; month ``i`` (counted from ``meta.start``)
    spans ``(i, i + 1]`` and its step runs at time ``i + 1``. Events dated month ``i`` are
    scheduled through Mesa's event list at time ``i + 0.5``, so they fire inside their month,
    after the previous month's step and before the step that simulates their month.

    Args:
        scenario: A scenario object, a loaded scenario or a path to a YAML file.
        rng: The run's integer seed; one is drawn from OS entropy (and recorded) when None.

    Attributes:
        spec: The validated scenario.
        params: Fixed parameters as arrays (batch of one).
        world: The current state as arrays (batch of one).
        allocation: This month's allocation, filled by the power agents.
        pending: This month's new state rows, filled by the state agents.
    """

    def __init__(
        self, scenario: Scenario | LoadedScenario | str | Path, rng: int | None = None
    ) -> None:
        if rng is None:  # draw a seed so that it can be recorded
            rng = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
        super().__init__(rng=rng)
        if isinstance(scenario, (str, Path)):
            scenario = load_scenario(scenario)
        if isinstance(scenario, LoadedScenario):
            scenario = scenario.scenario
        self.spec: Scenario = scenario
        self.seed = rng
        self.power_ids = scenario.power_ids
        self.state_ids = scenario.state_ids
        self.n_steps = scenario.n_steps
        n_s, n_p = len(self.state_ids), len(self.power_ids)
        self.noise = draw_noise(self.seed, self.n_steps, self.state_ids, self.power_ids)
        self.params, self.world = compile_run(scenario)
        self.allocation = dynamics.Allocation(*(np.zeros((1, n_s, n_p)) for _ in range(5)))
        self.pending: list[dynamics.StateRows] = []
        self.response_gains = (np.zeros((1, n_s, n_p)), np.zeros((1, n_s, n_p)))
        self.powers = [PowerAgent(self, i, p) for i, p in enumerate(scenario.powers)]
        self.states = [StateAgent(self, i, s) for i, s in enumerate(scenario.states)]
        self.event_log: list[EventRecord] = []
        events = compile_events(scenario)
        self.profiles = shock_profiles(events, Reader())
        self._triggers = [_Trigger(self, ev, self.profiles.get(e)) for e, ev in enumerate(events)]
        for trigger in self._triggers:
            self.schedule_event(trigger.fire, at=trigger.event.step + 0.5)
        # month t's shocks move first, before its events (t + 0.5) and after the last step (t)
        first = min((events[e].step + 1 for e in self.profiles), default=self.n_steps)
        self._shocks = [(events[e], p) for e, p in self.profiles.items()]
        self._movers = [partial(self.move_shocks, t) for t in range(first, self.n_steps)]
        for t, mover in enumerate(self._movers, start=first):  # kept: Mesa holds weak references
            self.schedule_event(mover, at=t + 0.25)
        self._records = [snapshot(self.world, self.params.channel_weights)]

    def month_noise(self) -> FloatArray:
        """Noise of the month being simulated, ``(1, S, P)``."""
        month: FloatArray = self.noise[self.steps - 1][None]
        return month

    def apply(self, event: CompiledEvent, profile: dynamics.ShockProfile | None = None) -> None:
        """Apply a compiled event now and log it (``profile``: a power shock's time profile)."""
        outcome = dynamics.apply_event(
            self.world,
            self.params,
            event.kind,
            list(event.actors),
            list(event.targets),
            np.array([event.magnitude]),
            event.variable,
            profile,
        )
        date = month_label(month_index(self.spec.meta.start) + event.step)
        calls = [(r.state, int(r.power[0]), bool(r.yes[0]), r.offer) for r in outcome]
        self.event_log.append(
            event_record(event, date, event.magnitude, calls, self.state_ids, self.power_ids)
        )

    def move_shocks(self, t: int) -> None:
        """At the start of month ``t``: the shocks of earlier months move along their profiles."""
        for event, profile in self._shocks:
            if event.step < t:
                dynamics.move_shock(
                    self.world,
                    event.kind,
                    list(event.actors),
                    list(event.targets),
                    event.variable,
                    np.array([event.magnitude]),
                    t - event.step,
                    profile,
                )

    def step(self) -> None:
        """One month: powers allocate, states decide, the model commits and records."""
        responded = self.world.response.copy()
        self.agents_by_type[PowerAgent].do("step")
        self.pending = []
        self.agents_by_type[StateAgent].do("step")
        before = self.world
        self.world = dynamics.commit(self.world, self.pending, self.params)
        self._log_decisions(before, responded)
        self._records.append(snapshot(self.world, self.params.channel_weights))
        if self.steps >= self.n_steps:
            self.running = False

    def _log_decisions(self, start: dynamics.WorldState, responded: FloatArray) -> None:
        """Log this month's decisions, in the order the ensemble engine gives them.

        Changes of stance, exits, sanctions stances, then the powers' changes of response.

        Args:
            start: The state at the start of the month.
            responded: The powers' responses at the start of the month, before they chose.
        """
        t = self.steps - 1
        date = month_label(month_index(self.spec.meta.start) + t)
        before = start.stance
        why = {name: np.zeros_like(before) for name in ("pull", "cost", "margin")}
        for up in self.pending:
            for name, arr in why.items():
                arr[:, up.rows] = getattr(up, name)
        new = self.world.stance
        for s, p in zip(*np.nonzero(new[0] != before[0]), strict=True):
            self.event_log.append(
                decision_record(
                    t,
                    date,
                    self.state_ids[s],
                    self.power_ids[p],
                    float(new[0, s, p]),
                    float(why["pull"][0, s, p]),
                    float(why["cost"][0, s, p]),
                )
            )
        threshold = float(self.params.exit_threshold[0])
        for s, p in zip(*np.nonzero(self.world.exited[0] != start.exited[0]), strict=True):
            m0 = float(self.params.membership0[0, s, p])
            self.event_log.append(
                exit_record(t, date, self.state_ids[s], self.power_ids[p], m0, threshold)
            )
        turned = self.world.sanctions_stance[0] != start.sanctions_stance[0]
        for s, p in zip(*np.nonzero(turned), strict=True):
            self.event_log.append(
                sanctions_record(
                    t,
                    date,
                    self.state_ids[s],
                    self.power_ids[p],
                    float(self.world.sanctions_stance[0, s, p]),
                    float(why["margin"][0, s, p]),
                )
            )
        court, punish = self.response_gains
        for s, p in zip(*np.nonzero(self.world.response[0] != responded[0]), strict=True):
            self.event_log.append(
                response_record(
                    t,
                    date,
                    self.power_ids[p],
                    self.state_ids[s],
                    float(self.world.response[0, s, p]),
                    float(court[0, s, p]),
                    float(punish[0, s, p]),
                )
            )

    def run(self) -> Batch:
        """Run every month of the scenario and return its record (a batch of one)."""
        self.run_until(float(self.n_steps))
        return self.record()

    def record(self) -> Batch:
        """What has been recorded so far, as a batch of one run."""
        start = month_index(self.spec.meta.start)
        n = len(self._records)
        return Batch(
            seeds=np.array([int(self.seed)], dtype=np.int64),
            dates=[month_label(start - 1 + t) for t in range(n)],
            states=list(self.state_ids),
            powers=list(self.power_ids),
            population=np.array([s.population for s in self.spec.states]),
            values={k: np.stack([r[k][0] for r in self._records])[None] for k in self._records[0]},
            events=[list(self.event_log)],
        )


def mesa_engine(scenarios: Sequence[Scenario], seeds: Sequence[int]) -> Batch:
    """Run each (scenario, seed) pair with the Mesa model.

    Args:
        scenarios: One scenario per run.
        seeds: One seed per run.

    Returns:
        The batch, with each run's event log.
    """
    return Batch.concat(
        [GreatGameModel(sc, rng=int(seed)).run() for sc, seed in zip(scenarios, seeds, strict=True)]
    )


def model_controller(
    model: Any,
    model_params: dict[str, Any],
    play_interval: int = 300,
    render_interval: int = 1,
) -> Any:
    """Mesa's ``ModelController`` of a model: its Reset, play/pause and Step buttons.

    Step and play step the model and then bump Mesa's update counter (``force_update``), which
    redraws the components that :func:`watch_steps`; Reset builds the model again from
    ``model_params``. ``mesa.visualization`` (and the solara and altair packages it needs, the
    ``dashboard`` extra) is imported here on first call, so that running the model never pays
    for it and the viz layer reaches Mesa only through this module. Call it while a Solara
    component renders: the intervals are that component's state (``solara.use_reactive``).

    Args:
        model: A ``solara.Reactive`` holding a :class:`GreatGameModel` (or a subclass).
        model_params: Keyword arguments with which Reset builds the model again.
        play_interval: Milliseconds between steps while playing.
        render_interval: Steps per press of Step (and per redraw while playing).

    Returns:
        The ModelController element.
    """
    import solara
    from mesa.visualization.solara_viz import ModelController

    return ModelController(
        model,
        model_parameters=model_params,
        play_interval=solara.use_reactive(play_interval),
        render_interval=solara.use_reactive(render_interval),
        use_threads=solara.use_reactive(False),
    )


def watch_steps() -> int:
    """Subscribe the Solara component now rendering to Mesa's update counter.

    The component is drawn again after each step of :func:`model_controller` (as SolaraViz's
    own components are: they call ``update_counter.get()``).

    Returns:
        The counter's value (the number of redraws asked for so far).
    """
    from mesa.visualization.utils import update_counter

    return int(update_counter.get())
