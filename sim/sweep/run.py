"""Parameter sweeps: many runs of one scenario, chunked, resumable, on any executor.

A sweep turns a spec (:mod:`sim.sweep.spec`) into a design of parameter points
(:mod:`sim.sweep.designs`), runs every point ``replicates`` times and writes a sweep folder
(:mod:`sim.sweep.store`). Run ``k`` is replicate ``k % R`` of point ``k // R``; its seed is the
``k``-th child of ``numpy.random.SeedSequence(seed)`` (as ``SeedSequence(seed).spawn(P * R)[k]``
would give), or with ``seeds: common`` the ``k % R``-th child (the same noise at every point), so
every number depends only on the spec, never on the executor, the worker count or the
chunking. Runs are grouped into chunks of consecutive ids; each finished chunk is written
atomically as its own Parquet file, and a resumed sweep runs only the chunks not on disk. The
final dataset ``results.parquet`` holds one row per run, sorted by run id: ``run, point,
replicate, seed``, the parameter values (one column per path) and the summary metrics
(:func:`sim.model.metrics.summarize`).

Typical use::

    from sim.sweep.run import run_sweep, read_sweep_results, to_ema

    folder = run_sweep("sweeps/kazakhstan.yaml", "results/sweep1", workers=4)
    table = read_sweep_results(folder)
    experiments, outcomes = to_ema(folder)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    wait,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from tqdm.auto import tqdm

from sim.input.errors import Interrupted, OutputError
from sim.input.params import with_values
from sim.input.scenario import LoadedScenario
from sim.model.engines import ENGINES, simulate
from sim.model.ensemble import run_swept
from sim.model.metrics import Batch
from sim.model.noise import NOISE_SCHEME
from sim.results.atomic import check_free, folder_lock, write_file
from sim.results.folder import check_columns, read_parquet
from sim.results.provenance import environment
from sim.results.tables import long_table
from sim.sweep import store
from sim.sweep.designs import build_design, design_seed
from sim.sweep.executors import SCHEDULER_TIMEOUT, SchedulerUnreachable, open_executor
from sim.sweep.spec import Keep, LoadedSpec, load_spec, strip_provenance, validate_spec

__all__ = [
    "ChunkFailed",
    "ChunkJob",
    "SweepInterrupted",
    "read_sweep_results",
    "run_chunk",
    "run_seed",
    "run_sweep",
    "to_ema",
]

SPEC = "spec.yaml"
DESIGN = store.DESIGN
ID_COLUMNS = ("run", "point", "replicate", "seed")
"""Columns that identify a run in the final dataset; parameters and metrics follow."""


class SweepInterrupted(Interrupted):
    """A signal stopped a sweep; finished chunks are on disk and the sweep can be resumed."""


def run_seed(root: int, run: int) -> int:
    """Seed of run ``run``: child ``run`` of ``SeedSequence(root)``, as a 32-bit integer.

    Equal to ``sim.results.runner.replicate_seeds(root, n)[run]`` for any ``n > run``, without
    spawning the children before it.
    """
    child = np.random.SeedSequence(root, spawn_key=(run,))
    return int(child.generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to run one chunk (a pure function of this).

    Attributes:
        index: Chunk number.
        runs: Run ids of the chunk, consecutive.
        points: Point of each run's parameter values: ``values[i]`` belongs to point
            ``first_point + i``.
        first_point: Point of ``values[0]``.
        values: ``(points in chunk, k)`` parameter values.
        names: Parameter paths, one per column of ``values``.
        replicates: Runs per point.
        root_seed: The sweep's root seed.
        base: Key of the sweep's scenario in the worker's :data:`_BASES` (set once per worker
            by :func:`set_base`, so that no job carries the scenario).
        engine: Engine name.
        keep: ``summary`` or ``trajectories``.
        seeds: ``independent`` or ``common`` (see :class:`sim.sweep.spec.SweepSpec`).
    """

    index: int
    runs: range
    first_point: int
    values: np.ndarray
    names: tuple[str, ...]
    replicates: int
    root_seed: int
    base: str
    engine: str
    keep: Keep
    seeds: str = "independent"


@dataclass
class ChunkOutput:
    """What a worker sends back: the chunk's tables."""

    index: int
    runs: pa.Table
    trajectories: pa.Table | None


_BASES: dict[str, LoadedScenario] = {}

_NOISE_V1: dict[str, Any] = {"version": 1}
"""What a sweep manifest without a ``noise`` field was made with (numpy's default_rng per run)."""
"""The scenarios of the sweeps this process runs chunks of, by :func:`base_key`."""


def base_key(plan: LoadedSpec) -> str:
    """The key of a sweep's scenario in :data:`_BASES`: its hash and the swept paths."""
    return plan.loaded.sha256 + ":" + ",".join(plan.parameters)


def set_base(key: str, loaded: LoadedScenario) -> None:
    """Hand this process a sweep's scenario (run once per worker, before its first chunk)."""
    _BASES[key] = loaded


def _base(plan: LoadedSpec) -> LoadedScenario:
    """The sweep's scenario with the swept numbers stripped of their provenance."""
    names = list(plan.parameters)
    return plan.loaded.model_copy(update={"raw": strip_provenance(plan.loaded.raw, names)})


def run_chunk(job: ChunkJob) -> ChunkOutput:
    """Run the runs of one chunk and return their rows (runs on a worker).

    Args:
        job: The chunk.

    Returns:
        The summary rows and, with ``keep == "trajectories"``, the trajectory rows.
    """
    loaded = _BASES[job.base]
    run_ids = np.arange(job.runs.start, job.runs.stop, dtype=np.int64)
    points = run_ids // job.replicates
    values = job.values[points - job.first_point]
    children = run_ids if job.seeds == "independent" else run_ids % job.replicates
    seeds = [run_seed(job.root_seed, int(k)) for k in children]
    batch: Batch | None = None
    if job.engine == "ensemble":  # one compile for the chunk, the values written into the arrays
        swept = {name: values[:, j] for j, name in enumerate(job.names)}
        out = run_swept(loaded, swept, seeds, keep=job.keep)
        if isinstance(out, Batch):
            batch, summary = out, out.summary()
        else:
            summary = out
    else:  # each point validated and converted on its own, as the engine takes scenarios
        scenarios = {}
        for p in np.unique(points):
            row = job.values[p - job.first_point]
            scenarios[p] = with_values(loaded, dict(zip(job.names, row.tolist(), strict=True)))
        batch = simulate([scenarios[p] for p in points], seeds, engine=job.engine)
        summary = batch.summary()
    columns: dict[str, Any] = {
        "run": pa.array(run_ids, pa.int64()),
        "point": pa.array(points, pa.int64()),
        "replicate": pa.array((run_ids % job.replicates).astype(np.int32), pa.int32()),
        "seed": pa.array(np.asarray(seeds, dtype=np.int64), pa.int64()),
    }
    for j, name in enumerate(job.names):
        columns[name] = pa.array(values[:, j], pa.float64())
    for name, metric in summary.items():
        columns[name] = pa.array(np.asarray(metric, dtype=np.float64), pa.float64())
    traj = None
    if batch is not None and job.keep == "trajectories":  # a results folder's long table
        traj = pa.Table.from_pandas(long_table(batch, run_ids), preserve_index=False)
    return ChunkOutput(job.index, pa.table(columns), traj)


def _manifest(plan: LoadedSpec, engine: str, n_chunks: int) -> dict[str, Any]:
    loaded, spec = plan.loaded, plan.spec
    return {
        "tool": "greatgame sweep",
        "format": 1,
        "status": "running",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "spec": SPEC,
        "spec_source": str(plan.path),
        "scenario": {
            "name": loaded.scenario.meta.name,
            "file": str(loaded.path.resolve()),
            "sha256": loaded.sha256,
            "files": [str(p.resolve()) for p in loaded.files],
        },
        "design": spec.design,
        "samples": spec.samples,
        "second_order": spec.second_order,
        "levels": spec.levels,
        "parameters": [
            {"path": p, "low": lo, "high": hi} for p, (lo, hi) in plan.parameters.items()
        ],
        "excluded_parameters": plan.excluded,
        "n_points": plan.n_points,
        "replicates": spec.replicates,
        "n_runs": plan.n_runs,
        "chunk_size": plan.chunk_size,
        "n_chunks": n_chunks,
        "root_seed": spec.seed,
        "design_seed": design_seed(spec.seed),
        "seeds": spec.seeds,
        "seed_rule": "run k = replicate k % replicates of point k // replicates; its seed is "
        "SeedSequence(root_seed).spawn(n)[i].generate_state(1, uint32)[0] with i = k "
        "(seeds: independent) or i = k % replicates (seeds: common); each run's noise is keyed "
        "by its seed (noise)",
        "noise": dict(NOISE_SCHEME),
        "engine": engine,
        "keep": spec.keep,
        **environment(),
        "wall_time_s": 0.0,
    }


def _start(plan: LoadedSpec, out: Path, engine: str, force: bool) -> dict[str, Any]:
    """Create a new sweep folder: spec, design, manifest (last); the caller holds its lock.

    When writing fails (a full disk, say) what was written is removed: a folder without its
    manifest could be neither resumed nor replaced.
    """
    check_free(out, force, hint=_RESUME_HINT)
    existed = out.is_dir()
    if existed and any(out.iterdir()):
        shutil.rmtree(out)
    try:
        (out / store.CHUNKS).mkdir(parents=True, exist_ok=True)
        if plan.spec.keep == "trajectories":
            (out / store.TRAJECTORIES).mkdir()
        text = yaml.safe_dump(plan.resolved(), sort_keys=False)
        write_file(out / SPEC, text.encode())
        spec = plan.spec
        values = build_design(
            spec.design, plan.parameters, spec.samples, spec.seed, spec.second_order, spec.levels
        )
        design = {"point": pa.array(np.arange(len(values), dtype=np.int64))}
        design |= {p: pa.array(values[:, j]) for j, p in enumerate(plan.parameters)}
        store.write_table(pa.table(design), out / DESIGN)
        n_chunks = -(-plan.n_runs // plan.chunk_size)
        manifest = _manifest(plan, engine, n_chunks)
        store.write_json(manifest, out / store.MANIFEST)
    except OSError as exc:
        shutil.rmtree(out, ignore_errors=True)
        if existed:
            with contextlib.suppress(OSError):
                out.mkdir(parents=True, exist_ok=True)
        what = f"{out}: cannot write here ({_why(exc)})"
        if exc.filename is not None and Path(os.fsdecode(exc.filename)) != out:
            what = f"{out}: cannot write {os.fsdecode(exc.filename)} ({_why(exc)})"
        raise OutputError(f"{what}; the sweep was not started and nothing of it was kept") from None
    return manifest


def _why(exc: OSError) -> str:
    """The system's words for an ``OSError`` (``No space left on device``), without detail."""
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc.strerror or exc)


def _write_failed(out: Path, exc: OSError, n_chunks: int) -> OutputError | None:
    """The error for a file of sweep folder ``out`` that could not be written, or None.

    None when ``exc`` is about no file in ``out`` (a Dask connection, say): it is not a write.
    The message names the file and the system's reason and says how to finish the sweep: the
    chunks on disk are complete (each was written atomically) and are kept.
    """
    if exc.filename is None:
        return None
    path = Path(os.path.abspath(os.fsdecode(exc.filename)))
    if not path.is_relative_to(os.path.abspath(out)):
        return None
    try:
        left = f"{len(store.done_chunks(out))} of {n_chunks}"
    except OSError:
        left = "the finished"
    return OutputError(
        f"{path}: cannot write it ({_why(exc)}); {left} chunks are on disk in {out}/ and are "
        f"kept; after freeing space, finish with: greatgame sweep --resume {out}"
    )


def _reopen(out: Path) -> tuple[LoadedSpec, dict[str, Any]]:
    """Load the spec and manifest of an existing sweep folder and check they still agree."""
    manifest = store.read_manifest(out, store.RESUME_FIELDS)
    plan = load_spec(out / SPEC)
    if plan.loaded.sha256 != manifest["scenario"]["sha256"]:
        raise OutputError(
            f"{out}: the scenario {plan.loaded.path} changed since the sweep started; "
            "start a new sweep instead of resuming this one"
        )
    sizes = (plan.n_runs, plan.chunk_size, -(-plan.n_runs // plan.chunk_size))
    if sizes != (manifest["n_runs"], manifest["chunk_size"], manifest["n_chunks"]):
        raise OutputError(f"{out}: {SPEC} does not match {store.MANIFEST}; start a new sweep")
    if manifest.get("noise", _NOISE_V1) != NOISE_SCHEME:
        version = manifest.get("noise", _NOISE_V1).get("version")
        raise OutputError(
            f"{out}: its chunks were made with noise scheme version {version}, this greatgame "
            f"uses version {NOISE_SCHEME['version']}; a resumed sweep would mix the two: start a "
            "new sweep"
        )
    return plan, manifest


def _jobs(
    plan: LoadedSpec, design: np.ndarray, todo: list[int], engine: str, n_runs: int
) -> Iterator[ChunkJob]:
    names = tuple(plan.parameters)
    replicates, size = plan.spec.replicates, plan.chunk_size
    key = base_key(plan)
    for i in todo:
        runs = range(i * size, min((i + 1) * size, n_runs))
        first, last = runs.start // replicates, (runs.stop - 1) // replicates
        yield ChunkJob(
            index=i,
            runs=runs,
            first_point=first,
            values=design[first : last + 1],
            names=names,
            replicates=replicates,
            root_seed=plan.spec.seed,
            base=key,
            engine=engine,
            keep=plan.spec.keep,
            seeds=plan.spec.seeds,
        )


def run_sweep(
    spec: str | Path | LoadedSpec | dict | None,
    out: str | Path,
    *,
    executor: str = "process",
    workers: int | None = None,
    engine: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
    dask_processes: bool = True,
    scheduler_timeout: float = SCHEDULER_TIMEOUT,
) -> Path:
    """Run (or finish) a sweep and write its folder.

    Args:
        spec: A spec file, a loaded spec, or a spec as data (scenario path relative to the
            working folder); ignored (may be None) with ``resume``.
        out: The sweep folder.
        executor: ``serial``, ``process`` or ``dask`` (see
            :func:`sim.sweep.executors.open_executor`).
        workers: Processes (``process``) or LocalCluster workers (``dask``).
        engine: A key of :data:`sim.model.engines.ENGINES` (default: the folder's engine when
            resuming, else ``ensemble``).
        resume: Finish the sweep already in ``out``, running only the chunks not on disk.
        force: Replace a non-empty ``out``.
        progress: Show a progress bar (runs per second and time left).
        scheduler: Address of a Dask scheduler to join (``executor="dask"``).
        dask_processes: LocalCluster workers as processes (False: threads).
        scheduler_timeout: Seconds allowed to reach ``scheduler``
            (:func:`sim.sweep.executors.join_scheduler`).

    Returns:
        The sweep folder; its ``results.parquet`` holds every run.

    Raises:
        ScenarioError: For a bad spec or scenario.
        OutputError: When ``out`` cannot be used, when another process is writing it (its lock,
            :func:`sim.results.atomic.folder_lock`, is held from the start or resume to the
            final manifest), or when one of its files cannot be written (a full disk, say:
            naming the file and saying how to resume; the finished chunks are kept).
        SweepInterrupted: On Ctrl-C, after the finished chunks were written.
    """
    started = time.perf_counter()
    out = Path(out)
    if not resume:
        if isinstance(spec, dict):
            plan = validate_spec(spec, Path.cwd() / "<spec>")
        elif isinstance(spec, LoadedSpec):
            plan = spec
        elif spec is None:
            raise ValueError("expected a spec (or resume=True)")
        else:
            plan = load_spec(spec)
        check_free(out, force, hint=_RESUME_HINT)  # the refusals that need no lock, first
    with folder_lock(out):  # from the start (or resume) to the final manifest
        if resume:
            plan, manifest = _reopen(out)
        engine = engine or (manifest["engine"] if resume else "ensemble")
        if engine not in ENGINES:
            raise OutputError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
        if not resume:
            plan = plan.for_engine(engine)  # the folder's spec.yaml records the chunk size
            manifest = _start(plan, out, engine, force)
        store.remove_temporaries(out)
        n_runs, size, n_chunks = manifest["n_runs"], manifest["chunk_size"], manifest["n_chunks"]
        done = store.done_chunks(out)
        todo = [i for i in range(n_chunks) if i not in done]
        done_runs = n_runs - sum(len(range(i * size, min((i + 1) * size, n_runs))) for i in todo)
        design = store.read_design(out, list(plan.parameters), manifest.get("n_points"))
        bar = tqdm(
            total=n_runs,
            initial=done_runs,
            unit="run",
            desc=plan.loaded.scenario.meta.name,
            disable=not progress,
            smoothing=0.1,
        )
        try:
            if todo:
                where = (executor, workers, scheduler, dask_processes, scheduler_timeout)
                retried = _execute(plan, design, todo, engine, n_runs, out, bar, *where)
                if retried:
                    manifest["retried_failures"] = manifest.get("retried_failures", []) + retried
        except KeyboardInterrupt as exc:
            bar.close()
            left = len(store.done_chunks(out))
            signum, by = Interrupted.stopped_by(exc)
            raise SweepInterrupted(
                f"interrupted{by}: {left} of {n_chunks} chunks are on disk in {out}/; "
                f"finish with: greatgame sweep --resume {out}",
                signum,
            ) from None
        except OSError as exc:  # a chunk that could not be written: a full disk, say
            bar.close()
            failed = _write_failed(out, exc, n_chunks)
            if failed is None:
                raise
            raise failed from None
        bar.close()
        try:
            store.write_final_dataset(out, n_chunks)
            manifest["status"] = "complete"
            manifest["completed"] = datetime.now(UTC).isoformat(timespec="seconds")
            took = manifest["wall_time_s"] + time.perf_counter() - started
            manifest["wall_time_s"] = round(took, 3)
            manifest["outputs"] = [
                c
                for c in pq.read_schema(out / store.RESULTS).names
                if c not in ID_COLUMNS and c not in plan.parameters
            ]
            store.write_json(manifest, out / store.MANIFEST)
        except OSError as exc:
            failed = _write_failed(out, exc, n_chunks)
            if failed is None:
                raise
            raise failed from None
    return out


_RESUME_HINT = ", or --resume to finish the sweep in it"


MAX_ATTEMPTS = 3
"""Times a chunk is run before the sweep gives up on it: a first run and two retries."""

FAULT_ENV = "GREATGAME_FAULT"
"""Test hook: ``chunk=I,mode=raise|exit,times=N,state=DIR`` makes chunk I fail N times (by an
exception, or by its worker process dying); DIR counts the failures across processes. With
``chunk=I,mode=hold,state=DIR`` chunk I creates ``DIR/holding`` and waits (at most 120 s) until
``DIR/release`` exists, so that a test can act while the sweep is surely running."""


class ChunkFailed(RuntimeError):
    """A chunk failed :data:`MAX_ATTEMPTS` times; finished chunks are on disk (resumable)."""


def _injected_fault(index: int) -> None:
    """Fail chunk ``index`` as :data:`FAULT_ENV` asks (a no-op when it is unset)."""
    text = os.environ.get(FAULT_ENV)
    if not text:
        return
    fault = dict(part.split("=", 1) for part in text.split(","))
    if int(fault["chunk"]) != index:
        return
    state = Path(fault["state"])
    state.mkdir(parents=True, exist_ok=True)
    if fault.get("mode") == "hold":
        (state / "holding").touch()
        deadline = time.monotonic() + 120
        while not (state / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return
    done = len(list(state.iterdir()))
    if done >= int(fault.get("times", "1")):
        return
    (state / f"failure-{done}").touch()
    if fault.get("mode") == "exit":
        os._exit(13)  # the worker process dies, as on a segfault or the OOM killer
    raise RuntimeError(f"injected fault in chunk {index}")


def _run_chunk_checked(job: ChunkJob) -> ChunkOutput:
    """:func:`run_chunk` behind the test hook (runs on a worker)."""
    _injected_fault(job.index)
    return run_chunk(job)


_CHECK_EVERY_S = 2.0
"""While waiting for chunks, how often a Dask cluster's scheduler is checked for."""


class _PoolBroken(Exception):
    """The executor lost a worker; open a new one and run the chunks in flight again."""


def _execute(
    plan: LoadedSpec,
    design: np.ndarray,
    todo: list[int],
    engine: str,
    n_runs: int,
    out: Path,
    bar: tqdm,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    dask_processes: bool,
    scheduler_timeout: float = SCHEDULER_TIMEOUT,
) -> list[str]:
    """Run the chunks in ``todo``, keeping at most two per worker in flight.

    A chunk that raises is run again, up to :data:`MAX_ATTEMPTS` times in all. When a worker
    process dies (a process pool is then broken), a new executor is opened and the chunks that
    were in flight are run again one at a time, so that the one that kills its worker is known;
    only such isolated failures count as attempts. Every failure is printed to stderr.

    Returns:
        A line per failure that was retried (for the manifest).

    Raises:
        ChunkFailed: When a chunk failed :data:`MAX_ATTEMPTS` times, naming it and saying how
            to resume.
        SchedulerUnreachable: When the Dask scheduler cannot be joined (or is lost for good),
            saying how to resume.
    """
    jobs = _jobs(plan, design, todo, engine, n_runs)
    again: deque[ChunkJob] = deque()  # chunks to run again, before any new one
    attempts: Counter[int] = Counter()
    failures: list[str] = []

    def failed(job: ChunkJob, why: str) -> None:
        attempts[job.index] += 1
        runs = f"chunk {job.index} (runs {job.runs.start}-{job.runs.stop - 1})"
        failures.append(f"{runs}: {why}")
        if attempts[job.index] >= MAX_ATTEMPTS:
            n_done = len(store.done_chunks(out))
            raise ChunkFailed(
                f"{runs} failed {MAX_ATTEMPTS} times, last: {why}; {n_done} finished chunks "
                f"are on disk in {out}/; after fixing the cause, finish with: "
                f"greatgame sweep --resume {out}"
            )
        tqdm.write(f"{runs} failed: {why}; running it again", file=sys.stderr)
        again.append(job)

    setup = (set_base, (base_key(plan), _base(plan)))  # each worker gets the scenario once
    opened = (executor, workers, scheduler, dask_processes, scheduler_timeout, setup)
    while True:
        try:
            with open_executor(*opened) as (pool, slots):
                _drain(pool, slots, jobs, again, failed, out, bar)
            return failures
        except _PoolBroken:
            continue
        except SchedulerUnreachable as exc:  # say how to finish the sweep once it answers
            n_done = len(store.done_chunks(out))
            raise SchedulerUnreachable(
                f"{exc}; {n_done} finished chunks are on disk in {out}/; finish with: "
                f"greatgame sweep --resume {out}",
                exc.address,
            ) from None


def _drain(
    pool: Executor,
    slots: int,
    jobs: Iterator[ChunkJob],
    again: deque[ChunkJob],
    failed: Callable[[ChunkJob, str], None],
    out: Path,
    bar: tqdm,
) -> None:
    """Submit and collect chunks until none is left (raises _PoolBroken on a lost worker)."""
    pending: dict[Future, ChunkJob] = {}
    isolate = bool(again)  # chunks that were in flight when a worker died: one at a time

    def submit() -> None:
        nonlocal isolate
        while len(pending) < (1 if isolate else 2 * slots):
            job: ChunkJob | None
            if again:
                job = again.popleft()
            else:
                isolate = False
                job = next(jobs, None)
                if job is None:
                    return
            try:
                future = pool.submit(_run_chunk_checked, job)
            except BrokenExecutor:  # a worker died before its failure reached a future
                requeue([job, *pending.values()])
                pending.clear()
                raise _PoolBroken from None
            pending[future] = job

    def requeue(lost: list[ChunkJob]) -> None:
        names = ", ".join(str(j.index) for j in sorted(lost, key=lambda j: j.index))
        tqdm.write(
            f"a worker process died with chunks {names} in flight; "
            "running them again one at a time",
            file=sys.stderr,
        )
        again.extendleft(sorted(lost, key=lambda j: j.index, reverse=True))

    check_alive = getattr(pool, "check_alive", None)  # a Dask cluster: is the scheduler there?
    submit()
    while pending:
        finished, _ = wait(list(pending), timeout=_CHECK_EVERY_S, return_when=FIRST_COMPLETED)
        if not finished and check_alive is not None:
            check_alive()  # raises SchedulerUnreachable once the client has given up
        # several may finish at once: write them in chunk order, so what is on disk when a
        # write fails does not depend on which future the set yields first
        for future in sorted(finished, key=lambda f: pending[f].index):
            job = pending.pop(future)
            try:
                result: ChunkOutput = future.result()
            except BrokenExecutor as exc:
                lost = [job, *(pending.pop(f) for f in list(pending))]
                if len(lost) == 1:
                    failed(job, f"its worker process died ({type(exc).__name__})")
                else:
                    requeue(lost)
                raise _PoolBroken from None
            except CancelledError:  # a Dask scheduler lost the chunk: not the chunk's fault
                if check_alive is not None:
                    check_alive()
                tqdm.write(f"chunk {job.index} was cancelled; running it again", file=sys.stderr)
                again.append(job)
                continue
            except Exception as exc:
                failed(job, f"{type(exc).__name__}: {exc}")
                continue
            if result.trajectories is not None:
                path = store.chunk_path(out, result.index, "trajectories")
                store.write_table(result.trajectories, path)
            store.write_table(result.runs, store.chunk_path(out, result.index))
            bar.update(len(job.runs))
        submit()


def read_sweep_results(folder: str | Path) -> pd.DataFrame:
    """The final dataset of a complete sweep (``results.parquet``): one row per run, in run order.

    Columns: ``run, point, replicate, seed``, one per parameter path, one per output metric (as
    the manifest lists them).

    Raises:
        OutputError: If the folder is not a sweep folder (a results folder, say), the sweep is
            unfinished, or its manifest or final dataset is damaged or disagrees with the other.
    """
    folder = Path(folder)
    manifest = store.read_manifest(folder, ("parameters", "outputs"))
    path = folder / store.RESULTS
    again = f"; write it again from the chunks with: greatgame sweep --resume {folder}"
    if not path.exists() and manifest.get("status") != "complete":
        again = f" (the sweep is unfinished); finish it with: greatgame sweep --resume {folder}"
    table = read_parquet(path, again)
    params = [p["path"] for p in manifest["parameters"]]
    columns = dict.fromkeys(ID_COLUMNS, "integer") | dict.fromkeys(params, "number")
    check_columns(table, path, columns | dict.fromkeys(manifest["outputs"], "number"), again)
    n_runs = manifest.get("n_runs")
    if n_runs is not None and table.num_rows != n_runs:
        raise OutputError(f"{path}: {table.num_rows} runs, expected {n_runs}{again}")
    try:
        return table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError):
        raise OutputError(f"{path}: not a readable Parquet file (corrupt values){again}") from None


def to_ema(folder: str | Path, per: str = "run") -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A sweep's results in the EMA Workbench's format, for PRIM, CART and feature scoring.

    Args:
        folder: A complete sweep folder.
        per: ``run`` (one experiment per run) or ``point`` (one per parameter point, outcomes
            averaged over replicates).

    Returns:
        ``(experiments, outcomes)`` as ``ema_workbench.perform_experiments`` returns them:
        experiments has one column per parameter (named by its path) and the workbench's
        ``scenario`` (the point), ``policy`` and ``model`` columns; outcomes maps each summary
        metric to a 1-D array aligned with the experiments' rows.
    """
    if per not in ("run", "point"):
        raise ValueError(f"expected per='run' or per='point', found {per!r}")
    folder = Path(folder)
    table = read_sweep_results(folder)
    manifest = store.read_manifest(folder, ("parameters", "outputs", "scenario"))
    params = [p["path"] for p in manifest["parameters"]]
    outputs = manifest["outputs"]
    if per == "point":
        table = table.groupby("point", sort=True)[params + outputs].mean().reset_index()
    experiments = table[params].copy()
    experiments["scenario"] = table["point"].to_numpy()
    experiments["policy"] = pd.Categorical(["none"] * len(table))
    experiments["model"] = pd.Categorical([manifest["scenario"]["name"]] * len(table))
    outcomes = {name: table[name].to_numpy(dtype=np.float64) for name in outputs}
    return experiments, outcomes
