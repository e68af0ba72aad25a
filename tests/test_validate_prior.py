"""``greatgame validate --prior N``: the stylized facts' pass rates over the assumption box.

Small designs (8 points, 3 replicates) keep these fast; the numbers themselves are not pinned
(the model and its facts change), only their structure, their determinism and their agreement
with :func:`sim.results.validation.validate` at a single point.
"""

import contextlib
import io
import json

import numpy as np
import pytest
from conftest import DATA, ROOT

from sim.cli import main
from sim.input.evidence import load_verified
from sim.results import validation
from sim.results.validation import FACT_KEYS, FACTS, Context, prior_pass_rates, validate

BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
KEYS = ["prior", "seed", "replicates", "facts", "all_pass_rate"]


def cli_json(*args: str) -> dict:
    """What ``greatgame validate BASELINE --json ARGS`` prints, parsed; it must exit 0."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["validate", str(BASELINE), "--json", *args]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def prior8() -> dict:
    return cli_json("--prior", "8", "-r", "3", "--seed", "4")


@pytest.fixture(scope="module")
def baseline():
    return load_verified(BASELINE)


def test_the_json_has_its_shape_and_consistent_counts(prior8):
    assert [k for k in KEYS if k not in prior8] == []
    assert (prior8["prior"], prior8["seed"], prior8["replicates"]) == (8, 4, 3)
    assert prior8["design"] == "lhs" and prior8["parameters"] > 0
    facts = prior8["facts"]
    assert [f["key"] for f in facts] == list(FACT_KEYS)[: len(FACTS)]
    for f in facts:
        assert set(f) == {"key", "claim", "passed", "n", "rate"}
        assert f["n"] == 8 and 0 <= f["passed"] <= 8 and isinstance(f["passed"], int)
        assert 0.0 <= f["rate"] <= 1.0 and f["rate"] == pytest.approx(f["passed"] / 8)
        assert f["claim"] and f["claim"] != "(not applicable)"
    assert 0.0 <= prior8["all_pass_rate"] <= min(f["rate"] for f in facts)
    assert prior8["all_pass_rate"] == pytest.approx(prior8["all_pass"] / 8)


def test_the_same_seed_gives_the_same_numbers(prior8):
    assert cli_json("--prior", "8", "-r", "3", "--seed", "4") == prior8


def test_another_seed_gives_another_design_and_well_formed_rates(prior8):
    other = cli_json("--prior", "8", "-r", "3", "--seed", "5")
    assert other["seed"] == 5 and other["design_seed"] != prior8["design_seed"]
    assert [f["key"] for f in other["facts"]] == [f["key"] for f in prior8["facts"]]
    assert all(0 <= f["passed"] <= 8 for f in other["facts"])


def test_the_table_has_a_row_per_fact_and_records_seed_and_design(capsys):
    assert main(["validate", str(BASELINE), "--prior", "4", "-r", "2", "--seed", "9"]) == 0
    out = capsys.readouterr().out
    assert "4-point Latin hypercube" in out and "seed 9: design seed" in out
    rows = [line for line in out.splitlines() if line.startswith("(")]
    assert [r[1] for r in rows] == list(FACT_KEYS)[: len(FACTS)]
    assert all(r.rstrip().endswith("/4") and "%" in r for r in rows)
    assert "all facts pass at" in out


def test_a_single_point_at_the_scenarios_values_is_validate(baseline):
    """Point 0's runs are validate's (same seeds), so its facts are validate's."""
    value = baseline.scenario.model.noise
    rates = prior_pass_rates(baseline, {"model.noise": np.array([value])}, seed=3, replicates=4)
    assert rates.results[0] == validate(baseline, replicates=4, seed=3)
    assert rates.passed.shape == (1, len(FACTS))


def test_points_run_in_one_batch_or_one_by_one_agree(baseline, monkeypatch, capsys):
    design = {
        "model.noise": np.array([0.005, 0.015, 0.025]),
        "model.adjustment_speed": np.array([0.25, 0.1, 0.15]),
    }
    together = prior_pass_rates(baseline, design, seed=2, replicates=2, progress=True)
    assert "prior points" in capsys.readouterr().err
    monkeypatch.setattr(validation, "DEFAULT_CHUNK", 2)  # one point per ensemble batch
    alone = prior_pass_rates(baseline, design, seed=2, replicates=2, progress=False)
    assert capsys.readouterr().err == ""
    assert alone.results == together.results
    assert alone.to_dict() == together.to_dict()
    assert together.results[0] != together.results[1]  # each point has its own values and noise


def test_the_mesa_engine_gives_the_same_rates(baseline):
    design = {"states.uzbekistan.neutrality": np.array([0.35, 0.55])}  # read by fact (h)
    fast = prior_pass_rates(baseline, design, seed=1, replicates=1)
    slow = prior_pass_rates(baseline, design, seed=1, replicates=1, engine="mesa")
    assert slow.results == fast.results


def test_bad_designs_are_refused(baseline):
    with pytest.raises(ValueError, match="one value per point"):
        prior_pass_rates(baseline, {})
    with pytest.raises(ValueError, match="one value per point"):
        prior_pass_rates(baseline, {"model.noise": np.array([])})
    with pytest.raises(ValueError, match="replicate"):
        prior_pass_rates(baseline, {"model.noise": np.array([0.01])}, replicates=0)


def test_a_context_given_runs_simulates_nothing(baseline):
    ctx = Context(baseline, runs={})
    with pytest.raises(ValueError, match="no_war"):
        ctx.runs("no_war")


@pytest.mark.parametrize("n", ["0", "-3", "x"])
def test_fewer_than_one_point_exits_2(n, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["validate", str(BASELINE), "--prior", n])
    assert stop.value.code == 2
    assert "--prior" in capsys.readouterr().err


def test_a_scenario_without_assumption_ranges_exits_2(capsys):
    assert main(["validate", str(DATA / "mini.yaml"), "--prior", "3"]) == 2
    err = capsys.readouterr().err
    assert "mini.yaml" in err and "assumption range" in err and "--prior" in err


def test_a_design_too_large_names_the_option(capsys):
    assert main(["validate", str(BASELINE), "--prior", "2000000"]) == 2
    assert "--prior: expected at most" in capsys.readouterr().err


def test_plain_validate_prints_json_too(capsys):
    assert main(["validate", str(BASELINE), "-r", "3", "--json"]) in (0, 1)
    record = json.loads(capsys.readouterr().out)
    assert record["replicates"] == 3 and len(record["facts"]) == len(FACTS)
    assert {"key", "claim", "measured", "threshold", "passed"} == set(record["facts"][0])
