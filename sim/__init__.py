"""greatgame: an agent-based model of great-power influence in Central Asia.

Typical use::

    from sim import GreatGameModel, load_scenario, run

    results = run("scenarios/baseline_2022.yaml", seed=1, replicates=10)
    table = results.table()
"""

from sim.errors import ScenarioError
from sim.model import GreatGameModel
from sim.runner import run
from sim.scenario import load_scenario

__all__ = ["GreatGameModel", "ScenarioError", "load_scenario", "run"]
