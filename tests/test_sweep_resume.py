"""A sweep killed part-way (SIGKILL or Ctrl-C) finishes with --resume: no run lost or doubled."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import write_yaml

from sim.cli import main
from sim.sweep import load_results, run_sweep
from sim.sweepstore import done_chunks

N_CHUNKS = 60


@pytest.fixture
def spec(tmp_path, mini_path):
    data = {
        "scenario": str(mini_path),
        "design": "lhs",
        "samples": 100,
        "replicates": 3,
        "seed": 99,
        "parameters": {
            "powers.north.strategy.threat_intensity": [0.0, 0.9],
            "states.alpha.trust.east": [0.2, 0.8],
        },
        "chunk_size": 5,
    }
    return write_yaml(tmp_path / "spec.yaml", data)


def start_and_stop_part_way(spec, out, sig):
    """Start `greatgame sweep` with 2 worker processes; send `sig` to its process group."""
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(out), "-j", "2", "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(done_chunks(out)) < 3:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "no chunk written in 60 s"
        time.sleep(0.01)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_sigkill_then_resume_gives_exactly_the_uninterrupted_dataset(tmp_path, spec):
    out = tmp_path / "killed"
    code, _ = start_and_stop_part_way(spec, out, signal.SIGKILL)
    assert code == -signal.SIGKILL
    done = done_chunks(out)
    assert 3 <= len(done) < N_CHUNKS, "the kill came too late to test resuming"
    assert not (out / "results.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert main(["sweep", "--resume", str(out), "-j", "2", "-q"]) == 0
    assert done_chunks(out) == set(range(N_CHUNKS))
    assert not [f for f in os.listdir(out / "chunks") if f.startswith(".tmp")]
    reference = run_sweep(spec, tmp_path / "reference", executor="serial", progress=False)
    resumed = load_results(out)
    assert resumed["run"].is_unique and len(resumed) == 300
    pd.testing.assert_frame_equal(resumed, load_results(reference), check_exact=True)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, spec):
    out = tmp_path / "interrupted"
    code, err = start_and_stop_part_way(spec, out, signal.SIGINT)
    assert code == 130
    assert f"finish with: greatgame sweep --resume {out}" in err
    assert "Traceback" not in err
    assert len(done_chunks(out)) < N_CHUNKS
    assert main(["sweep", "--resume", str(out), "-j", "1", "-q"]) == 0
    assert len(load_results(out)) == 300
