"""Observables of a results folder at a chosen month (read by :mod:`sim.results.folder`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.input.wdi import load_remittances
from sim.model.metrics import VOTES, VoteRule, predicted_vote
from sim.results.folder import RunFolder, read_run_folder

__all__ = ["observe", "remittances_gdp"]


def observe(
    folder: str | Path | RunFolder, date: str, rule: VoteRule | None = None
) -> pd.DataFrame:
    """Per state at ``date``: predicted UN vote, primary patron, hedging, alignment, remittances.

    Each run votes by :func:`sim.model.metrics.predicted_vote` (``n/a`` when the scenario lacks
    the powers the rule needs); the table gives the most common
    vote and the share of runs that cast it, the most common primary patron and its share, the
    median hedging index and the median alignment toward each power, and ``remittances_gdp``
    with ``remittances_gdp_p5`` and ``remittances_gdp_p95``: remittances received in per cent of
    GDP (:func:`remittances_gdp`), median and 5-95% over the runs, NaN for a state the World
    Bank record lacks (Turkmenistan) or a folder written before remittances were recorded.

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
    scenario = run.scenario
    at = run.at_month(date)
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
    remit = remittances_gdp(run, date)
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
        band = remit.get(s, {})
        row["remittances_gdp"] = band.get("median", np.nan)
        row["remittances_gdp_p5"] = band.get("p5", np.nan)
        row["remittances_gdp_p95"] = band.get("p95", np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def remittances_gdp(run: RunFolder, date: str) -> dict[str, dict[str, float]]:
    """Remittances received at ``date``, per cent of GDP, per state: median and 5-95% of runs.

    The observation equation of the remittance record (``docs/ODD.md``, Section 7.16) with its
    scale anchored: a run's remittances are the World Bank value of the last year on record
    before the run starts (``seeds/data/remittances.csv``: 2019 for a run of 2022) times the
    run's remittance dependence relative to its initial one, ``r_anchor * R(t) / R(0)``. The
    level is the record's; how it moves is the model's.

    Args:
        run: A results folder, read.
        date: ``YYYY-MM`` (in the folder).

    Returns:
        State to ``{"median", "p5", "p95"}``, for the states with a record and a positive
        initial dependence; empty when the folder does not record ``remittances``.
    """
    table = run.table
    rows = table[table["variable"] == "remittances"]
    if rows.empty:
        return {}
    record = load_remittances()
    first = str(sorted(table["date"].astype(str).unique())[0])
    before = record[record["year"] <= int(first[:4])]
    out: dict[str, dict[str, float]] = {}
    for state, group in rows.groupby("state", observed=True):
        known = before[before["state"] == str(state)]
        if known.empty:
            continue
        anchor = float(known.sort_values("year")["remittances_gdp"].iloc[-1])
        start = group[group["step"] == 0].set_index("run")["value"]
        now = group[group["date"].astype(str) == date].set_index("run")["value"]
        ratio = (now / start.reindex(now.index)).to_numpy(float)
        ratio = ratio[np.isfinite(ratio)]
        if not len(ratio):
            continue
        p5, median, p95 = np.quantile(anchor * ratio, [0.05, 0.5, 0.95])
        out[str(state)] = {"median": float(median), "p5": float(p5), "p95": float(p95)}
    return out
