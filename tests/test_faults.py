"""Faults: a killed run leaves no half-written folder, a full disk or unwritable folder gives a
clear error, and a chunk that fails in a sweep is retried and reported, never dropped."""

import errno
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT, write_yaml

from sim.cli import main
from sim.results import runner
from sim.results.runner import OutputError, run, write_run_folder
from sim.sweep.run import FAULT_ENV, MAX_ATTEMPTS, ChunkFailed, read_sweep_results, run_sweep

# --- a killed `greatgame run` ----------------------------------------------------------------


def _check_complete(folder: Path) -> None:
    """A results folder is complete: manifest parses, lists every file, all readable."""
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {p.name for p in folder.iterdir()}
    table = pq.read_table(folder / "results.parquet")
    assert set(table.column("run").to_pylist()) == set(range(manifest["replicates"]))
    pd.read_csv(folder / "events.csv")
    yaml.safe_load((folder / "scenario.yaml").read_text())


def _stray(parent: Path, name: str) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.")]


@pytest.mark.slow
def test_run_killed_at_random_moments_leaves_absent_or_complete_folder(tmp_path, mini_path):
    out = tmp_path / "res"
    cmd = [sys.executable, "-m", "sim.cli", "run", str(mini_path), "-r", "40", "--out", str(out)]
    started = time.monotonic()  # one undisturbed run to time the window
    subprocess.run([*cmd, "--quiet"], check=True, cwd=ROOT)
    duration = time.monotonic() - started
    _check_complete(out)
    rng = random.Random(8)
    outcomes = []
    for trial in range(10):
        previous = json.loads((out / "manifest.json").read_text())["created"] if out.exists() else 0
        proc = subprocess.Popen([*cmd, "--quiet", "--force", "--seed", str(trial)], cwd=ROOT)
        time.sleep(rng.uniform(0.3, 1.1) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():
            _check_complete(out)  # the old results or the complete new ones
            now = json.loads((out / "manifest.json").read_text())["created"]
            outcomes.append("new" if now != previous else "old")
        else:
            outcomes.append("absent")
    # a later run into the same folder works and tidies what the killed ones left
    assert main(["run", str(mini_path), "-r", "2", "--out", str(out), "--force", "--quiet"]) == 0
    _check_complete(out)
    assert _stray(tmp_path, "res") == [], outcomes


def test_stale_temporary_and_moved_aside_folders_are_tidied(tmp_path, mini_path):
    """A writer killed between moving the old results aside and moving the new ones in."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    res = run(mini_path, seed=1)
    out = tmp_path / "res"
    write_run_folder(res, out)
    os.rename(out, tmp_path / f".res.old-{dead.pid}")  # the old results, aside; out absent
    (tmp_path / f".res.tmp-{dead.pid}-abc").mkdir()  # a half-written new folder
    (tmp_path / f".res.tmp-{dead.pid}-abc" / "results.parquet").write_bytes(b"PAR1 half")
    (tmp_path / f".res.tmp-{os.getpid()}-live").mkdir()  # a live writer's: left alone
    with pytest.raises(OutputError, match="not empty"):  # the old results are back in place
        write_run_folder(res, out)
    _check_complete(out)
    assert _stray(tmp_path, "res") == [f".res.tmp-{os.getpid()}-live"]


# --- unwritable folder, full disk --------------------------------------------------------------


def _fail_with(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("tempfile.mkdtemp", errno.EACCES),  # the parent folder is not writable
        ("pyarrow.parquet.write_table", errno.ENOSPC),  # the disk fills while writing
        ("pathlib.Path.write_text", errno.ENOSPC),  # ... while writing the manifest
        ("pathlib.Path.rename", errno.EACCES),  # the final rename is refused
    ],
)
def test_unwritable_or_full_disk_is_one_clear_line_and_nothing_half_written(
    tmp_path, mini_path, monkeypatch, capsys, target, code
):
    out = tmp_path / "res"
    assert main(["run", str(mini_path), "-r", "2", "--out", str(out), "--quiet"]) == 0
    before = (out / "manifest.json").read_text()
    capsys.readouterr()
    module, _, name = target.rpartition(".")
    if module == "pathlib.Path":
        monkeypatch.setattr(Path, name, _fail_with(code))
    elif module == "tempfile":
        monkeypatch.setattr(tempfile, name, _fail_with(code))
    else:
        monkeypatch.setattr(runner.pq, name, _fail_with(code))
    status = main(["run", str(mini_path), "-r", "3", "--out", str(out), "--force", "--quiet"])
    monkeypatch.undo()
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"error: {out}: ")
    assert os.strerror(code) in err
    assert (out / "manifest.json").read_text() == before  # the old results, untouched
    _check_complete(out)
    assert _stray(tmp_path, "res") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_parent_folder(tmp_path, mini_path, capsys):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        assert main(["run", str(mini_path), "--out", str(parent / "res"), "--quiet"]) == 2
    finally:
        parent.chmod(0o755)
    assert "cannot write here (Permission denied)" in capsys.readouterr().err
    assert list(parent.iterdir()) == []


# --- a failing chunk in a sweep ----------------------------------------------------------------


@pytest.fixture
def spec(tmp_path, mini_path):
    data = {
        "scenario": str(mini_path),
        "design": "lhs",
        "samples": 12,
        "replicates": 2,
        "seed": 5,
        "parameters": {"powers.north.strategy.threat_intensity": [0.0, 0.9]},
        "chunk_size": 4,
    }
    return write_yaml(tmp_path / "spec.yaml", data)


@pytest.fixture
def reference(tmp_path, spec):
    return read_sweep_results(
        run_sweep(spec, tmp_path / "reference", executor="serial", progress=False)
    )


def test_chunk_that_raises_is_retried_and_reported(tmp_path, spec, reference, monkeypatch, capsys):
    monkeypatch.setenv(FAULT_ENV, f"chunk=2,mode=raise,times=2,state={tmp_path / 'faults'}")
    out = run_sweep(spec, tmp_path / "s", executor="serial", progress=False)
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)
    err = capsys.readouterr().err
    assert err.count("chunk 2 (runs 8-11) failed: RuntimeError: injected fault") == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["retried_failures"]) == 2 and manifest["status"] == "complete"


def test_chunk_that_keeps_failing_stops_the_sweep_with_how_to_resume(
    tmp_path, spec, reference, monkeypatch
):
    monkeypatch.setenv(FAULT_ENV, f"chunk=2,mode=raise,times=99,state={tmp_path / 'faults'}")
    out = tmp_path / "s"
    with pytest.raises(ChunkFailed) as info:
        run_sweep(spec, out, executor="serial", progress=False)
    msg = str(info.value)
    assert msg.startswith(f"chunk 2 (runs 8-11) failed {MAX_ATTEMPTS} times")
    assert f"finish with: greatgame sweep --resume {out}" in msg
    assert len(list((tmp_path / "faults").iterdir())) == MAX_ATTEMPTS
    monkeypatch.delenv(FAULT_ENV)
    assert main(["sweep", "--resume", str(out), "-j", "1", "-q"]) == 0
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)


def _sweep_cli(spec, out, fault: str) -> subprocess.CompletedProcess:
    env = {**os.environ, FAULT_ENV: fault}
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(out), "-j", "2", "-q"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_worker_process_that_dies_is_retried_in_a_new_pool(tmp_path, spec, reference):
    done = _sweep_cli(spec, tmp_path / "s", f"chunk=3,mode=exit,times=1,state={tmp_path / 'f'}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "a worker process died with chunks" in done.stderr or "chunk 3" in done.stderr
    pd.testing.assert_frame_equal(read_sweep_results(tmp_path / "s"), reference, check_exact=True)


@pytest.mark.slow
def test_worker_that_always_dies_is_named_not_dropped(tmp_path, spec):
    out = tmp_path / "s"
    done = _sweep_cli(spec, out, f"chunk=3,mode=exit,times=99,state={tmp_path / 'f'}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert f"chunk 3 (runs 12-15) failed {MAX_ATTEMPTS} times" in done.stderr
    assert "its worker process died" in done.stderr
    assert f"greatgame sweep --resume {out}" in done.stderr
    assert not (out / "results.parquet").exists()
