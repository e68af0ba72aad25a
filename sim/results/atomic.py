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
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.input.errors import OutputError

__all__ = [
    "TMP_PREFIX",
    "TOOL_FOLDERS",
    "atomic_file",
    "atomic_folder",
    "check_free",
    "manifest_tool",
    "recover_stale",
    "write_file",
    "written_by_tool",
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


TOOL_FOLDERS = ("greatgame run", "greatgame sweep", "greatgame compare")
"""The ``tool`` a folder's ``manifest.json`` names when this tool wrote it (``--force`` replaces
only such folders)."""


def _protected(out: Path) -> str | None:
    """Why ``out`` must never be replaced, or None.

    Never replaced: the root, the home folder, the current folder or one of its ancestors.
    """
    try:
        target = out.resolve()
        here = Path.cwd().resolve()
    except (OSError, RuntimeError):  # a symlink loop, a vanished working folder
        return "its place cannot be resolved"
    if target == Path(target.anchor):
        return "it is the root folder"
    home = Path.home()
    with contextlib.suppress(OSError, RuntimeError):
        home = home.resolve()
    if target == home:
        return "it is the home folder"
    if target == here:
        return "it is the current folder"
    if target in here.parents:
        return "it holds the current folder"
    return None


def manifest_tool(folder: Path) -> str | None:
    """The ``tool`` named by ``folder``'s ``manifest.json`` (None if none or unreadable)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tool = manifest.get("tool") if isinstance(manifest, dict) else None
    return tool if isinstance(tool, str) else None


def written_by_tool(folder: Path) -> str | None:
    """The greatgame command that wrote ``folder`` (one of :data:`TOOL_FOLDERS`), or None."""
    tool = manifest_tool(folder)
    return tool if tool in TOOL_FOLDERS else None


def check_free(out: Path, force: bool, hint: str = "") -> None:
    """Refuse to write ``out`` over anything but an empty folder or a folder greatgame wrote.

    ``--force`` never replaces the root, the home folder, the current folder or a folder that
    holds it, and only replaces a folder whose ``manifest.json`` says greatgame wrote it
    (:data:`TOOL_FOLDERS`): a folder of the user's own files is never deleted.

    Args:
        out: The folder about to be written.
        force: Replace a non-empty folder (one that greatgame wrote).
        hint: Added to the "use --force" advice (e.g. "or --resume to finish the sweep in it").

    Raises:
        OutputError: Naming the folder and why it cannot be written, or how to replace it.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise OutputError(
            f"{out}: folder exists and is not empty (use --force to replace it{hint})"
        )
    why = _protected(out)
    if why is not None:
        raise OutputError(f"{out}: refusing to replace it with --force: {why}")
    if written_by_tool(out) is None:
        raise OutputError(
            f"{out}: refusing to replace it with --force: it holds files that greatgame did not "
            "write (no manifest.json naming greatgame); choose another --out or empty it yourself"
        )


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
