"""Files and folders written atomically: all or nothing, whatever happens while writing.

The one writer of files and folders. A file is written under a temporary name beside it
(:data:`TMP_PREFIX`, the writer's process id, its name), flushed to disk and renamed into place
(:func:`atomic_file`, :func:`write_file`), so after a crash (even ``SIGKILL``) it is complete or
absent. A folder is written into a hidden temporary folder beside its final place (named with the
writer's process id) and renamed into place at the end; an existing folder is moved aside first
and restored if the rename fails. What a writer killed part-way leaves behind is tidied by the
next writer of the same folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.input.errors import OutputError

__all__ = [
    "TMP_PREFIX",
    "atomic_file",
    "atomic_folder",
    "check_free",
    "recover_stale",
    "write_file",
]

TMP_PREFIX = ".tmp-"
"""Start of the name of a file being written (``.tmp-PID-NAME``); readers skip such files."""


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Write one file atomically: yields the temporary path to write to.

    When the block ends normally the temporary file is flushed to disk and renamed to ``path``;
    when it raises (or is interrupted) the temporary file is removed and ``path`` is untouched.

    Args:
        path: The file's final place (its folder must exist).

    Yields:
        ``.tmp-PID-NAME`` beside ``path``.
    """
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def recover_stale(out: Path) -> list[Path]:
    """Tidy what a writer killed while writing ``out`` left beside it.

    A temporary folder of a dead writer is removed; an old folder it had moved aside is put back
    when ``out`` itself is missing (the writer died between the two renames), else removed.

    Args:
        out: The folder about to be written.

    Returns:
        The stale folders that were removed or restored.
    """
    found: list[Path] = []
    if not out.parent.is_dir():
        return found
    for entry in sorted(out.parent.glob(f".{glob.escape(out.name)}.*-*")):
        kind, _, rest = entry.name[len(out.name) + 2 :].partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in ("tmp", "old") or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if kind == "old" and not out.exists():
            entry.rename(out)
        else:
            shutil.rmtree(entry, ignore_errors=True)
        found.append(entry)
    return found


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``; an existing ``out`` is moved aside, restored on failure."""
    if not out.exists():
        tmp.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_free(out: Path, force: bool) -> None:
    """Refuse a path that is a file, or a non-empty folder unless ``force``.

    Raises:
        OutputError: Naming the folder and how to replace it.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"{out}: folder exists and is not empty (use --force to replace it)")


@contextlib.contextmanager
def atomic_folder(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Write a folder all or nothing: yields a temporary folder that becomes ``out`` on success.

    Args:
        out: The folder to write.
        force: Replace ``out`` when it exists and is not empty.

    Yields:
        The temporary folder to write into.

    Raises:
        OutputError: If ``out`` is taken (see :func:`check_free`), cannot be created, or writing
            fails; ``out`` is then as it was before.
    """
    out = Path(out)
    with contextlib.suppress(OSError):  # tidying is best effort; the checks below still apply
        recover_stale(out)
    check_free(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    try:
        yield tmp
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes it private; a plain folder is wanted
        _swap_into_place(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            f"{out}: writing failed ({exc.strerror or exc}); nothing was changed"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
