"""greatgame: an agent-based model of great-power influence in Central Asia.

Typical use::

    from sim import read_run_folder, run, write_run_folder

    results = run("scenarios/baseline_2022.yaml", seed=1, replicates=10)
    table = results.table()
    folder = write_run_folder(results, "results/baseline")  # what greatgame run writes
    table = read_run_folder(folder).table  # the same table, read back and checked

The names below are imported on first use, so that light commands (``greatgame check``) do not
pay for importing Mesa, pandas and matplotlib.
"""

from importlib import import_module
from typing import Any

__all__ = [
    "Batch",
    "GreatGameModel",
    "ScenarioError",
    "load_scenario",
    "load_verified",
    "observe",
    "read_run_folder",
    "read_sweep_results",
    "run",
    "run_ensemble",
    "run_sweep",
    "simulate",
    "validate",
    "write_run_folder",
]

_HOME = {
    "Batch": "sim.model.metrics",
    "GreatGameModel": "sim.model.mesa_model",
    "ScenarioError": "sim.input.errors",
    "load_scenario": "sim.input.scenario",
    "load_verified": "sim.input.evidence",
    "observe": "sim.results.observe",
    "read_run_folder": "sim.results.folder",
    "read_sweep_results": "sim.sweep.run",
    "run": "sim.results.runner",
    "run_ensemble": "sim.model.ensemble",
    "run_sweep": "sim.sweep.run",
    "simulate": "sim.model.engines",
    "validate": "sim.results.validation",
    "write_run_folder": "sim.results.runner",
}
"""Where each public name lives. Every other name is addressed by its module path (the
sub-packages' docstrings say what each module owns)."""


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
