"""Sweeps: rows, seeds, chunking, storage, resume, trajectories, EMA format, command line."""

import json
import os

import numpy as np
import pandas as pd
import pytest
from conftest import write_yaml

from sim.cli import main
from sim.input.params import with_values
from sim.input.scenario import load_scenario
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel
from sim.results.runner import OutputError, replicate_seeds
from sim.results.tables import long_table
from sim.sweep.run import read_sweep_results, run_seed, run_sweep, to_ema
from sim.sweep.spec import strip_provenance
from sim.sweep.store import chunk_path, done_chunks

PARAMS = {
    "powers.north.strategy.threat_intensity": [0.0, 0.9],
    "powers.east.credibility": [0.3, 0.9],
}


def spec_file(tmp_path, mini_path, **changes):
    data = {
        "scenario": str(mini_path),
        "design": "sobol",
        "samples": 2,
        "replicates": 2,
        "seed": 17,
        "parameters": PARAMS,
        "chunk_size": 3,
        **changes,
    }
    return write_yaml(tmp_path / "spec.yaml", data)


def sweep(spec, out, **kw):
    return run_sweep(spec, out, executor="serial", progress=False, **kw)


def test_run_seeds_are_the_spawned_children_of_the_root():
    seeds = replicate_seeds(17, 40)
    assert [run_seed(17, k) for k in range(40)] == seeds
    assert run_seed(18, 3) != seeds[3]


def test_rows_record_ids_seeds_and_parameters_and_reproduce_the_model(tmp_path, mini_path):
    folder = sweep(spec_file(tmp_path, mini_path), tmp_path / "out")
    table = read_sweep_results(folder)
    n = 2 * (2 + 2) * 2  # N (k + 2) points, 2 replicates
    assert list(table["run"]) == list(range(n))
    assert list(table["point"]) == [k // 2 for k in range(n)]
    assert list(table["replicate"]) == [k % 2 for k in range(n)]
    assert list(table["seed"]) == replicate_seeds(17, n)
    assert list(table.columns[4:6]) == list(PARAMS)
    design = pd.read_parquet(folder / "design.parquet")
    assert np.array_equal(table[list(PARAMS)].to_numpy(), design.loc[table["point"], list(PARAMS)])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_runs"] == n
    assert "alignment_end.alpha.north" in manifest["outputs"]
    # any row can be rerun from its seed and parameter values
    row = table.iloc[5]
    loaded = load_scenario(mini_path)
    bare = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, list(PARAMS))})
    scenario = with_values(bare, {p: row[p] for p in PARAMS})
    traj = GreatGameModel(scenario, rng=int(row["seed"])).run()
    assert row["alignment_end.beta.east"] == traj.values["alignment"][0, -1, 1, 1]
    # parameters matter: the points differ
    assert table.groupby("point")["alignment_end.alpha.north"].mean().nunique() > 1


def test_chunk_boundaries_do_not_change_the_dataset(tmp_path, mini_path):
    a = sweep(spec_file(tmp_path, mini_path, chunk_size=3), tmp_path / "a")
    b = sweep(spec_file(tmp_path, mini_path, chunk_size=16), tmp_path / "b")
    assert len(done_chunks(a)) == 6 and len(done_chunks(b)) == 1
    pd.testing.assert_frame_equal(read_sweep_results(a), read_sweep_results(b), check_exact=True)


def test_non_empty_folder_is_refused_unless_forced(tmp_path, mini_path):
    spec = spec_file(tmp_path, mini_path, design="lhs", samples=3, replicates=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"not empty .*--force.*--resume"):
        sweep(spec, out)
    assert (out / "keep.txt").read_text() == "mine"
    with pytest.raises(OutputError, match="files that greatgame did not write"):
        sweep(spec, out, force=True)  # --force replaces only what greatgame wrote
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    sweep(spec, out)
    (out / "chunks" / "runs-000000.parquet").unlink()  # a damaged sweep of ours: replaced
    sweep(spec, out, force=True)
    assert len(read_sweep_results(out)) == 3


def test_resume_runs_only_the_missing_chunks(tmp_path, mini_path):
    full = sweep(spec_file(tmp_path, mini_path), tmp_path / "full")
    expected = read_sweep_results(full)
    # make it look like a sweep killed part-way: two chunks missing, a temporary file left
    for i in (1, 4):
        chunk_path(full, i).unlink()
    (full / "results.parquet").unlink()
    (full / "chunks" / ".tmp-99-runs-000001.parquet").write_bytes(b"half")
    kept = {i: chunk_path(full, i).stat().st_mtime_ns for i in (0, 2, 3, 5)}
    sweep(None, full, resume=True)
    assert {i: chunk_path(full, i).stat().st_mtime_ns for i in kept} == kept
    assert sorted(os.listdir(full / "chunks")) == [f"runs-{i:06d}.parquet" for i in range(6)]
    pd.testing.assert_frame_equal(read_sweep_results(full), expected, check_exact=True)


def test_resume_refuses_a_changed_scenario_and_a_non_sweep_folder(tmp_path, mini_path):
    scenario = tmp_path / "mini.yaml"
    scenario.write_text(mini_path.read_text())
    out = sweep(spec_file(tmp_path, scenario), tmp_path / "out")
    scenario.write_text(mini_path.read_text().replace("monthly_budget: 20", "monthly_budget: 21"))
    with pytest.raises(OutputError, match="changed since the sweep started"):
        sweep(None, out, resume=True)
    with pytest.raises(OutputError, match="greatgame did not write it; expected a sweep folder"):
        sweep(None, tmp_path, resume=True)


def test_resume_refuses_chunks_of_another_noise_scheme(tmp_path, mini_path):
    out = sweep(spec_file(tmp_path, mini_path), tmp_path / "out")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["noise"]["generator"] == "philox4x32-10"
    del manifest["noise"]  # as written before the noise scheme was recorded: version 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(OutputError, match=r"noise scheme version 1.*start a new sweep"):
        sweep(None, out, resume=True)


def test_trajectories_are_kept_in_chunks_when_asked(tmp_path, mini_path):
    spec = spec_file(tmp_path, mini_path, keep="trajectories", design="lhs", samples=3)
    folder = sweep(spec, tmp_path / "out")
    traj = pd.read_parquet(folder / "trajectories")
    table = read_sweep_results(folder)
    assert sorted(traj["run"].unique()) == list(range(6))
    end = traj[(traj["variable"] == "alignment") & (traj["step"] == 12)]
    got = end.set_index(["run", "state", "power"])["value"]
    for run in range(6):
        assert got[(run, "gamma", "north")] == table.loc[run, "alignment_end.gamma.north"]
    # one long-table format: a run's rows are those a results folder holds for its seed and values
    names = list(PARAMS)
    row = table.loc[4]
    point = with_values(load_scenario(mini_path), {n: float(row[n]) for n in names})
    alone = long_table(simulate([point], [int(row["seed"])], engine="ensemble"), runs=[4])
    mine = traj[traj["run"] == 4].reset_index(drop=True)
    assert list(mine.columns) == list(alone.columns)
    pd.testing.assert_frame_equal(mine, alone, check_categorical=False, check_dtype=False)


def test_to_ema_gives_experiments_and_outcomes(tmp_path, mini_path):
    folder = sweep(spec_file(tmp_path, mini_path), tmp_path / "out")
    table = read_sweep_results(folder)
    experiments, outcomes = to_ema(folder)
    assert list(experiments.columns) == [*PARAMS, "scenario", "policy", "model"]
    assert len(experiments) == len(table) == 16
    assert np.array_equal(experiments["scenario"], table["point"])
    assert set(experiments["model"]) == {"mini"}
    assert all(v.shape == (16,) for v in outcomes.values())
    assert np.array_equal(outcomes["hedging_end.beta"], table["hedging_end.beta"])
    metrics = [c for c in table.columns if c not in ("run", "point", "replicate", "seed", *PARAMS)]
    assert list(outcomes) == metrics
    per_point, means = to_ema(folder, per="point")
    assert len(per_point) == 8
    assert np.allclose(means["hedging_end.beta"][3], table["hedging_end.beta"][6:8].mean())


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_to_ema_feeds_prim_and_feature_scoring(tmp_path, mini_path):
    pytest.importorskip("ema_workbench")
    from ema_workbench.analysis import feature_scoring, prim

    spec = spec_file(tmp_path, mini_path, design="lhs", samples=40, replicates=1, chunk_size=40)
    experiments, outcomes = to_ema(sweep(spec, tmp_path / "out"))
    y = outcomes["alignment_end.alpha.north"]
    box = prim.Prim(experiments, y > np.median(y)).find_box()
    assert set(box.box_lims[-1].columns) <= set(PARAMS)
    scores = feature_scoring.get_feature_scores_all(experiments, outcomes)
    assert set(scores.index) == set(PARAMS)


def test_command_line_sweep_and_analyze(tmp_path, mini_path, capsys):
    spec = spec_file(tmp_path, mini_path, samples=4)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "-j", "1", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert len(read_sweep_results(out)) == 4 * 4 * 2
    assert main(["sweep", str(spec), "--out", str(out), "-j", "1"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    assert all(p in printed for p in PARAMS)
    assert (out / "analysis" / "sensitivity.csv").is_file()
    assert (out / "analysis" / "sensitivity.png").stat().st_size > 1000
    assert main(["analyze", str(out), "--metric", "influence_end.nort"]) == 2
    assert "did you mean 'influence_end.north'" in capsys.readouterr().err


def test_command_line_reports_bad_specs_with_exit_2(tmp_path, mini_path, capsys):
    spec = spec_file(tmp_path, mini_path, design="sobl")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:2: design:" in err and "did you mean 'sobol'" in err
    assert not (tmp_path / "o").exists()
    assert main(["sweep", "--resume", str(tmp_path)]) == 2
    assert "expected a sweep folder" in capsys.readouterr().err
    assert main(["sweep", str(spec_file(tmp_path, mini_path)), "--engine", "warp"]) == 2
    assert "unknown engine 'warp'" in capsys.readouterr().err
