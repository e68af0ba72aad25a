"""The Mesa model: powers and states as agents, dated events through Mesa's event scheduling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mesa
import numpy as np

from sim import dynamics
from sim.agents import PowerAgent, StateAgent
from sim.arrays import CompiledEvent, compile_events, initial_state, to_params
from sim.metrics import Trajectory, snapshot
from sim.scenario import LoadedScenario, Scenario, load_scenario, month_index, month_label

__all__ = ["GreatGameModel", "draw_noise"]


def draw_noise(
    rng: np.random.Generator, n_steps: int, states: Sequence[str], powers: Sequence[str]
) -> np.ndarray:
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


class _Trigger:
    """Fires one compiled event; kept alive by the model (Mesa holds weak references)."""

    def __init__(self, model: GreatGameModel, event: CompiledEvent) -> None:
        self.model = model
        self.event = event

    def fire(self) -> None:
        self.model.apply(self.event)


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
        self.noise = draw_noise(self.rng, self.n_steps, self.state_ids, self.power_ids)
        self.params = to_params(scenario)
        self.world = initial_state(scenario)
        self.allocation = dynamics.Allocation(*(np.zeros((1, n_s, n_p)) for _ in range(4)))
        self.pending: list[dynamics.StateRows] = []
        self.powers = [PowerAgent(self, i, p) for i, p in enumerate(scenario.powers)]
        self.states = [StateAgent(self, i, s) for i, s in enumerate(scenario.states)]
        self.event_log: list[dict] = []
        self._triggers = [_Trigger(self, ev) for ev in compile_events(scenario)]
        for trigger in self._triggers:
            self.schedule_event(trigger.fire, at=trigger.event.step + 0.5)
        self._records = [snapshot(self.world, self.params.channel_weights)]

    def month_noise(self) -> np.ndarray:
        """Noise of the month being simulated, ``(1, S, P)``."""
        return self.noise[self.steps - 1][None]

    def apply(self, event: CompiledEvent) -> None:
        """Apply a compiled event now and log it."""
        outcome = dynamics.apply_event(
            self.world,
            self.params,
            event.kind,
            list(event.actors),
            list(event.targets),
            np.array([event.magnitude]),
            event.variable,
        )
        self.event_log.append(
            {
                "step": event.step,
                "date": month_label(month_index(self.spec.meta.start) + event.step),
                "id": event.id,
                "type": event.kind,
                "magnitude": event.magnitude,
                "outcome": "; ".join(
                    f"{'honoured' if ok[0] else 'not honoured'} by {self.power_ids[p]}"
                    for p, ok in outcome.items()
                ),
            }
        )

    def step(self) -> None:
        """One month: powers allocate, states decide, the model commits and records."""
        self.agents_by_type[PowerAgent].do("step")
        self.pending = []
        self.agents_by_type[StateAgent].do("step")
        self.world = dynamics.commit(self.world, self.pending, self.params)
        self._records.append(snapshot(self.world, self.params.channel_weights))
        if self.steps >= self.n_steps:
            self.running = False

    def run(self) -> Trajectory:
        """Run every month of the scenario and return the trajectory."""
        self.run_until(float(self.n_steps))
        return self.trajectory()

    def trajectory(self) -> Trajectory:
        """What has been recorded so far."""
        start = month_index(self.spec.meta.start)
        n = len(self._records)
        return Trajectory(
            seed=int(self.seed),
            dates=[month_label(start - 1 + t) for t in range(n)],
            states=list(self.state_ids),
            powers=list(self.power_ids),
            population=np.array([s.population for s in self.spec.states]),
            values={k: np.stack([r[k][0] for r in self._records]) for k in self._records[0]},
            events=list(self.event_log),
        )
