"""greatgame run --initial-from: a scenario starts from the state a run of another folder reached
(the baseline from the history's December 2021)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.input.bundled import resolve_scenario
from sim.input.errors import ScenarioError
from sim.input.scenario import load_scenario
from sim.results.carry import CARRIED, carried_values
from sim.results.runner import run, write_run_folder


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    out = tmp_path_factory.mktemp("carry") / "history"
    res = run(load_scenario(resolve_scenario("history_2012")), seed=3, replicates=2)
    return write_run_folder(res, out)


def _state(folder, month):
    table = pd.read_parquet(folder / "results.parquet")
    return table[table["date"].astype(str) == month]


def test_each_replicate_takes_the_state_of_one_run_at_the_month_before_the_start(history):
    baseline = load_scenario(resolve_scenario("baseline_2022")).scenario
    values, info = carried_values(history, baseline, replicates=5)
    assert info["month"] == "2021-12" and info["runs"] == 2 and len(values) == 5
    n_sp = len(baseline.state_ids) * len(baseline.power_ids)
    assert values.shape[1] == 3 * n_sp + 2 * len(baseline.power_ids)
    at = _state(history, "2021-12")
    for r in range(5):  # replicate r takes run r mod 2
        row = at[(at["run"] == r % 2) & (at["variable"] == "alignment")]
        row = row[(row["state"] == "kazakhstan") & (row["power"] == "russia")]
        assert values.loc[r, "states.kazakhstan.alignment.russia"] == row["value"].item()
    cred = at[(at["run"] == 1) & (at["variable"] == "credibility") & (at["power"] == "usa")]
    assert values.loc[1, "powers.usa.credibility"] == cred["value"].item()
    assert set(CARRIED) == {"alignment", "trust", "threat", "credibility", "attention"}


def test_a_month_the_folder_lacks_or_a_missing_state_is_refused(history, mini_path):
    baseline = load_scenario(resolve_scenario("baseline_2022")).scenario
    with pytest.raises(ScenarioError, match="2011-12 to 2022-02"):
        carried_values(history, baseline, 2, month="2023-01")
    with pytest.raises(ScenarioError, match="missing"):
        carried_values(history, load_scenario(mini_path).scenario, 2, month="2021-12")


def test_the_baseline_starts_where_the_history_stood_and_says_so(history, tmp_path):
    out = tmp_path / "b"
    cmd = [sys.executable, "-m", "sim.cli", "run", "baseline_2022", "-r", "3", "--seed", "5"]
    cmd += ["--initial-from", str(history), "--out", str(out), "-q"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    start = _state(out, "2021-12")  # step 0 of the baseline: its initial state
    before = _state(history, "2021-12")
    for variable in ("alignment", "trust", "threat"):
        for r in range(3):
            mine = start[(start["run"] == r) & (start["variable"] == variable)]
            theirs = before[(before["run"] == r % 2) & (before["variable"] == variable)]
            key = ["state", "power"]
            merged = mine.merge(theirs, on=key, suffixes=("", "_h"))
            assert len(merged) == 30
            np.testing.assert_allclose(merged["value"], merged["value_h"], atol=1e-12)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters_from"]["initial_from"]["month"] == "2021-12"
    assert "parameters.csv" in manifest["files"]
    bad = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", "baseline_2022", "--initial-month", "2021-12"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "--initial-from" in bad.stderr
