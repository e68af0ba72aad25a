"""Attack the command line through the folders it reads, the specs it runs, the places it writes.

Three surfaces, each case a real ``greatgame`` process (``sim.cli.main``, as the installed entry
point calls it) in a scratch folder of its own, deterministically from ``(seed, case number)``:

- ``folder``: damaged or foreign results and sweep folders (the 37 variants of
  ``tests/test_folders.py``, plus random damage: flipped bytes, truncation at any length, every
  ``manifest.json`` field set to a wrong value or deleted, mutated ``scenario.yaml`` or
  ``spec.yaml``, missing, extra and swapped files, a file replaced by a folder, a FIFO, a sparse
  8 GB file or a symlink (dangling, a loop, ``/dev/zero``...), unreadable files, folders of the
  other kind or of unrelated files) fed to ``observe``, ``plot``, ``report``, ``compare``,
  ``analyze`` and ``sweep --resume``. The base folders are made once: a run of
  ``scenarios/baseline_2022.yaml`` with 2 replicates, a 16-point sobol sweep of it, a
  comparison, an analysis and a run of ``tests/data/mini.yaml``.
- ``spec``: sweep specs that validate field by field but may not run as a whole (no parameters,
  the five jointly normalised ``model.channel_weights``, the shares of a lever mix, designs of
  10 million points and more, huge ``chunk_size`` and ``replicates``, every model parameter over
  its schema bounds, range ends that overflow to infinity or NaN), run with ``greatgame sweep
  SPEC --out OUT -j 1 -q``. A refused spec must leave no ``OUT`` behind, and an accepted one
  must write only finite numbers.
- ``filesystem``: ``--out`` at ``.``, ``..``, ``../..``, ``~``, the home folder, ``/``, a file,
  folders of a user's files, a folder greatgame wrote, an unwritable folder, symlinks (to a
  user's folder, to ``/``, dangling, a loop, a path through one), names of 255 and 256
  characters, a path over ``PATH_MAX``, newlines, unicode, bytes that are no UTF-8, a leading
  dash, a NUL in ``meta.name``, and the default place, each with and without ``--force``, for
  ``run``, ``sweep`` and ``compare``.

Every case's scratch folder holds sentinel files (``notes.txt`` beside the working folder,
``thesis.tex`` in it, ``~/.bashrc``, the user's files in the target folders) that must survive
unchanged. The process runs with its working folder, ``HOME`` and ``TMPDIR`` in the scratch
folder and under a guard (an audit hook, :data:`GUARD`) that refuses, and records, any removal,
rename or write outside it: a case that targets ``/`` or ``../..`` cannot harm the machine even
if ``--force`` were to try. An unwritable or unreadable folder is emulated by the same guard when
running as root (root ignores permissions), with ``chmod`` otherwise.

A case ends as one of :data:`OUTCOMES`:

- ``error``: exit status 2, the first line of standard error names a file or folder of the case,
  no line over 500 characters, no traceback;
- ``accepted``: exit status 0;
- ``crash``: exit status 1 (``internal error``), a traceback, any other status or a signal;
- ``hang``: still running after ``--timeout`` seconds (then killed, with its process group);
- ``memory``: peak resident memory over ``--max-rss-mib``, or a ``MemoryError``;
- ``unclear``: exit status 2 whose first line names nothing of the case, or an overlong line;
- ``nan``: a sweep accepted, but its dataset holds NaN or infinite numbers;
- ``leftover``: a sweep refused, yet its ``--out`` folder was left behind;
- ``deleted``: a sentinel file was deleted or changed, or something outside the scratch folder
  was removed, renamed or written (refused by the guard).

The script prints counts per surface and kind and exits 1 when any case ends in a bad outcome
(:data:`FAILURES`). Rerun one case with ``--case N`` (any surface; case numbers interleave the
surfaces by :data:`PATTERN`, so a case's surface and kind do not depend on ``--n``).

Usage::

    .venv/bin/python bench/fuzz_cli.py --n 360 --seed 1 --jobs 2 [--json out.json]
    .venv/bin/python bench/fuzz_cli.py --seed 1 --case 17 -v      # one case again
    .venv/bin/python bench/fuzz_cli.py --n 60 --surface spec        # one surface
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (ROOT, BENCH, ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import fuzz_loader as loader  # noqa: E402 - the loader campaign: mutators, counts, report
import test_folders  # noqa: E402 - the damaged-folder variants of the test suite

OUTCOMES = (*loader.OUTCOMES, "nan", "leftover", "deleted")
FAILURES = (*loader.FAILURES, "nan", "leftover", "deleted")
SEVERITY = ("accepted", "error", "unclear", "nan", "leftover", "crash", "hang", "memory", "deleted")
"""Outcomes from mildest to worst: a case ends in the worst that applies."""
SURFACES = ("folder", "spec", "filesystem")
PATTERN = tuple("fxsfxsfxfxsfxsfxfxsx")
"""How case numbers interleave the surfaces (``f`` folder 7/20, ``x`` filesystem 8/20, ``s`` spec
5/20): case ``N`` has surface ``PATTERN[N % 20]``."""
_SURFACE = {"f": "folder", "s": "spec", "x": "filesystem"}
MAX_LINE = loader.MAX_LINE
MINI = ROOT / "tests" / "data" / "mini.yaml"
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
IS_ROOT = os.geteuid() == 0
SENTINELS = {
    "notes.txt": b"keep me\n",
    "work/thesis.tex": b"chapter 1\n",
    "home/.bashrc": b"# mine\n",
}
"""Files of every scratch folder that must survive every case (relative to the scratch folder)."""

GUARD = r"""
import os, sys


def _install():
    env = os.environ
    roots = lambda name: [os.path.realpath(p) for p in env.pop(name, "").split("\n") if p]
    allowed, deny_write, deny_read = roots("GG_FUZZ_ALLOWED"), roots("GG_FUZZ_DENY_WRITE"), roots(
        "GG_FUZZ_DENY_READ"
    )
    log = os.open(env.pop("GG_FUZZ_GUARD_LOG"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    busy = []

    def where(path, dir_fd=None):
        if isinstance(path, int):
            return None
        p = os.fsdecode(path)
        if dir_fd is not None and not os.path.isabs(p):
            p = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), p)
        p = os.path.abspath(p)
        head, tail = os.path.split(p)
        try:
            return os.path.join(os.path.realpath(head), tail)
        except (OSError, ValueError):
            return p

    def under(p, tops):
        return any(p == t or p.startswith(t.rstrip("/") + "/") for t in tops)

    def check(event, path, dir_fd=None, write=True):
        p = where(path, dir_fd)
        if p is None:
            return
        if write and not under(p, allowed):
            os.write(log, f"{event} {p}\n".encode("utf-8", "surrogateescape"))
            raise PermissionError(13, "refused by the fuzz guard (outside the scratch folder)", p)
        if (write and under(p, deny_write)) or (not write and under(p, deny_read)):
            raise PermissionError(13, "Permission denied", p)

    def hook(event, args):
        if busy or not (event == "open" or event.startswith(("os.", "shutil."))):
            return
        busy.append(1)
        try:
            if event == "open":
                path, mode, flags = args
                w = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                    isinstance(flags, int) and flags & writes
                )
                if path is not None:
                    check(event, path, None, w)
            elif event in ("os.remove", "os.rmdir", "shutil.rmtree"):
                check(event, args[0], args[-1])
            elif event == "os.mkdir":
                p = where(args[0], args[-1])
                if p is not None and not os.path.lexists(p):  # else it fails, harmlessly
                    check(event, p)
            elif event in ("os.chmod", "os.utime"):
                check(event, args[0], args[-1])
            elif event in ("os.truncate", "os.chown"):
                check(event, args[0])
            elif event in ("os.rename", "os.link"):
                check(event, args[0], args[2])
                check(event, args[1], args[3])
            elif event == "os.symlink":
                check(event, args[1], args[2])
            elif event in ("os.listdir", "os.scandir"):
                check(event, args[0] if args[0] is not None else ".", None, False)
        finally:
            busy.clear()

    sys.addaudithook(hook)


_install()
del _install
from sim.cli import main  # noqa: E402

sys.exit(main())
"""
"""The program each case runs: ``sim.cli.main`` under an audit hook that refuses and records any
write, removal or rename outside the allowed folders (``GG_FUZZ_ALLOWED``), and emulates
unwritable (``GG_FUZZ_DENY_WRITE``) and unreadable (``GG_FUZZ_DENY_READ``) folders."""


@dataclass
class Plan:
    """What a case runs and what it must leave alone, made by a case's ``setup``.

    Attributes:
        argv: The arguments after ``greatgame`` (``bytes`` for names that are no UTF-8).
        names: An error's first line must contain one of these.
        sentinels: Files (absolute paths) whose content must survive.
        no_leftover: A folder that must not exist after a refused command.
        nan_check: A sweep folder whose dataset must be finite after success.
        deny_write: Folders the guard makes unwritable.
        deny_read: Files and folders the guard makes unreadable.
        timeout: Seconds before the case counts as a hang (default: the campaign's).
        restore: Undo before cleaning up (``chmod`` back).
    """

    argv: list[str | bytes]
    names: list[str]
    sentinels: dict[str, bytes] = field(default_factory=dict)
    no_leftover: str | None = None
    nan_check: str | None = None
    deny_write: list[str] = field(default_factory=list)
    deny_read: list[str] = field(default_factory=list)
    timeout: float | None = None
    restore: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class CliCase:
    """One generated case: ``setup(scratch)`` builds its files and returns the :class:`Plan`."""

    number: int
    surface: str
    kind: str
    command: str
    label: str
    setup: Callable[[Path], Plan] = field(compare=False, repr=False)


@dataclass
class CliResult(loader.Result):
    """How one case ended, with its command line (``$SCRATCH``: the case's scratch folder)."""

    argv: str = ""


@dataclass
class Ran:
    """How a process ended."""

    status: int | None
    out: str
    err: str
    seconds: float
    peak_mib: float
    timed_out: bool
    guard: str


# --- running one command --------------------------------------------------------------------


class Runner:
    """Runs ``greatgame`` under the guard, in a campaign folder of logs and shared caches."""

    def __init__(self, campaign: Path, timeout: float, max_rss_mib: float):
        self.campaign = campaign
        self.timeout = timeout
        self.max_rss_mib = max_rss_mib
        campaign.mkdir(parents=True, exist_ok=True)
        self.program = campaign / "greatgame"
        self.program.write_text(GUARD)
        self.logs = campaign / "logs"
        self.logs.mkdir()
        self.shared = [campaign / "mplconfig", campaign / "cache"]
        for d in self.shared:
            d.mkdir()
        self._n = 0
        self._lock = threading.Lock()

    def run(
        self,
        argv: list[str | bytes],
        scratch: Path,
        cwd: Path,
        timeout: float | None = None,
        deny_write: list[str] = (),
        deny_read: list[str] = (),
    ) -> Ran:
        """Run ``greatgame ARGV`` in ``cwd``, ``HOME`` in ``scratch``, writing only there."""
        with self._lock:
            self._n += 1
            tag = self.logs / f"p{self._n:06d}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GREATGAME", "GG_FUZZ"))}
        home = scratch / "home"
        (scratch / "tmp").mkdir(exist_ok=True)
        env.update(
            HOME=str(home),
            TMPDIR=str(scratch / "tmp"),
            MPLCONFIGDIR=str(self.shared[0]),
            XDG_CACHE_HOME=str(self.shared[1]),
            PYTHONDONTWRITEBYTECODE="1",
            GIT_OPTIONAL_LOCKS="0",
            MPLBACKEND="Agg",
            GG_FUZZ_ALLOWED="\n".join([str(scratch), *map(str, self.shared), "/dev/null"]),
            GG_FUZZ_DENY_WRITE="\n".join(deny_write),
            GG_FUZZ_DENY_READ="\n".join(deny_read),
            GG_FUZZ_GUARD_LOG=f"{tag}.guard",
        )
        limit = timeout or self.timeout
        cap = int((self.max_rss_mib + 4096) * 2**20)
        started = time.monotonic()
        with open(f"{tag}.out", "wb") as fo, open(f"{tag}.err", "wb") as fe:
            proc = subprocess.Popen(
                [sys.executable, str(self.program), *argv],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=fo,
                stderr=fe,
                start_new_session=True,
            )
            with contextlib.suppress(OSError, ValueError):  # a runaway case fails, not the machine
                resource.prlimit(proc.pid, resource.RLIMIT_AS, (cap, cap))
            timed_out = False
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - started > limit:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)  # its group: no worker outlives it
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
            proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        guard = Path(f"{tag}.guard")
        read = lambda p: Path(p).read_bytes().decode("utf-8", "replace")  # noqa: E731
        return Ran(
            None if timed_out else proc.returncode,
            read(f"{tag}.out"),
            read(f"{tag}.err"),
            seconds,
            usage.ru_maxrss / 1024,
            timed_out,
            guard.read_text(errors="replace") if guard.exists() else "",
        )


# --- bases ----------------------------------------------------------------------------------

BASE_SPEC = {
    "design": "sobol",
    "samples": 4,
    "replicates": 1,
    "seed": 3,
    "chunk_size": 4,
    "parameters": {
        "powers.russia.credibility": [0.4, 0.9],
        "powers.china.monthly_budget": [100, 400],
    },
}
FS_SPEC = {
    "scenario": "mini.yaml",
    "design": "lhs",
    "samples": 2,
    "replicates": 1,
    "seed": 1,
    "parameters": {"powers.north.strategy.threat_intensity": [0.0, 0.9]},
}


def make_bases(runner: Runner, directory: Path, small: bool = False) -> dict[str, Path]:
    """Make the pristine folders the cases damage or read.

    Args:
        runner: Runs the commands.
        directory: Where to put them (made).
        small: Run and sweep ``tests/data/mini.yaml`` instead of the baseline (the test suite's
            smoke test).

    Returns:
        ``run`` (baseline, 2 replicates), ``sweep`` (16 points of the baseline), ``compare``,
        ``analysis``, ``mini_run`` and ``mini.yaml``.
    """
    scenario = MINI if small else BASELINE
    base_spec = {**BASE_SPEC, "parameters": TWO} if small else BASE_SPEC
    directory.mkdir()
    for rel, content in SENTINELS.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_bytes(content)
    spec = directory / "spec.yaml"
    spec.write_text(yaml.safe_dump({"scenario": str(scenario), **base_spec}, sort_keys=False))
    b = {k: directory / k for k in ("run", "sweep", "compare", "analysis", "mini_run")}
    b["mini.yaml"] = directory / "mini.yaml"
    shutil.copy(MINI, b["mini.yaml"])
    steps = [
        [
            ["run", str(scenario), "--replicates", "2", "-o", str(b["run"]), "-q"],
            ["sweep", str(spec), "-o", str(b["sweep"]), "-j", "1", "-q"],
            ["run", str(MINI), "-r", "1", "-o", str(b["mini_run"]), "-q"],
        ],
        [
            ["compare", str(b["run"]), str(b["run"]), "-o", str(b["compare"]), "-q"],
            ["analyze", str(b["sweep"]), "-o", str(b["analysis"]), "-q"],
        ],
    ]
    for group in steps:
        with ThreadPoolExecutor(len(group)) as pool:
            done = list(
                pool.map(lambda a: runner.run(a, directory, directory / "work", 600.0), group)
            )
        for argv, ran in zip(group, done, strict=True):
            if ran.status != 0 or ran.guard:
                raise SystemExit(
                    f"making a base folder failed: greatgame {' '.join(argv)}: status "
                    f"{ran.status}\n{ran.err[-2000:]}{ran.guard}"
                )
    return b


def _layout(scratch: Path) -> dict[str, bytes]:
    """The sentinel files of every case."""
    out = {}
    for rel, content in SENTINELS.items():
        path = scratch / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        out[str(path)] = content
    return out


# --- folder surface -------------------------------------------------------------------------

RUN_KINDS = ("alignment", "influence", "hedging", "heatmap", "heatmap-grid", "attribution")
SWEEP_KINDS = ("indices", "scatter")
FOLDER_COMMANDS = test_folders.COMMANDS
WRONG_VALUES: list[Any] = [
    *loader.WEIRD_VALUES,
    *loader.NUMBERS,
    "../../../etc/passwd",
    "x" * 100_000,
    [None] * 1000,
    {"tool": "greatgame run"},
]
TOOLS = ["greatgame sweep", "greatgame run", "greatgame compare", "greatgame analyze", "", None, 1]
FOLDER_KINDS: dict[str, float] = {
    "fixed": 4.0,
    "byte_flip": 2.0,
    "truncate_at": 2.0,
    "manifest_field": 3.0,
    "file_mutation": 2.0,
    "missing_files": 1.0,
    "extra_files": 1.0,
    "swap_file": 1.0,
    "replace_by_folder": 0.5,
    "symlink": 2.0,
    "special_file": 1.0,
    "unreadable": 1.0,
    "wrong_kind": 2.0,
}
"""Kinds of folder damage and their relative frequency (``fixed``: a variant of
``tests/test_folders.py``)."""


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _rel(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


def _damage(kind: str, rng: random.Random, bases: dict[str, Path]) -> tuple[str, Callable]:
    """A random damage of ``kind``: its label and ``damage(folder, scratch) -> Plan fields``."""

    def pick(folder: Path) -> Path:
        return rng.choice(_files(folder))

    # the random choices are drawn inside ``damage``, on the copy, in a fixed order: the same
    # (seed, case) gives the same damage
    if kind == "byte_flip":
        flips = rng.choice([1, 3, 10, 50])

        def damage(folder, scratch):
            f = pick(folder)
            data = bytearray(f.read_bytes())
            for _ in range(flips):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            f.write_bytes(bytes(data))
            return {"label": f"{flips} bytes of {_rel(f, folder)}"}

    elif kind == "truncate_at":

        def damage(folder, scratch):
            f = pick(folder)
            data = f.read_bytes()
            n = len(data)
            at = rng.choice([0, 1, 4, 8, n // 2, max(n - 1, 0), max(n - 8, 0), rng.randint(0, n)])
            f.write_bytes(data[:at])
            return {"label": f"{_rel(f, folder)} cut at {at} of {n} bytes"}

    elif kind == "manifest_field":

        def damage(folder, scratch):
            path = folder / "manifest.json"
            doc = json.loads(path.read_text())
            locs = [p for p in loader._paths(doc) if p]
            action = rng.choice(["set", "set", "set", "delete", "tool", "add"])
            loc = rng.choice(locs)
            if action == "set":
                value = copy.deepcopy(rng.choice(WRONG_VALUES))
                loader._set(doc, loc, value)
                what = f"{'.'.join(map(str, loc))} = {str(value)[:40]!r}"
            elif action == "delete":
                del loader._get(doc, loc[:-1])[loc[-1]]
                what = f"no {'.'.join(map(str, loc))}"
            elif action == "tool":
                doc["tool"] = rng.choice(TOOLS)
                what = f"tool = {doc['tool']!r}"
            else:
                doc[rng.choice(["extra", "__proto__", "k" * 1000])] = rng.choice(WRONG_VALUES)
                what = "an unknown key"
            path.write_text(json.dumps(doc))
            return {"label": f"manifest {action}: {what}"}

    elif kind == "file_mutation":
        how = rng.choice(
            [*loader.STRUCTURAL, "truncate", "line_edit", "byte_flip", "control_chars"]
        )

        def damage(folder, scratch):
            names = [
                n for n in ("scenario.yaml", "spec.yaml", "events.csv") if (folder / n).exists()
            ]
            path = folder / rng.choice(names)
            text = path.read_text(encoding="utf-8")
            if how in loader.STRUCTURAL and path.suffix == ".yaml":
                doc = loader._mutate_data(how, yaml.safe_load(text), rng)
                path.write_bytes(loader._dump(doc))
            else:
                mode = (
                    how
                    if how in ("truncate", "line_edit", "byte_flip", "control_chars")
                    else "line_edit"
                )
                path.write_bytes(loader._text_mutation(mode, text, rng))
            return {"label": f"{path.name}: {how}"}

    elif kind == "missing_files":

        def damage(folder, scratch):
            files = _files(folder)
            gone = rng.sample(files, rng.randint(1, min(3, len(files))))
            for f in gone:
                f.unlink()
            return {"label": "no " + ", ".join(_rel(f, folder) for f in gone)}

    elif kind == "extra_files":
        extra = rng.choice(
            ["notes", "tmp", "parquet", "plots", "lock", "chunk", "chunk-copy", "sparse", "nested"]
        )

        def damage(folder, scratch):
            if extra == "notes":
                (folder / "notes.txt").write_text("my notes\n")
            elif extra == "tmp":
                (folder / "results.parquet.tmp").write_bytes(b"PAR1 half")
            elif extra == "parquet":
                shutil.copy(pick(folder), folder / "extra.parquet")
            elif extra == "plots":
                (folder / "plots").mkdir(exist_ok=True)
                (folder / "plots" / "alignment.png").write_bytes(b"\x89PNG garbage")
            elif extra == "lock":
                (folder / f".{folder.name}.lock").write_text('{"pid": 1, "host": "elsewhere"}')
                (folder / ".lock").write_text("garbage")
            elif extra == "chunk":
                (folder / "chunks").mkdir(exist_ok=True)
                (folder / "chunks" / "runs-999999.parquet").write_bytes(b"PAR1xxxxPAR1")
            elif extra == "chunk-copy":
                (folder / "chunks").mkdir(exist_ok=True)
                chunks = sorted((folder / "chunks").glob("*.parquet")) or [pick(folder)]
                shutil.copy(chunks[0], folder / "chunks" / "runs-000000 (copy).parquet")
            elif extra == "sparse":
                with open(folder / "big.bin", "wb") as fh:
                    fh.truncate(8 * 2**30)
            else:
                shutil.copytree(folder, scratch / "nested-copy")
                shutil.move(scratch / "nested-copy", folder / "nested")
            return {"label": f"extra {extra}"}

    elif kind == "swap_file":
        donor = rng.choice(["run", "sweep", "mini_run", "compare"])

        def damage(folder, scratch):
            names = sorted(
                {f.name for f in _files(bases[donor])} & {f.name for f in _files(folder)}
            )
            if not names:
                return {"label": f"nothing to swap with {donor}"}
            name = rng.choice(names)
            shutil.copy(next(f for f in _files(bases[donor]) if f.name == name), folder / name)
            return {"label": f"{name} from the {donor} folder"}

    elif kind == "replace_by_folder":

        def damage(folder, scratch):
            f = pick(folder)
            f.unlink()
            f.mkdir()
            if rng.random() < 0.5:
                (f / "inside.txt").write_text("x")
            return {"label": f"{_rel(f, folder)} is a folder"}

    elif kind == "symlink":
        to = rng.choice(
            [
                "dangling",
                "loop",
                "to-folder",
                "/dev/zero",
                "/dev/null",
                "/proc/self/status",
                "other-base",
                "folder-link",
                "folder-loop",
                "folder-dangling",
            ]
        )

        def damage(folder, scratch):
            if to.startswith("folder-"):
                real = scratch / "real-folder"
                folder.rename(real)
                target = {
                    "folder-link": real,
                    "folder-loop": folder,
                    "folder-dangling": scratch / "gone",
                }
                folder.symlink_to(target[to])
                if to != "folder-link":
                    shutil.rmtree(real)
                return {"label": f"the folder is a symlink ({to[7:]})"}
            f = pick(folder)
            f.unlink()
            if to == "dangling":
                f.symlink_to(scratch / "nowhere")
            elif to == "loop":
                f.symlink_to(f)
            elif to == "to-folder":
                f.symlink_to(scratch)
            elif to == "other-base":
                others = [g for g in _files(bases["mini_run"]) if g.suffix == f.suffix]
                elsewhere = scratch / "elsewhere" / f.name
                elsewhere.parent.mkdir(exist_ok=True)
                shutil.copy(rng.choice(others or _files(bases["mini_run"])), elsewhere)
                f.symlink_to(elsewhere)
            else:
                f.symlink_to(to)
            return {"label": f"{_rel(f, folder)} -> {to}"}

    elif kind == "special_file":
        what = rng.choice(["fifo", "sparse", "sparse", "empty-folder-file"])

        def damage(folder, scratch):
            f = pick(folder)
            f.unlink()
            if what == "fifo":
                os.mkfifo(f)
            elif what == "sparse":  # 8 GB of zeros: only a size check stops a reader
                with open(f, "wb") as fh:
                    fh.truncate(8 * 2**30)
            else:
                f.write_bytes(b"")
            return {"label": f"{_rel(f, folder)} is {what}"}

    elif kind == "unreadable":

        def damage(folder, scratch):
            choices = [folder, *(p for p in sorted(folder.rglob("*")) if not p.is_symlink())]
            target = rng.choice(choices)
            fields: dict[str, Any] = {"label": f"{_rel(target, folder.parent)} unreadable"}
            if IS_ROOT:  # root reads anything: the guard refuses instead
                fields["deny_read"] = [str(target)]
            else:
                mode = target.stat().st_mode
                target.chmod(0)
                fields["restore"] = [lambda: target.chmod(mode)]
            return fields

    else:
        raise ValueError(kind)
    return kind, damage


def _folder_argv(
    command: str, folder: Path, other: Path, out: Path, rng: random.Random, sweepish: bool
) -> list[str]:
    if command == "observe":
        return ["observe", str(folder), "--date", rng.choice(["2022-06"] * 4 + ["2023-12"])]
    if command == "plot":
        fitting, other_kinds = (SWEEP_KINDS, RUN_KINDS) if sweepish else (RUN_KINDS, SWEEP_KINDS)
        kind = rng.choice(fitting) if rng.random() < 0.85 else rng.choice(other_kinds)
        return ["plot", str(folder), "--kind", kind, "-o", f"{out}.png", "-q"]
    if command == "report":
        return ["report", str(folder), "-o", f"{out}.html", "-q"]
    if command == "compare":
        first, second = rng.choice(
            [(other, folder), (other, folder), (folder, other), (folder, folder)]
        )
        return ["compare", str(first), str(second), "-o", str(out), "-q"]
    if command == "analyze":
        return ["analyze", str(folder), "-o", str(out), "-q"]
    return ["sweep", "--resume", str(folder), "-j", "1", "-q"]


def folder_case(number: int, rng: random.Random, bases: dict[str, Path]) -> CliCase:
    """A damaged or foreign folder given to one folder-reading command."""
    kind = rng.choices(list(FOLDER_KINDS), weights=list(FOLDER_KINDS.values()))[0]
    if kind == "fixed":
        variant = rng.choice(test_folders.VARIANTS)
        base, label = variant.base, variant.name
        damage = None
    elif kind == "wrong_kind":
        base = rng.choice(
            [
                "compare",
                "analysis",
                "mini_run",
                "scenarios",
                "unrelated",
                "file",
                "manifest-only",
                "parent-of-run",
                "run",
                "sweep",
            ]
        )
        label, damage, variant = f"{base} folder", None, None
    else:
        base = rng.choice(["run", "sweep"])
        variant = None
        _, damage = _damage(kind, rng, bases)
        label = f"{base}/{kind}"
    sweepish = base in ("sweep", "analysis")
    fits = ("analyze", "resume", "plot") if sweepish else ("observe", "plot", "report", "compare")
    if kind == "wrong_kind" and base not in ("run", "sweep"):
        command = rng.choice(FOLDER_COMMANDS)
    elif kind == "wrong_kind":  # a folder of one kind given to a command of the other
        command = rng.choice(
            ("analyze", "resume") if base == "run" else ("observe", "report", "compare")
        )
    else:
        command = rng.choice(fits) if rng.random() < 0.75 else rng.choice(FOLDER_COMMANDS)
    argv_rng = random.Random(rng.random())

    def setup(scratch: Path) -> Plan:
        sentinels = _layout(scratch)
        folder = scratch / "damaged"
        fields: dict[str, Any] = {}
        if variant is not None:
            test_folders.make(variant, {"run": bases["run"], "sweep": bases["sweep"]}, scratch)
        elif kind == "wrong_kind":
            if base in bases:
                shutil.copytree(bases[base], folder)
            elif base == "scenarios":
                shutil.copytree(ROOT / "scenarios", folder)
            elif base == "unrelated":
                folder.mkdir()
                for i in range(argv_rng.randint(0, 5)):
                    name = argv_rng.choice(["a.txt", "data.csv", "x.parquet", "manifest.json", "b"])
                    (folder / f"{i}{name}").write_bytes(
                        argv_rng.randbytes(argv_rng.randint(0, 500))
                    )
            elif base == "file":
                folder.write_bytes(argv_rng.choice([b"", b"PAR1", b'{"tool": "greatgame run"}']))
            elif base == "manifest-only":
                folder.mkdir()
                shutil.copy(bases[argv_rng.choice(["run", "sweep"])] / "manifest.json", folder)
            else:  # the user named the folder above a results folder
                folder.mkdir()
                shutil.copytree(bases["run"], folder / "run")
        else:
            shutil.copytree(bases[base], folder)
            fields = damage(folder, scratch)
        other = scratch / "good"
        shutil.copytree(bases["run"], other)
        argv = _folder_argv(command, folder, other, scratch / "out", argv_rng, sweepish)
        plan = Plan(argv, [str(scratch)], sentinels)
        plan.deny_read = fields.get("deny_read", [])
        plan.restore = fields.get("restore", [])
        if "label" in fields:
            case.label = f"{label}: {fields['label']}"
        return plan

    case = CliCase(number, "folder", kind, command, label, setup)
    return case


# --- spec-joint surface ---------------------------------------------------------------------

SIZES = {"grid": 2, "lhs": 4, "sobol": 4, "morris": 2}
CHANNELS = ("trade", "remittances", "energy", "security", "investment")
CW = [f"model.channel_weights.{c}" for c in CHANNELS]
TWO = {"powers.north.credibility": [0.4, 0.9], "powers.east.monthly_budget": [10, 60]}


def _each(keys: list[str], bounds: list[float]) -> dict[str, list[float]]:
    """The same range for each of ``keys`` (separate lists: no YAML aliases in the spec)."""
    return {k: list(bounds) for k in keys}


def _spec(design: str = "lhs", parameters: Any = TWO, **more: Any) -> dict:
    spec = {"scenario": "mini.yaml", "design": design, "samples": SIZES[design], "replicates": 1}
    spec |= {"seed": 1, "parameters": parameters, **more}
    if parameters is Ellipsis:
        del spec["parameters"]
    return spec


def spec_matrix() -> list[tuple[str, str, dict]]:
    """Every spec-joint case: ``(kind, label, spec)``; the scenario is ``mini.yaml`` beside it."""
    from sim.input.modelparams import model_parameters

    rows: list[tuple[str, str, dict]] = []
    for d in SIZES:
        rows.append(("empty_parameters", f"{d}: parameters {{}}", _spec(d, {})))
    rows.append(
        ("empty_parameters", "lhs: no parameters key (no assumption range)", _spec("lhs", ...))
    )
    rows.append(
        (
            "empty_parameters",
            "null range without an assumption",
            _spec("sobol", {"powers.north.credibility": None}),
        )
    )
    rows.append(("empty_parameters", "parameters: null", _spec("grid", None)))
    for d in SIZES:
        rows.append(("channel_weights", f"{d}: all five over [0, 1]", _spec(d, _each(CW, [0, 1]))))
    rows += [
        ("channel_weights", "all five over [0, 0]", _spec("lhs", _each(CW, [0, 0]))),
        (
            "channel_weights",
            "all five over [0, 1e-300]",
            _spec("lhs", _each(CW, [0, 1e-300])),
        ),
        (
            "channel_weights",
            "all five over [1e308, 1.7e308]",
            _spec("lhs", _each(CW, [1e308, 1.7e308])),
        ),
        (
            "channel_weights",
            "four over [0, 0], one over [0, 1]",
            _spec("grid", {**_each(CW[:4], [0, 0]), CW[4]: [0, 1]}),
        ),
        (
            "channel_weights",
            "two over [0, 1] with morris",
            _spec("morris", _each(CW[:2], [0, 1])),
        ),
        (
            "lever_mix",
            "one share of a lever mix",
            _spec("lhs", {"powers.north.strategy.lever_mix.aid": [0, 1]}),
        ),
        (
            "lever_mix",
            "all three shares",
            _spec(
                "lhs",
                {
                    f"powers.north.strategy.lever_mix.{k}": [0, 1]
                    for k in ("aid", "security", "rhetoric")
                },
            ),
        ),
    ]
    huge = [
        ("lhs: 10M points", _spec("lhs", samples=10_000_000)),
        ("lhs: 2**62 points", _spec("lhs", samples=2**62)),
        ("sobol: 2**24 base samples", _spec("sobol", samples=2**24)),
        ("sobol: 2**60 base samples", _spec("sobol", samples=2**60)),
        ("morris: 10M trajectories", _spec("morris", samples=10_000_000)),
        ("grid: 100,000 levels of 2 parameters", _spec("grid", samples=100_000)),
        (
            "grid: 10 levels of 30 parameters",
            _spec(
                "grid", {p.path: [p.low, min(p.high, 1.0)] for p in model_parameters()}, samples=10
            ),
        ),
        (
            "sobol second order: 30 parameters, 2**20",
            _spec(
                "sobol",
                {p.path: [p.low, min(p.high, 1.0)] for p in model_parameters()},
                samples=2**20,
                second_order=True,
            ),
        ),
    ]
    rows += [("huge_design", label, spec) for label, spec in huge]
    sizes = [
        ("chunk_size 10**9", _spec(chunk_size=10**9)),
        ("chunk_size 2**62", _spec(chunk_size=2**62)),
        ("replicates 10**6", _spec(replicates=10**6)),
        ("replicates 10**9", _spec(replicates=10**9)),
        ("replicates 2**62", _spec(replicates=2**62)),
        ("morris levels 10**6", _spec("morris", levels=10**6)),
        ("trajectories kept, 1,000,000 points", _spec(samples=1_000_000, keep="trajectories")),
        ("4 points x 10**7 replicates", _spec(replicates=10**7, seeds="common")),
    ]
    rows += [("huge_sizes", label, spec) for label, spec in sizes]
    # a 2-level grid runs every corner: each parameter exactly at its bounds, in every combination
    bounds = {
        p.path: [p.low, p.high if math.isfinite(p.high) else 1e308] for p in model_parameters()
    }
    paths = list(bounds)
    for i in range(0, len(paths), 4):
        group = {k: bounds[k] for k in paths[i : i + 4]}
        label = f"grid corners of {', '.join(k.rsplit('.', 1)[-1] for k in group)}"
        rows.append(("schema_bounds", label, _spec("grid", group)))
    rows.append(("schema_bounds", "every model parameter over its bounds", _spec("lhs", bounds)))
    scenario_bounds = {
        "powers.east.monthly_budget": [0, 1e6],
        "powers.north.credibility": [0, 1],
        "states.alpha.gdp": [1e-6, 1e6],
    }
    rows.append(
        ("schema_bounds", "grid corners of scenario numbers", _spec("grid", scenario_bounds))
    )
    population = {"states.alpha.population": [1.0, 1e4]}
    rows.append(("schema_bounds", "a population over [1, 1e4]", _spec("lhs", population)))
    nan = [
        ("monthly_budget over [1e300, 1.7e308]", {"powers.east.monthly_budget": [1e300, 1.7e308]}),
        ("monthly_budget over [0, 1.8e308] (inf)", {"powers.east.monthly_budget": [0, 1.8e308]}),
        (
            "both budgets near the float limit",
            {
                "powers.east.monthly_budget": [1.7e308, 1.79e308],
                "powers.north.monthly_budget": [1.7e308, 1.79e308],
            },
        ),
        ("gdp over [5e-324, 1e-310] (subnormal)", {"states.alpha.gdp": [5e-324, 1e-310]}),
        ("gdp over [1e300, 1e308]", {"states.alpha.gdp": [1e300, 1e308]}),
        ("population over [1e300, 1e308]", {"states.alpha.population": [1e300, 1e308]}),
        ("one channel weight over [1e300, 1e308]", {CW[0]: [1e300, 1e308]}),
        (
            "aid_scale at its lower bound",
            {"model.aid_scale": [1e-6, 1e-6], "powers.east.monthly_budget": [1e300, 1e308]},
        ),
        ("range [low, low]", {"powers.north.credibility": [0.5, 0.5]}),
        ("reversed range", {"powers.north.credibility": [0.9, 0.1]}),
    ]
    rows += [("nan_ends", label, _spec("lhs", params)) for label, params in nan]
    kinds = list(dict.fromkeys(kind for kind, _, _ in rows))
    rank = {id(row): sum(1 for r in rows[:i] if r[0] == row[0]) for i, row in enumerate(rows)}
    return sorted(rows, key=lambda row: (rank[id(row)], kinds.index(row[0])))  # kinds take turns


_SPEC_ROWS: list | None = None


def _inputs(scratch: Path, spec: dict) -> tuple[dict[str, bytes], Path]:
    """The case's sentinels (:func:`_layout`) and ``inputs/`` holding mini.yaml and ``spec``."""
    sentinels = _layout(scratch)
    inputs = scratch / "inputs"
    inputs.mkdir()
    shutil.copy(MINI, inputs / "mini.yaml")
    (inputs / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return sentinels, inputs


def spec_case(number: int, index: int, rng: random.Random) -> CliCase:
    """Row ``index`` of :func:`spec_matrix`, run as ``greatgame sweep``."""
    global _SPEC_ROWS
    if _SPEC_ROWS is None:
        _SPEC_ROWS = spec_matrix()
    kind, label, spec = _SPEC_ROWS[index % len(_SPEC_ROWS)]

    def setup(scratch: Path) -> Plan:
        sentinels, inputs = _inputs(scratch, spec)
        path = inputs / "spec.yaml"
        out = scratch / "work" / "sweep-out"
        argv = ["sweep", str(path), "--out", str(out), "-j", "1", "-q"]
        return Plan(argv, [str(scratch)], sentinels, no_leftover=str(out), nan_check=str(out))

    return CliCase(number, "spec", kind, "sweep", label, setup)


# --- filesystem surface ---------------------------------------------------------------------

FS_COMMANDS = ("run", "sweep", "compare")


def _user_folder(path: Path, sentinels: dict[str, bytes], manifest: bytes | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "thesis.tex").write_bytes(b"chapter 2\n")
    sentinels[str(path / "thesis.tex")] = b"chapter 2\n"
    if manifest is not None:
        (path / "manifest.json").write_bytes(manifest)
    return path


def _target(
    name: str, scratch: Path, bases: dict[str, Path], command: str, sentinels: dict
) -> dict:
    """Make the place ``name`` names in ``scratch``; returns the ``--out`` value and more."""
    work = scratch / "work"
    got: dict[str, Any] = {}
    if name == "cwd":
        got["out"] = "."
    elif name == "parent":
        got["out"] = ".."
    elif name == "grandparent":
        got["out"] = "../.."
    elif name == "tilde":
        got["out"] = "~"
    elif name == "tilde-sub":
        got["out"] = "~/results"
    elif name == "home":
        got["out"] = str(scratch / "home")
    elif name == "home-sub":
        got["out"] = str(scratch / "home" / "results")
    elif name == "root":
        got["out"] = "/"
    elif name == "file":
        (work / "data.csv").write_bytes(b"a,b\n1,2\n")
        sentinels[str(work / "data.csv")] = b"a,b\n1,2\n"
        got["out"] = "data.csv"
    elif name == "user-folder":
        got["out"] = str(_user_folder(scratch / "mine", sentinels))
    elif name == "user-folder-bad-manifest":
        got["out"] = str(_user_folder(scratch / "mine", sentinels, b"\x00{not json"))
    elif name == "user-folder-foreign-manifest":
        got["out"] = str(_user_folder(scratch / "mine", sentinels, b'{"tool": "other tool"}'))
    elif name == "fake-tool-folder":  # says greatgame wrote it: --force may replace it
        mine = scratch / "mine"
        mine.mkdir()
        (mine / "manifest.json").write_text('{"tool": "greatgame run"}')
        (mine / "data.csv").write_text("a\n")
        got["out"] = str(mine)
    elif name in ("tool-folder", "other-kind-folder"):
        kind = {"run": "mini_run", "sweep": "sweep", "compare": "compare"}[command]
        if name == "other-kind-folder":
            kind = {"run": "sweep", "sweep": "mini_run", "compare": "mini_run"}[command]
        shutil.copytree(bases[kind], scratch / "prev")
        got["out"] = str(scratch / "prev")
    elif name == "empty-folder":
        (scratch / "empty").mkdir()
        got["out"] = str(scratch / "empty")
    elif name == "unwritable":
        ro = _user_folder(scratch / "ro", sentinels)
        got["out"] = str(ro)
        got.update(_unwritable(ro))
    elif name == "unwritable-parent":
        ro = _user_folder(scratch / "ro", sentinels)
        got["out"] = str(ro / "new")
        got.update(_unwritable(ro))
    elif name.startswith("symlink-"):
        link = scratch / "link"
        to = name[len("symlink-") :]
        if to == "user":
            link.symlink_to(_user_folder(scratch / "mine", sentinels))
        elif to == "tool":
            shutil.copytree(bases["mini_run"], scratch / "prev")
            link.symlink_to(scratch / "prev")
        elif to == "cwd":
            link.symlink_to(work)
        elif to == "root":
            link.symlink_to("/")
        elif to == "dangling":
            link.symlink_to(scratch / "nowhere")
        elif to == "loop":
            link.symlink_to(scratch / "link2")
            (scratch / "link2").symlink_to(link)
        got["out"] = str(link)
    elif name == "through-symlink":
        (scratch / "linkdir").symlink_to(_user_folder(scratch / "mine", sentinels))
        got["out"] = str(scratch / "linkdir" / "out")
    elif name == "name-255":
        got["out"] = str(scratch / ("x" * 255))
    elif name == "name-256":
        got["out"] = str(scratch / ("x" * 256))
    elif name == "path-over-path-max":
        got["out"] = str(scratch.joinpath(*["d" * 200] * 25))
    elif name == "newline":
        got["out"] = str(scratch / "a\nb")
    elif name == "unicode":
        got["out"] = str(scratch / "résultats-😀-עברית")
    elif name == "not-utf8":
        got["out"] = os.fsencode(scratch) + b"/out-\xff\xfe"
    elif name == "dash":
        got["out"], got["eq"] = "-rf", True
    elif name == "spaces":
        got["out"] = " "
    elif name == "parent-is-file":
        (work / "data.csv").write_bytes(b"a\n")
        sentinels[str(work / "data.csv")] = b"a\n"
        got["out"] = "data.csv/sub"
    elif name == "deep-new":
        got["out"] = "a/b/c/d/e"
    elif name == "dotdot-inside":
        got["out"] = "sub/../sub2"
    elif name == "trailing-slash":
        got["out"] = "out/"
    elif name == "inputs-folder":  # the folder of the command's own input
        got["out"] = str(scratch / "inputs")
    elif name == "compare-input":  # a folder being read is also the output
        got["out"] = str(scratch / "inputs" / "a")
    elif name == "default":  # results/NAME in the working folder, already holding a user's file
        for sub in ("results/mini", "results/sweeps/spec", "results/compare_a_b", "results"):
            _user_folder(work / sub, sentinels)
        got["out"] = None
    elif name == "nul-name":  # argv cannot carry a NUL: it comes from meta.name
        got["out"], got["nul"] = None, True
    else:
        raise ValueError(name)
    return got


def _unwritable(folder: Path) -> dict:
    if IS_ROOT:
        return {"deny_write": [str(folder)]}
    mode = folder.stat().st_mode
    folder.chmod(0o555)
    return {"restore": [lambda: folder.chmod(mode)]}


FS_TARGETS = (
    "cwd",
    "parent",
    "grandparent",
    "tilde",
    "tilde-sub",
    "home",
    "home-sub",
    "root",
    "file",
    "user-folder",
    "user-folder-bad-manifest",
    "user-folder-foreign-manifest",
    "fake-tool-folder",
    "tool-folder",
    "other-kind-folder",
    "empty-folder",
    "unwritable",
    "unwritable-parent",
    "symlink-user",
    "symlink-tool",
    "symlink-cwd",
    "symlink-root",
    "symlink-dangling",
    "symlink-loop",
    "through-symlink",
    "name-255",
    "name-256",
    "path-over-path-max",
    "newline",
    "unicode",
    "not-utf8",
    "dash",
    "spaces",
    "parent-is-file",
    "deep-new",
    "dotdot-inside",
    "trailing-slash",
    "inputs-folder",
    "compare-input",
    "default",
    "nul-name",
)
"""Every ``--out`` of the filesystem surface."""


def fs_matrix() -> list[tuple[str, str, bool]]:
    """Every ``(target, command, force)``, in an order that covers the targets soonest.

    Each target with and without ``--force`` first (the commands rotating), then the other commands.
    """
    rows = []
    for rep in range(len(FS_COMMANDS)):
        for i, target in enumerate(FS_TARGETS):
            for force in (True, False):
                command = FS_COMMANDS[(i + rep) % len(FS_COMMANDS)]
                if target == "nul-name" and command != "run":
                    command = "run"  # only meta.name can carry a NUL, and only run uses it
                if target == "compare-input" and command != "compare":
                    command = "compare"
                rows.append((target, command, force))
    seen, unique = set(), []
    for row in rows:  # nul-name and compare-input repeat: keep one of each
        if row not in seen:
            seen.add(row)
            unique.append(row)
    return unique


def fs_case(number: int, index: int, bases: dict[str, Path]) -> CliCase:
    """Row ``index`` of :func:`fs_matrix`: a command writing into a target."""
    rows = fs_matrix()
    target, command, force = rows[index % len(rows)]

    def setup(scratch: Path) -> Plan:
        sentinels, inputs = _inputs(scratch, FS_SPEC)
        scenario = inputs / "mini.yaml"
        got = _target(target, scratch, bases, command, sentinels)
        if got.get("nul"):
            raw = yaml.safe_load(MINI.read_text())
            raw["meta"]["name"] = "a\x00b"
            scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
        if command == "run":
            argv: list[str | bytes] = ["run", str(scenario), "-r", "1", "-q"]
        elif command == "sweep":
            argv = ["sweep", str(inputs / "spec.yaml"), "-j", "1", "-q"]
        else:
            for sub in ("a", "b"):
                shutil.copytree(bases["mini_run"], inputs / sub)
            argv = ["compare", str(inputs / "a"), str(inputs / "b"), "-q"]
        out = got["out"]
        if out is not None:
            argv += [f"--out={out}"] if got.get("eq") else ["--out", out]
        if force:
            argv.append("--force")
        shown = os.fsdecode(out) if isinstance(out, bytes) else out
        names = [str(scratch), *(["results/"] if target in ("default", "nul-name") else [])]
        names += [f"{shown}:", f"{shown}/:", f"{shown.rstrip('/')}:"] if shown else []
        plan = Plan(argv, names, sentinels)
        plan.deny_write = got.get("deny_write", [])
        plan.restore = got.get("restore", [])
        return plan

    label = f"--out {target}" + (" --force" if force else "")
    return CliCase(number, "filesystem", target, command, label, setup)


# --- the campaign ---------------------------------------------------------------------------


def surface_of(number: int) -> tuple[str, int]:
    """The surface of case ``number`` and its rank among the cases of that surface."""
    block, pos = divmod(number, len(PATTERN))
    letter = PATTERN[pos]
    return _SURFACE[letter], block * PATTERN.count(letter) + PATTERN[:pos].count(letter)


def build_case(seed: int, number: int, bases: dict[str, Path]) -> CliCase:
    """Case ``number`` of the campaign with root ``seed`` (deterministic)."""
    surface, index = surface_of(number)
    rng = random.Random(f"cli:{seed}:{number}")
    if surface == "folder":
        return folder_case(number, rng, bases)
    if surface == "spec":
        return spec_case(number, index, rng)
    return fs_case(number, index, bases)


def case_numbers(n: int, surfaces: tuple[str, ...] = SURFACES) -> list[int]:
    """The first ``n`` case numbers whose surface is one of ``surfaces``."""
    out, number = [], 0
    while len(out) < n:
        if surface_of(number)[0] in surfaces:
            out.append(number)
        number += 1
    return out


def _changed_sentinels(sentinels: dict[str, bytes]) -> list[str]:
    bad = []
    for path, content in sentinels.items():
        try:
            if os.path.islink(path) or Path(path).read_bytes() != content:
                bad.append(f"{path} changed")
        except OSError:
            bad.append(f"{path} deleted")
    return bad


def _non_finite(folder: str) -> str:
    """Where a sweep dataset holds NaN or infinity (empty when finite or absent)."""
    import numpy as np
    import pyarrow.parquet as pq

    path = Path(folder) / "results.parquet"
    if not path.is_file():
        return ""
    try:
        table = pq.read_table(path).to_pandas()
    except Exception as exc:  # an accepted sweep whose dataset cannot be read: say so
        return f"results.parquet unreadable: {type(exc).__name__}"
    numbers = table.select_dtypes("number")
    bad = ~np.isfinite(numbers.to_numpy(dtype=float))
    if not bad.any():
        return ""
    cols = [c for c, b in zip(numbers.columns, bad.any(axis=0), strict=True) if b]
    return f"{int(bad.sum()):,} non-finite values in results.parquet ({', '.join(cols[:5])})"


def classify(ran: Ran, plan: Plan, max_rss_mib: float) -> tuple[str, str]:
    """The outcome of a finished command and a line saying why."""
    text = ran.out + ran.err
    lines = [line for line in ran.err.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    found: list[tuple[str, str]] = []
    if ran.guard:
        found.append(("deleted", f"outside the scratch folder: {ran.guard.splitlines()[0]}"))
    gone = _changed_sentinels(plan.sentinels)
    if gone:
        found.append(("deleted", "; ".join(gone[:3])))
    if ran.peak_mib > max_rss_mib or "MemoryError" in text:
        found.append(("memory", f"peak {ran.peak_mib:.0f} MiB; {first[:200]}"))
    if ran.timed_out:
        found.append(("hang", f"killed after {ran.seconds:.0f} s"))
    elif ran.status == 0:
        why = _non_finite(plan.nan_check) if plan.nan_check else ""
        found.append(("nan", why) if why else ("accepted", first[:200]))
    elif ran.status == 2 and "internal error" not in text and "Traceback" not in text:
        long = [line for line in lines if len(line) > MAX_LINE]
        if not first:
            found.append(("unclear", "exit status 2 with nothing on stderr"))
        elif long:
            found.append(("unclear", f"line of {len(long[0]):,} characters: {long[0][:200]!r}"))
        elif not any(name in first for name in plan.names):
            found.append(("unclear", f"names nothing of the case: {first[:200]}"))
        else:
            found.append(("error", first[:300]))
    else:
        status = f"signal {-ran.status}" if (ran.status or 0) < 0 else f"exit status {ran.status}"
        crash = next((line for line in lines if "internal error" in line or "Error" in line), first)
        found.append(("crash", f"{status}: {crash[:300]}"))
    if ran.status not in (0, None) and plan.no_leftover and os.path.lexists(plan.no_leftover):
        found.append(
            ("leftover", f"refused, yet left {Path(plan.no_leftover).name}/ behind; {first[:200]}")
        )
    outcome, detail = max(found, key=lambda f: SEVERITY.index(f[0]))
    extra = [d for o, d in found if o != outcome and o not in ("error", "accepted")]
    return outcome, "; ".join([detail, *extra])


def run_case(case: CliCase, runner: Runner, campaign: Path) -> CliResult:
    """Set the case up in a scratch folder, run it, classify it, clean up."""
    scratch = Path(tempfile.mkdtemp(prefix=f"case-{case.number:05d}-", dir=campaign))
    try:
        plan = case.setup(scratch)
        ran = runner.run(
            plan.argv, scratch, scratch / "work", plan.timeout, plan.deny_write, plan.deny_read
        )
        outcome, detail = classify(ran, plan, runner.max_rss_mib)
        for undo in plan.restore:
            undo()
    finally:
        _remove(scratch)
    shown = [shlex.quote(os.fsdecode(a)).replace(str(scratch), "$SCRATCH") for a in plan.argv]
    return CliResult(
        case.number,
        case.kind,
        case.command,
        case.label,
        outcome,
        ran.seconds,
        detail,
        "greatgame " + " ".join(shown),
    )


def _remove(scratch: Path) -> None:
    """Remove a scratch folder, whatever a case left in it (modes, deep paths)."""

    def writable(func, path, exc):
        os.chmod(os.path.dirname(path), 0o700)
        func(path)

    if IS_ROOT:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        shutil.rmtree(scratch, onexc=writable)


def run_campaign(
    n: int,
    seed: int = 1,
    jobs: int = 2,
    timeout: float = 30.0,
    max_rss_mib: float = 2048.0,
    cases: list[int] | None = None,
    surfaces: tuple[str, ...] = SURFACES,
    progress: bool = False,
    small: bool = False,
) -> tuple[list[CliResult], dict[int, str]]:
    """Make the bases, run the cases on ``jobs`` threads (each case is its own process).

    Args:
        n: Number of cases (the first ``n`` of ``surfaces``), unless ``cases`` is given.
        seed: Campaign seed.
        jobs: Cases run at once.
        timeout: Seconds after which a case is killed and counts as a hang.
        max_rss_mib: Peak resident memory bound per case, MiB.
        cases: Explicit case numbers.
        surfaces: The surfaces to draw cases from.
        progress: Print a mark per case.
        small: Base folders of ``tests/data/mini.yaml`` (see :func:`make_bases`).

    Returns:
        One result per case in case order, and each case's surface.
    """
    numbers = case_numbers(n, surfaces) if cases is None else list(cases)
    results: dict[int, CliResult] = {}
    surface = {k: surface_of(k)[0] for k in numbers}
    with tempfile.TemporaryDirectory(prefix="greatgame-fuzz-cli-") as tmp:
        campaign = Path(tmp).resolve()
        runner = Runner(campaign, timeout, max_rss_mib)
        bases = make_bases(runner, campaign / "bases", small)
        built = [build_case(seed, k, bases) for k in numbers]
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            futures = [pool.submit(run_case, case, runner, campaign) for case in built]
            for future in as_completed(futures):
                r = future.result()
                results[r.number] = r
                if progress:
                    mark = "." if r.outcome in ("error", "accepted") else r.outcome[0].upper()
                    print(mark, end="", flush=True, file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    return [results[k] for k in numbers], surface


def print_report(results: list[CliResult], surface: dict[int, str], limit: int = 40) -> dict:
    """Print a table of counts per surface, and the bad outcomes; return the summaries."""
    summaries = {}
    for name in SURFACES:
        mine = [r for r in results if surface[r.number] == name]
        if not mine:
            continue
        summary = loader.summarize(mine, OUTCOMES)
        summaries[name] = summary
        print(f"\n== {name} surface ==")
        loader.print_table(summary, OUTCOMES)
    total = Counter(r.outcome for r in results)
    print("\nall surfaces: " + ", ".join(f"{o} {total.get(o, 0)}" for o in OUTCOMES))
    bad = [r for r in results if r.outcome in FAILURES]
    for r in bad[:limit]:
        print(
            f"\n[{r.outcome}] case {r.number} "
            f"({surface[r.number]}/{r.kind}, {r.target}: {r.source})"
        )
        print("  " + r.detail.replace("\n", "\n  "))
        print(f"  {r.argv if len(r.argv) < 400 else r.argv[:200] + ' ... ' + r.argv[-100:]}")
    if len(bad) > limit:
        print(f"\n... and {len(bad) - limit} more")
    return summaries


def main(argv: list[str] | None = None) -> int:
    """Command line: run the campaign, print the counts, exit 1 on any bad outcome."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=360, help="number of cases")
    parser.add_argument("--seed", type=int, default=1, help="campaign seed")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="cases run at once")
    parser.add_argument("--timeout", type=float, default=30.0, help="hang threshold, seconds")
    parser.add_argument("--max-rss-mib", type=float, default=2048.0, help="memory bound, MiB")
    parser.add_argument("--surface", action="append", choices=SURFACES, help="only these")
    parser.add_argument("--case", type=int, action="append", help="run only these cases")
    parser.add_argument("--json", type=Path, help="write the counts and bad outcomes as JSON")
    parser.add_argument("--small", action="store_true", help="bases of tests/data/mini.yaml")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every outcome")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results, surface = run_campaign(
        args.n,
        args.seed,
        args.jobs,
        args.timeout,
        args.max_rss_mib,
        cases=args.case,
        surfaces=tuple(args.surface or SURFACES),
        progress=not args.verbose,
        small=args.small,
    )
    wall = round(time.perf_counter() - started, 1)
    if args.verbose:
        for r in results:
            print(
                f"{r.number:>5} {surface[r.number]:<10} {r.kind:<18} {r.target:<8} {r.outcome:<8} "
                f"{r.seconds:5.1f}s {r.source} | {r.detail[:300]}\n      {r.argv[:400]}"
            )
    summaries = print_report(results, surface)
    print(f"{len(results)} cases, wall time {wall} s")
    if args.json:
        doc = {"seed": args.seed, "wall_s": wall, "surfaces": summaries}
        doc["failures"] = [
            asdict(r) | {"surface": surface[r.number]} for r in results if r.outcome in FAILURES
        ]
        args.json.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return 1 if any(r.outcome in FAILURES for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
