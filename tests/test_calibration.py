"""ABC-SMC calibration (issue 15 item 5): the sampler recovers known answers, the record and its
observation equation score what they claim, specs fail clearly, and a calibration resumes
exactly."""

import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT, write_yaml

from sim.calibration.abc import Box, Settings, run_abc, weighted_quantile
from sim.calibration.record import (
    AgreementRecord,
    agreement_record,
    bundled_record,
    centred,
    fit_slope,
    score,
)
from sim.calibration.run import (
    ScenarioScorer,
    calibrate,
    posterior_draws,
    read_generations,
)
from sim.calibration.spec import load_calibration
from sim.input.errors import OutputError, ScenarioError
from sim.input.unvotes import load_un_votes

# --- the sampler -------------------------------------------------------------------------------


def _gaussian(observed_mean: float, n: int = 20):
    """Data y_1..y_n ~ N(mu, 1); summary: the mean; distance |mean - observed mean|."""

    def simulate(theta, seeds):
        out = np.empty(len(seeds))
        for i, (th, s) in enumerate(zip(theta, seeds, strict=True)):
            out[i] = abs(np.random.default_rng(s).normal(th[0], 1.0, n).mean() - observed_mean)
        return out

    return simulate


@pytest.mark.parametrize("method", ["replenishment", "pmc"])
def test_abc_recovers_the_conjugate_posterior_and_leaves_an_idle_parameter_at_its_prior(method):
    # flat prior on mu over [-5, 5] (wide): the posterior is N(ybar, 1/sqrt(n)); z is not used
    # by the model, so its posterior must stay uniform on [0, 1]
    ybar, n = 1.1, 20
    box = Box(("mu", "z"), np.array([-5.0, 0.0]), np.array([5.0, 1.0]))
    settings = Settings(particles=800, generations=9, seed=3, method=method)
    gens = run_abc(_gaussian(ybar, n), box, settings)
    post = gens[-1]
    assert abs(post.mean()[0] - ybar) < 0.05
    assert post.sd()[0] == pytest.approx(1 / np.sqrt(n), rel=0.15)
    assert post.sd()[1] == pytest.approx(1 / np.sqrt(12), rel=0.1)
    assert abs(post.mean()[1] - 0.5) < 0.05
    # tolerances shrink, and every particle is within its generation's tolerance
    eps = [g.epsilon for g in gens]
    assert eps[0] == np.inf and all(a > b for a, b in itertools.pairwise(eps))
    for g in gens[1:]:
        assert np.all(g.distances <= g.epsilon)
        assert g.weights.sum() == pytest.approx(1.0)
        assert 1 <= g.ess <= len(g.weights)
        assert np.all((g.particles >= box.low) & (g.particles <= box.high))


@pytest.mark.parametrize("method", ["replenishment", "pmc"])
def test_abc_is_reproducible_and_resumes_exactly(method):
    box = Box(("mu",), np.array([-5.0]), np.array([5.0]))
    settings = Settings(particles=200, generations=4, seed=11, method=method)
    whole = run_abc(_gaussian(0.3), box, settings)
    again = run_abc(_gaussian(0.3), box, settings)
    short = Settings(particles=200, generations=2, seed=11, method=method)
    half = run_abc(_gaussian(0.3), box, short)
    resumed = run_abc(_gaussian(0.3), box, settings, done=half)
    for a, b, c in zip(whole, again, resumed, strict=True):
        np.testing.assert_array_equal(a.particles, b.particles)
        np.testing.assert_array_equal(a.particles, c.particles)
        np.testing.assert_array_equal(a.weights, c.weights)
        assert a.simulated == c.simulated
    other = run_abc(_gaussian(0.3), box, Settings(particles=200, generations=4, seed=12))
    assert other[-1].particles.shape == whole[-1].particles.shape
    assert not np.array_equal(other[-1].particles, whole[-1].particles)


def test_replenishment_keeps_equal_weights_and_its_particles_within_tolerance_in_30_dimensions():
    # thirty parameters, two of them informed: importance weights would collapse here
    d = 30

    def simulate(theta, seeds):
        return np.abs(theta[:, 0] - 0.3) + np.abs(theta[:, 1] - 0.7)

    box = Box(tuple(f"p{i}" for i in range(d)), np.zeros(d), np.ones(d))
    gens = run_abc(simulate, box, Settings(particles=400, generations=8, seed=2))
    post = gens[-1]
    assert post.ess == pytest.approx(400)
    assert np.all(post.distances <= post.epsilon) and post.epsilon < 0.1
    assert abs(post.mean()[0] - 0.3) < 0.03 and abs(post.mean()[1] - 0.7) < 0.03
    # the idle parameters keep most of their prior spread (1/sqrt(12))
    assert np.median(post.sd()[2:]) > 0.2


def test_abc_stops_when_acceptance_falls_below_its_floor():
    # a distance that no tolerance below the prior's median can fix: acceptance collapses
    def simulate(theta, seeds):
        return np.random.default_rng(int(seeds[0])).random(len(seeds))

    box = Box(("a",), np.array([0.0]), np.array([1.0]))
    for method in ("replenishment", "pmc"):
        settings = Settings(
            particles=100, generations=30, quantile=0.1, min_acceptance=0.05, seed=1, method=method
        )
        gens = run_abc(simulate, box, settings)
        assert len(gens) < 30
        assert gens[-1].acceptance < 0.05 or len(gens[-1].weights) < 100


def test_weighted_quantile():
    values = np.array([3.0, 1.0, 2.0, 4.0])
    assert weighted_quantile(values, np.full(4, 0.25), 0.5) == 2.0
    assert weighted_quantile(values, np.array([0.0, 0.0, 0.0, 1.0]), 0.5) == 4.0


# --- the record and its observation equation ---------------------------------------------------


def test_record_shares_match_a_direct_count():
    un = load_un_votes()
    record = agreement_record(un)
    votes, calls = un.votes, un.roll_calls
    y2015 = calls.loc[calls["date"].dt.year == 2015, "rcid"]
    v = votes[votes["rcid"].isin(y2015)].pivot(index="rcid", columns="country", values="vote")
    both = (v["kazakhstan"] != "absent") & (v["russia"] != "absent")
    expected = (v.loc[both, "kazakhstan"] == v.loc[both, "russia"]).mean()
    i, j, k = record.years.index(2015), record.states.index("kazakhstan"), 0
    assert record.powers[k] == "russia"
    assert record.share[i, j, k] == pytest.approx(expected)
    assert record.votes[i, j, k] == both.sum()
    eu = record.powers.index("eu")
    per = []
    for c in ("france", "germany"):
        b = (v["kazakhstan"] != "absent") & (v[c] != "absent")
        per.append((v.loc[b, "kazakhstan"] == v.loc[b, c]).mean())
    assert record.share[i, j, eu] == pytest.approx(np.mean(per))


def test_record_holds_only_years_with_enough_votes_and_nothing_after_2021():
    record = bundled_record()
    assert 2020 not in record.years  # one roll call in January 2020
    assert max(record.years) <= 2021
    assert np.all((record.share >= 0) & (record.share <= 1))
    assert np.all(record.se >= 0.01) and np.all(np.isfinite(record.se))
    assert record.between(2012, 2017).years == (2012, 2013, 2014, 2015, 2016, 2017)
    with pytest.raises(ValueError, match="no year"):
        record.between(2030, 2031)


def _record(share, se=0.01):
    y, s, p = share.shape
    return AgreementRecord(
        tuple(range(2000, 2000 + y)),
        tuple(f"s{i}" for i in range(s)),
        tuple(f"p{i}" for i in range(p)),
        share,
        np.full(share.shape, 50.0),
        np.full(share.shape, se),
    )


def test_score_reads_the_pattern_across_states_not_the_level():
    rng = np.random.default_rng(0)
    alignment = rng.random((3, 4, 2))
    record = _record(0.2 + 0.5 * alignment)  # the record is an affine reading of the alignment
    sims = np.stack([alignment, alignment + 0.3, 1 - alignment, np.zeros_like(alignment)])
    b = fit_slope(sims, record)
    assert b[0] == pytest.approx(0.5) and b[1] == pytest.approx(0.5)
    assert b[2] == 0.0  # the inverted pattern gets no positive slope
    d = score(sims, record)
    assert d[0] == pytest.approx(0.0, abs=1e-9) and d[1] == pytest.approx(0.0, abs=1e-9)
    spread = np.sqrt(np.mean((centred(record.share) / 0.01) ** 2))
    assert d[2] == pytest.approx(spread) and d[3] == pytest.approx(spread)
    nan = np.full_like(alignment, np.nan)
    assert score(nan[None], record)[0] == np.inf
    # a forecast is scored with the slope fitted in sample
    assert score(sims[:1], record, slope=np.array([0.25]))[0] > 1.0


# --- the scenario's simulator: recovery of known parameters on synthetic data -------------------


def _mini_2012(tmp_path, end):
    """mini.yaml moved to 2012 (inside the record's years) and run to ``end``, without noise."""
    raw = yaml_load(DATA / "mini.yaml")
    raw["meta"].update(start="2012-01", end=end)
    for event in raw["events"]:
        event["date"] = str(event["date"]).replace("2022-", "2012-")
    raw.setdefault("model", {})["noise"] = 0.0
    return write_yaml(tmp_path / f"mini_{end}.yaml", raw)


def _mini_plan(tmp_path, particles=200, generations=6, seed=7):
    """mini.yaml moved to 2012 (inside the record's years), without noise, and a spec of two
    model rates over it, loaded as ``greatgame calibrate`` loads a spec file."""
    path = _mini_2012(tmp_path, "2012-12")
    spec = {
        "scenario": str(path),
        "years": [2012, 2012],
        "parameters": {"model.adjustment_speed": [0.05, 0.3], "model.peer_effect": [0.0, 0.3]},
        "particles": particles,
        "generations": generations,
        "seed": seed,
        "batch": 2000,
    }
    return load_calibration(write_yaml(tmp_path / "spec.yaml", spec))


def yaml_load(path):
    import yaml

    return yaml.safe_load(path.read_text())


def _synthetic(plan, truth):
    sc = plan.loaded.scenario
    shape = (1, len(sc.state_ids), len(sc.power_ids))
    dummy = AgreementRecord(
        (2012,),
        tuple(sc.state_ids),
        tuple(sc.power_ids),
        np.zeros(shape),
        np.full(shape, 80.0),
        np.full(shape, 0.01),
    )
    a = ScenarioScorer(plan, dummy).alignment(np.array([truth]), np.array([123]))[0]
    return AgreementRecord(
        dummy.years, dummy.states, dummy.powers, 0.4 + 0.8 * a, dummy.votes, np.full(shape, 0.002)
    )


def test_calibration_recovers_known_parameters_from_synthetic_data(tmp_path):
    plan = _mini_plan(tmp_path)
    truth = [0.2, 0.05]
    record = _synthetic(plan, truth)
    out = calibrate(plan, tmp_path / "cal", scorer=ScenarioScorer(plan, record))
    summary = pd.read_csv(out / "summary.csv").set_index("parameter")
    for name, value in zip(plan.box.names, truth, strict=True):
        row = summary.loc[name]
        assert row.p5 <= value <= row.p95, (name, row.to_dict())
        assert row.sd_over_prior_sd < 0.6, (name, row.to_dict())


# --- the folder, resume and posterior draws ----------------------------------------------------


class _Stop(KeyboardInterrupt):
    pass


def _toy_plan(tmp_path, generations=4):
    plan = _mini_plan(tmp_path, particles=60, generations=generations, seed=3)
    return plan


def _toy_scorer(calls=None, stop_at=None):
    def score_it(theta, seeds):
        if calls is not None:
            calls.append(len(seeds))
            if stop_at is not None and len(calls) == stop_at:
                raise _Stop()
        rng = np.random.default_rng(int(seeds[0]) % 2**32)
        return np.abs(theta[:, 0] - 0.2) + np.abs(theta[:, 1] - 0.1) + 0.01 * rng.random(len(seeds))

    return score_it


def test_calibration_folder_resumes_to_the_numbers_of_an_uninterrupted_run(tmp_path):
    plan = _toy_plan(tmp_path)
    whole = calibrate(plan, tmp_path / "whole", scorer=_toy_scorer())
    with pytest.raises(KeyboardInterrupt) as info:
        calibrate(plan, tmp_path / "cut", scorer=_toy_scorer([], stop_at=3))
    assert "--resume" in str(info.value)
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert manifest["status"] == "running" and len(manifest["generations"]) >= 1
    assert not (tmp_path / "cut" / "posterior.csv").exists()
    # the resumed run reads the spec copy in the folder, so it must name the same scenario
    with pytest.raises(OutputError, match="not a complete calibration"):
        posterior_draws(tmp_path / "cut", 5, seed=1)
    done = read_generations(tmp_path / "cut", plan.box)
    assert [g.index for g in done] == list(range(len(done)))
    resumed = calibrate(None, tmp_path / "cut", resume=True, scorer=_toy_scorer())
    a = pd.read_csv(whole / "posterior.csv")
    b = pd.read_csv(resumed / "posterior.csv")
    pd.testing.assert_frame_equal(a, b)
    m = json.loads((resumed / "manifest.json").read_text())
    assert m["status"] == "complete" and m["seed"] == 3 and "seed_scheme" in m
    assert (resumed / "prior_posterior.png").stat().st_size > 1000
    draws = posterior_draws(resumed, 500, seed=1)
    assert list(draws.columns) == list(plan.box.names)
    assert draws.equals(posterior_draws(resumed, 500, seed=1))
    assert abs(draws["model.adjustment_speed"].mean() - 0.2) < 0.05
    with pytest.raises(OutputError, match="not a calibration folder"):
        posterior_draws(tmp_path / "never", 5, seed=1)


def test_calibration_refuses_a_folder_it_did_not_write_and_a_resume_without_one(tmp_path):
    plan = _toy_plan(tmp_path, generations=1)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError):
        calibrate(plan, mine, force=True, scorer=_toy_scorer())
    assert (mine / "notes.txt").read_text() == "keep me"
    with pytest.raises(OutputError, match="nothing to resume"):
        calibrate(None, tmp_path / "empty", resume=True, scorer=_toy_scorer())


# --- specs -------------------------------------------------------------------------------------


def _spec(tmp_path, **fields):
    data = {
        "scenario": str(ROOT / "scenarios" / "history_2012.yaml"),
        "years": [2012, 2017],
        "parameters": {"model.adjustment_speed": None},
        **fields,
    }
    return write_yaml(tmp_path / "cal.yaml", data)


@pytest.mark.parametrize(
    ("fields", "where", "what"),
    [
        ({"particle": 10}, "particle", "unknown key"),
        ({"years": [2012, 2030]}, "years", "within the record"),
        ({"years": [2017, 2012]}, "years", "first <= last"),
        ({"parameters": {"model.adjustment_sped": None}}, "parameters", "unknown"),
        ({"parameters": {"model.adjustment_speed": [0.5, 0.1]}}, "parameters", "low < high"),
        ({"quantile": 1.5}, "quantile", "1"),
    ],
)
def test_a_bad_spec_names_file_line_field_and_what_was_expected(tmp_path, fields, where, what):
    path = _spec(tmp_path, **fields)
    with pytest.raises(ScenarioError) as info:
        load_calibration(path)
    text = str(info.value)
    assert str(path) in text and where in text and what in text, text
    assert any(p.line for p in info.value.problems)


def test_years_beyond_the_scenario_are_refused(tmp_path):
    path = write_yaml(
        tmp_path / "cal.yaml",
        {"scenario": "baseline_2022", "years": [2015, 2016], "parameters": {"model.noise": None}},
    )
    with pytest.raises(ScenarioError, match="scenario's months"):
        load_calibration(path)


def test_the_bundled_spec_loads_and_its_priors_are_the_scenarios_ranges():
    plan = load_calibration(ROOT / "calibrations" / "history_2012.yaml")
    numbers = {n.path: n for n in _numbers(plan.loaded)}
    for name, lo, hi in zip(plan.box.names, plan.box.low, plan.box.high, strict=True):
        assert numbers[name].range == (lo, hi), name


def _numbers(loaded):
    from sim.input.params import collect_numbers

    return collect_numbers(loaded.raw)


@pytest.mark.slow
def test_the_command_line_calibrates_the_history_scenario_end_to_end(tmp_path):
    spec = yaml_load(ROOT / "calibrations" / "history_2012.yaml")
    spec.update(scenario=str(ROOT / "scenarios" / "history_2012.yaml"), particles=20)
    spec.update(generations=2, batch=200)
    path = write_yaml(tmp_path / "small.yaml", spec)
    out = tmp_path / "cal"
    cmd = [sys.executable, "-m", "sim.cli", "calibrate", str(path), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "generation 1:" in done.stderr and "stopped:" in done.stdout
    post = pd.read_csv(out / "posterior.csv")
    assert len(post) == 20 and post["weight"].sum() == pytest.approx(1.0)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "--force" in again.stderr


def test_runs_drawn_from_a_posterior_carry_their_numbers_and_record_them(tmp_path):
    from sim.results.folder import read_run_folder  # noqa: F401  (the folder stays readable)
    from sim.results.runner import run, write_run_folder

    plan = _toy_plan(tmp_path, generations=3)
    cal = calibrate(plan, tmp_path / "cal", scorer=_toy_scorer())
    scenario = plan.loaded.path
    cmd = [sys.executable, "-m", "sim.cli", "run", str(scenario), "-r", "6", "--seed", "4"]
    cmd += ["--posterior", str(cal), "--out", str(tmp_path / "runs"), "-q"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    drawn = pd.read_csv(tmp_path / "runs" / "parameters.csv")
    expected = posterior_draws(cal, 6, seed=4)
    np.testing.assert_array_equal(drawn[list(plan.box.names)].to_numpy(), expected.to_numpy())
    manifest = json.loads((tmp_path / "runs" / "manifest.json").read_text())
    assert manifest["parameters_from"]["posterior"]["calibration"] == str(cal.resolve())
    assert "parameters.csv" in manifest["files"]
    # each replicate runs its own numbers: the same seeds without them give other runs
    with_draws = run(plan.loaded, seed=4, replicates=6, values=expected)
    plain = run(plan.loaded, seed=4, replicates=6)
    a, b = with_draws.batch.values["alignment"], plain.batch.values["alignment"]
    assert not np.allclose(a[:, -1], b[:, -1])
    write_run_folder(with_draws, tmp_path / "again")
    assert (tmp_path / "again" / "parameters.csv").is_file()


def test_posterior_numbers_must_exist_in_the_scenario_run(tmp_path):
    from sim.results.runner import run

    plan = _toy_plan(tmp_path, generations=1)
    bad = pd.DataFrame({"model.adjustment_sped": [0.1, 0.2]})
    with pytest.raises(ScenarioError, match="adjustment_sped"):
        run(plan.loaded, seed=1, replicates=2, values=bad)


# --- the backtest ------------------------------------------------------------------------------


def test_crps_of_normal_and_ensemble_forecasts():
    from sim.calibration.backtest import crps_ensemble, crps_normal

    assert crps_normal(np.array(0.0), np.array(0.0), np.array(1.0)) == pytest.approx(
        2 / np.sqrt(2 * np.pi) - 1 / np.sqrt(np.pi)
    )
    assert crps_ensemble(np.array([0.3]), np.array([[1.0]]))[0] == pytest.approx(0.7)
    members = np.random.default_rng(1).normal(0.5, 2.0, size=(20000, 3))
    y = np.array([0.0, 0.5, 3.0])
    np.testing.assert_allclose(
        crps_ensemble(y, members), crps_normal(y, np.full(3, 0.5), np.full(3, 2.0)), rtol=0.02
    )


def test_backtest_on_synthetic_data_beats_the_baselines_and_writes_its_folder(tmp_path):
    from sim.calibration.backtest import METHODS, backtest

    path = _mini_2012(tmp_path, "2014-12")
    spec = {
        "scenario": str(path),
        "years": [2012, 2013],
        "parameters": {"model.adjustment_speed": [0.05, 0.3], "model.peer_effect": [0.0, 0.3]},
        "particles": 100,
        "generations": 4,
        "seed": 2,
        "batch": 1000,
    }
    plan = load_calibration(write_yaml(tmp_path / "spec.yaml", spec))
    sc = plan.loaded.scenario
    shape = (3, len(sc.state_ids), len(sc.power_ids))
    dummy = AgreementRecord(
        (2012, 2013, 2014),
        tuple(sc.state_ids),
        tuple(sc.power_ids),
        np.zeros(shape),
        np.full(shape, 80.0),
        np.full(shape, 0.01),
    )
    a = ScenarioScorer(plan, dummy, (2012, 2014)).alignment(np.array([[0.2, 0.05]]), np.array([9]))[
        0
    ]
    record = AgreementRecord(
        dummy.years, dummy.states, dummy.powers, 0.4 + 0.8 * a, dummy.votes, dummy.se
    )
    out = tmp_path / "bt"
    result = backtest(plan, out, draws=50, record=record)
    assert list(result.scores["method"]) == list(METHODS)
    assert result.forecast_years == (2014,)
    crps = result.scores.set_index("method")["crps"]
    assert crps["model"] < crps["no differences"]
    assert crps["model"] < crps["climatology"]
    assert len(result.forecasts) == len(sc.state_ids) * len(sc.power_ids)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tool"] == "greatgame backtest" and manifest["forecast_years"] == [2014]
    assert (out / "calibration" / "posterior.csv").is_file()
    assert pd.read_csv(out / "scores.csv").shape[0] == len(METHODS)
    assert (out / "backtest.png").stat().st_size > 1000
    # the folder of a backtest is reused: its complete calibration is not run again
    stamp = (out / "calibration" / "posterior.csv").stat().st_mtime_ns
    again = backtest(plan, out, draws=50, record=record)
    assert (out / "calibration" / "posterior.csv").stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(again.scores, result.scores)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("x")
    with pytest.raises(OutputError, match="did not write"):
        backtest(plan, mine, draws=5, record=record)
    # a changed spec does not reuse the calibration of the old one
    spec["particles"] = 60
    other = load_calibration(write_yaml(tmp_path / "spec.yaml", spec))
    with pytest.raises(OutputError, match="another spec"):
        backtest(other, out, draws=5, record=record)


def test_brier_score():
    from sim.calibration.backtest import brier

    y = np.array([0, 2])
    assert brier(np.eye(4)[y], y) == 0.0
    assert brier(np.full((2, 4), 0.25), y) == pytest.approx(0.75)


def test_single_votes_are_scored_out_of_sample_against_the_baselines_and_a_control():
    from sim.calibration.backtest import VOTE_METHODS, vote_scores

    record = bundled_record().between(2012, 2019)
    # one "run" whose yearly alignment is the record's agreement itself
    table = vote_scores(record.share[None], record.years, record, (2012, 2017))
    assert list(table["method"]) == list(VOTE_METHODS)
    assert (table["n"] == table["n"].iloc[0]).all() and table["n"].iloc[0] > 500
    scores = table.set_index("method")
    # the vote model reads the resolutions: it beats every vote-share baseline
    for method in ("model", "vote model on observed agreement"):
        for baseline in ("majority", "state majority", "persistence"):
            assert scores.loc[method, "log_loss"] < scores.loc[baseline, "log_loss"]
            assert scores.loc[method, "brier"] < scores.loc[baseline, "brier"]
    assert ((table["brier"] >= 0) & (table["brier"] <= 2)).all()


# --- remittances -------------------------------------------------------------------------------


def test_the_bundled_remittances_are_checked_and_hold_nothing_after_2021():
    from sim.input.wdi import load_remittances

    table = load_remittances()
    assert set(table["state"]) == {"kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan"}
    assert table["year"].max() <= 2021 and table["year"].min() >= 2005
    tj = table.set_index(["state", "year"])["remittances_gdp"]
    assert 40 < tj["tajikistan", 2013] < 45 and tj["kazakhstan", 2013] < 1
    assert (ROOT / "seeds" / "data" / "SOURCES.md").read_text().count("remittances.csv") >= 1


@pytest.mark.parametrize(
    ("row", "column", "what"),
    [
        ("turkmenistn,2010,1.0", "state", "did you mean 'turkmenistan'"),
        ("tajikistan,2022,30", "year", "must stay out of the project"),
        ("tajikistan,2010,130", "remittances_gdp", "0 to 100"),
        ("tajikistan,2010,lots", "remittances_gdp", "expected a number"),
        ("kazakhstan,2005,0.2", "year", "duplicated state and year"),
    ],
)
def test_a_bad_remittance_cell_is_named_by_file_line_and_column(tmp_path, row, column, what):
    from sim.input.wdi import load_remittances

    text = (ROOT / "seeds" / "data" / "remittances.csv").read_text().splitlines()
    (tmp_path / "remittances.csv").write_text("\n".join([*text, row]) + "\n")
    with pytest.raises(ScenarioError) as info:
        load_remittances(tmp_path)
    problem = info.value.problems[0]
    assert problem.line == len(text) + 1 and problem.loc == (column,)
    assert what in problem.message and "remittances.csv" in str(info.value)


def test_the_remittance_score_reads_the_pattern_not_the_unit():
    from sim.calibration.record import (
        RemittanceRecord,
        bundled_remittances,
        fit_scale,
        score_remittances,
    )

    record = bundled_remittances().between(2012, 2017)
    assert isinstance(record, RemittanceRecord) and record.value.shape == (6, 4)
    truth = record.value / 40.0  # a dependence in the model's unit
    sims = np.stack([truth, 2 * truth, truth[::-1], np.zeros_like(truth)])
    k = fit_scale(sims, record)
    assert k.shape == (4, 4)
    np.testing.assert_allclose(k[0], 40.0)
    np.testing.assert_allclose(k[1], 20.0)
    assert (k[3] == 0.0).all()
    d = score_remittances(sims, record)
    assert d[0] == pytest.approx(0.0, abs=1e-9) and d[1] == pytest.approx(0.0, abs=1e-9)
    assert 0 < d[2] < d[3]  # years reversed: a scale per state fits the level, not the path


def test_the_backtest_figure_shows_the_scores_and_each_states_remittance_path():
    from sim.viz.plotting import plot_backtest

    scores = pd.DataFrame({"method": ["model", "persistence"], "crps": [1.0, 2.0]})
    years = list(range(2012, 2020))
    paths = {
        "years": years,
        "states": ["kyrgyzstan", "tajikistan"],
        "observed": np.ones((8, 2)),
        "paths": np.random.default_rng(0).random((20, 8, 2)),
        "first_forecast": 2018,
    }
    fig = plot_backtest(scores, "t", scores, paths)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles[:2] == ["CRPS, UN agreement (points)", "CRPS, remittances (% of GDP)"]
    assert "Tajikistan: remittances, % of GDP" in titles
    bars = fig.axes[0].patches
    assert [round(b.get_width(), 6) for b in bars] == [1.0, 2.0]


def test_a_posterior_applies_to_another_scenario_only_through_its_model_parameters(tmp_path):
    from sim.calibration.run import posterior_for
    from sim.results.runner import run

    path = _mini_2012(tmp_path, "2012-12")
    spec = {
        "scenario": str(path),
        "years": [2012, 2012],
        "parameters": {
            "model.adjustment_speed": [0.05, 0.3],
            "powers.north.credibility": [0.3, 0.9],
        },
        "particles": 40,
        "generations": 2,
        "seed": 4,
    }
    plan = load_calibration(write_yaml(tmp_path / "spec.yaml", spec))
    cal = calibrate(plan, tmp_path / "cal", scorer=_toy_scorer())
    same, info = posterior_for(cal, plan.loaded.scenario.meta.name, 5, seed=1)
    assert list(same.columns) == list(plan.box.names) and info["left_out"] == []
    other, info = posterior_for(cal, "baseline_2022", 5, seed=1)
    assert list(other.columns) == ["model.adjustment_speed"]
    assert info["left_out"] == ["powers.north.credibility"]
    assert info["calibrated_scenario"] == plan.loaded.scenario.meta.name
    # a number of an event the scenario lacks is a clear error, not a crash
    with pytest.raises(ScenarioError, match="no event 'rouble_crisis'"):
        run(
            plan.loaded,
            seed=1,
            replicates=1,
            values=pd.DataFrame({"events.rouble_crisis.magnitude": [0.1]}),
        )
