"""Joining a Dask scheduler fails fast and clearly: exit 2, never a hang or an internal error.

Issue 12 item 9: a closed port, a listener that accepts and never answers, and a malformed
address each end ``greatgame sweep --scheduler`` with exit status 2 and one line that names the
address (and, once the sweep folder exists, the resume command); nothing is left running.
"""

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from conftest import ROOT, write_yaml

from sim.cli import main
from sim.sweep.executors import ClusterExecutor, SchedulerUnreachable, join_scheduler


@pytest.fixture
def spec(tmp_path, mini_path):
    data = {
        "scenario": str(mini_path),
        "design": "lhs",
        "samples": 2,
        "replicates": 1,
        "seed": 1,
        "parameters": {"powers.east.monthly_budget": [10, 60]},
    }
    return write_yaml(tmp_path / "spec.yaml", data)


def closed_port() -> int:
    """A port on which nothing listens (bound, read, and closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """The address of a TCP listener that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # the server socket was closed: stop
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    thread.join(10)
    for conn in held:
        conn.close()
    assert not thread.is_alive()


def sweep(spec, out, address: str, *extra: str) -> list[str]:
    return ["sweep", str(spec), "--out", str(out), "--scheduler", address, "-q", *extra]


def no_probe_left() -> bool:
    return not any(t.name == "dask-scheduler-probe" for t in threading.enumerate())


def test_a_closed_port_exits_2_naming_the_address_and_the_resume_command(spec, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{closed_port()}"
    out = tmp_path / "sweep"
    assert main(sweep(spec, out, address, "--scheduler-timeout", "5")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"cannot reach the Dask scheduler at {address} within 5 s" in err
    assert "run without --scheduler" in err
    assert f"greatgame sweep --resume {out}" in err
    assert "internal error" not in err and "Traceback" not in err
    assert no_probe_left()


def test_a_listener_that_never_answers_exits_2_within_the_timeout(
    spec, tmp_path, silent_listener, capsys
):
    args = sweep(spec, tmp_path / "sweep", silent_listener, "--scheduler-timeout", "1")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {silent_listener} within 1 s" in err
    assert "did not answer" in err
    assert no_probe_left()


@pytest.mark.parametrize(
    "address", ["nonsense", "tcp://", "tcp://:8786", "tcp://127.0.0.1:99999", "nope://a:1"]
)
def test_a_malformed_address_exits_2_before_writing_anything(spec, tmp_path, address, capsys):
    out = tmp_path / "sweep"
    assert main(sweep(spec, out, address)) == 2
    err = capsys.readouterr().err
    assert f"not a Dask scheduler address: {address!r}" in err
    assert "expected tcp://HOST:PORT" in err
    assert not out.exists()


def test_a_bad_timeout_is_refused_by_the_parser(spec, tmp_path, capsys):
    for value in ("0", "-1", "nan", "soon"):
        with pytest.raises(SystemExit) as exit_:
            main(sweep(spec, tmp_path / "s", "tcp://127.0.0.1:1", "--scheduler-timeout", value))
        assert exit_.value.code == 2
    assert "--scheduler-timeout" in capsys.readouterr().err


def test_the_command_exits_when_a_listener_never_answers(spec, tmp_path, silent_listener):
    """In a process of its own, the command ends by itself: no thread or process keeps it."""
    args = sweep(spec, tmp_path / "sweep", silent_listener, "--scheduler-timeout", "1")
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot reach the Dask scheduler at {silent_listener}" in done.stderr


def test_join_scheduler_raises_an_output_error_in_the_api():
    address = f"tcp://127.0.0.1:{closed_port()}"
    with pytest.raises(SchedulerUnreachable) as caught:
        join_scheduler(address, timeout=2)
    assert caught.value.address == address
    with pytest.raises(ValueError, match="positive timeout"):
        join_scheduler(address, timeout=0)


class _GoneClient:
    """A Dask client stand-in whose scheduler is gone for good."""

    status = "closed"

    def get_executor(self, pure: bool = True) -> object:
        return object()


def test_a_cluster_executor_refuses_work_once_its_scheduler_is_gone():
    pool = ClusterExecutor(_GoneClient(), "tcp://10.0.0.5:8786", 10)  # type: ignore[arg-type]
    with pytest.raises(SchedulerUnreachable, match=r"lost the Dask scheduler at tcp://10\.0\.0\.5"):
        pool.submit(print, "never")
    with pytest.raises(SchedulerUnreachable):
        pool.check_alive()
