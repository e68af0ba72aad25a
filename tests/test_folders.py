"""Damaged and foreign folders: every command that reads a folder answers with exit status 2 and
one line naming the file and what is wrong, never an internal error.

A run folder and a sweep folder of the mini scenario are built once; each variant is a copy of
one of them (or of nothing) damaged in one way, and each is given to every command that reads a
folder: ``observe``, ``plot``, ``report``, ``compare`` (as the compared folder), ``analyze`` and
``sweep --resume``.
"""

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA

from sim.cli import main

COMMANDS = ("observe", "plot", "report", "compare", "analyze", "resume")
RUN_ONLY = ("observe", "report", "compare")
"""Commands that need a run folder (``plot`` takes either kind)."""
SWEEP_ONLY = ("analyze", "resume")


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """A pristine run folder and a pristine sobol sweep folder of the mini scenario."""
    root = tmp_path_factory.mktemp("folders")
    run = root / "run"
    assert main(["run", str(DATA / "mini.yaml"), "-r", "2", "-o", str(run), "-q"]) == 0
    from sim.sweep.run import run_sweep

    spec = {
        "scenario": str(DATA / "mini.yaml"),
        "design": "sobol",
        "samples": 4,
        "replicates": 1,
        "seed": 3,
        "chunk_size": 4,
        "parameters": {
            "powers.north.credibility": [0.4, 0.9],
            "powers.east.monthly_budget": [10, 60],
        },
    }
    sweep = run_sweep(spec, root / "sweep", executor="serial", progress=False)
    return {"run": run, "sweep": sweep, "root": root}


# --- damage ---------------------------------------------------------------------------------


def truncate(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return damage


def garble(name: str) -> Callable[[Path], None]:
    """Overwrite the middle third of a file with bytes that are no Parquet page."""

    def damage(folder: Path) -> None:
        data = bytearray((folder / name).read_bytes())
        third = len(data) // 3
        data[third : 2 * third] = bytes(range(256)) * (third // 256) + b"\xff" * (third % 256)
        (folder / name).write_bytes(bytes(data))

    return damage


def replace(name: str, content: bytes) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).write_bytes(content)

    return damage


def delete(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).unlink()

    return damage


def edit_manifest(change: Callable[[dict], dict]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / "manifest.json"
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return damage


def other_table(folder: Path) -> None:
    """A valid Parquet file that is not a results table."""
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), folder / "results.parquet")


def other_ids(folder: Path) -> None:
    """A results table whose states are not the scenario's."""
    table = pd.read_parquet(folder / "results.parquet")
    table["state"] = table["state"].cat.rename_categories({"alpha": "omega"})
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), folder / "results.parquet")


def no_metrics(folder: Path) -> None:
    """A sweep's final dataset without its metric columns."""
    table = pq.read_table(folder / "results.parquet")
    pq.write_table(table.select(["run", "point", "replicate", "seed"]), folder / "results.parquet")


def wrong_run_types(manifest: dict) -> dict:
    return {**manifest, "seeds": "many", "replicates": "two"}


def wrong_sweep_types(manifest: dict) -> dict:
    return {**manifest, "parameters": "all of them", "n_runs": "many", "outputs": 3}


def unfinished(folder: Path) -> None:
    """A sweep stopped before its final dataset: manifest still running, no results."""
    (folder / "results.parquet").unlink()
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["outputs"]
    path.write_text(json.dumps({**manifest, "status": "running"}))


@dataclass(frozen=True)
class Variant:
    """A damaged folder: a copy of ``base`` (``run``, ``sweep`` or None) changed by ``damage``.

    ``culprit`` is the file the error must name (the folder itself when None).
    """

    name: str
    base: str | None
    damage: Callable[[Path], None]
    culprit: str | None = None


def _nothing(folder: Path) -> None:
    pass


VARIANTS = [
    Variant("run/results-truncated", "run", truncate("results.parquet"), "results.parquet"),
    Variant("run/results-garbled", "run", garble("results.parquet"), "results.parquet"),
    Variant(
        "run/results-text", "run", replace("results.parquet", b"run,value\n"), "results.parquet"
    ),
    Variant("run/results-empty", "run", replace("results.parquet", b""), "results.parquet"),
    Variant("run/results-missing", "run", delete("results.parquet"), "results.parquet"),
    Variant("run/results-other-table", "run", other_table, "results.parquet"),
    Variant("run/results-other-ids", "run", other_ids, "results.parquet"),
    Variant("run/scenario-empty", "run", replace("scenario.yaml", b""), "scenario.yaml"),
    Variant("run/scenario-list", "run", replace("scenario.yaml", b"- 1\n- 2\n"), "scenario.yaml"),
    Variant(
        "run/scenario-bad-yaml", "run", replace("scenario.yaml", b"meta: [x\n"), "scenario.yaml"
    ),
    Variant(
        "run/scenario-invalid",
        "run",
        replace("scenario.yaml", b"meta: {name: x, start: 2022-01, end: 2022-12}\n"),
        "scenario.yaml",
    ),
    Variant("run/scenario-missing", "run", delete("scenario.yaml"), "scenario.yaml"),
    Variant(
        "run/manifest-garbage", "run", replace("manifest.json", b"\x00{garbage"), "manifest.json"
    ),
    Variant("run/manifest-list", "run", replace("manifest.json", b"[1, 2]"), "manifest.json"),
    Variant(
        "run/manifest-no-keys",
        "run",
        replace("manifest.json", b'{"tool": "greatgame run"}'),
        "manifest.json",
    ),
    Variant("run/manifest-wrong-types", "run", edit_manifest(wrong_run_types), "manifest.json"),
    Variant("run/manifest-missing", "run", delete("manifest.json"), "manifest.json"),
    Variant("run/events-garbled", "run", replace("events.csv", b'\x00"a,\n"b'), "events.csv"),
    Variant("sweep/results-truncated", "sweep", truncate("results.parquet"), "results.parquet"),
    Variant("sweep/results-garbled", "sweep", garble("results.parquet"), "results.parquet"),
    Variant("sweep/results-missing", "sweep", delete("results.parquet"), "results.parquet"),
    Variant("sweep/results-no-metrics", "sweep", no_metrics, "results.parquet"),
    Variant(
        "sweep/manifest-garbage", "sweep", replace("manifest.json", b"{not json"), "manifest.json"
    ),
    Variant("sweep/manifest-list", "sweep", replace("manifest.json", b"[]"), "manifest.json"),
    Variant(
        "sweep/manifest-no-keys",
        "sweep",
        replace("manifest.json", b'{"tool": "greatgame sweep"}'),
        "manifest.json",
    ),
    Variant(
        "sweep/manifest-wrong-types", "sweep", edit_manifest(wrong_sweep_types), "manifest.json"
    ),
    Variant("sweep/manifest-missing", "sweep", delete("manifest.json"), "manifest.json"),
    Variant("sweep/unfinished", "sweep", unfinished, "manifest.json"),
    Variant("sweep/design-truncated", "sweep", truncate("design.parquet"), "design.parquet"),
    Variant("sweep/design-missing", "sweep", delete("design.parquet"), "design.parquet"),
    Variant("sweep/spec-empty", "sweep", replace("spec.yaml", b""), "spec.yaml"),
    Variant(
        "sweep/chunk-garbled",
        "sweep",
        replace("chunks/runs-000000.parquet", b"PAR1 not really PAR1"),
        "chunks/runs-000000.parquet",
    ),
    Variant("empty-folder", None, _nothing),
    Variant("file-not-folder", None, _nothing),
    Variant("no-such-folder", None, _nothing),
    Variant("foreign-folder", None, replace("notes.txt", b"my own notes\n")),
    Variant(
        "compare-folder",
        None,
        replace("manifest.json", json.dumps({"tool": "greatgame compare"}).encode()),
    ),
]

SUCCEEDS = {
    # resume writes the final dataset again from the chunks: damage to it is repaired
    ("sweep/results-truncated", "resume"),
    ("sweep/results-garbled", "resume"),
    ("sweep/results-missing", "resume"),
    ("sweep/results-no-metrics", "resume"),
    ("sweep/unfinished", "resume"),  # what resume is for
    # analysis reads the design, the manifest and the final dataset, not the spec or the chunks
    ("sweep/spec-empty", "analyze"),
    ("sweep/spec-empty", "plot"),
    ("sweep/chunk-garbled", "analyze"),
    ("sweep/chunk-garbled", "plot"),
    # only the report reads the event log
    ("run/events-garbled", "observe"),
    ("run/events-garbled", "plot"),
    ("run/events-garbled", "compare"),
}
"""(variant, command) pairs where the command does not read the damaged file, or repairs it."""


def make(variant: Variant, bases: dict, tmp_path: Path) -> Path:
    folder = tmp_path / "damaged"
    if variant.name == "no-such-folder":
        return folder
    if variant.name == "file-not-folder":
        folder.write_text("a file\n")
        return folder
    if variant.base is None:
        folder.mkdir()
    else:
        shutil.copytree(bases[variant.base], folder)
    variant.damage(folder)
    return folder


def argv(command: str, folder: Path, variant: Variant, bases: dict, tmp_path: Path) -> list[str]:
    out = str(tmp_path / "out")
    if command == "observe":
        return ["observe", str(folder), "--date", "2022-06"]
    if command == "plot":
        kind = ["--kind", "indices"] if variant.base == "sweep" else []
        return ["plot", str(folder), *kind, "-o", f"{out}.png", "-q"]
    if command == "report":
        return ["report", str(folder), "-o", f"{out}.html", "-q"]
    if command == "compare":
        return ["compare", str(bases["run"]), str(folder), "-o", out, "-q"]
    if command == "analyze":
        return ["analyze", str(folder), "-o", out, "-q"]
    return ["sweep", "--resume", str(folder), "-j", "1", "-q"]


def needle(command: str, folder: Path, variant: Variant) -> str:
    """What the error line must contain: the damaged file, or the kind of a wrong-kind folder."""
    if variant.base == "run" and command in SWEEP_ONLY:
        return "is a results folder"
    if variant.base == "sweep" and command in RUN_ONLY:
        return "is a sweep folder"
    return str(folder / variant.culprit) if variant.culprit else str(folder)


CASES = [pytest.param(v, c, id=f"{v.name}-{c}") for v in VARIANTS for c in COMMANDS]


@pytest.mark.parametrize(("variant", "command"), CASES)
def test_a_damaged_or_foreign_folder_gives_one_line_and_exit_2(
    variant, command, bases, tmp_path, capsys
):
    folder = make(variant, bases, tmp_path)
    status = main(argv(command, folder, variant, bases, tmp_path))
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err, err
    if (variant.name, command) in SUCCEEDS:
        assert status == 0, err
        return
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(lines) == 1, err
    assert needle(command, folder, variant) in lines[0], lines[0]


def test_a_resumed_sweep_rebuilds_a_damaged_final_dataset_exactly(bases, tmp_path):
    folder = tmp_path / "s"
    shutil.copytree(bases["sweep"], folder)
    garble("results.parquet")(folder)
    assert main(["sweep", "--resume", str(folder), "-j", "1", "-q"]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "results.parquet"),
        pd.read_parquet(bases["sweep"] / "results.parquet"),
        check_exact=True,
    )


def test_the_pristine_folders_pass_every_command_that_fits(bases, tmp_path, capsys):
    """The checks refuse only damage: the undamaged folders work with every command."""
    run, sweep = str(bases["run"]), str(bases["sweep"])
    out = tmp_path / "o"
    assert main(["observe", run, "--date", "2022-06"]) == 0
    assert main(["plot", run, "-o", f"{out}.png", "-q"]) == 0
    assert main(["plot", sweep, "--kind", "scatter", "-o", f"{out}-s.png", "-q"]) == 0
    assert main(["report", run, "-o", f"{out}.html", "-q"]) == 0
    assert main(["compare", run, run, "-o", str(out / "cmp"), "-q"]) == 0
    assert main(["analyze", sweep, "-o", str(out / "an"), "-q"]) == 0
    copy = tmp_path / "sweep"
    shutil.copytree(bases["sweep"], copy)
    assert main(["sweep", "--resume", str(copy), "-j", "1", "-q"]) == 0
    assert "error" not in capsys.readouterr().err


def test_the_readers_return_what_was_written(bases):
    """The public readers give the folder's own table, scenario and manifest."""
    import sim

    run = sim.read_run_folder(bases["run"])
    stored = pd.read_parquet(bases["run"] / "results.parquet")
    pd.testing.assert_frame_equal(run.table, stored)
    assert run.name == "mini" and run.scenario.state_ids == ["alpha", "beta", "gamma"]
    assert run.manifest["replicates"] == 2 and len(run.manifest["seeds"]) == 2
    runs = sim.read_sweep_results(bases["sweep"])
    assert list(runs["run"]) == list(range(16))


def test_an_unfinished_sweep_says_how_to_finish_it(bases, tmp_path, capsys):
    folder = tmp_path / "s"
    shutil.copytree(bases["sweep"], folder)
    unfinished(folder)
    assert main(["analyze", str(folder), "-o", str(tmp_path / "a"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "unfinished" in err and f"greatgame sweep --resume {folder}" in err
