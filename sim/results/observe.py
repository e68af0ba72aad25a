"""Observables of a results folder at a chosen month (read by :mod:`sim.results.folder`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.model.metrics import VOTES, VoteRule, predicted_vote
from sim.results.folder import RunFolder, read_run_folder

__all__ = ["observe"]


def observe(
    folder: str | Path | RunFolder, date: str, rule: VoteRule | None = None
) -> pd.DataFrame:
    """Per state at ``date``: predicted UN vote, primary patron, hedging and alignment.

    Each run votes by :func:`sim.model.metrics.predicted_vote` (``n/a`` when the scenario lacks
    the powers the rule needs); the table gives the most common
    vote and the share of runs that cast it, the most common primary patron and its share, the
    median hedging index and the median alignment toward each power.

    Args:
        folder: A results folder, or one already read.
        date: ``YYYY-MM``; records are the state at the end of that month.
        rule: Vote rule parameters (defaults of :class:`VoteRule` when None).

    Returns:
        One row per state, in scenario order.

    Raises:
        ScenarioError: If the date is not in the results, or ``scenario.yaml`` is damaged.
        OutputError: If the folder is not a results folder or is damaged
            (:func:`sim.results.folder.read_run_folder`).
    """
    run = folder if isinstance(folder, RunFolder) else read_run_folder(folder)
    table, scenario = run.table, run.scenario
    dates = sorted(table["date"].astype(str).unique())
    if date not in dates:
        tail = did_you_mean(date, dates)
        raise ScenarioError(
            [
                Problem(
                    str(run.path),
                    ("date",),
                    f"expected a month from {dates[0]} to {dates[-1]}, found {date}{tail}",
                )
            ]
        )
    at = table[table["date"].astype(str) == date]
    states, powers = scenario.state_ids, scenario.power_ids
    align = at[at["variable"] == "alignment"].pivot_table(
        index=["run", "state"], columns="power", values="value", observed=True
    )
    runs = sorted(at["run"].unique())
    cube = np.stack([align.loc[r].loc[states, powers].to_numpy() for r in runs])  # (R, S, P)
    neutrality = np.array([s.neutrality for s in scenario.states])
    rule = rule or VoteRule()
    applies = all(p in powers for p in (rule.target, *rule.west))
    votes = predicted_vote(cube, powers, neutrality, rule) if applies else None  # (R, S)
    patrons = cube.argmax(axis=-1)
    hedging = at[at["variable"] == "hedging"].groupby("state", observed=True)["value"].median()
    rows = []
    for i, s in enumerate(states):
        vote_counts = np.bincount(votes[:, i], minlength=len(VOTES)) if votes is not None else None
        patron_counts = np.bincount(patrons[:, i], minlength=len(powers))
        row = {
            "state": s,
            "vote": VOTES[int(vote_counts.argmax())] if vote_counts is not None else "n/a",
            "vote_share": vote_counts.max() / len(runs) if vote_counts is not None else np.nan,
            "primary_patron": powers[int(patron_counts.argmax())],
            "patron_share": patron_counts.max() / len(runs),
            "hedging": float(hedging.get(s, np.nan)),
        }
        row.update({p: float(np.median(cube[:, i, j])) for j, p in enumerate(powers)})
        rows.append(row)
    return pd.DataFrame(rows)
