"""Sensitivity indices of a sweep: Sobol (first and total order) or Morris, per output metric.

Replicates of a point are averaged first, so the indices describe the expected value of each
metric over the model's noise. Sobol indices need a ``sobol`` sweep (Saltelli's design), Morris
indices a ``morris`` sweep; both are computed with SALib from the sweep folder alone (its design,
manifest and final dataset).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import sweepstore as store
from sim.designs import salib_problem
from sim.runner import OutputError
from sim.sweep import DESIGN, load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["default_metrics", "plot_sensitivity", "ranking", "sensitivity", "write_analysis"]

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu", "mu_star", "mu_star_conf", "sigma")


def sensitivity(
    folder: str | Path,
    metrics: list[str] | None = None,
    num_resamples: int = 200,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sensitivity indices of every parameter for every output metric of a sweep.

    Args:
        folder: A complete ``sobol`` or ``morris`` sweep folder.
        metrics: Output metrics to analyse (default: all of them).
        num_resamples: Bootstrap resamples for the confidence intervals.
        conf_level: Confidence level of the intervals.

    Returns:
        Long table, one row per (metric, parameter). Sobol: ``S1, S1_conf, ST, ST_conf`` (the
        ``_conf`` columns are half-widths of the confidence interval). Morris: ``mu, mu_star,
        mu_star_conf, sigma``. Metrics that do not vary across points are left out.

    Raises:
        OutputError: If the folder is not a complete sobol or morris sweep, or a metric is
            unknown.
    """
    folder = Path(folder)
    table = load_results(folder)
    manifest = store.read_manifest(folder)
    design = manifest["design"]
    if design not in ("sobol", "morris"):
        raise OutputError(
            f"{folder}: sensitivity indices need a sobol or morris sweep, found a {design} "
            "design (use sim.sweep.to_ema for PRIM or feature scoring instead)"
        )
    params = {p["path"]: (p["low"], p["high"]) for p in manifest["parameters"]}
    outputs = manifest["outputs"]
    if metrics is None:
        metrics = outputs
    unknown = [m for m in metrics if m not in outputs]
    if unknown:
        from sim.errors import suggest

        hint = suggest(unknown[0], outputs)
        tail = f" (did you mean '{hint}'?)" if hint else ""
        raise OutputError(f"{folder}: no output metric '{unknown[0]}'{tail}")
    means = table.groupby("point", sort=True)[metrics].mean()
    x = pd.read_parquet(folder / DESIGN)[list(params)].to_numpy(dtype=np.float64)
    if len(means) != len(x):
        raise OutputError(f"{folder}: {len(means)} points in the results, {len(x)} in the design")
    problem = salib_problem(params)
    seed = int(manifest["design_seed"])
    cols = SOBOL_COLUMNS if design == "sobol" else MORRIS_COLUMNS
    rows = []
    for metric in metrics:
        y = means[metric].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if design == "sobol":
                from SALib.analyze import sobol

                res = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=bool(manifest["second_order"]),
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
            else:
                from SALib.analyze import morris

                res = morris.analyze(
                    problem,
                    x,
                    y,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    num_levels=int(manifest["levels"]),
                    seed=seed,
                )
        for i, name in enumerate(problem["names"]):
            values = {c: float(res[c][i]) for c in cols}
            rows.append({"metric": metric, "parameter": name, **values})
    return pd.DataFrame(rows, columns=["metric", "parameter", *cols])


def ranking(indices: pd.DataFrame) -> pd.DataFrame:
    """Parameters ranked by their influence over all metrics.

    The score is the mean over metrics of the total-order index ``ST`` (Sobol) or of ``mu_star``
    divided by the metric's largest ``mu_star`` (Morris).

    Args:
        indices: A table from :func:`sensitivity`.

    Returns:
        ``parameter, score, rank`` (rank 1 = most influential), best first.
    """
    if "ST" in indices:
        score = indices.groupby("parameter", sort=False)["ST"].mean()
    else:
        top = indices.groupby("metric")["mu_star"].transform("max").replace(0.0, np.nan)
        score = (indices["mu_star"] / top).groupby(indices["parameter"], sort=False).mean()
    out = score.rename("score").reset_index().sort_values("score", ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def plot_sensitivity(indices: pd.DataFrame, metrics: list[str], top: int = 15) -> Figure:
    """Bar plot: the overall ranking, then one panel per metric.

    Sobol panels show first-order (S1) and total-order (ST) indices with their confidence
    intervals; Morris panels show ``mu_star`` with its interval and ``sigma``.

    Args:
        indices: A table from :func:`sensitivity`.
        metrics: Metrics to give a panel each.
        top: Most parameters shown per panel.

    Returns:
        The figure.
    """
    import matplotlib.pyplot as plt

    rank = ranking(indices).head(top)
    order = list(rank["parameter"])[::-1]
    n = 1 + len(metrics)
    height = max(3.0, 0.3 * len(order) + 1.2)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n + 3.0, height), sharey=True, squeeze=False)
    ax = axes[0, 0]
    ax.barh(order, rank.set_index("parameter").loc[order, "score"], color="0.4")
    ax.set_title("overall (mean over metrics)", fontsize=9)
    ax.set_xlabel("mean ST" if "ST" in indices else "mean mu* / max mu*")
    sobol = "ST" in indices
    ypos = np.arange(len(order))
    for ax, metric in zip(axes[0, 1:], metrics, strict=True):
        sub = indices[indices["metric"] == metric].set_index("parameter").reindex(order)
        if sobol:
            ax.barh(ypos + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], label="total (ST)")
            ax.barh(ypos - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], label="first order (S1)")
        else:
            ax.barh(ypos + 0.2, sub["mu_star"], 0.4, xerr=sub["mu_star_conf"], label="mu*")
            ax.barh(ypos - 0.2, sub["sigma"], 0.4, label="sigma")
        ax.set_title(metric, fontsize=9)
        ax.axvline(0.0, color="0.6", linewidth=0.8)
    if len(metrics):
        axes[0, 1].legend(fontsize=8, loc="lower right")
    axes[0, 0].set_yticks(ypos, order, fontsize=8)
    fig.tight_layout()
    return fig


def default_metrics(indices: pd.DataFrame) -> list[str]:
    """Metrics plotted by default: the regional influence of each power, else the first four."""
    names = list(dict.fromkeys(indices["metric"]))
    chosen = [m for m in names if m.startswith("influence_end.")]
    return chosen[:6] or names[:4]


def write_analysis(
    folder: str | Path, out: str | Path | None = None, metrics: list[str] | None = None
) -> tuple[pd.DataFrame, list[Path]]:
    """Compute the indices of a sweep and write a table, a ranking and a bar plot.

    Args:
        folder: A complete sobol or morris sweep folder.
        out: Folder for the files (default: ``<folder>/analysis``).
        metrics: Metrics to plot (default: :func:`default_metrics`); all are in the table.

    Returns:
        The overall ranking and the files written (``sensitivity.csv``, ``ranking.csv``,
        ``sensitivity.png``).
    """
    import matplotlib.pyplot as plt

    folder = Path(folder)
    indices = sensitivity(folder)
    if indices.empty:
        raise OutputError(f"{folder}: no output metric varies across the sweep's points")
    if metrics:
        known = set(indices["metric"])
        missing = [m for m in metrics if m not in known]
        if missing:
            sensitivity(folder, metrics=missing)  # raises with a suggestion if unknown
            raise OutputError(f"{folder}: metric '{missing[0]}' does not vary across points")
    chosen = metrics or default_metrics(indices)
    rank = ranking(indices)
    out = Path(out) if out else folder / "analysis"
    try:
        out.mkdir(parents=True, exist_ok=True)
        store.atomic_write(out / "sensitivity.csv", indices.to_csv(index=False).encode())
        store.atomic_write(out / "ranking.csv", rank.to_csv(index=False).encode())
        fig = plot_sensitivity(indices, chosen)
        fig.savefig(out / "sensitivity.png", dpi=110)
        plt.close(fig)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    return rank, [out / "sensitivity.csv", out / "ranking.csv", out / "sensitivity.png"]
