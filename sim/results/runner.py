"""Run a scenario for one or more seeds and write a results folder."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from tqdm.auto import tqdm

from sim.input.errors import OutputError, Problem, ScenarioError
from sim.input.evidence import load_verified
from sim.input.params import strip_provenance, with_values
from sim.input.scenario import LoadedScenario, Scenario
from sim.model.engines import get_engine
from sim.model.metrics import Batch
from sim.model.noise import NOISE_SCHEME
from sim.results.atomic import atomic_folder
from sim.results.provenance import environment
from sim.results.tables import VARIABLES, answers_table, events_table, long_table

__all__ = [
    "OutputError",
    "RunResults",
    "replicate_seeds",
    "run",
    "simulate_replicates",
    "write_run_folder",
]


_ENSEMBLE_BATCH = 1000
"""Runs the ensemble engine advances at once in :func:`run` (the progress bar moves per batch)."""


def replicate_seeds(root: int, n: int) -> list[int]:
    """Independent seeds for ``n`` replicates, from ``SeedSequence(root).spawn(n)``.

    Args:
        root: The root seed given by the user.
        n: Number of replicates.

    Returns:
        One 32-bit integer seed per replicate (each stored with the replicate's results).
    """
    if root < 0:
        raise ValueError(f"expected a non-negative seed, found {root}")
    children = np.random.SeedSequence(root).spawn(n)
    return [int(c.generate_state(1, np.uint32)[0]) for c in children]


@dataclass
class RunResults:
    """Everything a ``greatgame run`` produces, in memory.

    Attributes:
        loaded: The scenario that was run.
        root_seed: The seed given by the user.
        batch: The record of every replicate (with its event log).
        wall_time: Seconds spent simulating.
        engine: The engine that ran them (a key of :data:`sim.model.engines.ENGINES`).
        values: Each replicate's own values of some numbers (one row per replicate, one column
            per scenario path), as drawn from a calibration's posterior; None when every
            replicate runs the scenario's own values.
        values_from: Where ``values`` came from (written to the manifest).
    """

    loaded: LoadedScenario
    root_seed: int
    batch: Batch
    wall_time: float
    engine: str = "ensemble"
    values: pd.DataFrame | None = None
    values_from: dict[str, Any] | None = None
    _table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def seeds(self) -> list[int]:
        """Seed of each replicate."""
        return [int(s) for s in self.batch.seeds]

    def table(self) -> pd.DataFrame:
        """The long results table (:func:`sim.results.tables.long_table`), built once.

        Do not modify it: it is shared by every caller.
        """
        if self._table is None:
            self._table = long_table(self.batch)
        return self._table

    def events(self) -> pd.DataFrame:
        """The event log (:func:`sim.results.tables.events_table`)."""
        return events_table(self.batch)

    def answers(self) -> pd.DataFrame:
        """Every answer the events put to agents (:func:`sim.results.tables.answers_table`)."""
        return answers_table(self.batch)


def run(
    scenario: LoadedScenario | str | Path,
    seed: int = 0,
    replicates: int = 1,
    progress: bool | None = None,
    engine: str = "ensemble",
    values: pd.DataFrame | None = None,
    values_from: dict[str, Any] | None = None,
) -> RunResults:
    """Run a scenario for ``replicates`` seeds spawned from ``seed``.

    Every engine gives the same runs (equal at 1e-9, the same event logs): the ensemble engine
    runs them all at once, the Mesa model (``engine="mesa"``) one by one.

    Args:
        scenario: A loaded scenario or a path to one (loaded with its evidence ids verified,
            :func:`sim.input.evidence.load_verified`).
        seed: Root seed; replicate seeds come from :func:`replicate_seeds`.
        replicates: Number of runs.
        progress: Show a progress bar (None: only on a terminal and for more than 10 runs).
        engine: A key of :data:`sim.model.engines.ENGINES`.
        values: Replicate ``r`` runs the scenario with row ``r``'s numbers written in (scenario
            path to value; their assumption ranges do not bound them): parameter uncertainty,
            as drawn from a calibration's posterior. One row per replicate.
        values_from: Where ``values`` came from, for the manifest.

    Returns:
        The runs' record with its provenance.

    Raises:
        ScenarioError: For a path of ``values`` that is not a number of the scenario, or a value
            that is invalid there.
    """
    if replicates < 1:
        raise ValueError(f"expected at least one replicate, found {replicates}")
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_verified(scenario)
    seeds = replicate_seeds(seed, replicates)
    runs: Scenario | list[Scenario] = loaded.scenario
    if values is not None:
        if len(values) != replicates:
            raise ValueError(f"expected {replicates} rows of values, found {len(values)}")
        runs = scenarios_with(loaded, values)
    started = time.perf_counter()
    batch = simulate_replicates(runs, seeds, engine, progress)
    took = time.perf_counter() - started
    return RunResults(loaded, seed, batch, took, engine, values, values_from)


def scenarios_with(loaded: LoadedScenario, values: pd.DataFrame) -> list[Scenario]:
    """One scenario per row of ``values``, with that row's numbers written in.

    Args:
        loaded: The scenario.
        values: One row per run, one column per scenario path.

    Returns:
        The validated scenarios.

    Raises:
        ScenarioError: For a path that names no number the scenario may have, or a value that
            is invalid there (naming the scenario file and the path).
    """
    try:
        raw = strip_provenance(loaded.raw, [str(c) for c in values.columns])
    except KeyError as exc:  # a path through an id the scenario lacks (an event of another one)
        why = str(exc.args[0]) if exc.args else str(exc)
        raise ScenarioError([Problem(str(loaded.path), (), why)]) from None
    bare = loaded.model_copy(update={"raw": raw})
    rows = values.to_dict(orient="records")
    return [with_values(bare, {str(k): float(v) for k, v in row.items()}) for row in rows]


def simulate_replicates(
    scenario: Scenario | list[Scenario],
    seeds: list[int],
    engine: str = "ensemble",
    progress: bool | None = None,
    desc: str = "runs",
) -> Batch:
    """Simulate one scenario for each seed, with a progress bar on long work.

    The ensemble engine takes the runs in batches of :data:`_ENSEMBLE_BATCH`, the Mesa model
    one at a time; the bar moves after each.

    Args:
        scenario: A validated scenario, or one per run (same structure, numbers may differ).
        seeds: One seed per run.
        engine: A key of :data:`sim.model.engines.ENGINES`.
        progress: Show the bar (None: only on a terminal and for more than 10 runs).
        desc: The bar's label.

    Returns:
        The runs' record.
    """
    # None: off for a few runs, else on a terminal only (tqdm's disable=None); True: always
    disable = (True if len(seeds) <= 10 else None) if progress is None else not progress
    simulate_batch = get_engine(engine)
    size = 1 if engine == "mesa" else _ENSEMBLE_BATCH  # the Mesa model runs one at a time
    parts = []
    with tqdm(total=len(seeds), desc=desc, unit="run", disable=disable) as bar:
        for lo in range(0, len(seeds), size):
            chunk = seeds[lo : lo + size]
            runs = (
                scenario[lo : lo + size] if isinstance(scenario, list) else [scenario] * len(chunk)
            )
            parts.append(simulate_batch(runs, chunk))
            bar.update(len(chunk))
    return parts[0] if len(parts) == 1 else Batch.concat(parts)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(res: RunResults, files: list[str]) -> dict:
    """Provenance of a results folder.

    Args:
        res: The results.
        files: Names of the files written beside the manifest.

    Returns:
        A JSON-ready dictionary.
    """
    loaded = res.loaded
    return {
        "tool": "greatgame run",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": {
            "name": loaded.scenario.meta.name,
            "file": str(loaded.path),
            "sha256": loaded.sha256,
            "files": [{"path": str(p), "sha256": _sha256(p)} for p in loaded.files],
            "start": loaded.scenario.meta.start,
            "end": loaded.scenario.meta.end,
        },
        "engine": res.engine,
        "root_seed": res.root_seed,
        "replicates": res.batch.n_runs,
        "seeds": res.seeds,
        "seed_rule": "numpy.random.SeedSequence(root_seed).spawn(replicates), "
        "each child's generate_state(1, uint32)[0]; each run's noise is keyed by its seed (noise)",
        "noise": dict(NOISE_SCHEME),
        **({"parameters_from": res.values_from} if res.values is not None else {}),
        "variables": VARIABLES,
        **environment(),
        "wall_time_s": round(res.wall_time, 4),
        "files": files,
    }


def write_run_folder(
    res: RunResults,
    out: str | Path,
    force: bool = False,
    extras: Callable[[RunResults, Path], list[str]] | None = None,
) -> Path:
    """Write a results folder atomically (read back by :func:`sim.results.folder.read_run_folder`).

    Everything is written into a hidden temporary folder beside ``out`` (manifest last) and the
    folder is then renamed into place, so ``out`` is either absent, the old contents or the
    complete new results, never half written (:func:`sim.results.atomic.atomic_folder`). What a
    writer killed part-way left beside ``out`` is tidied first.

    Args:
        res: The results.
        out: Folder to create.
        force: Replace ``out`` if it exists and is not empty.
        extras: Writes further files (such as plots) into the temporary folder and returns their
            names.

    Returns:
        The results folder.

    Raises:
        OutputError: If ``out`` is a non-empty folder and ``force`` is False, is a file, or
            cannot be written.
    """
    out = Path(out)
    with atomic_folder(out, force) as tmp:
        names = ["results.parquet", "events.csv", "answers.csv", "scenario.yaml"]
        table = pa.Table.from_pandas(res.table(), preserve_index=False)
        pq.write_table(table, tmp / "results.parquet")
        res.events().to_csv(tmp / "events.csv", index=False)
        res.answers().to_csv(tmp / "answers.csv", index=False)
        if res.values is not None:  # each replicate's own numbers (a posterior draw)
            drawn = res.values.copy()
            drawn.insert(0, "seed", res.seeds)
            drawn.insert(0, "replicate", range(len(drawn)))
            drawn.to_csv(tmp / "parameters.csv", index=False, float_format="%.17g")
            names.append("parameters.csv")
        header = f"# Scenario as run (extends resolved) from {res.loaded.path}\n"
        body = yaml.safe_dump(res.loaded.raw, sort_keys=False, allow_unicode=True, width=100)
        (tmp / "scenario.yaml").write_text(header + body, encoding="utf-8")
        if extras is not None:
            names += extras(res, tmp)
        names.append("manifest.json")
        text = json.dumps(manifest(res, names), indent=2)
        (tmp / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return out
