"""Where a sweep's chunks run: all through the ``concurrent.futures`` interface.

- ``serial``: in this process, one chunk at a time (:class:`SerialExecutor`);
- ``process``: a local process pool (:class:`concurrent.futures.ProcessPoolExecutor` with the
  ``forkserver`` start method). Workers ignore Ctrl-C, so that only the main process decides what
  happens on it (SIGTERM still ends a worker: the pool itself stops broken pools' workers with
  it, and the main process handles a SIGTERM sent to the whole group as Ctrl-C). Each worker
  watches the main process and exits as soon as it is gone, even when it was killed by SIGKILL:
  no worker outlives its sweep. When the
  pool is left by an exception (an interrupt, a failed chunk), its workers are stopped at once
  rather than left to finish chunks whose results nobody would write;
- ``dask``: a Dask distributed cluster, either a ``LocalCluster`` started here or an existing
  one joined by scheduler address (``Client.get_executor()``). Joining fails within a bounded
  time (:data:`SCHEDULER_TIMEOUT` seconds by default) with :class:`SchedulerUnreachable` when the
  address is malformed, nothing listens there, or what listens does not answer as a Dask
  scheduler (:func:`join_scheduler`).

Results never depend on the executor: each chunk is a pure function of its job.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sim.input.errors import OutputError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "SCHEDULER_TIMEOUT",
    "ClusterExecutor",
    "SchedulerUnreachable",
    "SerialExecutor",
    "Setup",
    "default_workers",
    "join_scheduler",
    "open_executor",
    "parse_scheduler_address",
]

SCHEDULER_TIMEOUT = 10.0
"""Seconds allowed by default to reach a Dask scheduler and to hear it answer."""


class SerialExecutor(Executor):
    """Runs each task at once, in the calling thread, and returns a finished future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now.

        Returns:
            A future that is already done (holding the result or the exception).
        """
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # KeyboardInterrupt must reach the caller at once
            if not isinstance(exc, Exception):
                raise
            future.set_exception(exc)
        return future


def default_workers() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


WORKER_IGNORES = (signal.SIGINT,)
"""Signals a pool worker ignores: the main process handles them and stops the workers. Not
SIGTERM: ``ProcessPoolExecutor`` ends the workers of a broken pool with it."""


Setup = tuple[Callable[..., Any], tuple[Any, ...]]
"""A function and its arguments that every worker runs once, before its first task (such as
handing it the sweep's scenario, so that the tasks need not carry it)."""


def _init_worker(parent: int, setup: Setup | None = None) -> None:
    """Pool worker start-up: ignore signals, watch ``parent``, run ``setup``.

    Ignores :data:`WORKER_IGNORES` and exits when process ``parent`` is gone.
    """
    for signum in WORKER_IGNORES:
        signal.signal(signum, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()
    if setup is not None:
        setup[0](*setup[1])


def _dask_plugin(setup: Setup) -> Any:
    """A Dask worker plugin that runs ``setup`` on every worker, those that join later too."""
    from distributed import WorkerPlugin

    class _RunSetup(WorkerPlugin):
        name = "greatgame-setup"

        def setup(self, worker: Any) -> None:
            setup[0](*setup[1])

    return _RunSetup()


def _exit_with(parent: int) -> None:
    """Block until process ``parent`` ends, then end this process at once.

    The worker's own parent is the forkserver, so the main process is watched by its pid: through
    a pidfd on Linux (woken by the kernel the moment it exits, however it died), elsewhere by
    polling once a second.
    """
    try:
        fd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)  # gone already
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3: poll instead
        _poll_until_gone(parent)
    else:
        select.select([fd], [], [])  # readable once the process has exited
    os._exit(1)


def _poll_until_gone(pid: int) -> None:
    """Return once process ``pid`` no longer exists (checked once a second)."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:  # it exists, owned by another user: keep waiting
            pass
        time.sleep(1.0)


def _stop_workers(pool: ProcessPoolExecutor, kind: type) -> None:
    """Kill the pool's workers, cancel what is queued and wait for the pool to close.

    The workers are this process's children of type ``kind`` (the context's ``Process``): a
    sweep opens one pool at a time.
    """
    for process in multiprocessing.active_children():
        if not isinstance(process, kind):
            continue
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


class SchedulerUnreachable(OutputError):
    """A Dask scheduler address is malformed, or no Dask scheduler answers there in time.

    An :class:`~sim.input.errors.OutputError`, so that the command line reports it in one line
    with exit status 2.

    Attributes:
        address: The address as given.
    """

    def __init__(self, message: str, address: str) -> None:
        super().__init__(message)
        self.address = address


_HINT = "check the address or run without --scheduler"
_HOST_PORT_SCHEMES = ("tcp", "tls", "ws", "wss")
"""Schemes whose address is ``HOST:PORT`` (checked, and reached by plain TCP first)."""


def parse_scheduler_address(address: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a scheduler address, checked without connecting.

    For schemes without a port (``inproc``, ``ucx``), ``host`` is the whole location and
    ``port`` None.

    Raises:
        SchedulerUnreachable: If the address is malformed or names an unknown protocol.
    """
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    def bad(why: str) -> SchedulerUnreachable:
        return SchedulerUnreachable(
            f"not a Dask scheduler address: {address!r} ({why}; expected tcp://HOST:PORT); "
            + _HINT,
            address,
        )

    if not isinstance(address, str) or not address.strip():
        raise bad("empty")
    try:
        scheme, loc = parse_address(address)
    except (ValueError, TypeError):
        raise bad("no protocol and location") from None
    if scheme not in registry.backends:
        raise bad(f"unknown protocol {scheme!r}")
    if scheme not in _HOST_PORT_SCHEMES:
        return scheme, loc, None
    try:
        host, port = parse_host_port(loc)
    except (ValueError, TypeError):
        raise bad("no valid port number") from None
    if not host:
        raise bad("no host")
    if not 0 < int(port) < 65536:
        raise bad(f"port {port} out of range")
    return scheme, host, int(port)


def _reason(exc: BaseException) -> str:
    """A few words on why a connection failed, from the exception's type and errno only."""
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "no answer"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return type(exc).__name__


async def _handshake(scheme: str, address: str, timeout: float) -> None:
    """Open a Dask comm to ``address``, exchange the handshake, and close it again.

    ``distributed.comm.connect`` waits for the scheduler's half of the handshake without a time
    limit (a listener that accepts and never answers would hang it forever), hence this probe,
    bounded by ``timeout`` and closing its comm on every path.
    """
    import asyncio

    from distributed.comm import registry
    from distributed.comm.addressing import parse_address
    from distributed.security import Security

    _, loc = parse_address(address)
    connector = registry.get_backend(scheme).get_connector()
    args = Security().get_connection_args("client")  # TLS settings from the Dask config, if any
    comm = await asyncio.wait_for(connector.connect(loc, deserialize=True, **args), timeout)
    try:
        await asyncio.wait_for(comm.write(comm.handshake_info()), timeout)
        reply = await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()
    if not isinstance(reply, dict):
        raise TypeError("not a Dask handshake")


def _probe(scheme: str, host: str, port: int | None, address: str, timeout: float) -> None:
    """Reach ``address`` within ``timeout`` seconds and hear a Dask handshake, or raise.

    Runs in its own thread (with its own event loop, whatever the caller's thread runs).

    Raises:
        SchedulerUnreachable: Naming the address, the timeout and the reason.
    """
    import asyncio

    reasons: list[str] = []

    def attempt() -> None:
        deadline = time.monotonic() + timeout
        try:
            if port is not None:  # a refused or unroutable address fails here at once
                socket.create_connection((host, port), timeout=timeout).close()
        except Exception as exc:  # reported by its type and errno, never its wording
            reasons.append(_reason(exc))
            return
        try:
            asyncio.run(_handshake(scheme, address, max(deadline - time.monotonic(), 0.05)))
        except TimeoutError:
            reasons.append("it accepted the connection but did not answer")
        except Exception:  # a reply that is not a Dask handshake (MemoryError from a length)
            reasons.append("it answered, but not as a Dask scheduler does")

    thread = threading.Thread(target=attempt, name="dask-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2.0)  # a name lookup is not bounded by the socket's timeout
    if thread.is_alive():
        reasons.append("no answer")
    if reasons:
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({reasons[0]}); "
            + _HINT,
            address,
        )


def join_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT) -> Client:
    """A Dask client connected to the scheduler at ``address``, or a clear error in bounded time.

    The address is checked first (a malformed one fails at once); then, for ``tcp://``,
    ``tls://``, ``ws://`` and ``wss://``, a plain TCP connection and a Dask handshake must
    succeed within ``timeout`` seconds (a refused connection fails at once); then the client
    itself connects, within ``timeout`` again.

    Args:
        address: The scheduler's address, such as ``tcp://10.0.0.5:8786``.
        timeout: Seconds allowed for each step.

    Returns:
        The connected client (the caller closes it).

    Raises:
        SchedulerUnreachable: For a malformed address, or when no scheduler answers in time.
        ValueError: For a timeout that is not positive.
    """
    if not timeout > 0:
        raise ValueError(f"expected a positive timeout, found {timeout}")
    scheme, host, port = parse_scheduler_address(address)
    if port is not None:  # inproc and ucx addresses go to the client directly
        _probe(scheme, host, port, address, timeout)
    from distributed import Client

    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
            f"({_reason(exc)}); " + _HINT,
            address,
        ) from None


class ClusterExecutor(Executor):
    """``Client.get_executor(pure=False)`` that refuses work once its scheduler is gone.

    A client that lost its scheduler tries to reconnect for its timeout and then closes itself;
    a future submitted to it after that never finishes. :meth:`submit` and :meth:`check_alive`
    then raise :class:`SchedulerUnreachable` instead (the sweep loop calls :meth:`check_alive`
    while it waits).
    """

    def __init__(self, client: Client, address: str, timeout: float) -> None:
        self._client = client
        self._inner = client.get_executor(pure=False)
        self._address = address
        self._timeout = timeout

    def check_alive(self) -> None:
        """Raise :class:`SchedulerUnreachable` if the client has given up on its scheduler."""
        if self._client.status in ("closing", "closed"):
            raise SchedulerUnreachable(
                f"lost the Dask scheduler at {self._address}: it stopped answering and did not "
                f"come back within {self._timeout:g} s",
                self._address,
            )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Submit ``fn(*args, **kwargs)`` to the cluster.

        Raises:
            SchedulerUnreachable: If the scheduler is gone.
        """
        self.check_alive()
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting work (cancelling what is queued when not waiting for it)."""
        self._inner.shutdown(wait=wait and not cancel_futures)


@contextmanager
def open_executor(
    kind: str = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_processes: bool = True,
    scheduler_timeout: float = SCHEDULER_TIMEOUT,
    setup: Setup | None = None,
) -> Iterator[tuple[Executor, int]]:
    """Open an executor and close it (and any cluster it started) on exit.

    Args:
        kind: ``serial``, ``process`` or ``dask``.
        workers: Worker processes (``process``) or LocalCluster workers (``dask`` without a
            scheduler); default: :func:`default_workers`.
        scheduler: Address of an existing Dask scheduler to join (``dask`` only).
        dask_processes: LocalCluster workers as processes (False: threads in this process).
        scheduler_timeout: Seconds allowed to reach ``scheduler`` (see :func:`join_scheduler`).
        setup: Run once in every worker before its first task (in this process for
            ``serial``; at each pool worker's start; on every Dask worker, as a worker plugin).

    Yields:
        The executor and how many chunks it runs at once.

    Raises:
        ValueError: For an unknown kind or a non-positive number of workers.
        SchedulerUnreachable: When ``scheduler`` is malformed or does not answer in time.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"expected at least one worker, found {workers}")
    n = workers or default_workers()
    if kind == "serial":
        if setup is not None:
            setup[0](*setup[1])
        yield SerialExecutor(), 1
    elif kind == "process":
        ctx = multiprocessing.get_context("forkserver")
        # workers fork with the model imported, and with Ctrl-C ignored from their first moment
        ctx.set_forkserver_preload(["sim.sweep.forkserver_init", "sim.sweep.run"])
        pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(os.getpid(), setup),
        )
        try:
            yield pool, n
        except BaseException:  # nobody will collect the chunks in flight: do not wait for them
            _stop_workers(pool, ctx.Process)
            raise
        pool.shutdown(wait=True, cancel_futures=True)
    elif kind == "dask":
        import logging

        from distributed import Client, LocalCluster

        cluster: LocalCluster | None = None
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=dask_processes,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        else:
            client = join_scheduler(scheduler, scheduler_timeout)
        try:
            if setup is not None:
                client.register_plugin(_dask_plugin(setup))
            slots = sum(client.nthreads().values()) or 1
            address = scheduler or str(getattr(client.scheduler, "address", ""))
            yield ClusterExecutor(client, address, scheduler_timeout), slots
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    else:
        raise ValueError(f"unknown executor {kind!r}; expected serial, process or dask")
