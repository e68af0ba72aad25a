"""A truthful ``greatgame compare`` (issue 12 item 10, issue 17 item 4).

Compare says, on stderr and in its manifest, when the folders cover different months (and over
which months it compared), names the states and powers present in one folder only, and pairs
runs by seed only when the scenarios have the same structure (states, powers, months, seeds);
otherwise it compares the ensembles and says so. The figures, the plot and the basic command are
tested in ``tests/test_plotting.py``.
"""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DATA, write_yaml

from sim.cli import main
from sim.results.compare import Coverage, difference, match
from sim.results.folder import read_run_folder


def run(scenario, out, replicates: int = 3) -> None:
    args = ["run", str(scenario), "-r", str(replicates), "--seed", "3", "-o", str(out), "-q"]
    assert main(args) == 0


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Results folders of the mini scenario and of variants that differ in structure or not."""
    root = tmp_path_factory.mktemp("compare")
    mini = DATA / "mini.yaml"
    run(mini, root / "base")
    # a counterfactual: one event off, same structure (runs pair by seed)
    cf = {"extends": str(mini), "meta": {"name": "no_menace"}}
    cf["events"] = [{"id": "menace", "enabled": False}]
    run(write_yaml(root / "no_menace.yaml", cf), root / "no_menace")
    # six more months
    longer = {"extends": str(mini), "meta": {"name": "longer", "end": "2023-06"}}
    run(write_yaml(root / "longer.yaml", longer), root / "longer")
    # without the state gamma, with a third power west (a copy of east)
    raw = yaml.safe_load(mini.read_text())
    raw["meta"]["name"] = "regrouped"
    raw["states"] = [s for s in raw["states"] if s["id"] != "gamma"]
    for state in raw["states"]:
        state["neighbours"] = [n for n in state.get("neighbours", []) if n != "gamma"]
        for key in ("alignment", "trust", "threat", "dependence"):
            state[key]["west"] = copy.deepcopy(state[key]["east"])
        if "east" in state.get("border", {}):
            state["border"]["west"] = state["border"]["east"]
    west = copy.deepcopy(next(p for p in raw["powers"] if p["id"] == "east"))
    west.update(id="west", name="West", rivalry={"north": 0.3})
    raw["powers"].append(west)
    run(write_yaml(root / "regrouped.yaml", raw), root / "regrouped")
    # the same scenario, more runs
    run(mini, root / "more_runs", replicates=5)
    return root


def compare(root, other: str, out: str, capsys) -> tuple[int, str, dict, pd.DataFrame]:
    """Compare ``base`` with ``other``; return the status, stderr, manifest and end table."""
    capsys.readouterr()
    args = ["compare", str(root / "base"), str(root / other), "-o", str(root / out), "-q"]
    status = main(args)
    err = capsys.readouterr().err
    manifest = json.loads((root / out / "manifest.json").read_text())
    return status, err, manifest, pd.read_csv(root / out / "end_differences.csv")


def test_same_structure_pairs_by_seed_and_says_nothing(folders, capsys):
    status, err, manifest, ends = compare(folders, "no_menace", "cmp_same", capsys)
    assert status == 0 and err == ""
    (entry,) = manifest["comparisons"]
    assert entry["paired_by_seed"] is True and entry["structure_differs"] == []
    assert manifest["notes"] == []
    assert manifest["periods"] == {"base": "2022-01..2022-12", "no_menace": "2022-01..2022-12"}
    assert ends["paired"].all()


def test_different_periods_are_named_and_the_common_months_compared(folders, capsys):
    status, err, manifest, ends = compare(folders, "longer", "cmp_period", capsys)
    assert status == 0
    said = (
        "compared over 2022-01..2022-12, the months both cover; base covers 2022-01..2022-12, "
        "longer covers 2022-01..2023-06"
    )
    assert said in err
    assert "runs not paired by seed (the periods differ)" in err  # a longer run, other draws
    (entry,) = manifest["comparisons"]
    assert entry["compared_months"] == ["2022-01", "2022-12"]
    assert entry["structure_differs"] == ["period"] and entry["paired_by_seed"] is False
    assert any(said in note for note in manifest["notes"])
    assert manifest["periods"]["longer"] == "2022-01..2023-06"
    assert set(ends["date"]) == {"2022-12"} and not ends["paired"].any()


def test_states_and_powers_in_one_folder_only_are_named(folders, capsys):
    status, err, manifest, ends = compare(folders, "regrouped", "cmp_ids", capsys)
    assert status == 0
    assert "states only in base: gamma (left out of the comparison)" in err
    assert "powers only in regrouped: west (left out of the comparison)" in err
    assert "compared as ensembles" in err
    (entry,) = manifest["comparisons"]
    assert entry["only_in_baseline"] == {"states": ["gamma"], "powers": []}
    assert entry["only_in_scenario"] == {"states": [], "powers": ["west"]}
    assert entry["structure_differs"] == ["states", "powers"]
    assert entry["method"].startswith("ensembles")
    assert "gamma" not in set(ends["state"].dropna()) and "west" not in set(ends["power"].dropna())
    assert {"alpha", "beta"} <= set(ends["state"].dropna())


def test_other_seeds_compare_ensembles_by_their_means(folders, capsys):
    status, err, manifest, ends = compare(folders, "more_runs", "cmp_seeds", capsys)
    assert status == 0
    assert "runs not paired by seed (the seeds differ)" in err and "covers" not in err
    assert manifest["comparisons"][0]["structure_differs"] == ["seeds"]
    base = read_run_folder(folders / "base").table
    more = read_run_folder(folders / "more_runs").table

    def end_mean(table: pd.DataFrame) -> float:
        rows = table[
            (table["variable"] == "alignment")
            & (table["date"].astype(str) == "2022-12")
            & (table["state"] == "alpha")
            & (table["power"] == "north")
        ]
        return float(rows["value"].mean())

    row = ends[(ends.variable == "alignment") & (ends.state == "alpha") & (ends.power == "north")]
    assert row["mean"].item() == pytest.approx(end_mean(more) - end_mean(base))


def test_match_and_difference_on_tables(folders):
    base = read_run_folder(folders / "base").table
    longer = read_run_folder(folders / "longer").table
    found = match(Coverage.of(base), Coverage.of(longer), "base", "longer")
    assert found.months == ("2022-01", "2022-12") and not found.paired
    assert found.to_dict()["only_in_scenario"] == {"states": [], "powers": []}
    diff = difference(base, longer, "alignment")  # pairing decided from the structure
    assert not diff["paired"].any() and diff["date"].max() == "2022-12"
    forced = difference(base, longer, "alignment", paired=True)  # the caller may insist
    assert forced["paired"].all()
    same = difference(base, base, "influence")
    assert same["paired"].all() and np.abs(same["mean"]).max() == 0.0


def test_folders_without_a_common_month_are_refused(folders, capsys, tmp_path):
    later = {"extends": str(DATA / "mini.yaml"), "meta": {"name": "later"}}
    later["meta"].update(start="2024-01", end="2024-12")
    raw = yaml.safe_load((DATA / "mini.yaml").read_text())
    later["events"] = [
        {"id": e["id"], "date": e["date"].replace("2022", "2024")} for e in raw["events"]
    ]
    run(write_yaml(tmp_path / "later.yaml", later), tmp_path / "later")
    args = ["compare", str(folders / "base"), str(tmp_path / "later"), "-o", str(tmp_path / "c")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "share no month" in err and "later covers 2024-01..2024-12" in err
    assert not (tmp_path / "c").exists()
