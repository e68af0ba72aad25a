"""Figures of a folder by kind (``greatgame plot``) and a self-contained HTML report.

A results folder (``greatgame run``) gives the kinds in :data:`RESULT_KINDS`; a sweep folder
(``greatgame sweep``) those in :data:`SWEEP_KINDS`. The report is one HTML file with every figure
embedded as a base64 PNG and no external resource: the scenario's question, the figures, the
observables at a few months, the parameters with their provenance, the event log and the
manifest.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sim.input.errors import OutputError, Problem, ScenarioError, did_you_mean
from sim.results.atomic import write_file
from sim.results.folder import RunFolder, folder_kind, read_events, read_run_folder
from sim.viz.kinds import RESULT_KINDS, SWEEP_KINDS
from sim.viz.plotting import label

__all__ = [
    "RESULT_KINDS",
    "SWEEP_KINDS",
    "Drawn",
    "folder_kind",
    "render",
    "report_html",
    "write_figure",
    "write_report",
]


def _bad(where: str, field: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(where, (field,), message)])


def _check_kind(kind: str, folder: Path, what: str) -> None:
    kinds = RESULT_KINDS if what == "results" else SWEEP_KINDS
    if kind in kinds:
        return
    other = SWEEP_KINDS if what == "results" else RESULT_KINDS
    if kind in other:
        raise _bad(
            str(folder),
            "kind",
            f"plot kind '{kind}' needs a {'sweep' if what == 'results' else 'results'} folder; "
            f"this is a {what} folder (kinds: {', '.join(kinds)})",
        )
    tail = did_you_mean(kind, list(kinds))
    raise _bad(
        str(folder), "kind", f"unknown plot kind '{kind}'{tail}; expected one of {', '.join(kinds)}"
    )


def _pick(name: str | None, ids: list[str], field: str, where: str) -> str:
    if name is None:
        raise _bad(where, field, f"--{field} is required; expected one of {', '.join(ids)}")
    if name not in ids:
        tail = did_you_mean(name, ids)
        raise _bad(
            where, field, f"unknown {field} '{name}'{tail}; expected one of {', '.join(ids)}"
        )
    return name


def _months(table: pd.DataFrame) -> list[str]:
    return sorted(table["date"].astype(str).unique())


def _date(date: str | None, table: pd.DataFrame, where: str) -> str:
    months = _months(table)
    if date is None:
        return months[-1]
    if date not in months:
        tail = did_you_mean(date, months)
        raise _bad(
            where, "date", f"expected a month from {months[0]} to {months[-1]}, found {date}{tail}"
        )
    return date


class Drawn(NamedTuple):
    """A figure and the file name (without suffix) that says what it shows.

    Attributes:
        figure: The matplotlib figure.
        name: ``alignment``, ``heatmap_2023-12``, ``attribution_kazakhstan_russia_event``,
            ``scatter_<metric>_<parameter>``...: the kind and every choice that changes the figure.
    """

    figure: Any
    name: str


def render(folder: str | Path, kind: str, **opts: Any) -> Drawn:
    """Draw one figure of a results or sweep folder.

    Args:
        folder: A results folder or a sweep folder.
        kind: One of :data:`RESULT_KINDS` or :data:`SWEEP_KINDS`.
        **opts: ``date`` (heatmap), ``state``, ``power``, ``start``, ``end``, ``by``
            (``channel`` or ``event``) for attribution; ``events`` (alignment: mark the months
            of the events that involve each state); ``metric`` and ``parameter`` for sweeps.

    Returns:
        The figure, and the name that says what it shows (defaults resolved).

    Raises:
        ScenarioError: For an unknown kind, id, metric or month, or a kind of the other type of
            folder.
        OutputError: For a folder of neither type, or a damaged one
            (:func:`sim.results.folder.read_run_folder`, :func:`sim.sweep.run.read_sweep_results`).
    """
    import matplotlib.pyplot as plt

    from sim.viz import plotting

    folder = Path(folder)
    what = folder_kind(folder)
    _check_kind(kind, folder, what)
    where = str(folder)
    if what == "sweep":
        return _render_sweep(folder, kind, opts)
    run = read_run_folder(folder)
    table, name = run.table, run.name
    if kind == "alignment":
        title = f"{name}: alignment toward each power"
        marks = _event_months(run) if opts.get("events") else None
        figure = plotting.plot_alignment_grid(table, title=title, events=marks)
        return Drawn(figure, kind + ("_events" if marks else ""))
    if kind == "heatmap-grid":
        return Drawn(plotting.plot_heatmap_grid(table), kind)
    if kind == "responses":
        try:
            figure = plotting.plot_responses(table, title=f"{name}: the powers' answers to drift")
        except ValueError as exc:
            raise OutputError(f"{folder}: {exc} (rerun the scenario to record them)") from None
        return Drawn(figure, kind)
    if kind == "attribution":
        from sim.results.attribution import attribute_folder

        states = list(dict.fromkeys(table["state"].dropna().astype(str)))
        powers = list(dict.fromkeys(table["power"].dropna().astype(str)))
        state = _pick(opts.get("state"), states, "state", where)
        power = _pick(opts.get("power"), powers, "power", where)
        by = opts.get("by") or "channel"
        attr = attribute_folder(
            folder, state, power, opts.get("start"), opts.get("end"), events=by == "event"
        )
        ax = plotting.plot_attribution(attr, kind=by)
        period = "".join(f"_{opts[k]}" for k in ("start", "end") if opts.get(k))
        return Drawn(ax.figure, f"attribution_{state}_{power}_{by}{period}")
    fig, ax = plt.subplots(figsize=(8, 3.8) if kind != "heatmap" else (6.4, 3.9),
                           layout="constrained")  # fmt: skip
    shown = kind
    if kind == "influence":
        plotting.plot_influence(table, ax=ax)
    elif kind == "hedging":
        plotting.plot_hedging(table, ax=ax)
    else:
        date = _date(opts.get("date"), table, where)
        plotting.plot_heatmap(table, date, ax=ax)
        shown = f"{kind}_{date}"
    fig.suptitle(name, fontsize=9, color="0.35", x=0.01, ha="left")
    return Drawn(fig, shown)


def _event_months(run: RunFolder) -> dict[str, list[str]]:
    """State id to the months of the enabled events that name it as an actor or a target."""
    out: dict[str, list[str]] = {s: [] for s in run.scenario.state_ids}
    for ev in run.scenario.events:
        if ev.enabled:
            for ident in {*ev.actors, *ev.targets} & set(out):
                out[ident].append(ev.date)
    return out


def _render_sweep(folder: Path, kind: str, opts: dict[str, Any]) -> Drawn:
    from sim.sweep.run import read_sweep_results
    from sim.sweep.store import read_manifest
    from sim.viz import plotting

    manifest = read_manifest(folder, ("parameters", "outputs"))
    outputs = list(manifest["outputs"])
    params = [p["path"] for p in manifest["parameters"]]
    where = str(folder)
    default = next((m for m in outputs if m.startswith("influence_end.")), outputs[0])
    metric = opts.get("metric") or default
    if metric not in outputs:
        _pick(metric, outputs, "metric", where)
    if kind == "scatter":
        runs = read_sweep_results(folder)
        parameter = opts.get("parameter") or params[0]
        _pick(parameter, params, "parameter", where)
        figure = plotting.plot_scatter(runs, metric, parameter).figure
        return Drawn(figure, f"scatter_{metric}_{parameter}")
    from sim.sweep.analysis import sensitivity

    indices = sensitivity(folder, metrics=[metric])
    if indices.empty:
        raise OutputError(f"{folder}: metric '{metric}' does not vary across the sweep's points")
    return Drawn(plotting.plot_indices(indices, metric).figure, f"indices_{metric}")


def _atomic(path: Path, data: bytes, force: bool) -> None:
    if path.exists() and not force:
        raise OutputError(f"{path}: exists (use --force to replace it)")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_figure(fig: Any, out: str | Path, force: bool = True, dpi: int = 110) -> Path:
    """Save a figure atomically (PNG, SVG or PDF by the suffix) and close it."""
    import matplotlib.pyplot as plt

    out = Path(out)
    buf = io.BytesIO()
    fmt = out.suffix.lstrip(".").lower() or "png"
    try:
        fig.savefig(buf, format=fmt, dpi=dpi)
    except ValueError as exc:
        raise OutputError(f"{out}: {exc}") from None
    finally:
        plt.close(fig)
    _atomic(out, buf.getvalue(), force)
    return out


# --- HTML report ---------------------------------------------------------------------------


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig: Any, caption: str) -> str:
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _table(df: pd.DataFrame, cls: str = "") -> str:
    return df.to_html(index=False, border=0, classes=cls or None, float_format=lambda v: f"{v:.3f}",
                      na_rep="")  # fmt: skip


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.question{font-size:1.15rem;background:#f4f6f8;border-left:4px solid #1f5fbf;padding:.6rem 1rem}
figure{margin:1rem 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f4f6f8}pre{background:#f7f7f7;padding:.8rem;overflow:auto;font-size:.8rem}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
.meta{color:#555}
"""


def _provenance(doc: dict) -> pd.DataFrame:
    from sim.input.params import collect_numbers

    rows = []
    for n in collect_numbers(doc):
        if n.evidence:
            source = "evidence: " + ", ".join(n.evidence)
        elif n.range is not None:
            source = f"assumption, range [{n.range[0]:g}, {n.range[1]:g}]"
        else:
            source = "no provenance"
        rows.append({"parameter": n.path, "value": n.value, "provenance": source, "note": n.note})
    return pd.DataFrame(rows, columns=["parameter", "value", "provenance", "note"])


def _events(log: pd.DataFrame, runs: int) -> pd.DataFrame:
    """The scenario's events that fired, with their outcomes and in how many runs."""
    log = log[log["type"] != "decision"]
    if log.empty:
        return log
    grouped = log.groupby(["date", "id", "type", "magnitude", "outcome"], sort=False).size()
    out = grouped.rename("runs").reset_index()
    out["runs"] = out["runs"].map(lambda n: f"{n} of {runs}")
    return out


POWER_DECISIONS = frozenset({"response"})
"""The ids of the ``decision`` entries of ``events.csv`` that a power takes (its answer to a
state's drift); every other decision is a state's."""


def _decisions(log: pd.DataFrame, runs: int, months: list[str], by: str = "state") -> pd.DataFrame:
    """The states' (or the powers') decisions: each one taken, in how many runs, first when.

    One row per agent and decision (for a state, for example *distance from russia*, *leaves
    the blocs of russia*, *facilitates the trade of russia*; for a power, *courts kyrgyzstan*):
    the runs in which the agent took it at least once, and the month it first took it in the
    median such run. ``by`` is ``state`` or ``power``, whose decisions are listed.
    """
    log = log[(log["type"] == "decision") & (log["id"].isin(POWER_DECISIONS) == (by == "power"))]
    if log.empty:
        return pd.DataFrame(columns=[by, "decision", "runs", "first taken (median run)"])
    first = log.groupby(["who", "outcome", "run"], sort=False)["step"].min().reset_index()
    rows = []
    for (who, what), group in first.groupby(["who", "outcome"], sort=False):
        step = int(np.median(group["step"]))  # the month of step t is record t + 1
        rows.append(
            {
                by: who,
                "decision": what,
                "runs": f"{group['run'].nunique()} of {runs}",
                "first taken (median run)": months[step + 1],
            }
        )
    return pd.DataFrame(rows)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _findings(table: pd.DataFrame) -> list[str]:
    """The findings section: sentences, then the tables behind them with readable headings."""
    from sim.results import findings

    esc = html.escape
    out = ["<h2>Findings</h2>", '<ul id="findings">']
    out += [f"<li>{esc(sentence)}</li>" for sentence in findings.summary(table)]
    out.append("</ul>")
    infl = findings.influence_changes(table)
    shown = pd.DataFrame(
        {
            "Power": [label(p) for p in infl["power"]],
            "Influence at the start": infl["start"].map("{:.3f}".format),
            "At the end": infl["end"].map("{:.3f}".format),
            "Change (median)": infl["change"].map("{:+.3f}".format),
            "90% of runs": [
                f"{a:+.3f} to {b:+.3f}"
                for a, b in zip(infl["change_p5"], infl["change_p95"], strict=True)
            ],
        }
    )
    out.append("<h3>Regional influence, gains first</h3>" + _table(shown, "influence"))
    patrons = findings.patron_changes(table)
    shown = pd.DataFrame(
        {
            "State": [label(s) for s in patrons["state"]],
            "Primary patron at the start": [label(p) for p in patrons["patron_start"]],
            "At the end": [label(p) for p in patrons["patron_end"]],
            "Runs in which it changed": patrons["changed_share"].map(_pct),
        }
    )
    out.append("<h3>Primary patrons</h3>" + _table(shown, "patrons"))
    cross = findings.crossovers(table)
    if not cross.empty:
        shown = pd.DataFrame(
            {
                "State": [label(s) for s in cross["state"]],
                "Rising power": [label(p) for p in cross["riser"]],
                "Passes": [label(p) for p in cross["leader"]],
                "Month (median)": cross["month"],
                "Runs in which it ends above": cross["runs_share"].map(_pct),
                "90% of those runs cross between": [
                    f"{a} and {b}" if a else ""
                    for a, b in zip(cross["month_p5"], cross["month_p95"], strict=True)
                ],
            }
        )
        out.append("<h3>Crossovers</h3>" + _table(shown, "crossovers"))
    return out


def _attribution(run: RunFolder) -> list[str]:
    """Why the largest mover moved: channels and the events with the largest effects."""
    from sim.results.attribution import attribute
    from sim.results.findings import largest_change

    state, power, change = largest_change(run.table)
    attr = attribute(run.scenario, run.manifest["seeds"], state, power, where=str(run.path))
    out = [
        "<h2>Attribution</h2>",
        f"<p>The largest median change is {label(state)}'s alignment with {label(power)} "
        f"({change:+.3f}). Its change split by channel, and by the events with the largest "
        "effects (each switched off in turn with the same seeds); each part adds up to the total."
        "</p>",
    ]
    for kind, title in (("channel", "By channel"), ("event", "Largest events")):
        rows = attr[attr["kind"] == kind]
        if kind == "event":
            rows = rows.reindex(rows["value"].abs().sort_values(ascending=False).index).head(8)
        shown = pd.DataFrame(
            {
                "Cause": rows["component"].astype(str),
                "Mean contribution": rows["value"].map("{:+.4f}".format),
                "90% of runs": [
                    f"{a:+.4f} to {b:+.4f}" for a, b in zip(rows["q05"], rows["q95"], strict=True)
                ],
            }
        )
        out.append(f"<h3>{title}</h3>" + _table(shown, f"attribution-{kind}"))
    return out


def _counterfactual(run: RunFolder, other: Path) -> list[str]:
    """How a counterfactual folder differs from this one at the last month both cover."""
    from sim.results.compare import Coverage, difference, end_differences, match

    theirs = read_run_folder(other)
    cover = match(Coverage.of(run.table), Coverage.of(theirs.table), run.name, theirs.name)
    diff = difference(
        run.table, theirs.table, "alignment", scenario=theirs.name, baseline=run.name,
        paired=cover.paired,
    )  # fmt: skip
    end = end_differences(diff)
    shown = pd.DataFrame(
        {
            "State": [label(str(s)) for s in end["state"]],
            "Power": [label(str(p)) for p in end["power"]],
            "Difference (median)": end["q50"].map("{:+.3f}".format),
            "90% interval": [
                f"{a:+.3f} to {b:+.3f}" for a, b in zip(end["q05"], end["q95"], strict=True)
            ],
        }
    )
    how = "paired by seed" if cover.paired else "compared as ensembles"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in cover.notes)
    return [
        f"<h2>Counterfactual: {html.escape(theirs.name)}</h2>",
        f"<p>Alignment in <code>{html.escape(str(other))}</code> minus this folder's at "
        f"{html.escape(str(end['date'].iloc[0]))}, runs {how}.</p>",
        f"<ul>{notes}</ul>" if notes else "",
        _table(shown, "counterfactual"),
    ]


def report_html(
    folder: str | Path, attribution: bool = False, compare: list[str | Path] | None = None
) -> str:
    """The HTML report of a results folder, as a string (self-contained).

    It opens with the findings (:mod:`sim.results.findings`): who gains and loses the most
    influence, primary-patron changes and crossovers, each with its numbers and intervals.

    Args:
        folder: A results folder.
        attribution: Add an attribution section: why the largest mover moved, by channel and
            by event (reruns the scenario once per event).
        compare: Counterfactual results folders: a section each with their differences from
            this one.

    Returns:
        The HTML document.

    Raises:
        OutputError: If the folder is not a results folder, or is damaged
            (:func:`sim.results.folder.read_run_folder`, :func:`sim.results.folder.read_events`).
        ScenarioError: If its ``scenario.yaml`` is damaged.
    """
    from sim.results.observe import observe
    from sim.viz import plotting

    run = read_run_folder(folder)
    log = read_events(run.path)
    n_runs = run.table["run"].nunique()
    events = _events(log, n_runs)
    decisions = _decisions(log, n_runs, _months(run.table))
    answers = _decisions(log, n_runs, _months(run.table), by="power")
    folder, table, doc, manifest = run.path, run.table, run.doc, run.manifest
    meta = doc.get("meta") or {}
    name = run.name
    months = _months(table)
    runs = table["run"].nunique()
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>greatgame report: {esc(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(name)}</h1>",
        f'<p class="meta">{runs} run(s), {esc(months[1] if len(months) > 1 else months[0])} to '
        f"{esc(months[-1])}; folder <code>{esc(str(folder))}</code></p>",
    ]
    if meta.get("question"):
        parts.append(f'<p class="question"><b>Question.</b> {esc(str(meta["question"]))}</p>')
    if meta.get("description"):
        parts.append(f"<p>{esc(str(meta['description']))}</p>")
    parts += _findings(table)
    if attribution:
        parts += _attribution(run)
    for other in compare or ():
        parts += _counterfactual(run, Path(other))
    parts.append("<h2>Figures</h2>")
    parts.append(
        _figure(
            plotting.plot_alignment_grid(table, title=f"{name}: alignment toward each power"),
            "Alignment of each state toward each power: median across runs, 50% and 90% bands.",
        )
    )
    parts.append(
        _figure(
            plotting.plot_influence(table).figure,
            "Regional influence index of each power (population-weighted mean alignment).",
        )
    )
    parts.append(
        _figure(
            plotting.plot_hedging(table).figure,
            "Hedging index of each state (normalised entropy of its alignment profile).",
        )
    )
    if (table["variable"] == "response").any():  # folders from before it was recorded lack it
        parts.append(
            _figure(
                plotting.plot_responses(table, title=f"{name}: the powers' answers to drift"),
                "How each power answers the states' drift: the share of runs in which it courts "
                "each state (solid, above zero) or punishes it (dashed, below zero), month by "
                "month.",
            )
        )
    parts.append(
        _figure(
            plotting.plot_heatmap_grid(table),
            "Median alignment, states by powers, at six months of the run.",
        )
    )
    parts.append("<h2>Observables</h2>")
    picks = list(dict.fromkeys([months[min(1, len(months) - 1)], months[len(months) // 2],
                                months[-1]]))  # fmt: skip
    for date in picks:
        obs = observe(run, date)
        parts.append(f"<h3>End of {esc(date)}</h3>" + _table(obs))
    parts.append("<h2>Event log</h2>")
    if events.empty:
        parts.append("<p>No events fired.</p>")
    else:
        parts.append(
            "<p>Every event that fired, with its outcome and in how many runs.</p>" + _table(events)
        )
    parts.append('<h2 id="decisions">Decisions of the states</h2>')
    if decisions.empty:
        parts.append(
            "<p>No state changed its public stance, its blocs or its sanctions stance.</p>"
        )
    else:
        parts.append(
            "<p>Each public stance a state took toward a power, each exit from a power's blocs "
            "and each stance toward the sanctions on a power (its own decisions, docs/ODD.md "
            "Section 7.8), in how many runs, and the month it first took it in the median run "
            "that did. The reasons of each run are in <code>events.csv</code> (column "
            "<code>why</code>).</p>" + _table(decisions)
        )
    parts.append('<h2 id="responses">Decisions of the powers</h2>')
    if answers.empty:
        parts.append("<p>No power changed its answer to a state's drift.</p>")
    else:
        parts.append(
            "<p>Each answer a power chose to a state's drift (courts, punishes or ignores it: "
            "its own decision where its strategy is <code>decide</code>, docs/ODD.md Section "
            "7.3), in how many runs, and the month it first chose it in the median run that "
            "did; <code>events.csv</code> gives the one-month gains it weighed.</p>"
            + _table(answers)
        )
    prov = _provenance(doc)
    parts.append("<h2>Parameters and their provenance</h2>")
    counts = prov["provenance"].str.split(",").str[0].str.split(":").str[0].value_counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    parts.append(
        f"<details><summary>{len(prov)} numbers ({esc(summary)})</summary>"
        + _table(prov)
        + "</details>"
    )
    parts.append("<h2>Manifest</h2>")
    parts.append(
        "<details><summary>manifest.json</summary><pre>"
        + esc(json.dumps(manifest, indent=2))
        + "</pre></details>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    folder: str | Path,
    out: str | Path | None = None,
    force: bool = False,
    attribution: bool = False,
    compare: list[str | Path] | None = None,
) -> Path:
    """Write the HTML report of a results folder atomically.

    Args:
        folder: A results folder.
        out: The HTML file (default ``<folder>/report.html``).
        force: Replace an existing file.
        attribution: Add the attribution section (see :func:`report_html`).
        compare: Counterfactual folders, a section each.

    Returns:
        The file written.

    Raises:
        OutputError: If ``out`` exists and ``force`` is False.
    """
    folder = Path(folder)
    out = Path(out) if out else folder / "report.html"
    if out.exists() and not force:
        raise OutputError(f"{out}: exists (use --force to replace it)")
    text = report_html(folder, attribution=attribution, compare=compare)
    _atomic(out, text.encode("utf-8"), force=True)
    return out
