"""``greatgame dashboard``: watch a run month by month and turn its knobs, in the browser.

The page is laid out here from Mesa's SolaraViz building blocks around the Mesa model
:class:`~sim.model.mesa_model.GreatGameModel`: Mesa's ``ModelController`` (Reset, play/pause,
Step: :func:`sim.model.mesa_model.model_controller`) steps the run, and the views that show the
model subscribe to Mesa's update counter (:func:`sim.model.mesa_model.watch_steps`), so they are
drawn again after each step. The Mesa adapter is the one place the viz layer reaches Mesa.

- **Controls and Knobs** (sidebar): Mesa's controls; a power's monthly budget, credibility and
  threat intensity, the model's noise and the seed: moving one reruns the scenario at once, up
  to the month shown.
- **Single run** (first tab): the state x power alignment heatmap of the month and the
  trajectories so far (:func:`~sim.viz.plotting.plot_heatmap`,
  :func:`~sim.viz.plotting.plot_alignment_grid` on the long table of ``model.record()``), what
  each power spent on each lever in the month (``model.allocation``) and the events of the month
  with their outcomes (``model.event_log``).
- **Ensemble** (second tab): fan charts (median, 50% and 90% bands) over replicates from the fast
  engine, or a results folder's recorded runs, or a sweep point's replicates; the runs at the
  edges of the fan for a chosen state and power (:func:`edge_runs`) and a chooser of any run.
  *Replay* replays a run in the Single run tab from month 0, from its recorded seed (and a sweep
  point's values, :func:`sim.input.params.with_values`), and switches to that tab.

What the dashboard opens (:func:`open_source`) is a scenario, a results folder or a sweep folder;
:func:`serve` runs the Solara server on localhost.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import solara
import solara.lab
from matplotlib.figure import Figure

from sim.input.params import with_values
from sim.input.scenario import LoadedScenario, Scenario
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel, model_controller, watch_steps
from sim.results.runner import replicate_seeds
from sim.results.tables import long_table
from sim.viz.plotting import plot_alignment_grid, plot_heatmap, plot_influence

__all__ = [
    "SOURCE_ENV",
    "DashboardModel",
    "Knob",
    "Page",
    "Replay",
    "Settings",
    "Source",
    "edge_runs",
    "event_rows",
    "knobs",
    "open_source",
    "serve",
    "spending",
]

SOURCE_ENV = "GREATGAME_DASHBOARD_SOURCE"
"""Environment variable naming what the server's page opens (set by :func:`serve`)."""
LEVERS = ("aid", "security", "rhetoric", "threat_level")
"""The fields of this month's allocation (``model.allocation``), in table order."""
MAX_RUNS_LISTED = 1000
"""Runs offered for replay at most (a sweep's first ones)."""
EDGES = (
    ("lowest", 0.0),
    ("5th percentile", 0.05),
    ("median", 0.5),
    ("95th percentile", 0.95),
    ("highest", 1.0),
)
"""The runs at the edges of a fan (:func:`edge_runs`): label and quantile of final alignment."""
TABS = ("Single run", "Ensemble")
"""The main area's tabs, in order."""
PLAY_INTERVAL_MS = 300
"""Milliseconds between months while playing."""


@dataclass(frozen=True)
class Replay:
    """A recorded run that the single-run view can replay.

    Attributes:
        label: How the run is offered (index and seed).
        seed: Its seed.
        values: Parameter values it ran with (a sweep point's), by path; empty otherwise.
        group: The ensemble it belongs to (a sweep point; 0 otherwise).
    """

    label: str
    seed: int
    values: dict[str, float] = field(default_factory=dict)
    group: int = 0


@dataclass(frozen=True)
class Source:
    """What the dashboard opened.

    Attributes:
        kind: ``scenario``, ``results`` or ``sweep``.
        path: The file or folder.
        loaded: The scenario (a folder's scenario as run).
        recorded: A results folder's long table (None otherwise).
        runs: The recorded runs (a results folder's or a sweep's; empty for a scenario).
    """

    kind: str
    path: Path
    loaded: LoadedScenario
    recorded: pd.DataFrame | None = None
    runs: tuple[Replay, ...] = ()

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.loaded.scenario.meta.name


def open_source(arg: str | Path | None) -> Source:
    """Open a scenario (file or bundled name), a results folder or a sweep folder.

    Args:
        arg: What to open (default: the bundled baseline scenario).

    Returns:
        The source.

    Raises:
        ScenarioError: If the scenario is invalid.
        OutputError: If a folder is neither a results nor a complete sweep folder.
    """
    from sim.input.bundled import resolve_scenario
    from sim.input.evidence import load_verified
    from sim.results.folder import folder_kind, read_run_folder

    path = Path(arg if arg is not None else "baseline_2022")
    if not path.is_dir():
        loaded = load_verified(resolve_scenario(path))
        return Source("scenario", loaded.path, loaded)
    if folder_kind(path) == "results":
        folder = read_run_folder(path)
        loaded = LoadedScenario(
            scenario=folder.scenario,
            path=folder.path / "scenario.yaml",
            sha256=str(folder.manifest.get("scenario", {}).get("sha256", "")),
            files=[folder.path / "scenario.yaml"],
            raw=folder.doc,
        )
        seeds = [int(s) for s in folder.manifest["seeds"]]
        runs = tuple(Replay(f"run {i} (seed {s})", s) for i, s in enumerate(seeds))
        return Source("results", path, loaded, folder.table, runs[:MAX_RUNS_LISTED])
    from sim.sweep.run import SPEC, read_sweep_results
    from sim.sweep.spec import load_spec

    table = read_sweep_results(path)
    plan = load_spec(path / SPEC)
    names = list(plan.parameters)
    runs = tuple(
        Replay(
            f"run {int(row['run'])}: point {int(row['point'])}, replicate "
            f"{int(row['replicate'])} (seed {int(row['seed'])})",
            int(row["seed"]),
            {n: float(row[n]) for n in names},
            int(row["point"]),
        )
        for _, row in table.head(MAX_RUNS_LISTED).iterrows()
    )
    return Source("sweep", path, plan.loaded, None, runs)


@dataclass(frozen=True)
class Knob:
    """A slider: a scenario number by path and its range.

    Attributes:
        path: Dotted path with ids (:mod:`sim.input.params`).
        label: Slider label.
        low: Smallest value.
        high: Largest value.
        step: Slider step.
    """

    path: str
    label: str
    low: float
    high: float
    step: float


def knobs(scenario: Scenario) -> dict[str, list[Knob]]:
    """The sliders of a scenario: per power id, and ``""`` for the model's.

    Args:
        scenario: The scenario.

    Returns:
        Power id (or ``""``) to its knobs: budget, credibility, threat intensity; noise.
    """
    out: dict[str, list[Knob]] = {}
    for p in scenario.powers:
        budget = float(p.monthly_budget)
        step = budget / 50 if budget > 0 else 1.0  # the scenario's budget lies on the grid
        out[p.id] = [
            Knob(f"powers.{p.id}.monthly_budget", "monthly budget (USD m)", 0.0, 150 * step, step),
            Knob(f"powers.{p.id}.credibility", "credibility", 0.0, 1.0, 0.01),
            Knob(f"powers.{p.id}.strategy.threat_intensity", "threat intensity", 0.0, 1.0, 0.01),
        ]
    out[""] = [Knob("model.noise", "model noise (s.d. per month)", 0.0, 0.5, 0.005)]
    return out


def knob_values(scenario: Scenario) -> dict[str, float]:
    """The current value of every knob of :func:`knobs`, by path."""
    values: dict[str, float] = {}
    for p in scenario.powers:
        values[f"powers.{p.id}.monthly_budget"] = float(p.monthly_budget)
        values[f"powers.{p.id}.credibility"] = float(p.credibility)
        values[f"powers.{p.id}.strategy.threat_intensity"] = float(p.strategy.threat_intensity)
    values["model.noise"] = float(scenario.model.noise)
    return values


@dataclass
class Settings:
    """What the single-run view runs now (one per browser session; the sliders change it).

    Attributes:
        source: What the dashboard opened.
        seed: The run's seed.
        fixed: Values of the replayed run (a sweep point's), by path.
        values: The knobs' values, by path.
        label: What the run is (shown on the page).
    """

    source: Source
    seed: int
    fixed: dict[str, float]
    values: dict[str, float]
    label: str
    _cache: dict[tuple[tuple[str, float], ...], Scenario] = field(default_factory=dict)

    @classmethod
    def first(cls, source: Source) -> Settings:
        """The first run of a source: its run 0 (a scenario: seed root 0's first replicate)."""
        if source.runs:
            return cls.replay(source, source.runs[0])
        seed = replicate_seeds(0, 1)[0]
        return cls(source, seed, {}, knob_values(source.loaded.scenario), f"seed {seed}")

    @classmethod
    def replay(cls, source: Source, run: Replay) -> Settings:
        """The settings that replay a recorded run: its seed, its values, knobs from those."""
        base = with_values(source.loaded, run.values) if run.values else source.loaded.scenario
        return cls(source, run.seed, dict(run.values), knob_values(base), run.label)

    def changed(self) -> dict[str, float]:
        """The values that differ from the source's scenario (fixed ones and moved knobs)."""
        base = knob_values(self.source.loaded.scenario)
        moved = {k: v for k, v in self.values.items() if not np.isclose(base.get(k, np.nan), v)}
        return {**self.fixed, **moved}

    def scenario(self) -> Scenario:
        """The scenario with the fixed values and the knobs applied (validated, cached)."""
        values = self.changed()
        key = tuple(sorted(values.items()))
        if key not in self._cache:
            self._cache[key] = (
                with_values(self.source.loaded, values) if values else self.source.loaded.scenario
            )
        return self._cache[key]


class DashboardModel(GreatGameModel):
    """The Mesa model of the current settings (what the Reset of Mesa's controls builds again).

    Args:
        settings: The session's settings (read when the model is built).
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.scenario(), rng=settings.seed)
        self.settings = settings


def advanced(settings: Settings, steps: int) -> DashboardModel:
    """A new model of the settings, run for ``steps`` months (as the Step button runs them)."""
    model = DashboardModel(settings)
    for _ in range(min(steps, model.n_steps)):
        model.step()
    return model


def spending(model: GreatGameModel) -> pd.DataFrame:
    """What each power spent on each lever in the month just simulated.

    Args:
        model: The model.

    Returns:
        One row per (power, lever): a column per state (by name) and ``total`` (the threat
        level is a strength in [0, 1]: its total is the mean over states).
    """
    names = [s.name for s in model.spec.states]
    rows = []
    for j, power in enumerate(model.spec.powers):
        for lever in LEVERS:
            values = getattr(model.allocation, lever)[0, :, j]
            total = float(values.mean() if lever == "threat_level" else values.sum())
            rows.append(
                {"power": power.name, "lever": lever.replace("_", " ")}
                | dict(zip(names, values.tolist(), strict=True))
                | {"total": total}
            )
    return pd.DataFrame(rows)


def event_rows(model: GreatGameModel) -> list[dict[str, Any]]:
    """The events that fired in the month just simulated, then the states' decisions.

    Events come with their outcomes, decisions (type ``decision``) with who and why.
    """
    month = model.steps - 1
    return [dict(e) for e in model.event_log if e["step"] == month]


def edge_runs(
    table: pd.DataFrame, runs: list[Replay], state: str, power: str
) -> list[tuple[str, Replay, float]]:
    """The runs at the edges of the fan of one state-power pair, by final alignment.

    The runs with the lowest, 5th-percentile, median, 95th-percentile and highest alignment of
    ``state`` to ``power`` at their last record (:data:`EDGES`): the quantile ``q`` of ``n``
    runs is the run at position ``round(q (n - 1))`` (halves up) in the order of final
    alignment (ties by run number). A run at several positions is listed once, its labels
    joined (``"lowest, 5th percentile"`` of three runs).

    Args:
        table: A long table (:func:`sim.results.tables.long_table`); its run ``k`` is
            ``runs[k]`` (runs past the end of ``runs`` are left out).
        runs: The runs of the table, in run order.
        state: State id.
        power: Power id.

    Returns:
        ``(label, run, final alignment)`` from the lowest to the highest; empty if no run of
        ``runs`` has that pair.
    """
    rows = table[
        (table["variable"] == "alignment")
        & (table["state"] == state)
        & (table["power"] == power)
        & (table["run"] < len(runs))
    ]
    if rows.empty:
        return []
    last = rows.loc[rows.groupby("run", observed=True)["step"].idxmax()]
    ranked = last.sort_values(["value", "run"], kind="stable")
    chosen: dict[int, list[str]] = {}
    for label, q in EDGES:
        position = int(np.floor(q * (len(ranked) - 1) + 0.5))
        chosen.setdefault(position, []).append(label)
    out = []
    for position, labels in chosen.items():
        row = ranked.iloc[position]
        out.append((", ".join(labels), runs[int(row["run"])], float(row["value"])))
    return out


def _month(model: GreatGameModel) -> str:
    return model.record().dates[-1]


# --- the page ----------------------------------------------------------------------------------


def _png(draw: Callable[[], Figure]) -> str:
    """A figure drawn by ``draw`` as a PNG data URL (the figure is closed)."""
    fig = draw()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _image(url: str, css: str, alt: str) -> solara.Element:
    return solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<img class="gg-figure {css}" alt="{alt}" src="{url}" '
        'style="width:100%;height:auto">',
    )


def _html_table(frame: pd.DataFrame, css: str) -> solara.Element:
    html = frame.to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0)
    return solara.HTML(tag="div", unsafe_innerHTML=html, classes=[css])


def _axes_figure(draw: Callable[[Any], Any], size: tuple[float, float]) -> Callable[[], Figure]:
    def make() -> Figure:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        draw(ax)
        return fig

    return make


def _heatmap(model: GreatGameModel) -> solara.Element:
    table = long_table(model.record())
    month = _month(model)
    url = _png(_axes_figure(lambda ax: plot_heatmap(table, month, ax=ax), (6.2, 3.6)))
    return _image(url, "gg-heatmap", f"alignment heatmap at {month}")


def _trajectories(model: GreatGameModel) -> solara.Element:
    table = long_table(model.record())
    url = _png(lambda: plot_alignment_grid(table, title=f"{model.spec.meta.name}: so far"))
    return _image(url, "gg-trajectories", "alignment trajectories so far")


def _status(model: GreatGameModel) -> solara.Element:
    settings: Settings | None = getattr(model, "settings", None)
    what = settings.label if settings else f"seed {model.seed}"
    changed = settings.changed() if settings else {}
    moved = ", ".join(f"{k} = {v:g}" for k, v in changed.items()) or "the scenario's values"
    with solara.Column(classes=["gg-status"]) as col:
        solara.Text(
            f"{model.spec.meta.name}: end of {_month(model)} (month {model.steps} of "
            f"{model.n_steps}); {what}; {moved}"
        )
    return col


def _spending_card(model: GreatGameModel) -> solara.Element:
    with solara.Card("Spending this month (USD million; threat level 0-1)") as card:
        if model.steps == 0:
            solara.Text("No month simulated yet: press Step or play.")
        _html_table(spending(model), "gg-spending")
    return card


def _events_card(model: GreatGameModel) -> solara.Element:
    with solara.Card(f"Events and decisions of {_month(model)}") as card:
        rows = event_rows(model)
        if not rows:
            solara.Text("No event and no decision this month.")
        for e in rows:
            if e["type"] == "decision":  # a state's choice, with its reason
                solara.Text(f"{e['who']} decides: {e['outcome']} ({e['why']})")
                continue
            outcome = f": {e['outcome']}" if e["outcome"] else ""
            solara.Text(f"{e['id']} ({e['type']}, magnitude {e['magnitude']:g}){outcome}")
    return card


def MonthView(model: GreatGameModel) -> solara.Element:
    """The month of the single run: where it stands, the heatmap, what the powers spent.

    A plain function, not a component: :func:`SingleRun` draws it again after each step.
    """
    with solara.Column(style={"padding": "8px"}) as main:
        _status(model)
        _heatmap(model)
        _spending_card(model)
    return main


def RunSoFar(model: GreatGameModel) -> solara.Element:
    """The single run so far: the trajectories and the events of the month."""
    with solara.Column(style={"padding": "8px"}) as main:
        _trajectories(model)
        _events_card(model)
    return main


@solara.component
def SingleRun(model: solara.Reactive[Any]) -> solara.Element:
    """The Single run tab: :func:`MonthView` and :func:`RunSoFar` side by side.

    Drawn again after each step of Mesa's controls (:func:`~sim.model.mesa_model.watch_steps`)
    and whenever the model is rebuilt (knobs, Reset, Replay).
    """
    watch_steps()
    current = model.value
    with solara.Columns([1, 1]) as main:
        MonthView(current)
        RunSoFar(current)
    return main


@dataclass
class _EnsembleView:
    table: pd.DataFrame
    runs: list[Replay]
    note: str


@dataclass(frozen=True)
class _Choices:
    """What the Ensemble tab shows; the page keeps them, so they outlive a visit to another tab.

    Attributes:
        replicates: Replicates of a scenario's ensemble.
        root: Their root seed.
        point: The sweep point shown (a sweep folder's).
        state: Name of the state of the edge runs.
        power: Name of the power of the edge runs.
    """

    replicates: solara.Reactive[int]
    root: solara.Reactive[int]
    point: solara.Reactive[int]
    state: solara.Reactive[str]
    power: solara.Reactive[str]

    @classmethod
    def of(cls, source: Source) -> _Choices:
        """The first choices: 50 replicates from root seed 0, the first point, state and power."""
        scenario = source.loaded.scenario
        return cls(
            solara.reactive(50),
            solara.reactive(0),
            solara.reactive(_points(source)[0]),
            solara.reactive(scenario.states[0].name),
            solara.reactive(scenario.powers[0].name),
        )


def _points(source: Source) -> list[int]:
    """The sweep points of a source's runs (``[0]`` unless it is a sweep)."""
    return sorted({r.group for r in source.runs}) or [0]


def _ensemble(settings: Settings, replicates: int, root: int, point: int) -> _EnsembleView:
    source = settings.source
    if source.kind == "results" and source.recorded is not None:
        note = f"the {len(source.runs)} recorded runs of {source.path}"
        return _EnsembleView(source.recorded, list(source.runs), note)
    if source.kind == "sweep":
        runs = [r for r in source.runs if r.group == point]
        values = runs[0].values if runs else {}
        scenario = with_values(source.loaded, values) if values else source.loaded.scenario
        seeds = [r.seed for r in runs]
        note = f"the {len(runs)} replicates of sweep point {point} (fast engine, recorded seeds)"
    else:
        scenario = settings.scenario()
        seeds = replicate_seeds(root, replicates)
        runs = [Replay(f"run {i} (seed {s})", s) for i, s in enumerate(seeds)]
        note = f"{replicates} replicates from root seed {root} (fast engine, the knobs' values)"
    batch = simulate([scenario] * len(seeds), seeds, engine="ensemble")
    return _EnsembleView(long_table(batch), runs, note)


def _rerun(model: solara.Reactive[Any], settings: Settings, steps: int | None = None) -> None:
    """Rebuild the session's model from ``settings``, run to the month shown (or ``steps``)."""
    shown = model.value.steps if steps is None else steps
    model.value = advanced(settings, shown)


@solara.component
def Knobs(model: solara.Reactive[Any], settings: Settings) -> solara.Element:
    """The sidebar's sliders: one power's budget, credibility and threat intensity; noise; seed."""
    scenario = settings.source.loaded.scenario
    names = {p.name: p.id for p in scenario.powers}
    chosen = solara.use_reactive(scenario.powers[0].name)
    version = solara.use_reactive(0)
    table = knobs(scenario)

    def setter(path: str) -> Callable[[float], None]:
        def change(value: float) -> None:
            if np.isclose(value, settings.values[path], rtol=1e-9, atol=1e-12):
                return  # the slider snapping to its grid, not a move
            settings.values[path] = float(value)
            _rerun(model, settings)

        return change

    def set_seed(value: int) -> None:
        settings.seed = int(value)
        settings.label = f"seed {settings.seed}"
        _rerun(model, settings)

    def back() -> None:
        fresh = Settings.first(settings.source)
        settings.values, settings.fixed = fresh.values, fresh.fixed
        settings.seed, settings.label = fresh.seed, fresh.label
        version.value += 1
        _rerun(model, settings)

    with solara.Card("Knobs (rerun at once)") as card:
        solara.Select("power", values=list(names), value=chosen)
        with solara.Column(classes=["gg-knobs"]):
            for knob in [*table[names[chosen.value]], *table[""]]:
                solara.SliderFloat(
                    knob.label,
                    value=settings.values[knob.path],
                    min=knob.low,
                    max=knob.high,
                    step=knob.step,
                    on_value=setter(knob.path),
                    thumb_label="always",
                ).key(f"{knob.path}-{version.value}")
        solara.InputInt("seed", value=settings.seed, on_value=set_seed).key(f"seed-{version.value}")
        solara.Button("Back to the source's values", on_click=back, text=True)
    return card


@solara.component
def Ensemble(
    model: solara.Reactive[Any],
    settings: Settings,
    choices: _Choices,
    tab: solara.Reactive[int],
) -> solara.Element:
    """Fan charts over replicates, the runs at the fan's edges and a chooser of any run.

    *Replay* rebuilds the single-run model from the run at month 0 (its seed; a recorded run's
    or a sweep point's values, a scenario's replicate the knobs' values) and switches to the
    Single run tab.
    """
    source = settings.source
    scenario = source.loaded.scenario
    _ = model.value  # drawn again when the knobs rebuild the model: the ensemble follows them
    state_ids = {s.name: s.id for s in scenario.states}
    power_ids = {p.name: p.id for p in scenario.powers}
    points = _points(source)
    key = (
        tuple(sorted(settings.changed().items())),
        choices.replicates.value,
        choices.root.value,
        choices.point.value,
    )
    view = solara.use_memo(
        lambda: _ensemble(
            settings, choices.replicates.value, choices.root.value, choices.point.value
        ),
        [key],
    )
    pair = (state_ids[choices.state.value], power_ids[choices.power.value])
    edges = solara.use_memo(lambda: edge_runs(view.table, view.runs, *pair), [key, pair])
    labels = [r.label for r in view.runs]
    choice = solara.use_reactive("")
    chosen = choice.value if choice.value in labels else (labels[0] if labels else "")

    def replay(run: Replay) -> None:
        if source.runs:
            fresh = Settings.replay(source, run)
            settings.values, settings.fixed = fresh.values, fresh.fixed
        settings.seed, settings.label = run.seed, f"replay of {run.label}"
        _rerun(model, settings, steps=0)
        tab.value = TABS.index("Single run")

    def replay_chosen() -> None:
        replay(next(r for r in view.runs if r.label == chosen))

    with solara.Column(style={"padding": "8px"}) as main:
        solara.Text(f"Ensemble: {view.note}; median with 50% and 90% bands.", classes=["gg-note"])
        with solara.Row():
            if source.kind == "scenario":
                solara.SliderInt("replicates", value=choices.replicates, min=5, max=500, step=5)
                solara.InputInt("root seed", value=choices.root)
            if source.kind == "sweep":
                solara.Select("sweep point", values=points, value=choices.point)
        with solara.Columns([3, 2]):
            _image(_png(lambda: plot_alignment_grid(view.table)), "gg-fan", "fan charts")
            _image(
                _png(_axes_figure(lambda ax: plot_influence(view.table, ax=ax), (6.5, 3.6))),
                "gg-influence",
                "influence fan chart",
            )
        with solara.Card("Runs at the edges of the fan (final alignment)"):
            with solara.Row():
                solara.Select("state", values=list(state_ids), value=choices.state)
                solara.Select("power", values=list(power_ids), value=choices.power)
            with solara.Column(classes=["gg-edges"]):
                for label, run, value in edges:
                    with solara.Row(classes=["gg-edge"], style={"align-items": "center"}):
                        solara.Text(
                            f"{label}: {run.label}, final alignment {value:.3f}",
                            classes=["gg-edge-label"],
                        )
                        solara.Button(
                            "Replay", on_click=lambda run=run: replay(run), color="primary"
                        )
        with solara.Row():
            solara.Select("run to replay", values=labels, value=chosen, on_value=choice.set)
            solara.Button("Replay in the single-run view", on_click=replay_chosen, color="primary")
    return main


@solara.component
def Controls(model: solara.Reactive[Any], settings: Settings) -> solara.Element:
    """Mesa's controls of the session's model; their Reset builds it again from ``settings``.

    Mesa's controller remembers that a run has ended (its play and Step buttons stay disabled):
    when a running model replaces an ended one (a replay from the Ensemble tab), a fresh
    controller is drawn.
    """
    shown = solara.use_ref(model.value)
    generation = solara.use_ref(0)
    if model.value is not shown.current:
        if model.value.running and not shown.current.running:
            generation.current += 1
        shown.current = model.value
    # keyed: a new key draws the card, and the controller in it, afresh (keying the controller
    # itself would not: the card's children compare equal whatever their keys)
    with solara.Card("Controls").key(f"controls-{generation.current}") as card:
        model_controller(model, {"settings": settings}, play_interval=PLAY_INTERVAL_MS)
    return card


def current_source() -> Source:
    """The source of this server (:data:`SOURCE_ENV`), opened once per process."""
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = open_source(os.environ.get(SOURCE_ENV) or None)
    return _SOURCE


_SOURCE: Source | None = None


@solara.component
def Page() -> None:
    """The dashboard page (what ``solara run sim.viz.dashboard`` serves).

    Mesa's controls and the knobs in the sidebar, the tabs of :data:`TABS` in the main area
    (only the shown tab is drawn; the Ensemble tab's choices are kept here).
    """
    source = current_source()
    settings = solara.use_memo(lambda: Settings.first(source), [])
    model = solara.use_memo(lambda: solara.reactive(DashboardModel(settings)), [])
    choices = solara.use_memo(lambda: _Choices.of(source), [])
    tab = solara.use_reactive(0)
    title = f"greatgame dashboard: {source.name}"
    solara.Title(title)
    with solara.AppBar():
        solara.AppBarTitle(f"{title} ({source.kind} {source.path})")
    with solara.Sidebar(), solara.Column():
        Controls(model, settings)
        Knobs(model, settings)
    with solara.lab.Tabs(value=tab, lazy=True):
        with solara.lab.Tab(TABS[0]):
            SingleRun(model)
        with solara.lab.Tab(TABS[1]):
            Ensemble(model, settings, choices, tab)


def serve(arg: str | Path | None, port: int, open_browser: bool) -> int:
    """Run the dashboard's Solara server on localhost until interrupted.

    Args:
        arg: What to open (:func:`open_source`); opened here first, so that bad input fails
            before the server starts.
        port: TCP port on 127.0.0.1.
        open_browser: Open the page in the default browser once the server listens.

    Returns:
        0 when the server stops.
    """
    global _SOURCE
    _SOURCE = open_source(arg)
    os.environ[SOURCE_ENV] = str(arg) if arg is not None else ""
    from solara.__main__ import run

    print(f"greatgame dashboard: {_SOURCE.name} at http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    flags = ["--host", "127.0.0.1", "--port", str(port), "--production", "--no-check-version"]
    run.main(
        ["sim.viz.dashboard", *flags, "--open" if open_browser else "--no-open"],
        standalone_mode=False,
    )
    return 0
