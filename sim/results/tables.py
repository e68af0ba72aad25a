"""The long table of recorded and derived variables: the one format of every run's rows.

A results folder's ``results.parquet`` and a sweep's ``trajectories/part-*.parquet`` hold the same
table, built here from a :class:`~sim.model.metrics.Batch`:

``run, seed, step, date, state, power, variable, value``

one row per run, record, id pair and variable, runs in order and, within a run, variables in the
order of :data:`~sim.model.metrics.RECORDED` then :data:`~sim.model.metrics.DERIVED`.
State-power variables (alignment, trust, threat, dependence, primary_patron as a 0/1 indicator)
fill both ids; per-state variables (hedging) leave ``power`` empty; per-power variables
(credibility, influence) leave ``state`` empty. ``step`` is the record's index (0: the initial
state), ``date`` its ``YYYY-MM`` month. Text columns are categorical.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.model.metrics import DERIVED, RECORDED, Batch

__all__ = [
    "ANSWER_COLUMNS",
    "COLUMNS",
    "VARIABLES",
    "answers_table",
    "events_table",
    "long_table",
    "variable_array",
]

COLUMNS = ("run", "seed", "step", "date", "state", "power", "variable", "value")
"""The long table's columns, in order."""
VARIABLES: dict[str, str] = {**RECORDED, **DERIVED}
"""Every variable of the long table and its index kind (``state-power``, ``state``, ``power``)."""
EVENT_COLUMNS = (
    "run",
    "seed",
    "step",
    "date",
    "id",
    "type",
    "magnitude",
    "outcome",
    "who",
    "why",
)
"""The event log's columns, in order."""
ANSWER_COLUMNS = ("run", "seed", "step", "date", "event", "kind", "state", "power", "yes")
"""The answers table's columns, in order (:func:`answers_table`)."""


def long_table(batch: Batch, runs: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
    """The long table of a batch's recorded and derived variables (see the module docstring).

    Args:
        batch: The runs.
        runs: Number of each run (default ``0 .. B - 1``).

    Returns:
        The table, in :data:`COLUMNS` order.

    Raises:
        ValueError: If a variable of the batch has no index kind in :data:`VARIABLES`.
    """
    run_ids = np.arange(batch.n_runs) if runs is None else np.asarray(runs, dtype=np.int64)
    states = np.array(batch.states, dtype=object)
    powers = np.array(batch.powers, dtype=object)
    dates = np.array(batch.dates, dtype=object)
    parts = []
    for name, arr in {**batch.values, **batch.derived()}.items():
        kind = VARIABLES.get(name)
        if kind is None:
            raise ValueError(f"variable {name!r} has no index kind; add it to RECORDED or DERIVED")
        grid = np.indices(arr.shape).reshape(arr.ndim, -1)  # run, step, then state and/or power
        n = grid.shape[1]
        none = np.full(n, None, dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "run": run_ids[grid[0]],
                    "seed": batch.seeds.astype(np.int64)[grid[0]],
                    "step": grid[1].astype(np.int32),
                    "date": dates[grid[1]],
                    "state": states[grid[2]] if kind != "power" else none,
                    "power": powers[grid[-1]] if kind != "state" else none,
                    "variable": np.full(n, name, dtype=object),
                    "value": arr.reshape(-1).astype(np.float64),
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    order = np.argsort(table["run"].to_numpy(), kind="stable")  # runs in order, variables kept
    table = table.take(order).reset_index(drop=True)
    for col in ("date", "state", "power", "variable"):
        table[col] = table[col].astype("category")
    return table


def events_table(batch: Batch, runs: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
    """The event log of a batch's runs, in :data:`EVENT_COLUMNS` order.

    Args:
        batch: The runs (with their event logs).
        runs: Number of each run (default ``0 .. B - 1``).

    Returns:
        One row per event that fired in a run.
    """
    run_ids = range(batch.n_runs) if runs is None else [int(r) for r in runs]
    rows = [
        {"run": r, "seed": int(seed), **entry}
        for r, seed, log in zip(run_ids, batch.seeds, batch.events, strict=True)
        for entry in log
    ]
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def answers_table(batch: Batch, runs: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
    """Every answer the events put to agents in a batch's runs, one row each.

    The structured form of the outcomes of ``events.csv``: for each call for help (a crisis, a
    ``security_request``, each side of a border war) the calling ``state``, the ``power`` it
    asked (empty: nobody) and whether that power answered; for each package (``kind``
    ``offer``) the state offered it, the offering power and whether the state accepted. In the
    order of the event log.

    Args:
        batch: The runs (with their event logs).
        runs: Number of each run (default ``0 .. B - 1``).

    Returns:
        The table, in :data:`ANSWER_COLUMNS` order (``yes`` boolean).
    """
    run_ids = range(batch.n_runs) if runs is None else [int(r) for r in runs]
    rows = [
        {
            "run": r,
            "seed": int(seed),
            "step": entry["step"],
            "date": entry["date"],
            "event": entry["id"],
            **answer,
        }
        for r, seed, log in zip(run_ids, batch.seeds, batch.events, strict=True)
        for entry in log
        for answer in entry.get("answers", ())
    ]
    table = pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))
    table["yes"] = table["yes"].astype(bool)
    return table


def variable_array(
    table: pd.DataFrame, variable: str, *keys: str
) -> tuple[np.ndarray, list[str], list]:
    """A variable of a long table as ``(runs, records, *ids)``: the inverse of :func:`long_table`.

    Args:
        table: A long results table.
        variable: The variable.
        *keys: ``"power"``, or ``"state", "power"``: the id columns, in array order.

    Returns:
        The array, the ``YYYY-MM`` date of each record, and one id list per key (table order).
    """
    rows = table[table["variable"] == variable]
    if rows.empty:
        raise ValueError(f"no {variable} rows in the table")
    runs = sorted(rows["run"].unique())
    steps = sorted(rows["step"].unique())
    dates = rows.drop_duplicates("step").set_index("step")["date"].astype(str).loc[steps].tolist()
    rows = rows.assign(**{k: rows[k].astype(str) for k in keys})
    ids = [list(dict.fromkeys(rows[k])) for k in keys]
    *index, column = keys
    wide = rows.pivot_table(
        index=["run", "step", *index], columns=column, values="value", observed=True
    )
    full = pd.MultiIndex.from_product([runs, steps, *ids[:-1]], names=wide.index.names)
    cube = wide.reindex(full)[ids[-1]].to_numpy()
    return cube.reshape(len(runs), len(steps), *(len(i) for i in ids)), dates, ids
