"""Start a scenario from the state another run reached: ``greatgame run --initial-from DIR``.

The history scenario (2012-01 to 2022-02) ends where the baseline (from 2022-01) begins. To start
the baseline from the history instead of from its own judgements, each replicate takes the
recorded state of one run of a history results folder at the month before the scenario's start
(2021-12 for the baseline, so that the events of January and February 2022, which both
scenarios hold, are not counted twice): each state's alignment, trust and threat toward each
power, and each power's credibility and attention (:data:`CARRIED`). Replicate ``r`` takes run
``r mod n`` of the folder's ``n`` runs, so a history run with ``--posterior`` carries its
parameter uncertainty into the baseline. Everything else (dependence by channel, budgets, the
strategies) stays the scenario's: the results folder does not record dependence by channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.input.errors import Problem, ScenarioError
from sim.input.scenario import Scenario, month_index, month_label
from sim.results.folder import RunFolder, read_run_folder

__all__ = ["CARRIED", "CARRY_RULE", "carried_values"]

CARRIED: dict[str, str] = {
    "alignment": "states.{state}.alignment.{power}",
    "trust": "states.{state}.trust.{power}",
    "threat": "states.{state}.threat.{power}",
    "credibility": "powers.{power}.credibility",
    "attention": "powers.{power}.attention",
}
"""Each recorded variable carried over and the scenario number it sets."""
CARRY_RULE = (
    "replicate r takes run r mod n of the folder's n runs, at the end of the month before the "
    "scenario's start (or the month given)"
)
"""How :func:`carried_values` pairs replicates with runs (recorded in the manifest)."""


def carried_values(
    folder: str | Path | RunFolder,
    scenario: Scenario,
    replicates: int,
    month: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Each replicate's starting numbers, read from a results folder (the module docstring).

    Args:
        folder: A results folder (``greatgame run``), or one already read.
        scenario: The scenario to start.
        replicates: Replicates to be run.
        month: ``YYYY-MM`` whose end state is carried (default: the month before the
            scenario's start).

    Returns:
        ``(values, info)``: one row per replicate and one column per scenario path (for
        :func:`sim.results.runner.run`), and what was carried, for the manifest.

    Raises:
        ScenarioError: When the month is not in the folder, or a state or power of the scenario
            is not in the folder's scenario.
        OutputError: When the folder is not a readable results folder.
    """
    run = folder if isinstance(folder, RunFolder) else read_run_folder(folder)
    month = month or month_label(month_index(scenario.meta.start) - 1)
    held_rows = run.at_month(month, "; the month before the scenario's start (--initial-month)")
    held = set(run.scenario.state_ids) | set(run.scenario.power_ids)
    missing = [i for i in (*scenario.state_ids, *scenario.power_ids) if i not in held]
    if missing:
        raise ScenarioError(
            [
                Problem(
                    str(run.path),
                    ("scenario",),
                    f"expected a folder with every state and power of {scenario.meta.name}, "
                    f"missing {', '.join(missing)}",
                )
            ]
        )
    at = held_rows[held_rows["variable"].isin(list(CARRIED))]
    by_run = {int(str(r)): group for r, group in at.groupby("run", observed=True)}
    runs = sorted(by_run)
    per_run: dict[int, dict[str, float]] = {}
    for r, group in by_run.items():
        states = group["state"].astype(object).where(group["state"].notna(), "").astype(str)
        powers = group["power"].astype(str)
        names = group["variable"].astype(str)
        row: dict[str, float] = {}
        for state, power, name, value in zip(
            states, powers, names, group["value"].to_numpy(float), strict=True
        ):
            if (state and state not in scenario.state_ids) or power not in scenario.power_ids:
                continue
            row[CARRIED[name].format(state=state, power=power)] = float(value)
        per_run[r] = row
    rows = [per_run[runs[r % len(runs)]] for r in range(replicates)]
    info = {
        "folder": str(run.path.resolve()),
        "scenario": run.name,
        "month": month,
        "runs": len(runs),
        "variables": list(CARRIED),
        "rule": CARRY_RULE,
    }
    return pd.DataFrame(rows), info
