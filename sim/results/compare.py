"""Compare results folders with a baseline: differences with uncertainty bands.

The first folder is the baseline. For every other folder and chosen variable, the difference
``other - baseline`` is computed per date and id: when both folders hold the same seeds the runs
are paired by seed (common random numbers, so the noise cancels) and the quantiles are those of
the per-pair differences; otherwise the quantiles are taken over every pair of runs (one from
each folder).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.input.errors import OutputError

__all__ = ["VARIABLES", "difference", "end_differences"]

VARIABLES = ("alignment", "influence", "hedging")
"""Variables compared by default."""

_Q = (0.05, 0.25, 0.5, 0.75, 0.95)
_QCOLS = ["q05", "q25", "q50", "q75", "q95"]


def _cube(table: pd.DataFrame, variable: str) -> tuple[pd.DataFrame, list[int]]:
    """Wide table: index (date, state, power) as strings, one column per seed."""
    rows = table[table["variable"] == variable]
    if rows.empty:
        raise OutputError(f"no {variable!r} rows in the results")
    keys = pd.DataFrame(
        {
            "date": rows["date"].astype(str),
            "state": rows["state"].astype(object).where(rows["state"].notna(), ""),
            "power": rows["power"].astype(object).where(rows["power"].notna(), ""),
            "seed": rows["seed"].astype(np.int64),
            "run": rows["run"],
            "value": rows["value"],
        }
    )
    wide = keys.pivot_table(
        index=["date", "state", "power"], columns="run", values="value", observed=True
    )
    seeds = keys.drop_duplicates("run").set_index("run")["seed"].reindex(wide.columns)
    return wide, [int(s) for s in seeds]


def difference(
    base: pd.DataFrame,
    other: pd.DataFrame,
    variable: str,
    scenario: str = "scenario",
    baseline: str = "baseline",
) -> pd.DataFrame:
    """Quantiles of ``other - base`` for one variable, per date and id.

    Args:
        base: Tidy results table of the baseline.
        other: Tidy results table of the scenario.
        variable: Variable to compare.
        scenario: Name of the scenario (a column of the output).
        baseline: Name of the baseline.

    Returns:
        ``scenario, baseline, variable, date, state, power, paired, q05, q25, q50, q75, q95``
        (``state`` or ``power`` empty for per-power or per-state variables; ``paired`` is True
        when runs were paired by seed).

    Raises:
        OutputError: If the variable is missing or the two tables cover different months or ids.
    """
    a, seeds_a = _cube(base, variable)
    b, seeds_b = _cube(other, variable)
    if not a.index.equals(b.index):
        common = a.index.intersection(b.index)
        if len(common) == 0:
            raise OutputError(f"{scenario} and {baseline} share no months or ids for {variable}")
        a, b = a.loc[common], b.loc[common]
    paired = sorted(seeds_a) == sorted(seeds_b) and len(set(seeds_a)) == len(seeds_a)
    xa, xb = a.to_numpy(), b.to_numpy()
    if paired:
        pos = {s: i for i, s in enumerate(seeds_a)}
        xa = xa[:, [pos[s] for s in seeds_b]]
        d = xb - xa
    else:
        d = (xb[:, :, None] - xa[:, None, :]).reshape(len(xb), -1)
    q = np.quantile(d, _Q, axis=1).T
    out = a.index.to_frame(index=False)
    out[_QCOLS] = q
    rank = {}  # scenario order (first appearance in the baseline), not alphabetical
    for col in ("state", "power"):
        ids = list(dict.fromkeys(base[col].dropna().astype(str)))
        rank[col] = out[col].map({k: i for i, k in enumerate(["", *ids])})
    out = out.iloc[np.lexsort((rank["power"], rank["state"], out["date"]))]
    out = out.reset_index(drop=True)
    out[["state", "power"]] = out[["state", "power"]].replace("", None)
    out.insert(0, "variable", variable)
    out.insert(0, "baseline", baseline)
    out.insert(0, "scenario", scenario)
    out.insert(6, "paired", paired)
    return out


def end_differences(diff: pd.DataFrame) -> pd.DataFrame:
    """The rows of a difference table at its last month."""
    last = diff["date"].max()
    return diff[diff["date"] == last].reset_index(drop=True)
