"""Sensitivity indices of a sweep: Sobol (first and total order) or Morris, per output metric.

Replicates of a point are averaged first, so the indices describe the expected value of each
metric over the model's noise. Sobol indices need a ``sobol`` sweep (Saltelli's design), Morris
indices a ``morris`` sweep; both are computed with SALib from the sweep folder alone (its design,
manifest and final dataset). Tables only: the bar plot is :func:`sim.viz.plotting.plot_sensitivity`
and the files of ``greatgame analyze`` are written by :func:`sim.viz.render.write_analysis`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.input.errors import OutputError, did_you_mean
from sim.sweep import store
from sim.sweep.designs import salib_problem
from sim.sweep.run import read_sweep_results

__all__ = ["default_metrics", "ranking", "sensitivity"]

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
    table = read_sweep_results(folder)
    need = ("design", "parameters", "outputs", "design_seed", "second_order", "levels")
    manifest = store.read_manifest(folder, need)
    design = manifest["design"]
    if design not in ("sobol", "morris"):
        raise OutputError(
            f"{folder}: sensitivity indices need a sobol or morris sweep, found a {design} "
            "design (use sim.sweep.run.to_ema for PRIM or feature scoring instead)"
        )
    params = {p["path"]: (p["low"], p["high"]) for p in manifest["parameters"]}
    outputs = manifest["outputs"]
    if metrics is None:
        metrics = outputs
    unknown = [m for m in metrics if m not in outputs]
    if unknown:
        tail = did_you_mean(unknown[0], outputs)
        raise OutputError(f"{folder}: no output metric '{unknown[0]}'{tail}")
    means = table.groupby("point", sort=True)[metrics].mean()
    x = store.read_design(folder, list(params))
    if len(means) != len(x):
        raise OutputError(f"{folder}: {len(means)} points in the results, {len(x)} in the design")
    k = len(params)
    per = k + 1 if design == "morris" else (2 * k + 2 if manifest["second_order"] else k + 2)
    if len(x) % per:
        raise OutputError(
            f"{folder / store.DESIGN}: {len(x)} points do not make a {design} design of {k} "
            f"parameters (a multiple of {per})"
        )
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


def default_metrics(indices: pd.DataFrame) -> list[str]:
    """Metrics plotted by default: the regional influence of each power, else the first four."""
    names = list(dict.fromkeys(indices["metric"]))
    chosen = [m for m in names if m.startswith("influence_end.")]
    return chosen[:6] or names[:4]
