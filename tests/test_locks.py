"""One writer per folder: a second writer of a folder that is being written fails at once naming
the first, a lock left by a dead writer is taken over with a note, and no lock file outlives its
writer (issue 12, item 3). The writers are real processes."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA, ROOT, mini_sweep_spec, serial_sweep

from sim.cli import main
from sim.results.atomic import folder_lock, lock_path
from sim.results.runner import OutputError, run, write_run_folder
from sim.sweep.run import FAULT_ENV, read_sweep_results
from sim.sweep.store import done_chunks

HOST = socket.gethostname()
N_CHUNKS = 6


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return mini_sweep_spec(tmp_path_factory.mktemp("spec"), seed=7)


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory):
    """The same sweep, serial and undisturbed, in this process."""
    return serial_sweep(spec, tmp_path_factory.mktemp("ref") / "sweep")


def wait_for(path: Path, proc: subprocess.Popen) -> None:
    """Wait until ``path`` exists while ``proc`` runs (a safety limit, not a timing check)."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear in 60 s"
        time.sleep(0.01)


def held_sweep(spec, out, state):
    """A ``greatgame sweep`` in a process of its own, held inside chunk 2 (with 2 chunks on disk)
    until ``state/release`` exists: the folder's writer is surely running meanwhile."""
    env = {**os.environ, FAULT_ENV: f"chunk=2,mode=hold,state={state}"}
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(out), "-j", "1", "-q"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    wait_for(state / "holding", proc)
    return proc


def holder(out):
    """A process holding the lock of ``out`` until its standard input closes."""
    code = (
        "import sys\n"
        "from sim.results.atomic import folder_lock\n"
        "with folder_lock(sys.argv[1], 'greatgame run holder'):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "held\n"
    return proc


def busy(out, pid):
    return f"error: {out}: being written by pid {pid} on {HOST} ("


def run_args(out, *more):
    return ["run", str(DATA / "mini.yaml"), "-r", "1", "-q", "--out", str(out), *more]


def test_a_second_writer_of_a_running_sweep_fails_naming_it(tmp_path, spec, reference, capsys):
    out = tmp_path / "sweep"
    first = held_sweep(spec, out, tmp_path / "state")
    try:
        assert lock_path(out) == tmp_path / ".sweep.lock"
        lock = json.loads(lock_path(out).read_text())
        assert lock["pid"] == first.pid and lock["host"] == HOST
        assert lock["command"].startswith(f"greatgame sweep {spec}")
        assert main(run_args(tmp_path / "base")) == 0
        capsys.readouterr()
        second_writers = [
            ["sweep", str(spec), "--out", str(out), "--force", "-j", "1", "-q"],
            ["sweep", str(spec), "--out", str(out), "-j", "1", "-q"],
            ["sweep", "--resume", str(out), "-j", "1", "-q"],
            run_args(out, "--force"),
            ["compare", str(tmp_path / "base"), str(tmp_path / "base"), "-o", str(out), "--force"],
        ]
        for args in second_writers:
            assert main(args) == 2, args
            err = capsys.readouterr().err
            assert err.startswith(busy(out, first.pid)), (args, err)
            assert f"greatgame sweep {spec}" in err and "wait for it or stop it" in err
            assert "internal error" not in err
            assert json.loads(lock_path(out).read_text())["pid"] == first.pid
        assert len(done_chunks(out)) == 2  # nobody else wrote a chunk
    finally:
        (tmp_path / "state" / "release").touch()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert not lock_path(out).exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)


def test_run_force_into_a_locked_folder_fails_and_changes_nothing(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(run_args(out)) == 0
    before = (out / "manifest.json").read_text()
    proc = holder(out)
    try:
        capsys.readouterr()
        assert main(run_args(out, "--force")) == 2
        err = capsys.readouterr().err
        assert err.startswith(busy(out, proc.pid)) and "greatgame run holder" in err
        with pytest.raises(OutputError, match=f"being written by pid {proc.pid} on "):
            write_run_folder(run(DATA / "mini.yaml", seed=1), out, force=True)  # no CLI check
    finally:
        proc.communicate(input="", timeout=60)
    assert proc.returncode == 0
    assert (out / "manifest.json").read_text() == before
    assert not lock_path(out).exists()
    assert main(run_args(out, "--force")) == 0  # free again
    assert not lock_path(out).exists()


def test_a_lock_left_by_a_dead_writer_is_taken_over_and_said(tmp_path, capsys):
    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "res"
    info = {"pid": dead.pid, "host": HOST, "command": "greatgame run x", "since": "2024-01-01"}
    lock_path(out).write_text(json.dumps(info))
    assert main(run_args(out)) == 0
    err = capsys.readouterr().err
    assert (
        f"note: {out}: took over the lock left by pid {dead.pid} on {HOST}, "
        "which is no longer running"
    ) in err
    assert not lock_path(out).exists()
    assert json.loads((out / "manifest.json").read_text())["tool"] == "greatgame run"


def test_a_lock_of_another_machine_is_taken_over_with_a_warning(tmp_path, capsys):
    out = tmp_path / "res"
    lock_path(out).write_text(json.dumps({"pid": 1, "host": "elsewhere.example", "since": "x"}))
    assert main(run_args(out)) == 0
    err = capsys.readouterr().err
    assert f"note: {out}: took over the lock left by pid 1 on elsewhere.example, another " in err
    assert not lock_path(out).exists()


def test_a_killed_sweep_leaves_a_stale_lock_that_resume_takes_over(
    tmp_path, spec, reference, capsys
):
    out = tmp_path / "sweep"
    first = held_sweep(spec, out, tmp_path / "state")
    first.kill()  # SIGKILL: no chance to remove its lock file
    first.communicate(timeout=60)
    assert json.loads(lock_path(out).read_text())["pid"] == first.pid
    assert main(["sweep", "--resume", str(out), "-j", "1", "-q"]) == 0
    err = capsys.readouterr().err
    assert f"took over the lock left by pid {first.pid} on {HOST}, which is no longer" in err
    assert not lock_path(out).exists()
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)


def test_sigterm_removes_the_lock_and_resume_completes(tmp_path, spec, reference, capsys):
    out = tmp_path / "sweep"
    first = held_sweep(spec, out, tmp_path / "state")
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 128 + signal.SIGTERM, err
    assert f"finish with: greatgame sweep --resume {out}" in err
    assert not lock_path(out).exists()
    assert main(["sweep", "--resume", str(out), "-j", "1", "-q"]) == 0
    assert "took over" not in capsys.readouterr().err
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)


def test_no_lock_file_is_left_after_a_failure(tmp_path, spec, monkeypatch, capsys):
    out = tmp_path / "sweep"
    monkeypatch.setenv(FAULT_ENV, f"chunk=1,mode=raise,times=9,state={tmp_path / 'state'}")
    assert main(["sweep", str(spec), "--out", str(out), "-j", "1", "-q"]) == 1
    assert "failed 3 times" in capsys.readouterr().err
    assert not lock_path(out).exists()
    with pytest.raises(OutputError, match="not empty"), folder_lock(out):  # fails inside it
        assert lock_path(out).exists()
        write_run_folder(run(DATA / "mini.yaml", seed=1), out)
    assert not lock_path(out).exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
