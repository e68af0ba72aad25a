"""The sweep folder on disk: atomic files, chunk files, the final dataset.

Layout of a sweep folder::

    spec.yaml                 the spec with every default filled (scenario as absolute path)
    manifest.json             provenance and status (running / complete)
    design.parquet            one row per parameter point: point, then one column per parameter
    chunks/runs-000000.parquet          summary rows of the runs of chunk 0, and so on
    trajectories/part-000000.parquet    (keep: trajectories) every recorded variable of every
                                        month of chunk 0's runs: run, step, variable, state,
                                        power, value (read the folder as one dataset)
    results.parquet           the final dataset: every chunk's runs, in run order

Every file is written by :func:`sim.results.atomic.atomic_file` (temporary name, flushed to
disk, renamed into place), so after a crash (even ``SIGKILL``) a file is either complete or
absent. A chunk is done when its ``runs``
file exists; its trajectories file, if any, is written first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.results.atomic import TMP_PREFIX, atomic_file, write_file

__all__ = [
    "CHUNKS",
    "MANIFEST",
    "RESULTS",
    "TRAJECTORIES",
    "chunk_path",
    "done_chunks",
    "read_manifest",
    "remove_temporaries",
    "write_json",
    "write_results",
    "write_table",
]

MANIFEST = "manifest.json"
RESULTS = "results.parquet"
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


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a sweep folder.

    Raises:
        FileNotFoundError: If the folder has no manifest.
    """
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


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


def write_results(folder: Path, n_chunks: int) -> Path:
    """Concatenate the runs files of every chunk, in order, into ``results.parquet``.

    Chunks are read one at a time and streamed into the output, so memory holds one chunk.

    Args:
        folder: The sweep folder.
        n_chunks: Number of chunks (all must be on disk).

    Returns:
        The path of the final dataset.
    """
    out = folder / RESULTS
    with atomic_file(out) as tmp:
        writer = None
        try:
            for i in range(n_chunks):
                table = pq.read_table(chunk_path(folder, i))
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    return out
