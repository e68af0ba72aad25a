"""Thin Mesa agents: a power allocates its budget, a state decides its alignment.

Both call the array functions of :mod:`sim.dynamics` on their own row (a batch of one run),
so the Mesa model and the ensemble engine share one copy of the equations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim import dynamics

if TYPE_CHECKING:
    from sim.model import GreatGameModel
    from sim.scenario import Power, State

__all__ = ["PowerAgent", "StateAgent"]


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

    def step(self) -> None:
        """Allocate this month's budget (writes this power's column of the allocation)."""
        cols = slice(self.index, self.index + 1)
        mine = dynamics.allocate(self.model.world, self.model.params, powers=cols)
        alloc = self.model.allocation
        for name in ("aid", "security", "rhetoric", "threat_level"):
            getattr(alloc, name)[:, :, cols] = getattr(mine, name)


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
