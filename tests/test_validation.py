"""Stylized facts: the baseline passes them all; removing the war makes some fail."""

import pytest
from conftest import ROOT

from sim.cli import main
from sim.input.evidence import load_verified
from sim.results.validation import FACT_KEYS, FACTS, validate

BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"


@pytest.fixture(scope="module")
def baseline_results():
    return validate(load_verified(BASELINE), replicates=30, seed=0)


def test_every_fact_is_measured(baseline_results):
    assert [r.key for r in baseline_results] == list(FACT_KEYS)
    assert len(FACTS) == 11
    assert all(r.measured and r.threshold for r in baseline_results)


@pytest.mark.parametrize("key", list(FACT_KEYS))
def test_baseline_passes_fact(baseline_results, key):
    result = next(r for r in baseline_results if r.key == key)
    assert result.passed, f"({key}) {result.claim}: {result.measured} (needs {result.threshold})"


def test_removing_the_war_shock_breaks_facts(tmp_path):
    peace = tmp_path / "peace.yaml"
    war = [
        "ukraine_invasion_credibility",
        "ukraine_invasion_attention",
        "ukraine_invasion_capacity",
        "western_sanctions",
        "kerch_bridge_blast",
    ]
    peace.write_text(
        f"extends: {BASELINE}\n"
        "meta: {name: peace}\n"
        "events:\n" + "".join(f"  - {{id: {e}, enabled: false}}\n" for e in war)
    )
    results = {r.key: r for r in validate(load_verified(peace), replicates=30, seed=0)}
    failed = {k for k, r in results.items() if not r.passed}
    assert {"a", "g"} <= failed, {k: r.measured for k, r in results.items()}


def test_validate_cli_prints_table_and_exit_status(capsys):
    assert main(["validate", str(BASELINE), "-r", "30"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 11 and "11 passed, 0 failed" in out


def test_validate_shows_its_progress_per_variant_when_asked(mini_path, capsys):
    from sim.input.scenario import load_scenario
    from sim.results.validation import Context

    ctx = Context(load_scenario(mini_path), replicates=3, progress=True)
    ctx.runs("scenario")
    ctx.runs("no_war")
    err = capsys.readouterr().err
    assert "scenario" in err and "no_war" in err
    quiet = Context(load_scenario(mini_path), replicates=3, progress=False)
    quiet.runs("scenario")
    assert capsys.readouterr().err == ""
