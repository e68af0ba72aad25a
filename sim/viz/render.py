"""Every figure file and table file that ``plot``, ``compare`` and ``analyze`` write.

The tables come from :mod:`sim.results.compare` and :mod:`sim.sweep.analysis`, the figures from
:mod:`sim.viz.plotting`; this module only puts them into files.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.input.errors import OutputError, did_you_mean
from sim.results.atomic import atomic_file, atomic_folder, check_free, folder_lock, write_file
from sim.results.compare import VARIABLES, Coverage, difference, end_differences, match
from sim.results.folder import read_run_folder
from sim.results.provenance import environment
from sim.sweep.analysis import default_metrics, ranking, sensitivity
from sim.viz.plotting import plot_difference_grid, plot_sensitivity

__all__ = ["write_analysis", "write_compare"]


def write_compare(
    folders: list[str | Path],
    out: str | Path | None = None,
    variables: list[str] | None = None,
    force: bool = False,
) -> tuple[Path, list[str], list[str]]:
    """Compare results folders with the first one and write figures and a CSV.

    Writes ``<variable>_<scenario>.png`` per compared folder and variable,
    ``end_differences.csv`` (the differences at the last month both folders cover) and
    ``manifest.json`` into ``out``, atomically (a hidden temporary folder renamed into place).
    The manifest says what was compared and how (per compared folder: the months compared, each
    folder's period, whether runs were paired by seed or compared as ensembles, the states and
    powers present in one folder only, and the notes returned), and that greatgame wrote the
    folder, so that ``--force`` may replace it.

    Args:
        folders: Results folders; the first is the baseline.
        out: Output folder (default ``results/compare_<names>``).
        variables: Variables to compare (default :data:`VARIABLES`).
        force: Replace a non-empty ``out``.

    Returns:
        The output folder, the names of the files written, and the notes for the user: one line
        per caveat (months covered by one folder only, states or powers in one folder only, runs
        compared as ensembles because the scenarios' structures differ), empty when every
        folder lines up with the baseline exactly.

    Raises:
        OutputError: With fewer than two folders, an unknown variable, a non-empty ``out``
            without ``force``, or a folder that is not a results folder or is damaged
            (:func:`sim.results.folder.read_run_folder`).
        ScenarioError: If a folder's ``scenario.yaml`` is damaged.
    """
    if len(folders) < 2:
        raise OutputError("compare needs a baseline folder and at least one more")
    paths = [Path(f) for f in folders]
    names = [p.resolve().name for p in paths]
    if len(set(names)) != len(names):
        names = [f"{i}_{n}" for i, n in enumerate(names)]
    out = Path(out) if out else Path("results") / ("compare_" + "_".join(names))
    check_free(out, force)  # before the work, as well as when writing
    target = out.resolve()
    for p in paths:  # the comparison must never replace what it reads
        if target == p.resolve() or target in p.resolve().parents:
            raise OutputError(f"{out}: is (or holds) the compared folder {p}; choose another --out")
    tables = [read_run_folder(p).table for p in paths]
    cover = [Coverage.of(t) for t in tables]
    matches = [
        match(cover[0], c, baseline=names[0], scenario=n)
        for c, n in zip(cover[1:], names[1:], strict=True)
    ]
    known = set(tables[0]["variable"].astype(str).unique())
    variables = list(variables or VARIABLES)
    for v in variables:
        if v not in known:
            tail = did_you_mean(v, sorted(known))
            raise OutputError(f"{paths[0]}: no variable '{v}'{tail}")
    diffs = [
        difference(tables[0], t, v, scenario=m.scenario, baseline=names[0], paired=m.paired)
        for t, m in zip(tables[1:], matches, strict=True)
        for v in variables
    ]
    files = []
    with atomic_folder(out, force) as tmp:
        for diff in diffs:
            name = f"{diff['variable'].iloc[0]}_{diff['scenario'].iloc[0]}.png"
            fig = plot_difference_grid(diff)
            fig.savefig(tmp / name, dpi=110)
            plt.close(fig)
            files.append(name)
        ends = pd.concat([end_differences(d) for d in diffs], ignore_index=True)
        ends.to_csv(tmp / "end_differences.csv", index=False)
        files.append("end_differences.csv")
        manifest = {
            "tool": "greatgame compare",
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "baseline": str(paths[0]),
            "compared": [str(p) for p in paths[1:]],
            "variables": variables,
            "periods": {n: c.period for n, c in zip(names, cover, strict=True)},
            "comparisons": [m.to_dict() for m in matches],
            "notes": [note for m in matches for note in m.notes],
            **environment(),
            "files": files,
        }
        text = json.dumps(manifest, indent=2) + "\n"
        (tmp / "manifest.json").write_text(text, encoding="utf-8")
    return out, [*files, "manifest.json"], [note for m in matches for note in m.notes]


def write_analysis(
    folder: str | Path, out: str | Path | None = None, metrics: list[str] | None = None
) -> tuple[pd.DataFrame, list[Path]]:
    """Compute the indices of a sweep and write a table, a ranking and a bar plot.

    Args:
        folder: A complete sobol or morris sweep folder.
        out: Folder for the files (default: ``<folder>/analysis``).
        metrics: Metrics to rank the parameters by and to plot (default: every metric for the
            ranking, :func:`default_metrics` for the plot); all are in the table.

    Returns:
        The ranking (over ``metrics`` when given, else over every metric) and the files
        written (``sensitivity.csv``, ``ranking.csv``, ``sensitivity.png``).
    """
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
    rank = ranking(indices[indices["metric"].isin(metrics)] if metrics else indices)
    out = Path(out) if out else folder / "analysis"
    fig = plot_sensitivity(indices, chosen)
    try:
        with folder_lock(out):  # one writer at a time; each file written atomically
            out.mkdir(parents=True, exist_ok=True)
            write_file(out / "sensitivity.csv", indices.to_csv(index=False).encode())
            write_file(out / "ranking.csv", rank.to_csv(index=False).encode())
            with atomic_file(out / "sensitivity.png") as tmp:  # no temporary file left on error
                fig.savefig(tmp, dpi=110, format="png")
    except OSError as exc:  # a full disk, say: the file and the system's reason
        where = exc.filename if exc.filename is not None else out
        raise OutputError(f"{where}: cannot write it ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
    return rank, [out / "sensitivity.csv", out / "ranking.csv", out / "sensitivity.png"]
