"""The UN vote rule and `greatgame observe`."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.model.metrics import VOTES, VoteRule, predicted_vote
from sim.results.folder import read_run_folder
from sim.results.observe import observe

POWERS = ["russia", "china", "usa", "eu"]


def test_vote_rule_cases():
    a = np.array(
        [
            [0.8, 0.5, 0.3, 0.3],  # leans Russia, Western ties: abstain
            [0.95, 0.5, 0.1, 0.1],  # near-client: no
            [0.3, 0.5, 0.6, 0.6],  # leans West: yes
            [0.3, 0.5, 0.6, 0.6],  # leans West but neutral: absent
        ]
    )
    neutrality = np.array([0.0, 0.0, 0.0, 0.8])
    codes = predicted_vote(a, POWERS, neutrality)
    assert [VOTES[c] for c in codes] == ["abstain", "no", "yes", "absent"]
    strict = VoteRule(yes_margin=0.5)
    assert VOTES[predicted_vote(a, POWERS, neutrality, strict)[2]] == "abstain"


def test_vote_rule_needs_its_powers():
    import pytest

    with pytest.raises(ValueError, match="needs powers"):
        predicted_vote(np.zeros((2, 2)), ["china", "iran"], np.zeros(2))


def test_observe_on_a_results_folder(tmp_path, mini_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(mini_path), "-r", "4", "--out", str(out), "-q"]) == 0
    assert (out / "scenario.yaml").is_file()
    table = observe(out, "2022-06")
    assert list(table["vote"]) == ["n/a"] * 3  # mini has no usa/eu: the vote rule cannot apply
    # the patron is each run's most aligned power, the most frequent over runs (pandas here)
    t = read_run_folder(out).table
    at = t[(t["date"].astype(str) == "2022-06") & (t["variable"] == "alignment")]
    best = at.loc[at.groupby(["run", "state"], observed=True)["value"].idxmax()]
    counts = pd.crosstab(best["state"], best["power"]).reindex(
        columns=["north", "east"], fill_value=0
    )
    modal = counts.idxmax(axis=1)  # a tie goes to the power listed first, as in the scenario
    assert list(table["primary_patron"]) == [modal[s] for s in ["alpha", "beta", "gamma"]]
    assert main(["observe", str(out), "--date", "2022-06"]) == 0
    assert "alpha" in capsys.readouterr().out


def test_observe_baseline(tmp_path, capsys):
    from conftest import ROOT

    out = tmp_path / "b"
    baseline = str(ROOT / "scenarios" / "baseline_2022.yaml")
    assert main(["run", baseline, "-r", "3", "--out", str(out), "-q"]) == 0
    table = observe(out, "2022-02")
    assert list(table["state"]) == [
        "kazakhstan",
        "kyrgyzstan",
        "tajikistan",
        "uzbekistan",
        "turkmenistan",
    ]
    assert set(table["vote"]) <= set(VOTES)
    assert np.allclose(table["vote_share"] * 3 % 1, 0)
    assert main(["observe", str(out), "--date", "2022-02", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["state"] == "kazakhstan" and 0 <= records[0]["russia"] <= 1
    assert main(["observe", str(out), "--date", "2031-01"]) == 2
    err = capsys.readouterr().err
    assert "expected a month from 2021-12 to 2023-12, found 2031-01" in err


@pytest.mark.parametrize("typed", ["2022-2", "2022/02", "2022-02-15"])
def test_a_month_written_another_way_is_suggested_as_that_month(tmp_path, capsys, typed):
    out = tmp_path / "b"
    assert main(["run", "baseline_2022", "-r", "1", "--out", str(out), "-q"]) == 0
    assert main(["observe", str(out), "--date", typed]) == 2
    assert "(did you mean '2022-02'?)" in capsys.readouterr().err


def test_remittances_are_read_in_per_cent_of_gdp_anchored_at_the_last_year_on_record(
    tmp_path, capsys
):
    import dataclasses

    from sim.input.bundled import resolve_scenario
    from sim.input.scenario import load_scenario
    from sim.input.wdi import load_remittances
    from sim.results.folder import read_run_folder
    from sim.results.observe import observe, remittances_gdp
    from sim.results.runner import run, write_run_folder

    record = load_remittances().set_index(["state", "year"])["remittances_gdp"]
    res = run(load_scenario(resolve_scenario("baseline_2022")), seed=2, replicates=3)
    folder = read_run_folder(write_run_folder(res, tmp_path / "b"))
    # at record 0 (2021-12) each state reads the last year on record before the run: 2019
    start = remittances_gdp(folder, "2021-12")
    assert start["tajikistan"]["median"] == pytest.approx(record["tajikistan", 2019])
    assert "turkmenistan" not in start  # the World Bank series has no Turkmen value
    # later the model moves it: the sanctions on Russia shrink what migrants send home
    table = observe(folder, "2023-12").set_index("state")
    tj = table.loc["tajikistan"]
    assert tj["remittances_gdp_p5"] <= tj["remittances_gdp"] <= tj["remittances_gdp_p95"]
    assert tj["remittances_gdp_p95"] < record["tajikistan", 2019]
    assert np.isnan(table.loc["turkmenistan", "remittances_gdp"])
    capsys.readouterr()
    assert main(["observe", str(folder.path), "--date", "2023-12", "--json"]) == 0
    records = {r["state"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["tajikistan"]["remittances_gdp"] == {
        "median": pytest.approx(tj["remittances_gdp"]),
        "p5": pytest.approx(tj["remittances_gdp_p5"]),
        "p95": pytest.approx(tj["remittances_gdp_p95"]),
    }
    assert records["turkmenistan"]["remittances_gdp"] is None
    # a folder written before remittances were recorded reads as none
    old = dataclasses.replace(folder, table=folder.table[folder.table["variable"] != "remittances"])
    assert remittances_gdp(old, "2023-12") == {}
