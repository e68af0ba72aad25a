"""greatgame: an agent-based model of great-power influence in Central Asia.

Typical use::

    from sim import GreatGameModel, load_scenario, run

    results = run("scenarios/baseline_2022.yaml", seed=1, replicates=10)
    table = results.table()

The names below are imported on first use, so that light commands (``greatgame check``) do not
pay for importing Mesa, pandas and matplotlib.
"""

from importlib import import_module
from typing import Any

__all__ = ["GreatGameModel", "ScenarioError", "load_scenario", "run"]

_HOME = {
    "GreatGameModel": "sim.model",
    "ScenarioError": "sim.errors",
    "load_scenario": "sim.scenario",
    "run": "sim.runner",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
