"""Benchmark: runs per second of the ensemble engine against the Mesa model, in one process.

Usage (from the repository root)::

    .venv/bin/python bench/bench_engine.py                  # sizes 1 to 100,000, then 1,000,000
    .venv/bin/python bench/bench_engine.py --million 0      # skip the million-run measurement
    .venv/bin/python bench/bench_engine.py --quick          # a smoke run (small sizes, 20,000)
    .venv/bin/python bench/bench_engine.py --quick --json   # one JSON line (see below)

With ``--json`` the benchmark prints one JSON object and nothing else: ``mesa_runs_per_s``
(``--mesa-runs`` Mesa runs), ``ensemble_runs_per_s`` (a batch of 10,000 runs, summary metrics),
``sweep_runs_per_s`` (a ``--sweep-runs`` run LHS sweep of the scenario through
``greatgame sweep -j 1``, a process of its own: start-up, design, engine, chunked storage and
final dataset included) and their ratios, all measured in that one run, with the machine.

Part 1 times, for every batch size, the Mesa engine (:func:`sim.model.mesa_model.mesa_engine`, which
records the trajectory, plus the summary metrics) on ``--mesa-runs`` runs of the scenario and
right after it the ensemble engine (:func:`sim.model.ensemble.run_ensemble`, ``keep="summary"``) on
a batch of that size, and prints both in runs per second with their ratio: the Mesa baseline is
measured in the same run, next to each figure, so both see the same machine load. Both run in
this process on one thread (BLAS threads are pinned to 1 before numpy loads): the ratio is per
core.

Part 2 runs ``--million`` runs keeping the summary metrics, split in blocks over ``--workers``
worker processes (``spawn``), each simulating its blocks in chunks of ``--chunk-size`` runs;
replicate seeds follow ``sim.results.runner.replicate_seeds`` (child ``i`` of
``SeedSequence(root)``) and are made in the workers. It prints the wall time (seeds, workers' start
and gathering included) and the peak resident memory of the whole process tree (sampled every 50 ms
from
``/proc``), with ``ru_maxrss`` of this process and of its largest worker.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.input.scenario import Scenario, load_scenario  # noqa: E402
from sim.model.ensemble import DEFAULT_CHUNK, run_ensemble  # noqa: E402
from sim.model.mesa_model import mesa_engine  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "baseline_2022.yaml"
PAGE = os.sysconf("SC_PAGE_SIZE")


def seeds_for(root: int, lo: int, hi: int) -> np.ndarray:
    """Seeds of replicates ``lo`` to ``hi - 1``, as ``sim.results.runner.replicate_seeds``."""
    return np.array(
        [
            np.random.SeedSequence(root, spawn_key=(i,)).generate_state(1, np.uint32)[0]
            for i in range(lo, hi)
        ],
        dtype=np.int64,
    )


def _timed(fn, min_seconds: float) -> tuple[float, int]:
    """Call ``fn`` until ``min_seconds`` have passed; (seconds, calls)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed, calls


def mesa_rate(sc: Scenario, n_runs: int) -> float:
    """Runs per second of the Mesa engine (trajectory and summary metrics)."""
    seeds = list(range(n_runs))
    mesa_engine([sc], [0])  # warm up
    start = time.perf_counter()
    mesa_engine([sc] * n_runs, seeds).summary()
    return n_runs / (time.perf_counter() - start)


def ensemble_rate(sc: Scenario, size: int, chunk_size: int, min_seconds: float) -> float:
    """Runs per second of the ensemble engine for batches of ``size`` runs (summary kept)."""
    seeds = np.arange(size)
    run_ensemble(sc, seeds[: min(size, 100)], keep="summary", chunk_size=chunk_size)  # warm up
    elapsed, calls = _timed(
        lambda: run_ensemble(sc, seeds, keep="summary", chunk_size=chunk_size), min_seconds
    )
    return size * calls / elapsed


def sweep_rate(path: Path, n_runs: int) -> float:
    """Runs per second of ``greatgame sweep -j 1`` on an LHS sweep of ``n_runs`` runs.

    Two parameters of every power (credibility, monthly budget) over their assumption ranges,
    one replicate a point; timed from the command's start to its exit.
    """
    import subprocess
    import tempfile

    import yaml

    sc = load_scenario(path).scenario
    parameters = {f"powers.{p.id}.{name}": None for p in sc.powers for name in _SWEPT}
    spec = {
        "scenario": str(path.resolve()),
        "design": "lhs",
        "samples": n_runs,
        "replicates": 1,
        "seed": 1,
        "parameters": parameters,
    }
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "spec.yaml"
        spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
        command = [sys.executable, "-m", "sim.cli", "sweep", str(spec_file)]
        command += ["--out", str(Path(tmp) / "out"), "-j", "1", "-q"]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT)
        return n_runs / (time.perf_counter() - start)


_SWEPT = ("credibility", "monthly_budget")
"""Numbers of each power that :func:`sweep_rate` varies."""


def quick_json(args: argparse.Namespace) -> dict:
    """The one-line benchmark of ``--json``: the three rates and their ratios, one run."""
    sc = load_scenario(args.scenario).scenario
    mesa = mesa_rate(sc, args.mesa_runs)
    ensemble = ensemble_rate(sc, 10_000, args.chunk_size, args.min_seconds)
    sweep = sweep_rate(args.scenario, args.sweep_runs)
    return {
        "scenario": args.scenario.name,
        "mesa_runs_per_s": round(mesa, 2),
        "ensemble_runs_per_s": round(ensemble, 1),
        "sweep_runs_per_s": round(sweep, 1),
        "ensemble_over_mesa": round(ensemble / mesa, 1),
        "sweep_over_ensemble": round(sweep / ensemble, 3),
        "sweep_runs": args.sweep_runs,
        "mesa_runs": args.mesa_runs,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": len(os.sched_getaffinity(0)),
        "machine": platform.machine(),
    }


# --- part 2: a million runs over worker processes -----------------------------------------------

_SCENARIO: Scenario | None = None


def _worker_init(path: str) -> None:
    global _SCENARIO
    _SCENARIO = load_scenario(path).scenario


def _block(root: int, lo: int, hi: int, chunk_size: int) -> tuple[int, list[str], np.ndarray]:
    """Simulate replicates ``lo`` to ``hi - 1``; their summary metrics as a ``(n, M)`` array."""
    out = run_ensemble(_SCENARIO, seeds_for(root, lo, hi), keep="summary", chunk_size=chunk_size)
    return lo, list(out), np.column_stack(list(out.values()))


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from ``/proc``."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return total


class PeakSampler(threading.Thread):
    """Samples the resident memory of this process tree until stopped; keeps the peak."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self._halt = interval, 0, threading.Event()

    def run(self) -> None:
        """Sample until :meth:`stop`."""
        while not self._halt.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._halt.set()
        self.join()
        return self.peak


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished workers."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def million(path: Path, n_runs: int, workers: int, chunk_size: int, block: int) -> dict:
    """Run ``n_runs`` replicates over ``workers`` processes; wall time and peak memory."""
    sampler = PeakSampler()
    sampler.start()
    cpu0 = _cpu_seconds()
    start = time.perf_counter()
    bounds = [(lo, min(lo + block, n_runs)) for lo in range(0, n_runs, block)]
    table: np.ndarray | None = None
    names: list[str] = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, ctx, initializer=_worker_init, initargs=(str(path),)) as ex:
        pending: deque = deque()
        for i, (lo, hi) in enumerate(bounds):
            pending.append(ex.submit(_block, 0, lo, hi, chunk_size))
            if len(pending) < 2 * workers and i < len(bounds) - 1:
                continue
            while pending and (len(pending) >= 2 * workers or i == len(bounds) - 1):
                lo, names, part = pending.popleft().result()  # drop each result once copied
                if table is None:
                    table = np.empty((n_runs, part.shape[1]))
                table[lo : lo + len(part)] = part
    wall = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu0
    peak = sampler.stop()
    assert table is not None and np.all(np.isfinite(table))
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_tree_bytes": peak,
        "maxrss_self_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "maxrss_worker_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        "metrics": len(names),
        "table_bytes": table.nbytes,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    ap.add_argument("--sizes", default="1,10,100,1000,10000,100000")
    ap.add_argument("--mesa-runs", type=int, default=100, help="Mesa runs per timing")
    ap.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    ap.add_argument("--min-seconds", type=float, default=2.0, help="least timing per size")
    ap.add_argument("--million", type=int, default=1_000_000, help="runs in part 2 (0: skip)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--block", type=int, default=25_000, help="runs per worker task")
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--json", action="store_true", help="print one JSON object (see above)")
    ap.add_argument("--sweep-runs", type=int, default=100_000, help="runs of the --json sweep")
    args = ap.parse_args(argv)
    if args.json:
        if args.quick:
            args.mesa_runs, args.min_seconds = 20, 0.5
        print(json.dumps(quick_json(args)))
        return
    if args.quick:
        args.sizes, args.mesa_runs, args.min_seconds = "1,100,1000", 20, 0.2
        args.million = min(args.million, 20_000)
        args.block = min(args.block, 5_000)

    sc = load_scenario(args.scenario).scenario
    print(
        f"scenario {args.scenario.name}: {len(sc.powers)} powers, {len(sc.states)} states, "
        f"{len(sc.events)} events, {sc.n_steps} months"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus, "
        f"{platform.machine()}; one thread; chunk size {args.chunk_size}"
    )

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"\nMesa runs/s timed on {args.mesa_runs} runs (trajectory + summary) just before each")
    print("ensemble size, so that both see the same load; ratio = ensemble / Mesa")
    print(f"\n{'batch size':>10}  {'Mesa runs/s':>12}  {'ensemble runs/s':>16}  {'ratio':>8}")
    mesa_all = []
    for size in sizes:
        mesa = mesa_rate(sc, args.mesa_runs)
        rate = ensemble_rate(sc, size, args.chunk_size, args.min_seconds)
        mesa_all.append(mesa)
        print(f"{size:>10,}  {mesa:>12,.1f}  {rate:>16,.0f}  {rate / mesa:>8.1f}")
    print(f"Mesa model overall: median {np.median(mesa_all):,.1f} runs/s")

    if args.million:
        res = million(args.scenario, args.million, args.workers, args.chunk_size, args.block)
        gib = 2.0**30
        print(
            f"\n{args.million:,} runs, summary metrics ({res['metrics']} per run, "
            f"{res['table_bytes'] / gib:.2f} GiB kept), {args.workers} worker processes:"
        )
        print(f"  wall time {res['wall_s']:.1f} s ({args.million / res['wall_s']:,.0f} runs/s)")
        print(
            f"  CPU time {res['cpu_s']:.1f} s, all processes ({res['cpu_s'] / res['wall_s']:.2f} "
            f"cores busy on average; {args.million / res['cpu_s']:,.0f} runs per CPU second)"
        )
        print(f"  peak memory of the process tree {res['peak_tree_bytes'] / gib:.2f} GiB")
        print(
            f"  ru_maxrss: main process {res['maxrss_self_bytes'] / gib:.2f} GiB, "
            f"largest worker {res['maxrss_worker_bytes'] / gib:.2f} GiB"
        )


if __name__ == "__main__":
    main()
