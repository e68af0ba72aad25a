"""The same seed gives the same numbers: repeated runs, fresh processes, chunking and worker
counts, and any order of the powers and states in the YAML.

Already covered elsewhere and not repeated here: Mesa model = ensemble engine run by run
(tests/test_ensemble.py); serial = process pool = Dask cluster (tests/test_sweep_executors.py);
a killed and resumed sweep = an uninterrupted one (tests/test_sweep_resume.py).
"""

import copy
import os
import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from sim.input.scenario import validate_document
from sim.model.engines import simulate
from sim.model.metrics import RECORDED
from sim.results.runner import run
from sim.sweep.run import read_sweep_results, run_sweep

BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
ORDER_TOL = 1e-12
"""Reordering powers or states reorders floating-point sums (over powers, neighbours), so
results agree to rounding, not bit for bit."""


def test_repeated_runs_in_one_process_are_identical(mini_path):
    a = run(mini_path, seed=11, replicates=3).table()
    b = run(mini_path, seed=11, replicates=3).table()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not run(mini_path, seed=12, replicates=3).table()["value"].equals(a["value"])


@pytest.mark.slow
def test_fresh_processes_with_other_hash_seeds_write_identical_results(tmp_path, mini_path):
    tables = []
    for hash_seed in ("0", "12345"):
        out = tmp_path / f"h{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cmd = [sys.executable, "-m", "sim.cli", "run", str(mini_path), "--seed", "3"]
        subprocess.run([*cmd, "-r", "3", "--out", str(out), "-q"], env=env, check=True, cwd=ROOT)
        tables.append(pd.read_parquet(out / "results.parquet"))
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


def test_sweep_numbers_do_not_depend_on_chunking_or_worker_count(tmp_path, mini_path):
    data = {
        "scenario": str(mini_path),
        "design": "lhs",
        "samples": 10,
        "replicates": 3,
        "seed": 77,
        "parameters": {"model.noise": [0.0, 0.05], "states.beta.trust.north": [0.1, 0.9]},
    }
    tables = []
    for chunk_size, kw in (
        (4, {"executor": "serial"}),
        (13, {"executor": "process", "workers": 3}),
    ):
        spec = tmp_path / f"spec{chunk_size}.yaml"
        spec.write_text(yaml.safe_dump({**data, "chunk_size": chunk_size}))
        out = run_sweep(spec, tmp_path / f"out{chunk_size}", progress=False, **kw)
        tables.append(read_sweep_results(out))
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


def _permuted(raw: dict, rng: random.Random) -> dict:
    """The same scenario with powers, states, neighbours and every per-power mapping reordered."""
    raw = copy.deepcopy(raw)
    rng.shuffle(raw["powers"])
    rng.shuffle(raw["states"])
    powers = [p["id"] for p in raw["powers"]]
    for power in raw["powers"]:
        for key in ("rivalry",):
            items = list(power.get(key, {}).items())
            rng.shuffle(items)
            power[key] = dict(items)
    for state in raw["states"]:
        rng.shuffle(state["neighbours"])
        for key in ("alignment", "trust", "threat", "dependence", "border", "affinity"):
            given = state.get(key, {})
            state[key] = {p: given[p] for p in rng.sample(powers, len(powers)) if p in given}
    return raw


def _reindexed(batch, states: list[str], powers: list[str]) -> dict[str, np.ndarray]:
    s = [batch.states.index(x) for x in states]
    p = [batch.powers.index(x) for x in powers]
    out = {}
    for name, arr in batch.values.items():
        kind = RECORDED[name]
        out[name] = (
            arr[:, :, s][:, :, :, p]
            if kind == "state-power"
            else arr[:, :, s]
            if kind == "state"
            else arr[:, :, p]
        )
    return out


@pytest.mark.parametrize("engine", ["mesa", "ensemble"])
def test_order_of_powers_and_states_does_not_change_the_dynamics(tmp_path, engine):
    """Every number is the same whatever the order in the YAML (to 1e-12), noise included.

    The noise block is drawn over the sorted ids (``sim.model.compile.draw_noise``), so each (month,
    state, power) gets the same standard normal in any order; reordering only reorders
    floating-point sums.
    """
    raw = yaml.safe_load(BASELINE.read_text())
    base = validate_document(raw, BASELINE)
    seeds = [1, 2]
    want = simulate([base, base], seeds, engine=engine)
    rng = random.Random(4)
    for _ in range(2):
        other = validate_document(_permuted(raw, rng), BASELINE)
        assert other.power_ids != base.power_ids and other.state_ids != base.state_ids
        got = _reindexed(simulate([other, other], seeds, engine=engine), want.states, want.powers)
        for name, values in want.values.items():
            np.testing.assert_allclose(got[name], values, rtol=0, atol=ORDER_TOL, err_msg=name)
