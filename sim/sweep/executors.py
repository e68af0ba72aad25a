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
  one joined by scheduler address (``Client.get_executor()``).

Results never depend on the executor: each chunk is a pure function of its job.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["SerialExecutor", "default_workers", "open_executor"]


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


def _init_worker(parent: int) -> None:
    """Pool worker start-up: ignore :data:`WORKER_IGNORES` and exit when ``parent`` is gone."""
    for signum in WORKER_IGNORES:
        signal.signal(signum, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


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


@contextmanager
def open_executor(
    kind: str = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_processes: bool = True,
) -> Iterator[tuple[Executor, int]]:
    """Open an executor and close it (and any cluster it started) on exit.

    Args:
        kind: ``serial``, ``process`` or ``dask``.
        workers: Worker processes (``process``) or LocalCluster workers (``dask`` without a
            scheduler); default: :func:`default_workers`.
        scheduler: Address of an existing Dask scheduler to join (``dask`` only).
        dask_processes: LocalCluster workers as processes (False: threads in this process).

    Yields:
        The executor and how many chunks it runs at once.

    Raises:
        ValueError: For an unknown kind or a non-positive number of workers.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"expected at least one worker, found {workers}")
    n = workers or default_workers()
    if kind == "serial":
        yield SerialExecutor(), 1
    elif kind == "process":
        ctx = multiprocessing.get_context("forkserver")
        # workers fork with the model imported, and with Ctrl-C ignored from their first moment
        ctx.set_forkserver_preload(["sim.sweep.forkserver_init", "sim.sweep.run"])
        pool = ProcessPoolExecutor(
            max_workers=n, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
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

        cluster = None
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
            client = Client(scheduler)
        try:
            slots = sum(client.nthreads().values()) or 1
            yield client.get_executor(pure=False), slots
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    else:
        raise ValueError(f"unknown executor {kind!r}; expected serial, process or dask")
