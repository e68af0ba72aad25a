"""Results folders: contents, provenance, refusal to overwrite, atomic replacement."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.model.mesa_model import GreatGameModel
from sim.results import runner


def test_replicate_seeds_are_spawned_and_stable():
    seeds = runner.replicate_seeds(7, 4)
    assert seeds == runner.replicate_seeds(7, 4)
    assert len(set(seeds)) == 4
    assert seeds[:2] == runner.replicate_seeds(7, 2)
    with pytest.raises(ValueError, match="non-negative"):
        runner.replicate_seeds(-1, 1)


def test_run_table_is_tidy_and_matches_the_model(mini_path):
    res = runner.run(mini_path, seed=3, replicates=2)
    table = res.table()
    assert list(table.columns) == [
        "run",
        "seed",
        "step",
        "date",
        "state",
        "power",
        "variable",
        "value",
    ]
    assert set(table["variable"].astype(str)) == {
        "remittances",
        "alignment",
        "trust",
        "threat",
        "dependence",
        "credibility",
        "attention",
        "stance",
        "participation",
        "request",
        "offer",
        "sanctions",
        "response",
        "hedging",
        "primary_patron",
        "influence",
    }
    # a run can be reproduced from the seed stored on its rows
    seed = int(table.loc[table["run"] == 1, "seed"].iloc[0])
    again = GreatGameModel(res.loaded, rng=seed).run()
    rows = table[(table["run"] == 1) & (table["variable"] == "alignment")]
    wide = rows.pivot_table(index=["step", "state"], columns="power", values="value", observed=True)
    expected = again.values["alignment"][0, -1]
    got = wide.loc[12].loc[["alpha", "beta", "gamma"], ["north", "east"]].to_numpy()
    assert np.array_equal(got, expected)
    # one primary patron per state and month
    patrons = (
        table[table["variable"] == "primary_patron"]
        .groupby(["run", "step", "state"], observed=True)["value"]
        .sum()
    )
    assert (patrons == 1).all()


def test_write_run_folder(tmp_path, mini_path):
    res = runner.run(mini_path, seed=1, replicates=2)
    out = runner.write_run_folder(res, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == [
        "answers.csv",
        "events.csv",
        "manifest.json",
        "results.parquet",
        "scenario.yaml",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == res.seeds and manifest["root_seed"] == 1
    assert manifest["scenario"]["sha256"] == res.loaded.sha256
    assert manifest["versions"]["mesa"].startswith("3.")
    assert manifest["files"][-1] == "manifest.json"
    back = pd.read_parquet(out / "results.parquet")
    assert len(back) == len(res.table())
    events = pd.read_csv(out / "events.csv")
    assert len(events) == 2 * len(res.batch.events[0])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_refuses_non_empty_folder_unless_forced(tmp_path, mini_path):
    res = runner.run(mini_path, seed=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(runner.OutputError, match="not empty"):
        runner.write_run_folder(res, out)
    assert (out / "keep.txt").read_text() == "precious"
    with pytest.raises(runner.OutputError, match="files that greatgame did not write"):
        runner.write_run_folder(res, out, force=True)  # --force replaces only our own folders
    assert (out / "keep.txt").read_text() == "precious"
    (out / "keep.txt").unlink()
    runner.write_run_folder(res, out)
    runner.write_run_folder(res, out, force=True)
    assert json.loads((out / "manifest.json").read_text())["tool"] == "greatgame run"


def test_failure_while_writing_leaves_nothing_behind(tmp_path, mini_path):
    res = runner.run(mini_path, seed=1)

    def broken(_res, _folder):
        raise OSError(28, "No space left on device")

    with pytest.raises(runner.OutputError, match="No space left"):
        runner.write_run_folder(res, tmp_path / "out", extras=broken)
    assert list(tmp_path.iterdir()) == []


def test_cli_run_writes_all_files_and_refuses_rerun(tmp_path, mini_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(mini_path), "--seed", "5", "-r", "3", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "alignment.png",
        "answers.csv",
        "events.csv",
        "manifest.json",
        "results.parquet",
        "scenario.yaml",
    ]
    assert (out / "alignment.png").stat().st_size > 10_000
    wrote = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("wrote"))
    assert sorted(wrote.split("(")[1].rstrip(")").split(", ")) == sorted(
        p.name for p in out.iterdir()
    )  # the files it says it wrote are the folder's
    before = (out / "manifest.json").read_text()
    assert main(["run", str(mini_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not empty (use --force" in err and "Traceback" not in err
    assert (out / "manifest.json").read_text() == before


def test_cli_bad_scenario_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta: {name: x}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith(str(bad)) for line in err)
    assert not (tmp_path / "o").exists()


def test_the_cli_names_every_engine_and_both_write_the_same_folder(tmp_path, mini_path):
    from sim.cli import ENGINE_NAMES, main
    from sim.model.engines import ENGINES

    assert set(ENGINE_NAMES) == set(ENGINES)
    folders = {}
    for engine in ENGINE_NAMES:
        out = tmp_path / engine
        args = ["run", str(mini_path), "-r", "3", "--seed", "5", "--engine", engine]
        assert main([*args, "--out", str(out), "-q"]) == 0
        assert json.loads((out / "manifest.json").read_text())["engine"] == engine
        folders[engine] = out
    tables = [pd.read_parquet(f / "results.parquet") for f in folders.values()]
    pd.testing.assert_frame_equal(*tables)
    events = [(f / "events.csv").read_text() for f in folders.values()]
    assert events[0] == events[1] and len(events[0].splitlines()) > 1
