"""Compare results folders with a baseline: differences with uncertainty bands.

The first folder is the baseline. For every other folder and chosen variable, the difference
``other - baseline`` is computed per date and id, over the months and ids both folders hold.

Runs are paired by seed (common random numbers, so the noise cancels; the quantiles are those of
the per-pair differences) only when the two folders have the same structure: the same states,
powers, months and seeds. Otherwise the folders are compared as ensembles: ``mean`` is the
difference of the ensemble means, and the quantiles are taken over every pair of runs (one from
each folder). :func:`match` says which, and what the comparison leaves out (months covered by
one folder only, states or powers present in one only), in lines meant for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.input.errors import OutputError

__all__ = ["VARIABLES", "Coverage", "Match", "difference", "end_differences", "match"]

VARIABLES = ("alignment", "influence", "hedging")
"""Variables compared by default."""

_Q = (0.05, 0.25, 0.5, 0.75, 0.95)
_QCOLS = ["q05", "q25", "q50", "q75", "q95"]


def _ids(column: pd.Series) -> tuple[str, ...]:
    """The distinct non-empty values of a column, in order of first appearance."""
    return tuple(str(v) for v in column.dropna().unique())


@dataclass(frozen=True)
class Coverage:
    """What a tidy results table holds: its months, states, powers and seeds.

    Attributes:
        dates: Every date in the table, sorted (the first is the state before the first month).
        months: The simulated months (``step`` at least 1), sorted.
        states: State ids, in the scenario's order.
        powers: Power ids, in the scenario's order.
        seeds: One seed per run, in run order.
    """

    dates: tuple[str, ...]
    months: tuple[str, ...]
    states: tuple[str, ...]
    powers: tuple[str, ...]
    seeds: tuple[int, ...]

    @classmethod
    def of(cls, table: pd.DataFrame) -> Coverage:
        """The coverage of a tidy results table (``sim.results.runner.tidy``)."""
        dates = tuple(sorted({str(d) for d in table["date"].unique()}))
        months = dates
        if "step" in table:
            months = tuple(sorted({str(d) for d in table.loc[table["step"] > 0, "date"].unique()}))
        runs = table.drop_duplicates("run").sort_values("run")
        return cls(
            dates=dates,
            months=months or dates,
            states=_ids(table["state"]),
            powers=_ids(table["power"]),
            seeds=tuple(int(s) for s in runs["seed"]),
        )

    @property
    def period(self) -> str:
        """``first..last`` simulated month."""
        return f"{self.months[0]}..{self.months[-1]}" if self.months else "no months"


@dataclass(frozen=True)
class Match:
    """How a compared folder lines up with the baseline, and what the comparison leaves out.

    Attributes:
        baseline: The baseline's name.
        scenario: The compared folder's name.
        months: First and last simulated month that both cover (the months compared).
        paired: Whether runs are paired by seed (same structure), else compared as ensembles.
        differs: What differs in structure: some of ``period``, ``states``, ``powers``,
            ``seeds``.
        only_baseline: ``{"states": [...], "powers": [...]}`` present in the baseline only.
        only_scenario: The same for the compared folder.
        notes: One line per caveat, for the user (empty when the folders line up exactly).
    """

    baseline: str
    scenario: str
    months: tuple[str, str]
    paired: bool
    differs: tuple[str, ...] = ()
    only_baseline: dict[str, list[str]] = field(default_factory=dict)
    only_scenario: dict[str, list[str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The match as plain data (for a manifest)."""
        return {
            "baseline": self.baseline,
            "scenario": self.scenario,
            "compared_months": list(self.months),
            "paired_by_seed": self.paired,
            "method": "paired by seed" if self.paired else "ensembles (every pair of runs)",
            "structure_differs": list(self.differs),
            "only_in_baseline": self.only_baseline,
            "only_in_scenario": self.only_scenario,
            "notes": list(self.notes),
        }


def _listing(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def match(
    base: Coverage, other: Coverage, baseline: str = "baseline", scenario: str = "scenario"
) -> Match:
    """Line up a compared folder with the baseline: months, ids, and whether runs pair by seed.

    Args:
        base: The baseline's coverage.
        other: The compared folder's coverage.
        baseline: The baseline's name (in the notes).
        scenario: The compared folder's name.

    Returns:
        The match, with a note for each month range, state or power that only one folder has
        and for runs that cannot be paired by seed.

    Raises:
        OutputError: If the two folders share no simulated month.
    """
    common = sorted(set(base.months) & set(other.months))
    if not common:
        raise OutputError(
            f"{scenario} and {baseline} share no month: {baseline} covers {base.period}, "
            f"{scenario} covers {other.period}"
        )
    who = f"{scenario} vs {baseline}"
    notes, differs = [], []
    if base.dates != other.dates:
        differs.append("period")
        notes.append(
            f"{who}: compared over {common[0]}..{common[-1]}, the months both cover; "
            f"{baseline} covers {base.period}, {scenario} covers {other.period}"
        )
    only_base: dict[str, list[str]] = {}
    only_other: dict[str, list[str]] = {}
    for kind in ("states", "powers"):
        mine, theirs = getattr(base, kind), getattr(other, kind)
        only_base[kind] = [x for x in mine if x not in theirs]
        only_other[kind] = [x for x in theirs if x not in mine]
        if only_base[kind] or only_other[kind]:
            differs.append(kind)
            parts = [
                f"only in {name}: {', '.join(ids)}"
                for name, ids in ((baseline, only_base[kind]), (scenario, only_other[kind]))
                if ids
            ]
            notes.append(f"{who}: {kind} {'; '.join(parts)} (left out of the comparison)")
    if sorted(base.seeds) != sorted(other.seeds) or len(set(base.seeds)) != len(base.seeds):
        differs.append("seeds")
    paired = not differs
    if not paired:
        plural = ["periods" if d == "period" else d for d in differs]
        notes.append(
            f"{who}: runs not paired by seed (the {_listing(plural)} differ); compared as "
            "ensembles: mean is the difference of the ensemble means, the quantiles are over "
            "every pair of runs"
        )
    return Match(
        baseline=baseline,
        scenario=scenario,
        months=(common[0], common[-1]),
        paired=paired,
        differs=tuple(differs),
        only_baseline=only_base,
        only_scenario=only_other,
        notes=tuple(notes),
    )


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
    paired: bool | None = None,
) -> pd.DataFrame:
    """Mean and quantiles of ``other - base`` for one variable, per date and id.

    Only the dates and ids that both tables hold are compared (:func:`match` says which).

    Args:
        base: Tidy results table of the baseline.
        other: Tidy results table of the scenario.
        variable: Variable to compare.
        scenario: Name of the scenario (a column of the output).
        baseline: Name of the baseline.
        paired: Pair runs by seed (default: when the tables have the same structure, see
            :func:`match`); pairing needs the same seeds in both.

    Returns:
        ``scenario, baseline, variable, date, state, power, paired, mean, q05, q25, q50, q75,
        q95`` (``state`` or ``power`` empty for per-power or per-state variables; ``paired`` is
        True when runs were paired by seed; ``mean`` is the mean difference, which unpaired is
        the difference of the ensemble means).

    Raises:
        OutputError: If the variable is missing or the two tables share no month or id for it.
    """
    a, seeds_a = _cube(base, variable)
    b, seeds_b = _cube(other, variable)
    if not a.index.equals(b.index):
        common = a.index.intersection(b.index)
        if len(common) == 0:
            raise OutputError(f"{scenario} and {baseline} share no months or ids for {variable}")
        a, b = a.loc[common], b.loc[common]
    same_seeds = sorted(seeds_a) == sorted(seeds_b) and len(set(seeds_a)) == len(seeds_a)
    if paired is None:
        paired = match(Coverage.of(base), Coverage.of(other)).paired
    paired = paired and same_seeds
    xa, xb = a.to_numpy(), b.to_numpy()
    if paired:
        pos = {s: i for i, s in enumerate(seeds_a)}
        xa = xa[:, [pos[s] for s in seeds_b]]
        d = xb - xa
    else:
        d = (xb[:, :, None] - xa[:, None, :]).reshape(len(xb), -1)
    q = np.quantile(d, _Q, axis=1).T
    out = a.index.to_frame(index=False)
    out["mean"] = d.mean(axis=1)
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
