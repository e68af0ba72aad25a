"""The sweep folder on disk: atomic files, chunk files, the final dataset.

Layout of a sweep folder::

    spec.yaml                 the spec with every default filled (scenario as absolute path)
    manifest.json             provenance and status (running / complete)
    design.parquet            one row per parameter point: point, then one column per parameter
    chunks/runs-000000.parquet          summary rows of the runs of chunk 0, and so on
    trajectories/part-000000.parquet    (keep: trajectories) chunk 0's runs as a results
                                        folder's long table (sim.results.tables): run, seed,
                                        step, date, state, power, variable, value (read the
                                        folder as one dataset)
    results.parquet           the final dataset: every chunk's runs, in run order

Every file is written by :func:`sim.results.atomic.atomic_file` (temporary name, flushed to
disk, renamed into place), so after a crash (even ``SIGKILL``) a file is either complete or
absent. A chunk is done when its ``runs``
file exists; its trajectories file, if any, is written first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.input.errors import OutputError
from sim.results.atomic import TMP_PREFIX, atomic_file, write_file
from sim.results.folder import (
    Field,
    check_columns,
    check_fields,
    expect_kind,
    is_int,
    is_number,
    read_json_object,
    read_parquet,
)

__all__ = [
    "CHUNKS",
    "DESIGN",
    "MANIFEST",
    "RESULTS",
    "TRAJECTORIES",
    "chunk_path",
    "done_chunks",
    "read_design",
    "read_manifest",
    "remove_temporaries",
    "write_final_dataset",
    "write_json",
    "write_table",
]

MANIFEST = "manifest.json"
RESULTS = "results.parquet"
DESIGN = "design.parquet"
CHUNKS = "chunks"
TRAJECTORIES = "trajectories"
_TMP = TMP_PREFIX
_CHUNK = re.compile(r"^runs-(\d{6,})\.parquet$")


def write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file atomically."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_file(path, sink.getvalue().to_pybytes())


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write a JSON file atomically."""
    write_file(path, (json.dumps(data, indent=2) + "\n").encode())


def _texts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _parameters(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(p, dict)
            and isinstance(p.get("path"), str)
            and is_number(p.get("low"))
            and is_number(p.get("high"))
            for p in value
        )
    )


def _scenario(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(k), str) for k in ("name", "sha256")
    )


FIELDS: dict[str, Field] = {
    "tool": (lambda v: v == "greatgame sweep", '"greatgame sweep"'),
    "status": (lambda v: v in ("running", "complete"), '"running" or "complete"'),
    "scenario": (_scenario, "an object with the scenario's name and sha256"),
    "design": (lambda v: v in ("grid", "lhs", "sobol", "morris"), "grid, lhs, sobol or morris"),
    "second_order": (lambda v: isinstance(v, bool), "true or false"),
    "levels": (lambda v: is_int(v) and v >= 2, "an integer of at least 2"),
    "parameters": (_parameters, "a non-empty list of {path, low, high}"),
    "n_points": (lambda v: is_int(v) and v >= 1, "a positive integer"),
    "replicates": (lambda v: is_int(v) and v >= 1, "a positive integer"),
    "n_runs": (lambda v: is_int(v) and v >= 1, "a positive integer"),
    "chunk_size": (lambda v: is_int(v) and v >= 1, "a positive integer"),
    "n_chunks": (lambda v: is_int(v) and v >= 1, "a positive integer"),
    "design_seed": (lambda v: is_int(v) and v >= 0, "a non-negative integer"),
    "engine": (lambda v: isinstance(v, str), "an engine name"),
    "wall_time_s": (is_number, "a number"),
    "outputs": (_texts, "a non-empty list of metric names"),
    "retried_failures": (lambda v: isinstance(v, list), "a list"),
}
"""What each field of a sweep's manifest must be (the fields the readers use)."""

RESUME_FIELDS = ("scenario", "parameters", "n_runs", "chunk_size", "n_chunks", "engine")
"""Fields that resuming a sweep needs."""


def read_manifest(folder: Path, require: Iterable[str] = ()) -> dict[str, Any]:
    """The manifest of a sweep folder, checked.

    Args:
        folder: The sweep folder.
        require: Fields that must be present (each of :data:`FIELDS`); every field present is
            checked against :data:`FIELDS`. ``outputs`` is written when the sweep completes:
            requiring it of a running sweep says how to finish it.

    Raises:
        OutputError: If the folder is not a sweep folder (a results folder, say) or the manifest
            is missing, not JSON, not an object, or lacks a required field or has a wrong one.
    """
    folder = expect_kind(folder, "sweep")
    path = folder / MANIFEST
    start_again = "; the sweep cannot be resumed: delete the folder and start the sweep again"
    manifest = read_json_object(path, start_again)
    check_fields(manifest, path, FIELDS, ("tool",), start_again)
    require = list(require)
    if "outputs" in require and "outputs" not in manifest and manifest.get("status") == "running":
        raise OutputError(
            f"{path}: the sweep is unfinished (status running); "
            f"finish it with: greatgame sweep --resume {folder}"
        )
    check_fields(manifest, path, FIELDS, require, start_again)
    return manifest


def read_design(folder: Path, parameters: list[str], n_points: int | None = None) -> np.ndarray:
    """The design of a sweep folder: ``(points, parameters)`` values, in ``parameters`` order.

    Raises:
        OutputError: If ``design.parquet`` is missing, unreadable, lacks a parameter's column,
            or holds another number of points than ``n_points``.
    """
    path = folder / DESIGN
    remedy = "; the sweep's design is damaged: start the sweep again"
    table = read_parquet(path, remedy)
    check_columns(table, path, dict.fromkeys(parameters, "number"), remedy)
    values = np.column_stack(
        [table.column(p).to_numpy(zero_copy_only=False) for p in parameters]
    ).astype(np.float64)
    if n_points is not None and len(values) != n_points:
        raise OutputError(f"{path}: {len(values)} points, expected {n_points}{remedy}")
    return values


def chunk_path(folder: Path, index: int, kind: str = "runs") -> Path:
    """Path of chunk ``index``'s ``runs`` or ``trajectories`` file."""
    if kind == "trajectories":
        return folder / TRAJECTORIES / f"part-{index:06d}.parquet"
    return folder / CHUNKS / f"runs-{index:06d}.parquet"


def done_chunks(folder: Path) -> set[int]:
    """Indices of the chunks whose runs file is on disk."""
    chunks = folder / CHUNKS
    if not chunks.is_dir():
        return set()
    return {int(m.group(1)) for f in chunks.iterdir() if (m := _CHUNK.match(f.name))}


def remove_temporaries(folder: Path) -> int:
    """Delete temporary files left by an interrupted writer; returns how many."""
    n = 0
    for sub in (folder, folder / CHUNKS, folder / TRAJECTORIES):
        if sub.is_dir():
            for f in sub.iterdir():
                if f.name.startswith(_TMP):
                    f.unlink(missing_ok=True)
                    n += 1
    return n


def write_final_dataset(folder: Path, n_chunks: int) -> Path:
    """Concatenate the runs files of every chunk, in order, into ``results.parquet``.

    Chunks are read one at a time and streamed into the output, so memory holds one chunk.

    Args:
        folder: The sweep folder.
        n_chunks: Number of chunks (all must be on disk).

    Returns:
        The path of the final dataset.

    Raises:
        OutputError: If a chunk's file is unreadable or its columns differ from the first one's
            (saying how to run that chunk again).
    """
    out = folder / RESULTS
    with atomic_file(out) as tmp:
        writer = None
        try:
            for i in range(n_chunks):
                path = chunk_path(folder, i)
                again = (
                    f"; delete it and run its runs again with: greatgame sweep --resume {folder}"
                )
                table = read_parquet(path, again)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema)
                elif not table.schema.equals(schema):
                    raise OutputError(f"{path}: its columns differ from those of chunk 0{again}")
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    return out
