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
    assert len(FACTS) == 14
    assert all(r.measured and r.threshold for r in baseline_results)


@pytest.mark.parametrize("key", list(FACT_KEYS))
def test_baseline_passes_fact(baseline_results, key):
    result = next(r for r in baseline_results if r.key == key)
    assert result.passed, f"({key}) {result.claim}: {result.measured} (needs {result.threshold})"


def _without_events(tmp_path, name, ids):
    """The baseline with the events ``ids`` switched off, validated on 30 runs: key to result."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"extends: {BASELINE}\n"
        f"meta: {{name: {name}}}\n"
        "events:\n" + "".join(f"  - {{id: {e}, enabled: false}}\n" for e in ids)
    )
    return {r.key: r for r in validate(load_verified(path), replicates=30, seed=0)}


def test_removing_the_war_shock_breaks_facts(tmp_path):
    war = [
        "ukraine_invasion_credibility",
        "ukraine_invasion_attention",
        "ukraine_invasion_capacity",
        "western_sanctions",
        "kerch_bridge_blast",
    ]
    results = _without_events(tmp_path, "peace", war)
    failed = {k for k, r in results.items() if not r.passed}
    assert {"a", "g"} <= failed, {k: r.measured for k, r in results.items()}


def test_validate_cli_prints_table_and_exit_status(capsys):
    assert main(["validate", str(BASELINE), "-r", "30"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 14 and "14 passed, 0 failed" in out


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


def test_without_any_event_the_facts_that_must_be_earned_fail(tmp_path):
    """A run with no event stays at its status quo, so every fact the dynamics must earn fails,
    (f) among them (it now asks for the war's effect on hedging, not for any rise at all). Only
    (h), a vote read from the state of February 2022, still holds on the initial state alone."""
    ids = [e.id for e in load_verified(BASELINE).scenario.events]
    results = _without_events(tmp_path, "quiet", ids)
    failed = {k for k, r in results.items() if not r.passed}
    assert failed == set(FACT_KEYS) - {"h"}, {k: r.measured for k, r in results.items()}
    assert "effect of the war +0.000" in results["f"].measured


def _russia_responds(tmp_path, response):
    """Fact (n) on the baseline with Russia's response fixed to ``response``."""
    path = tmp_path / f"russia_{response}.yaml"
    path.write_text(
        f"extends: {BASELINE}\n"
        f"meta: {{name: russia_{response}}}\n"
        f"powers:\n  - {{id: russia, strategy: {{response: {response}}}}}\n"
    )
    return next(r for r in validate(load_verified(path), replicates=10, seed=0) if r.key == "n")


def test_a_russia_that_always_punishes_or_never_answers_fails_fact_n(tmp_path):
    """Fact (n) tells a Russia that chooses its answer to drift from two plausible wrong ones: a
    fixed disposition to punish (the baseline before issue 14) presses its allies from the first
    drift, and a Russia that ignores the drift never answers it."""
    punishing = _russia_responds(tmp_path, "punish")
    assert not punishing.passed and "by June 2022 in 100%" in punishing.measured
    ignoring = _russia_responds(tmp_path, "ignore")
    assert not ignoring.passed and "October 2022 in 0%" in ignoring.measured
