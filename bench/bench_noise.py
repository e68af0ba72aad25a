"""Benchmark: the noise of a batch of runs, counter-based (now) against a generator a run (before).

Usage (from the repository root)::

    .venv/bin/python bench/bench_noise.py                 # 10,000 runs x 24 months x 5 x 6
    .venv/bin/python bench/bench_noise.py --runs 1000 --repeats 3
    .venv/bin/python bench/bench_noise.py --json          # one JSON line

"old" is noise scheme version 1, as ``sim.model.ensemble.noise_blocks`` drew it until issue 16:
a loop over runs, each drawing ``numpy.random.default_rng(seed).standard_normal((T, S, P))``
over the sorted ids and putting it into the scenario's order. "new" is version 2,
:func:`sim.model.noise.standard_normals` (Philox4x32-10 and Box-Muller over the whole batch),
what ``noise_blocks`` is now. Both are timed in this process, alternately, ``--repeats`` times
each; the best time of each is kept (the least disturbed by other load) and the ratio is
old / new. A batch of one run (the Mesa model's ``draw_noise``) is timed too.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model.noise import standard_normals  # noqa: E402

STATES = ["kaz", "kgz", "tjk", "tkm", "uzb"]
POWERS = ["china", "eu", "india", "russia", "turkey", "usa"]


def old_noise(seeds: np.ndarray, n_steps: int, states: list[str], powers: list[str]) -> np.ndarray:
    """Noise scheme version 1: one ``default_rng(seed)`` per run, in a Python loop."""
    s_rank = np.argsort(np.argsort(np.asarray(states, dtype=object)))
    p_rank = np.argsort(np.argsort(np.asarray(powers, dtype=object)))
    out = np.empty((len(seeds), n_steps, len(states), len(powers)))
    for b, seed in enumerate(seeds.tolist()):
        block = np.random.default_rng(seed).standard_normal((n_steps, len(states), len(powers)))
        out[b] = block[:, s_rank][:, :, p_rank]
    return out


def new_noise(seeds: np.ndarray, n_steps: int, states: list[str], powers: list[str]) -> np.ndarray:
    """Noise scheme version 2 (``sim.model.ensemble.noise_blocks``)."""
    return standard_normals(seeds, n_steps, states, powers)


def best_of(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """The best wall time of each function, calling them in turn ``repeats`` times."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def measure(runs: int, months: int, repeats: int) -> dict[str, object]:
    """Old and new noise for ``runs`` runs, and for a batch of one, in seconds and per run."""
    seeds = np.array(
        [
            np.random.SeedSequence(0, spawn_key=(i,)).generate_state(1, np.uint32)[0]
            for i in range(runs)
        ],
        dtype=np.int64,
    )
    batch = best_of(
        {
            "old": lambda: old_noise(seeds, months, STATES, POWERS),
            "new": lambda: new_noise(seeds, months, STATES, POWERS),
        },
        repeats,
    )
    one = best_of(
        {
            "old": lambda: [
                old_noise(seeds[i : i + 1], months, STATES, POWERS) for i in range(100)
            ],
            "new": lambda: [
                new_noise(seeds[i : i + 1], months, STATES, POWERS) for i in range(100)
            ],
        },
        repeats,
    )
    return {
        "runs": runs,
        "shape": [months, len(STATES), len(POWERS)],
        "old_s": batch["old"],
        "new_s": batch["new"],
        "old_us_per_run": 1e6 * batch["old"] / runs,
        "new_us_per_run": 1e6 * batch["new"] / runs,
        "ratio": batch["old"] / batch["new"],
        "one_run_old_us": 1e6 * one["old"] / 100,
        "one_run_new_us": 1e6 * one["new"] / 100,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "numpy": np.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the batch")
    parser.add_argument("--months", type=int, default=24, help="months a run")
    parser.add_argument("--repeats", type=int, default=5, help="timings of each, the best kept")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    res = measure(args.runs, args.months, args.repeats)
    if args.json:
        print(json.dumps(res))
        return
    print(
        f"noise of {args.runs:,} runs x {args.months} months x {len(STATES)} states x "
        f"{len(POWERS)} powers ({res['machine']})"
    )
    print(f"  old (default_rng per run): {res['old_s']:.3f} s, {res['old_us_per_run']:.1f} us/run")
    print(f"  new (Philox, whole batch): {res['new_s']:.3f} s, {res['new_us_per_run']:.1f} us/run")
    print(f"  ratio old / new: {res['ratio']:.2f}")
    print(
        f"  one run alone (the Mesa model): old {res['one_run_old_us']:.0f} us, "
        f"new {res['one_run_new_us']:.0f} us"
    )


if __name__ == "__main__":
    main()
