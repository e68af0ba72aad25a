"""A sweep stopped part-way (SIGKILL, SIGTERM, Ctrl-C) leaves no process behind and finishes
with --resume: no run lost or doubled."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import mini_sweep_spec, serial_sweep

from sim.cli import main
from sim.sweep.run import read_sweep_results
from sim.sweep.store import done_chunks

N_CHUNKS = 60


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    parameters = {
        "powers.north.strategy.threat_intensity": [0.0, 0.9],
        "states.alpha.trust.east": [0.2, 0.8],
    }
    folder = tmp_path_factory.mktemp("spec")
    return mini_sweep_spec(
        folder, seed=99, samples=100, chunk_size=5, replicates=3, parameters=parameters
    )


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory):
    """The same sweep, uninterrupted, in this process."""
    return serial_sweep(spec, tmp_path_factory.mktemp("ref") / "sweep")


def alive_in_session(sid):
    """Processes of session ``sid`` that still run (zombies, already dead, are not counted)."""
    alive = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.getsid(int(name)) != sid:
                continue
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:  # ended while we looked
            continue
        if state not in ("Z", "X"):
            alive.append(int(name))
    return alive


def stop_part_way(spec, out, sig, group):
    """Start a 2-worker sweep in a session of its own; once 3 chunks are on disk, send ``sig``
    to its main process only (``kill PID``, the OOM killer) or to its whole process group (a
    terminal's Ctrl-C, ``timeout``, Slurm). Returns the exit status, the standard error and the
    processes of the session still running 10 s after the main process ended."""
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(out), "-j", "2", "-q"]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    deadline = time.monotonic() + 60
    while len(done_chunks(out)) < 3:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "no chunk written in 60 s"
        time.sleep(0.01)
    assert len(alive_in_session(proc.pid)) >= 4  # main, forkserver, resource tracker, workers
    (os.killpg if group else os.kill)(proc.pid, sig)
    code = proc.wait(timeout=60)
    deadline = time.monotonic() + 10  # "after a few seconds"
    while alive_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = alive_in_session(proc.pid)
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    err = proc.stderr.read()  # read after the end: the workers held the pipe open too
    return code, err, left


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGKILL, False), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["SIGKILL-main", "SIGTERM-main", "SIGTERM-group"],
)
def test_no_process_outlives_a_killed_sweep_and_resume_completes_it(
    tmp_path, spec, reference, sig, group
):
    out = tmp_path / "killed"
    code, err, left = stop_part_way(spec, out, sig, group)
    assert left == [], f"processes of the sweep still running 10 s after it ended: {left}"
    if sig == signal.SIGTERM:  # as Ctrl-C: complete chunks kept, the resume command printed
        assert code == 128 + signal.SIGTERM, err
        assert "interrupted by SIGTERM" in err
        assert f"finish with: greatgame sweep --resume {out}" in err
        assert "Traceback" not in err
    else:
        assert code == -signal.SIGKILL
    assert 3 <= len(done_chunks(out)) < N_CHUNKS, "the kill came too late to test resuming"
    assert not (out / "results.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert main(["sweep", "--resume", str(out), "-j", "2", "-q"]) == 0
    assert done_chunks(out) == set(range(N_CHUNKS))
    assert not [f for f in os.listdir(out / "chunks") if f.startswith(".tmp")]
    resumed = read_sweep_results(out)
    assert resumed["run"].is_unique and len(resumed) == 300
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, spec, reference):
    out = tmp_path / "interrupted"
    code, err, left = stop_part_way(spec, out, signal.SIGINT, group=True)
    assert left == []
    assert code == 130
    assert f"finish with: greatgame sweep --resume {out}" in err
    assert "Traceback" not in err
    assert len(done_chunks(out)) < N_CHUNKS
    assert main(["sweep", "--resume", str(out), "-j", "1", "-q"]) == 0
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)
