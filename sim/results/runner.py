"""Run a scenario for one or more seeds and write a results folder."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from tqdm.auto import tqdm

from sim.input.errors import OutputError
from sim.input.evidence import load_verified
from sim.input.scenario import LoadedScenario
from sim.model.mesa_model import GreatGameModel
from sim.model.metrics import RECORDED, Trajectory
from sim.results.atomic import atomic_folder
from sim.results.provenance import environment

__all__ = [
    "OutputError",
    "RunResults",
    "events_table",
    "replicate_seeds",
    "run",
    "tidy",
    "write_run_folder",
]


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


def tidy(trajectories: list[Trajectory], first_run: int = 0) -> pd.DataFrame:
    """Long table of every recorded and derived variable.

    Columns: ``run, seed, step, date, state, power, variable, value``. State-power variables
    (alignment, trust, threat, dependence, primary_patron as a 0/1 indicator) fill both ids;
    per-state variables (hedging) leave ``power`` empty; per-power variables (credibility,
    influence) leave ``state`` empty.

    Args:
        trajectories: Runs to include.
        first_run: Number of the first run.

    Returns:
        The table, one row per run, month, id pair and variable.
    """
    parts = []
    t: np.ndarray  # time, state and power index grids: 3-D or 2-D by variable
    s: np.ndarray
    p: np.ndarray
    for r, traj in enumerate(trajectories):
        values = {**traj.values, **traj.derived()}
        n_t = len(traj.dates)
        for name, arr in values.items():
            if arr.ndim == 3:
                t, s, p = np.meshgrid(
                    np.arange(n_t),
                    np.arange(len(traj.states)),
                    np.arange(len(traj.powers)),
                    indexing="ij",
                )
                states = np.array(traj.states, dtype=object)[s.ravel()]
                powers = np.array(traj.powers, dtype=object)[p.ravel()]
            elif name == "hedging":
                t, s = np.meshgrid(np.arange(n_t), np.arange(len(traj.states)), indexing="ij")
                states = np.array(traj.states, dtype=object)[s.ravel()]
                powers = np.full(t.size, None, dtype=object)
            else:
                t, p = np.meshgrid(np.arange(n_t), np.arange(len(traj.powers)), indexing="ij")
                states = np.full(t.size, None, dtype=object)
                powers = np.array(traj.powers, dtype=object)[p.ravel()]
            steps = t.ravel()
            parts.append(
                pd.DataFrame(
                    {
                        "run": first_run + r,
                        "seed": np.int64(traj.seed),
                        "step": steps.astype(np.int32),
                        "date": np.array(traj.dates, dtype=object)[steps],
                        "state": states,
                        "power": powers,
                        "variable": name,
                        "value": arr.ravel(),
                    }
                )
            )
    table = pd.concat(parts, ignore_index=True)
    for col in ("date", "state", "power", "variable"):
        table[col] = table[col].astype("category")
    return table


def events_table(trajectories: list[Trajectory], first_run: int = 0) -> pd.DataFrame:
    """Event log of every run: ``run, seed, step, date, id, type, magnitude, outcome``."""
    rows = [
        {"run": first_run + r, "seed": traj.seed, **entry}
        for r, traj in enumerate(trajectories)
        for entry in traj.events
    ]
    columns = ["run", "seed", "step", "date", "id", "type", "magnitude", "outcome"]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class RunResults:
    """Everything a ``greatgame run`` produces, in memory.

    Attributes:
        loaded: The scenario that was run.
        root_seed: The seed given by the user.
        trajectories: One per replicate.
        wall_time: Seconds spent simulating.
    """

    loaded: LoadedScenario
    root_seed: int
    trajectories: list[Trajectory]
    wall_time: float
    _table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def seeds(self) -> list[int]:
        """Seed of each replicate."""
        return [t.seed for t in self.trajectories]

    def table(self) -> pd.DataFrame:
        """The tidy results table (see :func:`tidy`), built once (do not modify it)."""
        if self._table is None:
            self._table = tidy(self.trajectories)
        return self._table

    def events(self) -> pd.DataFrame:
        """The event log (see :func:`events_table`)."""
        return events_table(self.trajectories)


def run(
    scenario: LoadedScenario | str | Path,
    seed: int = 0,
    replicates: int = 1,
    progress: bool | None = None,
) -> RunResults:
    """Run a scenario with the Mesa model for ``replicates`` seeds spawned from ``seed``.

    Args:
        scenario: A loaded scenario or a path to one (loaded with its evidence ids verified,
            :func:`sim.input.evidence.load_verified`).
        seed: Root seed; replicate seeds come from :func:`replicate_seeds`.
        replicates: Number of runs.
        progress: Show a progress bar (None: only on a terminal and for more than 10 runs).

    Returns:
        The trajectories with their provenance.
    """
    if replicates < 1:
        raise ValueError(f"expected at least one replicate, found {replicates}")
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_verified(scenario)
    seeds = replicate_seeds(seed, replicates)
    disable = (replicates <= 10) if progress is None else not progress
    started = time.perf_counter()
    trajectories = [
        GreatGameModel(loaded.scenario, rng=s).run()
        for s in tqdm(seeds, desc="runs", unit="run", disable=disable or None)
    ]
    return RunResults(loaded, seed, trajectories, time.perf_counter() - started)


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
        "engine": "mesa",
        "root_seed": res.root_seed,
        "replicates": len(res.trajectories),
        "seeds": res.seeds,
        "seed_rule": "numpy.random.SeedSequence(root_seed).spawn(replicates), "
        "each child's generate_state(1, uint32)[0]; each run uses numpy.random.default_rng(seed)",
        "variables": {
            **RECORDED,
            "hedging": "state",
            "primary_patron": "state-power",
            "influence": "power",
        },
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
        names = ["results.parquet", "events.csv", "scenario.yaml"]
        table = pa.Table.from_pandas(res.table(), preserve_index=False)
        pq.write_table(table, tmp / "results.parquet")
        res.events().to_csv(tmp / "events.csv", index=False)
        header = f"# Scenario as run (extends resolved) from {res.loaded.path}\n"
        body = yaml.safe_dump(res.loaded.raw, sort_keys=False, allow_unicode=True, width=100)
        (tmp / "scenario.yaml").write_text(header + body, encoding="utf-8")
        if extras is not None:
            names += extras(res, tmp)
        names.append("manifest.json")
        text = json.dumps(manifest(res, names), indent=2)
        (tmp / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return out
