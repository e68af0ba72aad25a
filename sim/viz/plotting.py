"""Figures drawn from results tables only (never from a model object).

Every ``plot_*`` function takes a table (a long results table of
``sim.results.tables.long_table``, a comparison table of ``sim.results.compare.difference``, an
attribution table of ``sim.results.attribution.attribute``, or a sweep's tables) and an optional
``ax``, and returns the axes (the ``*_grid`` functions return a figure). Each power and each
state has one colour in every figure, from colour-blind-safe schemes (:func:`power_colour`,
:func:`state_colour`); time axes tick at month ends (a record dated ``2022-03`` is the state at the
end of March 2022, labelled ``2022-03``). Bands are
the 50% (darker) and 90% (lighter) ranges across runs around the median line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import matplotlib

if "ipykernel" not in sys.modules:  # notebooks keep their inline backend
    matplotlib.use("Agg")  # files, not windows: the CLI and CI have no display

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = [
    "QUANTILES",
    "band_stats",
    "label",
    "mark_events",
    "plot_alignment",
    "plot_alignment_grid",
    "plot_attribution",
    "plot_difference",
    "plot_difference_grid",
    "plot_heatmap",
    "plot_heatmap_grid",
    "plot_hedging",
    "plot_indices",
    "plot_influence",
    "plot_ranking",
    "plot_responses",
    "plot_scatter",
    "plot_sensitivity",
    "power_colour",
    "state_colour",
]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles behind every band: 90% (0.05-0.95), 50% (0.25-0.75) and the median."""

_KNOWN = {  # Paul Tol's "bright" scheme, distinct under the common colour-vision deficiencies
    "russia": "#EE6677",  # red
    "china": "#CCBB44",  # yellow
    "usa": "#4477AA",  # blue
    "turkey": "#228833",  # green
    "iran": "#AA3377",  # purple
    "eu": "#66CCEE",  # cyan
}
"""The colour of each great power of the bundled scenarios, in every figure."""
_FALLBACK = ("#332288", "#999933", "#882255", "#44AA99", "#000000", "#8C510A", "#DDCC77")
"""Colours of powers a scenario adds (Tol's "muted" darks, black, brown), distinct from the six,
given in the order the powers appear."""
_KNOWN_STATES = {  # Okabe-Ito and Tol colours, chosen to stay apart under colour deficiencies
    "kazakhstan": "#332288",  # indigo
    "kyrgyzstan": "#D55E00",  # vermillion
    "tajikistan": "#009E73",  # bluish green
    "turkmenistan": "#000000",  # black
    "uzbekistan": "#33BBEE",  # cyan
}
"""The colour of each Central Asian state, in every figure."""
_STATE_FALLBACK = ("#CC79A7", "#E69F00", "#0072B2", "#882255", "#999933", "#777777")
_UP, _DOWN = "#2e86c1", "#e67e22"


def _colour(ident: str, known: dict[str, str], fallback: tuple[str, ...], order: list[str]) -> str:
    if ident in known:
        return known[ident]
    others = [i for i in dict.fromkeys([*order, ident]) if i not in known]
    return fallback[others.index(ident) % len(fallback)]


def power_colour(power: str, order: list[str] | None = None) -> str:
    """The colour of a power in every figure.

    The six great powers have fixed colours; a power a scenario adds takes the next colour of a
    distinct fallback set, by its place among the unknown powers of ``order``.

    Args:
        power: Power id.
        order: All power ids of the figure, in scenario order.

    Returns:
        A hex colour.
    """
    return _colour(power, _KNOWN, _FALLBACK, order or [])


def state_colour(state: str, order: list[str] | None = None) -> str:
    """The colour of a state in every figure (the five Central Asian states have fixed ones).

    Args:
        state: State id.
        order: All state ids of the figure, in scenario order (places the unknown ones).

    Returns:
        A hex colour.
    """
    return _colour(state, _KNOWN_STATES, _STATE_FALLBACK, order or [])


def label(name: str) -> str:
    """The name shown for an id: ``kazakhstan`` -> ``Kazakhstan``, ``usa`` -> ``USA``."""
    return name.upper() if len(name) <= 3 else name.replace("_", " ").title()


def _dates(labels: pd.Series | pd.Index) -> pd.DatetimeIndex:
    """Month-end timestamps for ``YYYY-MM`` labels (a record is the state at a month's end)."""
    return pd.DatetimeIndex(
        pd.to_datetime(pd.Series(labels).astype(str).tolist(), format="%Y-%m")
        + pd.offsets.MonthEnd(0)
    )


def _date_axis(ax: Axes, max_ticks: int = 7) -> None:
    """Ticks on month ends, labelled with their month (``2023-12`` is 31 December 2023).

    Records are dated at month ends, so a tick at the start of a month would name the month
    after the record it stands next to. The axis spans the data (a few days' margin) and the
    ticks count whole steps of months from its first record.
    """
    first, last = (mdates.num2date(v) for v in (ax.dataLim.x0, ax.dataLim.x1))
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next((k for k in (1, 2, 3, 4, 6, 12, 24, 60) if months / k <= max_ticks), 120)
    rule = mdates.rrulewrapper(
        mdates.MONTHLY, bymonthday=-1, interval=step, dtstart=first.replace(day=1)
    )
    ax.xaxis.set_major_locator(mdates.RRuleLocator(rule))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    pad = pd.Timedelta(days=8)
    ax.set_xlim(first - pad, last + pad)
    ax.grid(alpha=0.3)


def _order(values: pd.Series) -> list[str]:
    """Ids in the order of first appearance (scenario order in a tidy table)."""
    cats = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else None
    seen = list(dict.fromkeys(values.dropna().astype(str)))
    if cats is not None:
        return [c for c in seen if c in set(map(str, cats))]
    return seen


def band_stats(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """Quantiles :data:`QUANTILES` of ``value`` across runs per date and ``key``.

    Args:
        rows: Tidy rows of one variable (``date``, ``key``, ``value`` and ``run`` columns).
        key: ``power`` or ``state``.

    Returns:
        A table indexed by date label with columns ``(key id, quantile)``.
    """
    data = rows.assign(date=rows["date"].astype(str), **{key: rows[key].astype(str)})
    # pandas-stubs: quantile takes any array-like q (a list too); unstacking a multi-index
    # column level of a frame gives a frame
    q = data.groupby(["date", key])["value"].quantile(list(QUANTILES)).unstack()  # type: ignore[arg-type]
    return cast(pd.DataFrame, q.unstack(key)).swaplevel(axis=1).sort_index()


def _bands(
    ax: Axes, x: pd.DatetimeIndex, stats: pd.DataFrame, name: str, colour, multi: bool, label: str
) -> None:
    if multi:
        ax.fill_between(x, stats[(name, 0.05)], stats[(name, 0.95)], color=colour, alpha=0.12, lw=0)
        ax.fill_between(x, stats[(name, 0.25)], stats[(name, 0.75)], color=colour, alpha=0.28, lw=0)
    ax.plot(x, stats[(name, 0.5)], color=colour, lw=1.8, label=label)


def _run_count(table: pd.DataFrame) -> int:
    return int(table["run"].nunique()) if "run" in table else 1


def _note(table: pd.DataFrame) -> str:
    runs = _run_count(table)
    return f"median of {runs} runs; bands 50% and 90%" if runs > 1 else "single run"


def _new_ax(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _side_legend(ax: Axes, note: str) -> None:
    ax.legend(
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        title=note.replace("; ", "\n"),
        title_fontsize=8,
        frameon=False,
    )


def _rows(table: pd.DataFrame, variable: str, **where: str) -> pd.DataFrame:
    rows = table[table["variable"] == variable]
    for col, val in where.items():
        rows = rows[rows[col] == val]
    if rows.empty:
        what = ", ".join(f"{k} {v!r}" for k, v in where.items())
        raise ValueError(f"no {variable} rows{' for ' + what if what else ''} in the table")
    return rows


def mark_events(ax: Axes, months: Sequence[str]) -> None:
    """Thin dotted lines at the months events fired (at the end of each month, as the records).

    Args:
        ax: Axes with a month-end date axis.
        months: ``YYYY-MM`` months (repeats are drawn once).
    """
    for when in _dates(pd.Index(sorted(set(months)))):
        x = float(mdates.date2num(when))
        ax.axvline(x, color="0.45", lw=0.7, ls=":", alpha=0.8, zorder=0)


def plot_alignment(
    table: pd.DataFrame, state: str, ax: Axes | None = None, events: Sequence[str] = ()
) -> Axes:
    """Alignment of one state toward every power: median across runs, 50% and 90% bands.

    Args:
        table: A long results table (``sim.results.tables.long_table``).
        state: State id.
        ax: Axes to draw on (a new figure when None).
        events: Months of events to mark (:func:`mark_events`), e.g. those involving the state.

    Returns:
        The axes, with one median line per power (labelled by power id).
    """
    ax = _new_ax(ax, (6, 3.5))
    rows = _rows(table, "alignment", state=state)
    powers = _order(rows["power"])
    order = _order(table["power"])
    stats = band_stats(rows, "power")
    x = _dates(stats.index)
    multi = rows["run"].nunique() > 1
    for power in powers:
        _bands(ax, x, stats, power, power_colour(power, order), multi, power)
    ax.set_ylim(0, 1)
    ax.set_ylabel("alignment (0-1)")
    mark_events(ax, events)
    _date_axis(ax)
    ax.set_title(label(state))
    return ax


def _legend_powers(fig: Figure, powers: list[str], order: list[str], note: str) -> None:
    handles = [plt.Line2D([], [], color=power_colour(p, order), lw=2) for p in powers]
    fig.legend(
        handles,
        [label(p) for p in powers],
        loc="outside lower center",
        ncol=len(powers),
        frameon=False,
        title=note,
    )


def _panels(n: int, height: float) -> tuple[Figure, np.ndarray]:
    """A figure of ``n`` panels, three to a row, sharing their axes; the spare ones hidden."""
    cols = min(3, n)
    rows_n = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows_n,
        cols,
        figsize=(4.6 * cols, height * rows_n + 1.2),
        sharey=True,
        sharex=True,
        squeeze=False,
        layout="constrained",
    )
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, axes


def plot_alignment_grid(
    table: pd.DataFrame,
    title: str | None = None,
    events: Mapping[str, Sequence[str]] | None = None,
) -> Figure:
    """One panel per state, a line per power (median, 50% and 90% bands across runs).

    Args:
        table: A long results table.
        title: Figure title.
        events: State id to the months of the events to mark in its panel (dotted lines).

    Returns:
        The figure.
    """
    align = table[table["variable"] == "alignment"]
    states = _order(align["state"])
    fig, axes = _panels(len(states), 2.9)
    for ax, state in zip(axes.flat, states, strict=False):
        plot_alignment(align, state, ax=ax, events=(events or {}).get(state, ()))
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    for ax in axes.flat:
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.tick_params(axis="x", labelbottom=True)
    order = _order(table["power"])
    note = _note(align) + ("; dotted: months of events involving the state" if events else "")
    _legend_powers(fig, _order(align["power"]), order, note)
    fig.suptitle(title or "Alignment toward each power")
    return fig


def _band_lines(
    table: pd.DataFrame,
    variable: str,
    key: str,
    colour: Callable[[str, list[str]], Any],
    ax: Axes | None,
) -> tuple[Axes, pd.DataFrame]:
    """One median line with 50% and 90% bands per ``key`` id of a per-id variable."""
    ax = _new_ax(ax, (8, 3.8))
    rows = _rows(table, variable)
    order = _order(table[key])
    stats = band_stats(rows, key)
    x = _dates(stats.index)
    multi = rows["run"].nunique() > 1
    for ident in _order(rows[key]):
        _bands(ax, x, stats, ident, colour(ident, order), multi, label(ident))
    _date_axis(ax)
    return ax, rows


def plot_influence(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Regional influence index of each power over time (median, 50% and 90% bands).

    Args:
        table: A tidy results table (rows with ``variable == "influence"``).
        ax: Axes to draw on.

    Returns:
        The axes, one median line per power.
    """
    ax, rows = _band_lines(table, "influence", "power", power_colour, ax)
    ax.set_ylabel("influence index (population-weighted\nmean alignment, 0-1)")
    ax.set_ylim(bottom=0)
    ax.set_title("Regional influence of each power")
    _side_legend(ax, _note(rows))
    return ax


def plot_hedging(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Hedging index of each state over time (median, 50% and 90% bands).

    Args:
        table: A tidy results table (rows with ``variable == "hedging"``).
        ax: Axes to draw on.

    Returns:
        The axes, one median line per state.
    """
    ax, rows = _band_lines(table, "hedging", "state", state_colour, ax)
    ax.set_ylim(0, 1)  # the index's whole range: comparable across figures
    ax.set_ylabel("hedging index (0 one patron,\n1 equal alignment)")
    ax.set_title("Hedging: how evenly each state spreads its alignment")
    _side_legend(ax, _note(rows))
    low, high = float(rows["value"].min()), float(rows["value"].max())
    if high - low < SMALL_RANGE:  # the lines look flat on [0, 1]: zoom in an inset
        inset = ax.inset_axes((0.58, 0.08, 0.4, 0.38))
        _band_lines(table, "hedging", "state", state_colour, inset)
        pad = max((high - low) * 0.15, 1e-4)
        inset.set_ylim(low - pad, high + pad)
        inset.tick_params(labelsize=6)
        inset.xaxis.set_major_formatter(mdates.DateFormatter("%y-%m"))
        inset.set_title(f"zoom: {low:.3f} to {high:.3f}", fontsize=7)
    return ax


SMALL_RANGE = 0.1
"""A hedging figure whose values span less than this gets a zoomed inset."""


def plot_responses(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Each power's answers to the states' drift: the share of runs courting or punishing.

    One panel per power, one line per state: above zero the share of runs in which the power
    courts the state that month (the recorded ``response`` +1), below zero, dashed, minus the
    share in which it punishes it (-1); a power that ignores a state draws nothing for it.

    Args:
        table: A long results table (rows with ``variable == "response"``).
        title: Figure title.

    Returns:
        The figure.

    Raises:
        ValueError: If the table has no ``response`` rows (a folder written before they were
            recorded: rerun the scenario).
    """
    rows = _rows(table, "response")
    powers, states = _order(rows["power"]), _order(rows["state"])
    keys = [rows["date"].astype(str), rows["power"].astype(str), rows["state"].astype(str)]
    court = (rows["value"] > 0).groupby(keys, sort=False).mean()
    punish = (rows["value"] < 0).groupby(keys, sort=False).mean()
    fig, axes = _panels(len(powers), 2.6)
    months = list(dict.fromkeys(rows["date"].astype(str)))
    x = _dates(pd.Index(months))
    order = _order(table["state"])
    for ax, power in zip(axes.flat, powers, strict=False):
        for state in states:
            up = court.xs((power, state), level=(1, 2)).reindex(months).to_numpy(dtype=float)
            down = punish.xs((power, state), level=(1, 2)).reindex(months).to_numpy(dtype=float)
            colour = state_colour(state, order)
            if up.any():
                ax.plot(x, up, color=colour, lw=1.6, label=label(state))
            if down.any():
                ax.plot(x, 0.0 - down, color=colour, lw=1.6, ls="--")
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(label(power), fontsize=10)
        _date_axis(ax, max_ticks=5)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("share of runs:\ncourts (+), punishes (-)")
    handles = [
        plt.Line2D([], [], color=state_colour(s, order), lw=1.6, label=label(s)) for s in states
    ]
    handles.append(plt.Line2D([], [], color="0.3", lw=1.6, ls="--", label="punishes (dashed)"))
    runs = _run_count(rows)
    note = f"share of {runs} runs" if runs > 1 else "a single run (0 or 1)"
    fig.legend(handles=handles, loc="outside right center", fontsize=8, title=note)
    fig.suptitle(title or "How each power answers the states' drift")
    return fig


def _matrix(table: pd.DataFrame, date: str, variable: str) -> pd.DataFrame:
    rows = table[(table["variable"] == variable) & (table["date"].astype(str) == date)]
    if rows.empty:
        dates = sorted(table["date"].astype(str).unique())
        raise ValueError(f"no {variable} rows at {date}; months run from {dates[0]} to {dates[-1]}")
    med = rows.groupby([rows["state"].astype(str), rows["power"].astype(str)])["value"].median()
    return med.unstack().loc[_order(rows["state"]), _order(rows["power"])]


def plot_heatmap(
    table: pd.DataFrame,
    date: str,
    ax: Axes | None = None,
    variable: str = "alignment",
    annotate: bool = True,
    colorbar: bool = True,
) -> Axes:
    """States x powers heatmap of the median of a variable at the end of a month.

    The title says over how many runs the median is taken, or that the table holds a single run.

    Args:
        table: A tidy results table.
        date: ``YYYY-MM``.
        ax: Axes to draw on.
        variable: A state-power variable (alignment by default).
        annotate: Write each cell's value.
        colorbar: Draw a colour bar.

    Returns:
        The axes (the image is ``ax.images[0]``; its array is the states x powers matrix).
    """
    ax = _new_ax(ax, (6.2, 3.8))
    mat = _matrix(table, date, variable)
    order = _order(table["power"])
    im = ax.imshow(mat.to_numpy(), cmap="YlGnBu", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(mat.shape[1]), [label(p) for p in mat.columns])
    ax.set_yticks(range(mat.shape[0]), [label(s) for s in mat.index])
    for tick, power in zip(ax.get_xticklabels(), mat.columns, strict=False):
        tick.set_color(power_colour(power, order))
        tick.set_fontweight("bold")
    if annotate:
        values = mat.to_numpy(dtype=float)
        for i, j in np.ndindex(mat.shape):
            v = values[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if v > 0.6 else "black")  # fmt: skip
    runs = _run_count(table)
    what = f"median of {runs} runs" if runs > 1 else "single run"
    ax.set_title(f"{variable} at the end of {date} ({what})")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=f"{variable} (0-1)", shrink=0.9)
    return ax


def plot_heatmap_grid(
    table: pd.DataFrame, dates: list[str] | None = None, variable: str = "alignment", n: int = 6
) -> Figure:
    """Small multiples of :func:`plot_heatmap` over time, one shared colour scale.

    Args:
        table: A tidy results table.
        dates: Months to show (default: ``n`` evenly spaced months, first and last included).
        variable: A state-power variable.
        n: Number of panels when ``dates`` is None.

    Returns:
        The figure.
    """
    all_dates = sorted(table["date"].astype(str).unique())
    if dates is None:
        idx = np.unique(np.linspace(0, len(all_dates) - 1, min(n, len(all_dates))).round())
        dates = [all_dates[int(i)] for i in idx]
    cols = min(3, len(dates))
    rows_n = int(np.ceil(len(dates) / cols))
    fig, axes = plt.subplots(
        rows_n,
        cols,
        figsize=(3.6 * cols + 1.0, 2.7 * rows_n + 0.6),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    for ax, date in zip(axes.flat, dates, strict=False):
        plot_heatmap(table, date, ax=ax, variable=variable, annotate=False, colorbar=False)
        ax.set_title(date, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.tick_params(axis="x", labelrotation=45)
    for ax in list(axes.flat)[len(dates) :]:
        ax.set_visible(False)
    fig.colorbar(axes.flat[0].images[0], ax=axes, label=f"{variable} (0-1), median", shrink=0.8)
    fig.suptitle(f"{variable.capitalize()} of each state toward each power over time")
    return fig


# --- comparison ----------------------------------------------------------------------------


def plot_difference(
    diff: pd.DataFrame,
    state: str | None = None,
    ax: Axes | None = None,
    scenario: str | None = None,
) -> Axes:
    """A scenario's difference from the baseline: median line, 50% and 90% bands.

    Args:
        diff: A table from ``sim.results.compare.difference`` (``scenario, variable, date, state,
        power,
            q05, q25, q50, q75, q95``).
        state: State id for state-level variables (None for per-power variables).
        ax: Axes to draw on.
        scenario: Which compared scenario (default: the first in the table).

    Returns:
        The axes, one line per power (or per state for per-state variables).
    """
    ax = _new_ax(ax, (6.5, 3.6))
    scenario = scenario or str(diff["scenario"].iloc[0])
    rows = diff[diff["scenario"] == scenario]
    if state is not None:
        rows = rows[rows["state"] == state]
    if rows.empty:
        raise ValueError(f"no difference rows for scenario {scenario!r} and state {state!r}")
    variable = str(rows["variable"].iloc[0])
    key = "power" if rows["power"].notna().any() else "state"
    names = list(dict.fromkeys(rows[key].astype(str)))
    order = list(dict.fromkeys(diff["power"].dropna().astype(str)))
    paired = bool(rows["paired"].iloc[0]) if "paired" in rows else False
    for name in names:
        sub = rows[rows[key].astype(str) == name].sort_values("date")
        x = _dates(sub["date"])
        colour = power_colour(name, order) if key == "power" else state_colour(name, order)
        ax.fill_between(x, sub["q05"], sub["q95"], color=colour, alpha=0.12, lw=0)
        ax.fill_between(x, sub["q25"], sub["q75"], color=colour, alpha=0.28, lw=0)
        ax.plot(x, sub["q50"], color=colour, lw=1.8, label=label(name))
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_ylabel(f"Δ {variable} vs baseline")
    _date_axis(ax)
    ax.set_title(label(state) if state else f"{scenario}: Δ {variable}")
    ax.text(
        0.01,
        0.02,
        "paired by seed" if paired else "all run pairs",
        transform=ax.transAxes,
        fontsize=7,
        color="0.4",
    )
    return ax


def plot_difference_grid(
    diff: pd.DataFrame, scenario: str | None = None, title: str | None = None
) -> Figure:
    """One panel per state (or a single panel for per-power variables) of a difference table.

    Args:
        diff: A table from ``sim.results.compare.difference`` for one variable.
        scenario: Which compared scenario (default: the first).
        title: Figure title.

    Returns:
        The figure.
    """
    scenario = scenario or str(diff["scenario"].iloc[0])
    rows = diff[diff["scenario"] == scenario]
    variable = str(rows["variable"].iloc[0])
    if rows["power"].notna().any() and rows["state"].notna().any():
        states: list[str | None] = list(dict.fromkeys(rows["state"].astype(str)))
    else:
        states = [None]
    n = len(states)
    cols = min(3, n)
    rows_n = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows_n,
        cols,
        figsize=(4.6 * cols + (2.0 if n == 1 else 0), 2.9 * rows_n + 1.2),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    for ax, state in zip(axes.flat, states, strict=False):
        plot_difference(rows, state=state, ax=ax, scenario=scenario)
        if state is None:
            ax.set_title("")  # the figure's title says it all
        ax.tick_params(axis="x", labelrotation=30, labelsize=8, labelbottom=True)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(len(labels), 6),
        frameon=False,
        title="median difference; bands 50% and 90%",
    )
    base = str(rows["baseline"].iloc[0]) if "baseline" in rows else "baseline"
    fig.suptitle(title or f"{scenario} minus {base}: {variable}")
    return fig


# --- attribution ---------------------------------------------------------------------------


def plot_attribution(
    table: pd.DataFrame, ax: Axes | None = None, kind: str = "channel", top: int = 10
) -> Axes:
    """Waterfall of the change in alignment by channel or by event.

    Bars run from the alignment before the period (top) to its end (bottom): each bar is one
    component's mean contribution, starting where the previous one ended; whiskers give the
    5-95% range of that component across runs.

    Args:
        table: A table from ``sim.results.attribution.attribute``.
        ax: Axes to draw on.
        kind: ``channel`` or ``event``.
        top: For events, how many of the largest to show (the rest are summed).

    Returns:
        The axes (one bar per component shown, plus the total).
    """
    if kind not in ("channel", "event"):
        raise ValueError(f"kind must be 'channel' or 'event', found {kind!r}")
    parts = table[table["kind"] == kind][["component", "value", "q05", "q95"]].copy()
    if parts.empty:
        raise ValueError(f"the attribution table has no {kind} rows")
    level = table[table["kind"] == "level"].set_index("component")["value"]
    head = table.iloc[0]
    state, power = str(head["state"]), str(head["power"])
    start, end = float(level["start"]), float(level["end"])
    hidden = 0
    if kind == "event":
        rest = parts[parts["component"] == "interactions and rest"]
        ev = parts[parts["component"] != "interactions and rest"]
        ev = ev.reindex(ev["value"].abs().sort_values(ascending=False).index)
        shown, others = ev.head(top), ev.iloc[top:]
        extra = []
        if len(others):
            extra.append(
                {
                    "component": f"{len(others)} other events",
                    "value": others["value"].sum(),
                    "q05": np.nan,
                    "q95": np.nan,
                }
            )
        parts = pd.concat([shown, pd.DataFrame(extra), rest], ignore_index=True)
    else:
        small = (parts[["value", "q05", "q95"]].abs().max(axis=1) < 1e-9).to_numpy()
        hidden = int(small.sum())
        parts = parts[~small].reset_index(drop=True)
    ax = _new_ax(ax, (7.5, 0.38 * (len(parts) + 2) + 1.4))
    colour = power_colour(power)
    labels, y = [], 0
    ax.scatter([start], [y], color=colour, marker="D", zorder=3)
    labels.append(f"start ({start:.3f})")
    cum = start
    for row in parts.to_dict(orient="records"):
        y += 1
        ax.barh(y, row["value"], left=cum, color=_UP if row["value"] >= 0 else _DOWN, height=0.6)
        right = max(cum, cum + row["value"])
        if np.isfinite(row["q05"]) and row["q05"] != row["q95"]:
            lo, hi = cum + row["q05"], cum + row["q95"]
            ax.plot([lo, hi], [y, y], color="0.25", lw=0.9)
            right = max(right, hi)
        ax.text(
            right,
            y,
            f" {row['value']:+.4f}",
            va="center",
            fontsize=7,
            color="0.2",
        )
        cum += row["value"]
        labels.append(str(row["component"]))
    y += 1
    ax.barh(y, end - start, left=start, color=colour, height=0.6)
    ax.text(max(start, end), y, f" {end - start:+.4f}", va="center", fontsize=8)
    labels.append(f"end ({end:.3f}), change")
    ax.axvline(start, color="0.5", lw=0.8, ls=":")
    ax.axvline(end, color=colour, lw=0.8, ls="--")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi + 0.18 * (hi - lo))  # room for the value labels
    ax.set_xlabel(f"alignment of {label(state)} toward {label(power)} (0-1)")
    by = "channel" if kind == "channel" else "event (each switched off in turn)"
    note = f"; {hidden} channel(s) without effect hidden" if hidden else ""
    ax.set_title(
        f"Why it moved, by {by}: {head['start']} to {head['end']}\n"
        f"mean over {int(head['runs'])} runs; whiskers 5-95% across runs{note}",
        fontsize=9,
    )
    ax.legend(
        handles=[Patch(color=_UP, label="raised"), Patch(color=_DOWN, label="lowered")],
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09 - 0.6 / max(y, 1)),
        ncol=2,
        frameon=False,
    )
    ax.grid(axis="x", alpha=0.3)
    return ax


# --- sweeps --------------------------------------------------------------------------------


def plot_indices(indices: pd.DataFrame, metric: str, ax: Axes | None = None, top: int = 15) -> Axes:
    """Sobol (S1 and ST) or Morris (mu* and sigma) bars of one metric, largest first.

    Args:
        indices: A table from ``sim.sweep.analysis.sensitivity``.
        metric: Output metric.
        ax: Axes to draw on.
        top: Most parameters shown.

    Returns:
        The axes.
    """
    sub = indices[indices["metric"] == metric]
    if sub.empty:
        raise ValueError(f"no indices for metric {metric!r}")
    sobol = "ST" in sub
    key = "ST" if sobol else "mu_star"
    sub = sub.sort_values(key, ascending=False).head(top).iloc[::-1]
    ax = _new_ax(ax, (7.5, 0.32 * len(sub) + 1.5))
    y = np.arange(len(sub))
    if sobol:
        ax.barh(y + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], color="#34495e", label="total (ST)")
        ax.barh(y - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], color="#95a5a6", label="first (S1)")
        ax.set_xlabel("Sobol index (share of output variance)")
    else:
        ax.barh(
            y + 0.2, sub["mu_star"], 0.4, xerr=sub["mu_star_conf"], color="#34495e", label="mu*"
        )
        ax.barh(y - 0.2, sub["sigma"], 0.4, color="#95a5a6", label="sigma")
        ax.set_xlabel("Morris elementary effect (metric units)")
    ax.set_yticks(y, sub["parameter"], fontsize=8)
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    ax.set_title(metric, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_scatter(runs: pd.DataFrame, metric: str, parameter: str, ax: Axes | None = None) -> Axes:
    """A sweep's metric against one parameter: every run, and the binned median.

    Args:
        runs: A sweep's results table (``sim.sweep.run.read_sweep_results``: one row per run).
        metric: Output metric column.
        parameter: Parameter column (its path).
        ax: Axes to draw on.

    Returns:
        The axes.
    """
    for col in (metric, parameter):
        if col not in runs:
            raise ValueError(f"no column {col!r} in the sweep results")
    ax = _new_ax(ax, (6.2, 4.0))
    x = runs[parameter].to_numpy(dtype=float)
    y = runs[metric].to_numpy(dtype=float)
    power = next((p for p in _KNOWN if metric.endswith("." + p)), None)
    colour = power_colour(power) if power else "#34495e"
    ax.scatter(x, y, s=8, alpha=0.35, color=colour, lw=0, label="runs")
    bins = np.unique(np.quantile(x, np.linspace(0, 1, 11)))
    if len(bins) > 2:
        which = np.clip(np.digitize(x, bins[1:-1]), 0, len(bins) - 2)
        mids = [(bins[i] + bins[i + 1]) / 2 for i in range(len(bins) - 1)]
        meds = [
            np.median(y[which == i]) if np.any(which == i) else np.nan for i in range(len(mids))
        ]
        ax.plot(mids, meds, color="black", lw=1.6, marker="o", ms=3, label="median per decile bin")
    ax.set_xlabel(parameter)
    ax.set_ylabel(metric)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    ax.set_title(f"{metric} against {parameter}", fontsize=9)
    return ax


def plot_ranking(indices: pd.DataFrame, ax: Axes | None = None, top: int = 15) -> Axes:
    """The overall ranking of parameters over every metric, largest first.

    Args:
        indices: A table from ``sim.sweep.analysis.sensitivity``.
        ax: Axes to draw on.
        top: Most parameters shown.

    Returns:
        The axes.
    """
    from sim.sweep.analysis import ranking

    rank = ranking(indices).head(top).iloc[::-1]
    ax = _new_ax(ax, (7.5, 0.32 * len(rank) + 1.5))
    ax.barh(np.arange(len(rank)), rank["score"], 0.6, color="#34495e")
    ax.set_yticks(np.arange(len(rank)), rank["parameter"], fontsize=8)
    ax.set_xlabel("mean ST over metrics" if "ST" in indices else "mean of mu* / max mu*")
    ax.set_title("overall (mean over metrics)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_sensitivity(
    indices: pd.DataFrame, metrics: list[str], top: int = 15, columns: int = 2
) -> Figure:
    """The overall ranking, then one panel per metric, on a grid of ``columns`` panels a row.

    Each panel is :func:`plot_ranking` or :func:`plot_indices` (the figure of
    ``greatgame plot --kind indices``): Sobol panels show total (ST) and first-order (S1)
    indices with their confidence intervals; Morris panels show ``mu*`` with its interval and
    ``sigma``.

    Args:
        indices: A table from ``sim.sweep.analysis.sensitivity``.
        metrics: Metrics to give a panel each.
        top: Most parameters shown per panel.
        columns: Panels per row.

    Returns:
        The figure.
    """
    n = 1 + len(metrics)
    cols = max(1, min(columns, n))
    rows = -(-n // cols)
    shown = min(top, indices["parameter"].nunique())
    height = 0.32 * shown + 1.5
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, height * rows), squeeze=False)
    flat = list(axes.flat)
    plot_ranking(indices, ax=flat[0], top=top)
    for ax, metric in zip(flat[1:n], metrics, strict=True):
        plot_indices(indices, metric, ax=ax, top=top)
    for ax in flat[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_posterior(
    particles: np.ndarray,
    weights: np.ndarray,
    names: Sequence[str],
    low: Sequence[float],
    high: Sequence[float],
    title: str = "",
) -> Figure:
    """A calibration's weighted posterior of each parameter against its uniform prior.

    Args:
        particles: The posterior sample, ``(n, d)``.
        weights: Its normalised weights, ``(n,)``.
        names: The parameters (scenario paths), ``d`` of them.
        low: Lower end of each prior range.
        high: Upper end of each prior range.
        title: The figure's title.

    Returns:
        One panel per parameter: the weighted histogram over the prior range, the flat prior
        dashed.
    """
    n = len(names)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for j, name in enumerate(names):
        ax = axes[j // cols][j % cols]
        bins = np.linspace(low[j], high[j], 25)
        ax.hist(
            particles[:, j], bins=bins, weights=weights, density=True, alpha=0.7, label="posterior"
        )
        ax.axhline(1.0 / (high[j] - low[j]), color="k", ls="--", lw=1, label="prior")
        ax.set_title(name.removeprefix("model.").removeprefix("states."), fontsize=8)
        ax.tick_params(labelsize=7)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (2.4 * rows)) if title else None)
    return fig


def plot_backtest(
    scores: pd.DataFrame,
    title: str,
    remittance_scores: pd.DataFrame | None = None,
    remittance_paths: Mapping[str, Any] | None = None,
) -> Figure:
    """A backtest at a glance: each method's CRPS, and the remittance paths against the record.

    Args:
        scores: One row per method with ``method`` and ``crps`` (the agreement record).
        title: The figure's title.
        remittance_scores: The same for remittances, if forecast.
        remittance_paths: ``years``, ``states``, ``observed`` ``(Y, S)``, ``paths`` ``(B, Y, S)``
            (each run's fitted reading, per cent of GDP) and ``first_forecast`` (the first year
            not fitted), if forecast.

    Returns:
        Bars of CRPS per method (lower is better; the model's bar highlighted) in the first row,
        then one panel per state: the record, the runs' median and 5-95% band, the forecast years
        shaded.
    """
    n_states = len(remittance_paths["states"]) if remittance_paths is not None else 0
    n_bars = 1 + (remittance_scores is not None)
    cols = max(n_bars, n_states)
    rows = 1 + (n_states > 0)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False)
    for ax in axes[0][n_bars:]:
        ax.axis("off")
    tables = [("UN agreement (points)", scores)]
    if remittance_scores is not None:
        tables.append(("remittances (% of GDP)", remittance_scores))
    for ax, (name, table) in zip(axes[0], tables, strict=False):
        colours = ["#c0392b" if m == "model" else "#95a5a6" for m in table["method"]]
        ax.barh(table["method"], table["crps"], color=colours)
        ax.invert_yaxis()
        ax.set_title(f"CRPS, {name}", fontsize=9)
        ax.tick_params(labelsize=7)
    if remittance_paths is not None:
        years = np.asarray(remittance_paths["years"])
        paths = np.asarray(remittance_paths["paths"])
        observed = np.asarray(remittance_paths["observed"])
        lo, mid, hi = np.quantile(paths, [0.05, 0.5, 0.95], axis=0)
        for j, state in enumerate(remittance_paths["states"]):
            ax = axes[1][j]
            ax.axvspan(remittance_paths["first_forecast"] - 0.5, years[-1] + 0.5, color="0.92")
            ax.fill_between(years, lo[:, j], hi[:, j], alpha=0.3, color="#c0392b", lw=0)
            ax.plot(years, mid[:, j], color="#c0392b", lw=1.5, label="model (median, 5-95%)")
            ax.plot(years, observed[:, j], "o-", color="k", ms=3, lw=1, label="World Bank")
            ax.set_title(f"{label(state)}: remittances, % of GDP", fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in axes[1][n_states:]:
            ax.axis("off")
        axes[1][0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / (3.0 * rows)))
    return fig
