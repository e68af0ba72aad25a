"""Sensitivity indices recover known answers from a sweep folder; ranking and plot."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.results.runner import OutputError
from sim.sweep.analysis import ranking, sensitivity
from sim.sweep.designs import build_design, design_seed
from sim.sweep.store import write_json, write_table
from sim.viz.render import write_analysis

PARAMS = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}


def fake_sweep(folder, design, samples, replicates=2, second=False):
    """A sweep folder whose output is y = 4a + 2b (c does nothing), plus replicate noise.

    With ``second``, also z = 3c + a / 2: an output that ranks the parameters otherwise.
    """
    folder.mkdir()
    x = build_design(design, PARAMS, samples, seed=1)
    n = len(x)
    write_table(
        pa.table({"point": np.arange(n), **dict(zip(PARAMS, x.T, strict=True))}),
        folder / "design.parquet",
    )
    point = np.repeat(np.arange(n), replicates)
    y = 4 * x[point, 0] + 2 * x[point, 1]
    noise = np.random.default_rng(0).normal(0, 5, n)  # cancels in the mean of each point
    y = y + np.where(np.arange(n * replicates) % 2 == 0, noise[point], -noise[point])
    table = pd.DataFrame(
        {
            "run": np.arange(n * replicates),
            "point": point,
            "replicate": np.arange(n * replicates) % replicates,
        }
    )
    table["seed"] = 0
    for j, p in enumerate(PARAMS):
        table[p] = x[point, j]
    table["y"] = y
    table["flat"] = 1.0
    if second:
        table["z"] = 3 * table["c"] + table["a"] / 2
    write_table(pa.Table.from_pandas(table, preserve_index=False), folder / "results.parquet")
    write_json(
        {
            "tool": "greatgame sweep",
            "design": design,
            "second_order": False,
            "levels": 4,
            "design_seed": design_seed(1),
            "parameters": [{"path": p, "low": lo, "high": hi} for p, (lo, hi) in PARAMS.items()],
            "outputs": ["y", "flat", *(["z"] if second else [])],
        },
        folder / "manifest.json",
    )
    return folder


def test_sobol_indices_of_a_linear_model(tmp_path):
    folder = fake_sweep(tmp_path / "s", "sobol", 1024)
    idx = sensitivity(folder).set_index("parameter")
    assert list(idx["metric"].unique()) == ["y"]  # the constant output is left out
    assert np.allclose(idx["S1"], [0.8, 0.2, 0.0], atol=0.05)
    assert np.allclose(idx["ST"], [0.8, 0.2, 0.0], atol=0.05)
    assert (idx["ST_conf"] > 0).all() and (idx["ST_conf"] < 0.2).all()
    assert list(ranking(idx.reset_index())["parameter"]) == ["a", "b", "c"]


def test_morris_indices_of_a_linear_model(tmp_path):
    folder = fake_sweep(tmp_path / "m", "morris", 20)
    idx = sensitivity(folder).set_index("parameter")
    assert np.allclose(idx["mu_star"], [4.0, 2.0, 0.0])
    assert np.allclose(idx["sigma"], 0.0, atol=1e-9)
    rank = ranking(idx.reset_index())
    assert list(rank["parameter"]) == ["a", "b", "c"]
    assert np.allclose(rank["score"], [1.0, 0.5, 0.0])


def test_write_analysis_files_and_errors(tmp_path):
    folder = fake_sweep(tmp_path / "s", "sobol", 64)
    rank, files = write_analysis(folder, metrics=["y"])
    assert [f.name for f in files] == ["sensitivity.csv", "ranking.csv", "sensitivity.png"]
    assert pd.read_csv(files[1])["parameter"].tolist() == rank["parameter"].tolist()
    with pytest.raises(OutputError, match=r"no output metric 'yy' \(did you mean 'y'\?\)"):
        sensitivity(folder, metrics=["yy"])
    with pytest.raises(OutputError, match="does not vary"):
        write_analysis(folder, metrics=["flat"])
    lhs = fake_sweep(tmp_path / "l", "lhs", 10)
    with pytest.raises(OutputError, match="need a sobol or morris sweep, found a lhs design"):
        sensitivity(lhs)


def test_a_metric_given_ranks_the_parameters_for_that_metric(tmp_path, capsys):
    from sim.cli import main

    folder = fake_sweep(tmp_path / "s", "sobol", 256, second=True)
    by_z, _ = write_analysis(folder, out=tmp_path / "z", metrics=["z"])
    assert by_z["parameter"].tolist() == ["c", "a", "b"]
    by_y, _ = write_analysis(folder, out=tmp_path / "y", metrics=["y"])
    assert by_y["parameter"].tolist() == ["a", "b", "c"]
    overall, _ = write_analysis(folder, out=tmp_path / "all")
    assert overall.equals(ranking(sensitivity(folder)))  # the mean over both outputs
    assert main(["analyze", str(folder), "-m", "z", "--out", str(tmp_path / "cli")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "parameters ranked by influence on z:"
    assert printed[1].split()[-1] == "c"
