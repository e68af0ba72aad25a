"""Where a sweep's chunks run: all through the ``concurrent.futures`` interface.

- ``serial``: in this process, one chunk at a time (:class:`SerialExecutor`);
- ``process``: a local process pool (:class:`concurrent.futures.ProcessPoolExecutor` with the
  ``forkserver`` start method; workers ignore Ctrl-C so that only the main process handles it);
- ``dask``: a Dask distributed cluster, either a ``LocalCluster`` started here or an existing
  one joined by scheduler address (``Client.get_executor()``).

Results never depend on the executor: each chunk is a pure function of its job.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
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


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
        ctx.set_forkserver_preload(["sim.sweep"])  # workers fork with the model imported
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_ignore_sigint)
        try:
            yield pool, n
        finally:
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
