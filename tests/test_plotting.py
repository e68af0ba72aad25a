"""Figures, the plot and compare commands (sim.viz.plotting, sim.results.compare, greatgame
plot/compare)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DATA
from matplotlib.colors import to_rgba

from sim.cli import main
from sim.results.compare import difference
from sim.results.folder import read_run_folder
from sim.viz import plotting
from sim.viz.report import RESULT_KINDS, SWEEP_KINDS


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A fresh results folder of the mini scenario, a counterfactual without 'menace', a sweep."""
    root = tmp_path_factory.mktemp("plots")
    base, cf = root / "base", root / "no_menace"
    assert (
        main(["run", str(DATA / "mini.yaml"), "-r", "4", "--seed", "3", "-o", str(base), "-q"]) == 0
    )
    raw = yaml.safe_load((DATA / "mini.yaml").read_text())
    raw["meta"]["name"] = "no_menace"
    for ev in raw["events"]:
        if ev["id"] == "menace":
            ev["enabled"] = False
    (root / "cf.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main(["run", str(root / "cf.yaml"), "-r", "4", "--seed", "3", "-o", str(cf), "-q"]) == 0
    from sim.sweep.run import run_sweep

    spec = {
        "scenario": str(DATA / "mini.yaml"),
        "design": "sobol",
        "samples": 8,
        "replicates": 1,
        "seed": 5,
        "seeds": "common",
        "parameters": {
            "powers.north.credibility": [0.4, 0.9],
            "powers.east.monthly_budget": [10, 60],
        },
    }
    sweep = run_sweep(spec, root / "sweep", executor="serial", engine="ensemble", progress=False)
    return {"base": base, "cf": cf, "sweep": sweep, "root": root}


@pytest.fixture(scope="module")
def table(folders):
    return read_run_folder(folders["base"]).table


def teardown_function():
    plt.close("all")


def test_alignment_has_one_line_per_power_in_its_colour_on_a_date_axis(table):
    ax = plotting.plot_alignment(table, "alpha")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"north", "east"}
    for power, line in lines.items():
        assert to_rgba(line.get_color()) == to_rgba(plotting.power_colour(power, ["north", "east"]))
        x = pd.DatetimeIndex(mdates.num2date(line.get_xdata(orig=False))).tz_localize(None)
        assert x[0] == pd.Timestamp("2021-12-31") and x[-1] == pd.Timestamp("2022-12-31")
        assert all(x.is_month_end)
    med = table[
        (table.variable == "alignment") & (table.state == "alpha") & (table.power == "east")
    ]
    end = med[med.date.astype(str) == "2022-12"]["value"].median()
    assert lines["east"].get_ydata()[-1] == pytest.approx(end)
    assert len(ax.collections) == 4  # a 50% and a 90% band per power
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.DateFormatter)
    assert "alignment" in ax.get_ylabel()


def test_known_powers_keep_their_colour_everywhere():
    assert plotting.power_colour("russia") == plotting.power_colour("russia", ["usa", "x"])
    assert plotting.power_colour("x", ["russia", "x"]) != plotting.power_colour("y", ["x", "y"])


def test_influence_hedging_and_heatmap(table):
    ax = plotting.plot_influence(table)
    assert [line.get_label() for line in ax.get_lines()] == ["North", "East"]
    ax = plotting.plot_hedging(table)
    assert len(ax.get_lines()) == 3
    ax = plotting.plot_heatmap(table, "2022-06")
    mat = ax.images[0].get_array()
    assert mat.shape == (3, 2)
    rows = table[(table.variable == "alignment") & (table.date.astype(str) == "2022-06")]
    want = rows[(rows.state == "beta") & (rows.power == "north")]["value"].median()
    assert mat[1, 0] == pytest.approx(want)
    runs = table["run"].nunique()
    assert runs > 1 and ax.get_title().endswith(f"(median of {runs} runs)")
    one = plotting.plot_heatmap(table[table["run"] == 0], "2022-06")
    assert one.get_title() == "alignment at the end of 2022-06 (single run)"
    with pytest.raises(ValueError, match="months run from"):
        plotting.plot_heatmap(table, "2030-01")
    fig = plotting.plot_heatmap_grid(table, n=4)
    assert sum(a.get_visible() and bool(a.images) for a in fig.axes) == 4


def test_difference_of_a_folder_with_itself_is_zero_and_of_a_counterfactual_is_not(folders):
    base = read_run_folder(folders["base"]).table
    cf = read_run_folder(folders["cf"]).table
    same = difference(base, base, "alignment")
    assert same["paired"].all()
    assert np.abs(same[["q05", "q50", "q95"]].to_numpy()).max() == 0.0
    diff = difference(base, cf, "alignment", scenario="no_menace")
    assert diff["paired"].all()  # same root seed, so the runs pair by seed
    end = diff[(diff.date == "2022-12") & (diff.state == "alpha") & (diff.power == "north")]
    assert end["q50"].item() > 1e-3  # without the threat alpha stays closer to north
    before = diff[diff.date < "2022-10"]
    assert np.abs(before[["q05", "q95"]].to_numpy()).max() < 1e-12  # nothing changes before it
    assert list(dict.fromkeys(diff["state"])) == ["alpha", "beta", "gamma"]  # scenario order
    fig = plotting.plot_difference_grid(diff)
    assert len([a for a in fig.axes if a.get_visible()]) == 3


def test_unpaired_difference_uses_every_pair():
    rows = []
    for run, (seed, val) in enumerate([(1, 0.0), (2, 1.0)]):
        rows.append({"run": run, "seed": seed, "date": "2022-01", "state": "a", "power": "p",
                     "variable": "alignment", "value": val})  # fmt: skip
    base = pd.DataFrame(rows)
    other = base.assign(seed=base["seed"] + 10, value=base["value"] + 0.5)
    diff = difference(base, other, "alignment")
    assert not diff["paired"].any()
    assert diff["q50"].item() == pytest.approx(0.5)  # pairs: .5, -.5, 1.5, .5
    assert diff["q05"].item() < 0 < diff["q95"].item()


def test_attribution_waterfall(folders):
    from sim.results.attribution import attribute_folder

    attr = attribute_folder(folders["base"], "alpha", "north", "2022-02", "2022-11")
    ax = plotting.plot_attribution(attr)
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown[0].startswith("start") and shown[-1].startswith("end")
    bars = [p for p in ax.patches if p.get_height() > 0]
    channels = attr[attr.kind == "channel"]
    assert len(bars) == len(shown) - 1  # one per component shown and the total
    # the last component bar ends where the total bar ends
    total = bars[-1]
    last = bars[-2]
    assert last.get_x() + last.get_width() == pytest.approx(total.get_x() + total.get_width())
    assert channels["value"].sum() == pytest.approx(total.get_width(), abs=1e-12)
    ax = plotting.plot_attribution(attr, kind="event", top=2)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "interactions and rest" in labels and any("other events" in x for x in labels)


def test_responses_show_the_share_of_runs_courting_and_punishing(table):
    """Mini fixes North's answer to drift to punish and East's to court (every state, every
    month): North's panel has one dashed line per state at -1, East's a solid one at +1."""
    fig = plotting.plot_responses(table)
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert set(panels) == {"North", "East"}
    north = [line for line in panels["North"].get_lines() if line.get_linestyle() == "--"]
    east = [line for line in panels["East"].get_lines() if not line.get_label().startswith("_")]
    assert len(north) == len(east) == 3  # one per state
    assert all((line.get_ydata() == -1.0).all() for line in north)
    assert all((line.get_ydata() == 1.0).all() for line in east)
    with pytest.raises(ValueError, match="no response rows"):
        plotting.plot_responses(table[table["variable"] != "response"])


@pytest.mark.parametrize("kind", RESULT_KINDS)
def test_every_results_kind_renders_from_a_fresh_run(folders, kind, tmp_path):
    out = tmp_path / f"{kind}.png"
    extra = (
        ["--state", "beta", "--power", "east", "--from", "2022-03"] if kind == "attribution" else []
    )
    assert main(["plot", str(folders["base"]), "--kind", kind, "-o", str(out), "-q", *extra]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


@pytest.mark.parametrize("kind", SWEEP_KINDS)
def test_every_sweep_kind_renders_from_a_sweep_folder(folders, kind, tmp_path):
    out = tmp_path / f"{kind}.png"
    args = ["plot", str(folders["sweep"]), "--kind", kind, "-o", str(out), "-q"]
    assert main([*args, "--metric", "alignment_change.alpha.north"]) == 0
    assert out.stat().st_size > 10_000


def test_sweep_figures_directly(folders):
    from sim.sweep.analysis import sensitivity
    from sim.sweep.run import read_sweep_results

    idx = sensitivity(folders["sweep"], metrics=["alignment_change.alpha.north"])
    ax = plotting.plot_indices(idx, "alignment_change.alpha.north")
    assert len(ax.patches) == 4  # S1 and ST for two parameters
    metrics = ["alignment_change.alpha.north", "influence_end.north", "influence_end.east"]
    idx = sensitivity(folders["sweep"], metrics=metrics)
    fig = plotting.plot_sensitivity(idx, metrics)
    shown = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in shown] == ["overall (mean over metrics)", *metrics]
    assert len(fig.axes) == 4 and fig.axes[0].get_position().y0 > fig.axes[2].get_position().y1
    for a, metric in zip(shown[1:], metrics, strict=True):  # each panel is plot_indices' figure
        alone = plotting.plot_indices(idx, metric)
        assert [p.get_width() for p in a.patches] == [p.get_width() for p in alone.patches]
    runs = read_sweep_results(folders["sweep"])
    ax = plotting.plot_scatter(runs, "influence_end.north", "powers.north.credibility")
    assert len(ax.collections[0].get_offsets()) == len(runs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "heatmapp"], "did you mean 'heatmap'"),
        (["--kind", "scatter"], "needs a sweep folder"),
        (["--kind", "attribution", "--state", "alfa", "--power", "north"], "did you mean 'alpha'"),
        (["--kind", "heatmap", "--date", "2022-13"], "expected a month from"),
    ],
)
def test_bad_plot_input_exits_2_with_one_line(folders, args, message, capsys):
    assert main(["plot", str(folders["base"]), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_plot_refuses_a_folder_that_is_neither(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "expected a results folder" in capsys.readouterr().err


def test_compare_command(folders, capsys):
    out = folders["root"] / "cmp"
    args = ["compare", str(folders["base"]), str(folders["cf"]), "-o", str(out), "-q"]
    assert main(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "end_differences.csv" in names and "alignment_no_menace.png" in names
    ends = pd.read_csv(out / "end_differences.csv")
    assert set(ends["variable"]) == {"alignment", "influence", "hedging"}
    assert (ends["date"] == "2022-12").all()
    assert main(args) == 2  # refuses a non-empty folder
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force", "-v", "trust"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["end_differences.csv", "manifest.json", "trust_no_menace.png"]
    assert main(["compare", str(folders["base"]), str(folders["cf"]), "-v", "trsut"]) == 2
    assert "did you mean 'trust'" in capsys.readouterr().err


# Machado, Oliveira and Fernandes (2009) simulation matrices (severity 1), in linear RGB
_CVD = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
}


def _closest_pair(colours: list[str], vision: np.ndarray) -> float:
    """The smallest distance between two of the colours (sRGB, 0-1) as a viewer sees them."""
    from itertools import combinations

    from matplotlib.colors import to_rgb

    def seen(c: str) -> np.ndarray:
        rgb = np.array(to_rgb(c))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        out = np.clip(vision @ lin, 0.0, 1.0)
        return np.where(out <= 0.0031308, out * 12.92, 1.055 * out ** (1 / 2.4) - 0.055)

    return min(float(np.linalg.norm(seen(a) - seen(b))) for a, b in combinations(colours, 2))


def test_the_six_powers_and_five_states_stay_apart_for_colour_blind_readers():
    powers = ["russia", "china", "usa", "turkey", "iran", "eu"]
    states = ["kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan"]
    for name, vision in _CVD.items():
        assert _closest_pair([plotting.power_colour(p) for p in powers], vision) > 0.2, name
        assert _closest_pair([plotting.state_colour(s) for s in states], vision) > 0.3, name
    # the palette before this change fails: Turkey and Iran were two greens
    old = ["#c0392b", "#e6a700", "#1f5fbf", "#16a085", "#2e7d32", "#7b3fa0"]
    assert _closest_pair(old, _CVD["deuteranopia"]) < 0.2


def test_colours_follow_the_id_not_the_order_and_added_powers_get_new_ones():
    assert plotting.state_colour("tajikistan", ["uzbekistan", "tajikistan"]) == (
        plotting.state_colour("tajikistan", sorted(["tajikistan", "kazakhstan"]))
    )
    order = ["russia", "india", "usa", "japan"]
    added = [plotting.power_colour(p, order) for p in ("india", "japan")]
    six = {plotting.power_colour(p) for p in ("russia", "china", "usa", "turkey", "iran", "eu")}
    assert len(set(added)) == 2 and not set(added) & six
    assert plotting.power_colour("india", order) == plotting.power_colour("india", order[:2])


def test_time_ticks_sit_on_month_ends_and_name_their_month(folders):
    table = read_run_folder(folders["base"]).table
    ax = plotting.plot_alignment(table, "alpha")
    ax.figure.canvas.draw()
    ticks = [mdates.num2date(t) for t in ax.get_xticks()]
    assert ticks and all((t + pd.Timedelta(days=1)).day == 1 for t in ticks)  # last day of a month
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [t.strftime("%Y-%m") for t in ticks]
    dates = sorted(table["date"].astype(str).unique())
    assert dates[0] <= min(labels) and max(labels) <= dates[-1]  # no tick past the data


def test_hedging_is_drawn_on_its_whole_range_with_a_zoom_when_it_barely_moves(folders):
    table = read_run_folder(folders["base"]).table
    ax = plotting.plot_hedging(table)
    assert ax.get_ylim() == (0.0, 1.0)
    rows = table[table["variable"] == "hedging"]
    small = rows["value"].max() - rows["value"].min() < plotting.SMALL_RANGE
    assert (len(ax.child_axes) == 1) == small
    flat = table.copy()
    mask = flat["variable"] == "hedging"
    flat.loc[mask, "value"] = 0.5 + 0.001 * (flat.loc[mask, "step"] % 3)
    ax = plotting.plot_hedging(flat)
    assert len(ax.child_axes) == 1 and ax.child_axes[0].get_ylim()[1] < 0.51


def test_figure_files_are_named_by_what_they_show_and_never_silently_replaced(folders, tmp_path):
    import shutil

    base = tmp_path / "base"
    shutil.copytree(folders["base"], base)
    sweep = tmp_path / "sweep"
    shutil.copytree(folders["sweep"], sweep)
    cases = [
        (base, ["--kind", "heatmap", "--date", "2022-06"], "heatmap_2022-06"),
        (base, ["--kind", "heatmap"], "heatmap_2022-12"),  # the default month, named
        (base, ["--kind", "attribution", "--state", "beta", "--power", "east"],
         "attribution_beta_east_channel"),
        (base, ["--kind", "attribution", "--state", "beta", "--power", "east", "--by", "event"],
         "attribution_beta_east_event"),
        (base, ["--kind", "attribution", "--state", "beta", "--power", "east", "--from", "2022-03"],
         "attribution_beta_east_channel_2022-03"),
        (sweep, ["--kind", "scatter", "-m", "influence_end.north"],
         "scatter_influence_end.north_powers.north.credibility"),
        (sweep, ["--kind", "scatter", "-m", "influence_end.north",
                 "--parameter", "powers.east.monthly_budget"],
         "scatter_influence_end.north_powers.east.monthly_budget"),
        (sweep, ["--kind", "indices", "-m", "influence_end.east"], "indices_influence_end.east"),
    ]  # fmt: skip
    for folder, args, _ in cases:
        assert main(["plot", str(folder), *args, "-q"]) == 0, args
    for folder in (base, sweep):
        written = sorted(p.stem for p in (folder / "plots").iterdir())
        assert written == sorted(name for f, _, name in cases if f == folder)
    # the same figure again: refused without --force (exit 2), the file untouched
    target = base / "plots" / "heatmap_2022-06.png"
    before = target.read_bytes()
    assert main(["plot", str(base), "--kind", "heatmap", "--date", "2022-06", "-q"]) == 2
    assert target.read_bytes() == before
    explicit = tmp_path / "mine.png"
    explicit.write_bytes(b"not a figure")
    assert main(["plot", str(base), "--kind", "hedging", "-o", str(explicit), "-q"]) == 2
    assert explicit.read_bytes() == b"not a figure"
    assert main(["plot", str(base), "--kind", "hedging", "-o", str(explicit), "--force", "-q"]) == 0
    assert explicit.read_bytes()[:4] == b"\x89PNG"


def test_event_markers_sit_at_the_months_of_the_events_involving_each_state(folders, tmp_path):
    run = read_run_folder(folders["base"])
    months = {s: sorted({e.date for e in run.scenario.events if e.enabled and s in
                         {*e.actors, *e.targets}}) for s in run.scenario.state_ids}  # fmt: skip
    fig = plotting.plot_alignment_grid(run.table, events=months)
    for ax in fig.axes[: len(months)]:
        state = ax.get_title().lower()
        dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
        drawn = sorted(mdates.num2date(line.get_xdata()[0]).strftime("%Y-%m") for line in dotted)
        assert drawn == months[state], state
    out = tmp_path / "copy"
    import shutil

    shutil.copytree(folders["base"], out)
    assert main(["plot", str(out), "--kind", "alignment", "--events", "-q"]) == 0
    assert (out / "plots" / "alignment_events.png").stat().st_size > 10_000
