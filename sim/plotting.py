"""Figures drawn from results tables only (never from a model object)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, not windows: the CLI and CI have no display

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["plot_alignment", "plot_alignment_grid", "power_colour"]

_KNOWN = {
    "russia": "#c0392b",
    "china": "#e6a700",
    "usa": "#1f5fbf",
    "turkey": "#16a085",
    "iran": "#2e7d32",
    "eu": "#7b3fa0",
}
_FALLBACK = plt.get_cmap("tab10").colors


def power_colour(power: str, order: list[str] | None = None) -> str | tuple:
    """The colour used for a power in every figure.

    Args:
        power: Power id.
        order: All power ids, to give unknown powers stable fallback colours.

    Returns:
        A matplotlib colour.
    """
    if power in _KNOWN:
        return _KNOWN[power]
    others = [p for p in (order or [power]) if p not in _KNOWN]
    return _FALLBACK[others.index(power) % len(_FALLBACK)] if power in others else "grey"


def _dates(labels: pd.Series) -> pd.Series:
    """Month-end timestamps for ``YYYY-MM`` labels (a record is the state at a month's end)."""
    return pd.to_datetime(labels.astype(str), format="%Y-%m") + pd.offsets.MonthEnd(0)


def plot_alignment(table: pd.DataFrame, state: str, ax: Axes | None = None) -> Axes:
    """Alignment of one state toward every power: median across runs, 5-95% band.

    Args:
        table: A tidy results table (``sim.runner.tidy``).
        state: State id.
        ax: Axes to draw on (a new figure when None).

    Returns:
        The axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    rows = table[(table["variable"] == "alignment") & (table["state"] == state)]
    if rows.empty:
        raise ValueError(f"no alignment rows for state {state!r}")
    powers = list(rows["power"].astype(str).unique())
    order = list(table["power"].dropna().unique())
    wide = rows.pivot_table(index=["date", "run"], columns="power", values="value", observed=True)
    stats = wide.groupby(level="date", observed=True).quantile([0.05, 0.5, 0.95]).unstack()
    x = _dates(stats.index.to_series())
    multi = rows["run"].nunique() > 1
    for power in powers:
        colour = power_colour(power, order)
        ax.plot(x, stats[(power, 0.5)], color=colour, lw=1.8, label=power)
        if multi:
            ax.fill_between(
                x, stats[(power, 0.05)], stats[(power, 0.95)], color=colour, alpha=0.18, lw=0
            )
    ax.set_ylim(0, 1)
    ax.set_ylabel("alignment (0-1)")
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(alpha=0.3)
    ax.set_title(state.replace("_", " ").title())
    return ax


def plot_alignment_grid(table: pd.DataFrame, title: str | None = None) -> Figure:
    """One panel per state, a line per power (median and 5-95% band across runs).

    Args:
        table: A tidy results table.
        title: Figure title.

    Returns:
        The figure.
    """
    states = list(table.loc[table["variable"] == "alignment", "state"].dropna().unique())
    n = len(states)
    cols = min(3, n)
    rows_n = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows_n, cols, figsize=(4.6 * cols, 3.2 * rows_n + 0.9), sharey=True, squeeze=False
    )
    for ax, state in zip(axes.flat, states, strict=False):
        plot_alignment(table, state, ax=ax)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    runs = table["run"].nunique()
    note = f"median of {runs} runs, band 5-95%" if runs > 1 else "single run"
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, title=note)
    fig.suptitle(title or "Alignment toward each power")
    fig.tight_layout(rect=(0, 0.1, 1, 0.97))
    return fig
