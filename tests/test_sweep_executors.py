"""The final dataset is identical whichever executor and worker count runs the sweep."""

import pandas as pd
import pytest
from conftest import write_yaml

from sim.cli import main
from sim.sweep.run import read_sweep_results, run_sweep
from sim.sweep.store import done_chunks


@pytest.fixture
def spec(tmp_path, mini_path):
    data = {
        "scenario": str(mini_path),
        "design": "sobol",
        "samples": 4,
        "replicates": 3,
        "seed": 2026,
        "parameters": {
            "powers.north.strategy.threat_intensity": [0.0, 0.9],
            "powers.east.monthly_budget": [10, 60],
            "model.noise": [0.01, 0.08],
        },
        "chunk_size": 7,
    }
    return write_yaml(tmp_path / "spec.yaml", data)


def test_serial_process_pool_and_dask_give_identical_datasets(tmp_path, spec):
    runs = {
        "serial": dict(executor="serial"),
        "process2": dict(executor="process", workers=2),
        "dask2": dict(executor="dask", workers=2, dask_processes=False),
    }
    tables = {}
    for name, kw in runs.items():
        out = run_sweep(spec, tmp_path / name, progress=False, **kw)
        assert len(done_chunks(out)) == -(-4 * 5 * 3 // 7)
        tables[name] = read_sweep_results(out)
    assert len(tables["serial"]) == 60
    assert tables["serial"]["alignment_end.alpha.east"].nunique() == 60  # runs really differ
    for name in ("process2", "dask2"):
        pd.testing.assert_frame_equal(tables[name], tables["serial"], check_exact=True)


@pytest.mark.slow
def test_command_line_dask_local_cluster_of_processes(tmp_path, spec):
    assert main(["sweep", str(spec), "--out", str(tmp_path / "a"), "-j", "1", "-q"]) == 0
    assert main(["sweep", str(spec), "--out", str(tmp_path / "b"), "--dask-local", "2", "-q"]) == 0
    pd.testing.assert_frame_equal(
        read_sweep_results(tmp_path / "b"), read_sweep_results(tmp_path / "a"), check_exact=True
    )


def test_workers_poll_for_the_main_process_where_there_is_no_pidfd():
    import subprocess
    import threading

    from sim.sweep.executors import _poll_until_gone

    child = subprocess.Popen(["sleep", "30"])
    watcher = threading.Thread(target=_poll_until_gone, args=(child.pid,), daemon=True)
    watcher.start()
    watcher.join(1.5)
    assert watcher.is_alive(), "returned while the process was still running"
    child.kill()
    child.wait()  # reaped: the pid no longer exists
    watcher.join(30)
    assert not watcher.is_alive(), "did not notice that the process ended"


def _exit_1_unless_sigint_ignored():
    import signal
    import sys

    sys.exit(0 if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else 1)


def test_pool_workers_ignore_ctrl_c_from_their_first_moment():
    """The forkserver hands what it forks SIGINT ignored (sim.sweep.forkserver_init), before any
    initializer runs, so a Ctrl-C to the whole group while a worker starts cannot print a
    traceback from it."""
    import multiprocessing
    import signal

    from sim.sweep.executors import open_executor

    with open_executor("process", 1) as (pool, _):
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
        bare = multiprocessing.get_context("forkserver").Process(
            target=_exit_1_unless_sigint_ignored
        )  # no initializer: what the forkserver itself hands over
        bare.start()
        bare.join(30)
    assert bare.exitcode == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not in this process
