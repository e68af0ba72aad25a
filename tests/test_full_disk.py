"""A full disk (ENOSPC) at any write is one clear line and exit 2, leaves no temporary file, and a
sweep says how to resume, which then completes it exactly (issue 12, item 9)."""

import errno
import json
import os
from pathlib import Path

import matplotlib.figure
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import DATA, mini_sweep_spec, serial_sweep
from test_analysis import fake_sweep

from sim.cli import main
from sim.sweep.run import read_sweep_results
from sim.sweep.store import done_chunks

FULL = os.strerror(errno.ENOSPC)
N_CHUNKS = 6


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return mini_sweep_spec(tmp_path_factory.mktemp("spec"), seed=11)


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory):
    """The same sweep, serial and undisturbed, in this process."""
    return serial_sweep(spec, tmp_path_factory.mktemp("ref") / "sweep")


def fill_disk(monkeypatch, name: str, nth: int = 1) -> None:
    """The disk fills while the ``nth`` file whose name ends with ``name`` is written: half of
    its bytes reach the (temporary) file, then ``write`` fails with ENOSPC."""
    real = Path.write_bytes
    seen = []

    def write_bytes(self, data):
        if self.name.endswith(name):
            seen.append(self)
            if len(seen) == nth:
                real(self, data[: len(data) // 2])
                raise OSError(errno.ENOSPC, FULL, str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def fill_disk_in_savefig(monkeypatch) -> None:
    """The disk fills while matplotlib writes a figure into a file."""

    def savefig(self, fname, *args, **kwargs):
        if isinstance(fname, str | os.PathLike):
            with Path(fname).open("wb") as fh:
                fh.write(b"\x89PNG half")
            raise OSError(errno.ENOSPC, FULL, str(fname))
        return real(self, fname, *args, **kwargs)

    real = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders and lock files anywhere under ``root``."""
    return [str(p) for p in root.rglob("*") if ".tmp-" in p.name or p.name.endswith(".lock")]


def sweep_args(spec, out, *more):
    """``greatgame --verbose sweep ...``: error lines in full (long temporary paths)."""
    return ["--verbose", "sweep", str(spec), "--out", str(out), "-j", "1", "-q", *more]


def resume_completes(out, reference, monkeypatch, capsys):
    monkeypatch.undo()  # space freed
    assert main(["sweep", "--resume", str(out), "-j", "1", "-q"]) == 0, capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    pd.testing.assert_frame_equal(read_sweep_results(out), reference, check_exact=True)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "internal error" not in err and "Traceback" not in err
    assert FULL in err
    return err


def test_full_disk_while_writing_a_chunk(tmp_path, spec, reference, monkeypatch, capsys):
    out = tmp_path / "sweep"
    fill_disk(monkeypatch, "runs-000003.parquet")
    assert main(sweep_args(spec, out)) == 2
    err = one_error_line(capsys)
    assert f"{out / 'chunks' / 'runs-000003.parquet'}: cannot write it" in err
    assert f"3 of {N_CHUNKS} chunks are on disk in {out}/" in err
    assert err.endswith(f"finish with: greatgame sweep --resume {out}")
    assert leftovers(tmp_path) == []
    assert done_chunks(out) == {0, 1, 2}
    resume_completes(out, reference, monkeypatch, capsys)


def test_full_disk_while_writing_the_final_dataset(tmp_path, spec, reference, monkeypatch, capsys):
    class FillingWriter(pq.ParquetWriter):
        def write_table(self, table, *args, **kwargs):
            super().write_table(table, *args, **kwargs)
            raise OSError(errno.ENOSPC, FULL)

    out = tmp_path / "sweep"
    monkeypatch.setattr(pq, "ParquetWriter", FillingWriter)
    assert main(sweep_args(spec, out)) == 2
    err = one_error_line(capsys)
    assert f"{out / 'results.parquet'}: cannot write it" in err
    assert err.endswith(f"finish with: greatgame sweep --resume {out}")
    assert leftovers(tmp_path) == []
    assert not (out / "results.parquet").exists()
    assert done_chunks(out) == set(range(N_CHUNKS))
    resume_completes(out, reference, monkeypatch, capsys)


def test_full_disk_while_writing_the_final_manifest(tmp_path, spec, reference, monkeypatch, capsys):
    out = tmp_path / "sweep"
    fill_disk(monkeypatch, "manifest.json", nth=2)  # the first is written when the sweep starts
    assert main(sweep_args(spec, out)) == 2
    err = one_error_line(capsys)
    assert f"{out / 'manifest.json'}: cannot write it" in err
    assert err.endswith(f"finish with: greatgame sweep --resume {out}")
    assert leftovers(tmp_path) == []
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    resume_completes(out, reference, monkeypatch, capsys)


def test_full_disk_when_a_sweep_starts_leaves_nothing(tmp_path, spec, monkeypatch, capsys):
    out = tmp_path / "sweep"
    fill_disk(monkeypatch, "design.parquet")
    assert main(sweep_args(spec, out)) == 2
    err = one_error_line(capsys)
    assert f"cannot write {out / 'design.parquet'}" in err and "was not started" in err
    assert leftovers(tmp_path) == []
    assert not out.exists()
    monkeypatch.undo()
    assert main(sweep_args(spec, out)) == 0  # no --force needed: nothing was left


@pytest.fixture
def results(tmp_path):
    out = tmp_path / "res"
    assert main(["run", str(DATA / "mini.yaml"), "-r", "1", "-q", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["report", "{res}", "-q"], "report.html"),
        (["plot", "{res}", "-q"], "alignment.png"),
        (["plot", "{res}", "-q", "-o", "{tmp}/fig.svg"], "fig.svg"),
    ],
    ids=["report", "plot", "plot-svg"],
)
def test_full_disk_in_report_and_plot(tmp_path, results, monkeypatch, capsys, command, name):
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    fill_disk(monkeypatch, name)
    args = [a.format(res=results, tmp=tmp_path) for a in command]
    assert main(args) == 2
    err = one_error_line(capsys)
    assert name in err
    assert leftovers(tmp_path) == []
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert [p for p in after if p not in before and p.name == name] == []


@pytest.mark.parametrize("where", ["ranking.csv", "savefig"])
def test_full_disk_in_analyze(tmp_path, monkeypatch, capsys, where):
    folder = fake_sweep(tmp_path / "s", "morris", 20)
    if where == "savefig":
        fill_disk_in_savefig(monkeypatch)
    else:
        fill_disk(monkeypatch, where)
    assert main(["analyze", str(folder), "-q"]) == 2
    err = one_error_line(capsys)
    assert str(folder / "analysis" / ("sensitivity.png" if where == "savefig" else where)) in err
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert main(["analyze", str(folder), "-q"]) == 0


@pytest.mark.parametrize("command", ["run", "compare"])
def test_full_disk_while_a_results_folder_draws_its_figures(
    tmp_path, results, monkeypatch, capsys, command
):
    fill_disk_in_savefig(monkeypatch)
    out = tmp_path / "new"
    if command == "run":
        args = ["run", str(DATA / "mini.yaml"), "-r", "1", "-q", "--out", str(out)]
    else:
        args = ["compare", str(results), str(results), "-q", "-o", str(out)]
    assert main(args) == 2
    err = one_error_line(capsys)
    assert err.startswith(f"error: {out}: writing failed")
    assert leftovers(tmp_path) == []
    assert not out.exists()
