"""Runs per second of ``greatgame sweep`` against Mesa's own ``batch_run``, in one run.

Both run the same model (:class:`sim.model.mesa_model.GreatGameModel`) on the same scenario, the
same number of runs with the same seeds and the same number of worker processes, and keep the same
thing: the summary metrics of every run (:func:`sim.model.metrics.summarize`). The sweep is a
``grid`` of one point (the scenario's own values) with ``--runs`` replicates; ``batch_run`` gets one
``rng`` per run. The script checks that both give the same numbers, then
prints runs per second and the ratio, for the Mesa engine and every other engine registered in
:data:`sim.model.engines.ENGINES`.

Usage::

    .venv/bin/python bench/bench_sweep.py [--scenario FILE] [--runs N] [--jobs J]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
from mesa.batchrunner import batch_run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.input.scenario import Scenario, load_scenario  # noqa: E402
from sim.model.engines import ENGINES  # noqa: E402
from sim.model.mesa_model import GreatGameModel  # noqa: E402
from sim.model.metrics import summarize  # noqa: E402
from sim.sweep.run import read_sweep_results, run_seed, run_sweep  # noqa: E402


def _summary(model: BatchModel) -> dict[str, float]:
    traj = model.trajectory()
    values = {k: v[None] for k, v in traj.values.items()}
    out = summarize(values, traj.population, traj.states, traj.powers)
    return {k: float(v[0]) for k, v in out.items()}


class BatchModel(GreatGameModel):
    """The model with the DataCollector that ``batch_run`` needs: the summary at the end."""

    def __init__(self, scenario: Scenario, rng: int) -> None:
        super().__init__(scenario, rng=rng)
        self.datacollector = mesa.DataCollector(model_reporters={"summary": _summary})

    def step(self) -> None:
        """One month; collect the summary after the last one."""
        super().step()
        if not self.running:
            self.datacollector.collect(self)


def bench_batch_run(scenario: Path, seeds: list[int], jobs: int) -> tuple[float, pd.DataFrame]:
    """Seconds for ``batch_run`` and its summary table (one row per seed, in seed order)."""
    started = time.perf_counter()
    rows = batch_run(
        BatchModel,
        parameters={"scenario": [load_scenario(scenario).scenario]},  # loaded once, not per run
        number_processes=jobs,
        rng=seeds,
        max_steps=10_000,
        display_progress=False,
    )
    took = time.perf_counter() - started
    table = pd.DataFrame([{"seed": r["rng"], **r["summary"]} for r in rows])
    return took, table.set_index("seed").loc[seeds].reset_index()


def bench_sweep(
    scenario: Path, runs: int, jobs: int, engine: str, folder: Path
) -> tuple[float, pd.DataFrame]:
    """Seconds for ``run_sweep`` (the whole command: spec, design, chunks, final dataset)."""
    spec = {
        "scenario": str(scenario),
        "design": "grid",
        "samples": 1,  # one point: the scenario's own values
        "replicates": runs,
        "seed": 7,
        "parameters": {"model.noise": [0.0, 2 * _noise(scenario)]},  # grid level 0.5 = as is
    }
    started = time.perf_counter()
    executor = "serial" if jobs == 1 else "process"
    run_sweep(spec, folder, executor=executor, workers=jobs, engine=engine, progress=False)
    return time.perf_counter() - started, read_sweep_results(folder)


def _noise(scenario: Path) -> float:
    return float(load_scenario(scenario).scenario.model.noise)


def main() -> int:
    """Run the benchmark and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline_2022.yaml"))
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    scenario = Path(args.scenario).resolve()
    seeds = [run_seed(7, k) for k in range(args.runs)]
    print(f"scenario {scenario.name}, {args.runs} runs, {args.jobs} worker process(es), "
          f"{len(os.sched_getaffinity(0))} CPU(s)")  # fmt: skip
    t_mesa, reference = bench_batch_run(scenario, seeds, args.jobs)
    print(f"mesa batch_run:          {args.runs / t_mesa:9.1f} runs/s ({t_mesa:.2f} s)")
    engines = ["mesa", *[e for e in ENGINES if e != "mesa"]]
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            took, table = bench_sweep(scenario, args.runs, args.jobs, engine, Path(tmp) / engine)
            metrics = [c for c in reference.columns if c != "seed"]
            same = np.array_equal(table["seed"], reference["seed"]) and np.allclose(
                table[metrics].to_numpy(), reference[metrics].to_numpy(), rtol=0, atol=1e-9
            )
            print(
                f"greatgame sweep ({engine}):{' ' * max(0, 8 - len(engine))}"
                f"{args.runs / took:9.1f} runs/s ({took:.2f} s)  "
                f"ratio sweep/batch_run = {t_mesa / took:.2f}x  "
                f"{'same numbers' if same else 'NUMBERS DIFFER'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
