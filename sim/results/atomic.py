"""Files and folders written atomically: all or nothing, whatever happens while writing.

The one writer of files and folders. A file is written under a temporary name beside it
(:data:`TMP_PREFIX`, the writer's process id, its name), flushed to disk and renamed into place
(:func:`atomic_file`, :func:`write_file`), so after a crash (even ``SIGKILL``) it is complete or
absent. A folder is written into a hidden temporary folder beside its final place (named with the
writer's process id) and renamed into place at the end; an existing folder is moved aside first
and restored if the rename fails. What a writer killed part-way leaves behind is tidied by the
next writer of the same folder.

Every folder is written under an exclusive lock (:func:`folder_lock`): a hidden lock file beside
it, ``PARENT/.NAME.lock``, holding the writer's pid, host, command and start time, locked with
``flock`` for as long as the writer runs. A second writer of the same folder fails at once naming
the first; a lock left by a writer that died is taken over with a note on standard error.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import os
import shlex
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sim.input.errors import OutputError

__all__ = [
    "TMP_PREFIX",
    "TOOL_FOLDERS",
    "atomic_file",
    "atomic_folder",
    "check_free",
    "folder_lock",
    "lock_path",
    "manifest_tool",
    "recover_stale",
    "usable_path",
    "write_file",
    "writer_of",
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

    Raises:
        OSError: When writing fails (a full disk, say), with ``filename`` set to ``path`` (not
            the temporary name, which is gone) unless the error named another file.
    """
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # the error being raised matters, not this one
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, str(tmp), tmp):
            exc.filename, exc.filename2 = str(path), None
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


# --- one writer per folder -------------------------------------------------------------------

LOCK_SUFFIX = ".lock"
"""End of a lock file's name: ``PARENT/.NAME.lock`` guards the folder ``PARENT/NAME``."""

_NO_FLOCK = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)
"""What ``flock`` answers on a filesystem that cannot lock."""

_HELD: set[str] = set()
"""Lock files this process holds (so that its own checks do not take it for another writer)."""


def lock_path(out: str | Path) -> Path | None:
    """The lock file of folder ``out``: ``.NAME.lock`` beside it (None for the root folder).

    The lock file lives in the parent, not in the folder, because ``--force`` replaces the
    folder itself and readers of the folder must not see it; its leading dot hides it.
    """
    target = Path(os.path.abspath(out))
    if not target.name:
        return None
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def _command() -> str:
    """This process's command line, as the user typed it (``greatgame ...``)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if name in ("cli.py", "__main__.py", "-c", "-m") or name.startswith("greatgame"):
        name = "greatgame"
    return shlex.join([name, *sys.argv[1:]])


def _read_lock(fd: int) -> dict[str, object] | None:
    """What an open lock file says (None if empty); ``{}`` if it is not a lock's JSON."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 65536)
    except OSError:
        return {}
    if not data.strip():
        return None
    try:
        info = json.loads(data)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def _clip(text: object, limit: int = 80) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _writer(info: dict[str, object]) -> str:
    """``pid N on HOST`` of a lock's content."""
    return f"pid {_clip(info.get('pid', '?'), 20)} on {_clip(info.get('host', '?'), 80)}"


def _busy(out: Path, info: dict[str, object] | None, lock: Path) -> str:
    """The message for a folder whose lock another process holds."""
    if not info:
        return (
            f"{out}: being written by another process (its lock file {lock} is not filled in "
            "yet); wait for it or stop it"
        )
    since = f", since {_clip(info.get('since', '?'), 40)}"
    return (
        f"{out}: being written by {_writer(info)} ({_clip(info.get('command', '?'))}{since}); "
        "wait for it or stop it"
    )


def _stale_note(out: Path, info: dict[str, object]) -> str:
    """The note printed when a lock whose writer is gone is taken over."""
    if not info:
        return f"note: {out}: took over a lock file that could not be read ({lock_path(out)})"
    host, pid = info.get("host"), info.get("pid")
    if host != socket.gethostname():
        return (
            f"note: {out}: took over the lock left by {_writer(info)}, another machine: a lock "
            "cannot tell whether a process there still writes this folder; make sure none does"
        )
    if isinstance(pid, int) and _pid_alive(pid):
        why = "which no longer holds it (that pid now belongs to another process)"
    else:
        why = "which is no longer running"
    return f"note: {out}: took over the lock left by {_writer(info)}, {why}"


def writer_of(out: str | Path) -> str | None:
    """Who is writing folder ``out`` now, as an error message, or None if nobody else is.

    Args:
        out: A results or sweep folder.

    Returns:
        ``OUT: being written by pid N on HOST (COMMAND, since TIME); wait for it or stop it``
        when another process holds the folder's lock; None when the lock is free, absent or held
        by this process.
    """
    lock = lock_path(out)
    if lock is None or str(lock) in _HELD:
        return None
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _busy(Path(out), _read_lock(fd), lock)
        except OSError:  # a filesystem without flock: the writer finds out when it locks
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _open_locked(out: Path, lock: Path) -> tuple[int, dict[str, object] | None]:
    """Open and flock ``lock`` (created if missing); returns it and what it said before."""
    tries = 100
    for attempt in range(tries):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _read_lock(fd)
            os.close(fd)
            pid = info.get("pid") if info else None
            here = bool(info) and info is not None and info.get("host") == socket.gethostname()
            dead = here and isinstance(pid, int) and not _pid_alive(pid)
            if dead and attempt < tries - 1:
                time.sleep(0.01)  # a dead writer's lock, probed by a check (writer_of): again
                continue
            raise OutputError(_busy(out, info, lock)) from None
        except BaseException:
            os.close(fd)
            raise
        try:  # the holder before may have removed the file between our open and our lock
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except OSError:
            same = False
        if same:
            return fd, _read_lock(fd)
        os.close(fd)
    raise OutputError(f"{out}: its lock file {lock} keeps changing; try again")


@contextlib.contextmanager
def folder_lock(out: str | Path, command: str | None = None) -> Iterator[Path | None]:
    """Hold the exclusive lock of folder ``out`` while writing it.

    The lock is the file ``PARENT/.NAME.lock`` (see :func:`lock_path`), locked with
    ``flock(LOCK_EX | LOCK_NB)`` on a descriptor held until the block ends, and holding JSON
    with the writer's ``pid``, ``host``, ``command`` and ``since`` (its start time) for the
    messages of other writers. A second writer fails at once. A lock file that nobody holds was
    left by a writer that died (even by ``SIGKILL``: the kernel drops its ``flock``); it is
    taken over, with a note on standard error naming that writer. When the block ends, however
    it ends (an error, Ctrl-C, SIGTERM), the lock file is removed.

    ``flock`` locks are seen by the processes of one machine. On a network filesystem (NFS,
    SMB, some cluster filesystems) two machines may both get the lock: a lock file naming
    another host is taken over when its ``flock`` is free, with a note saying so, but nothing
    stops two machines writing one folder at once there. Where ``flock`` is not supported at
    all, the folder is written without a lock.

    Args:
        out: The folder about to be written (it need not exist; its parent is created).
        command: What the writer runs (default: this process's command line).

    Yields:
        The lock file (None for the root folder, which is never written and is not locked).

    Raises:
        OutputError: If another process holds the lock (naming it: ``OUT: being written by pid
            N on HOST (COMMAND, since TIME); wait for it or stop it``) or the lock file cannot
            be created.
    """
    out = Path(out)
    lock = lock_path(out)
    if lock is None:
        yield None
        return
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd, before = _open_locked(out, lock)
    except OutputError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_FLOCK:
            raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
        fd = -1  # no flock on this filesystem: write unlocked
    if fd < 0:
        yield None
        return
    try:
        if before is not None:
            print(_stale_note(out, before), file=sys.stderr)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command or _command(),
            "since": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
            "folder": str(Path(os.path.abspath(out))),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        except OSError as exc:
            raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
        _HELD.add(str(lock))
        try:
            yield lock
        finally:
            _HELD.discard(str(lock))
    finally:
        with contextlib.suppress(OSError):  # removed while still locked: no one sees it empty
            os.unlink(lock)
        os.close(fd)


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


TOOL_FOLDERS = (
    "greatgame run",
    "greatgame sweep",
    "greatgame compare",
    "greatgame calibrate",
    "greatgame backtest",
)
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
        OutputError: Naming the folder and why it cannot be written, or how to replace it; when
            another process is writing it (:func:`writer_of`), naming that process.
    """
    usable_path(out)
    busy = writer_of(out)
    if busy is not None:
        raise OutputError(busy)
    if out.is_symlink():
        raise OutputError(
            f"{out}: is a symbolic link; give the folder it points to (or another name) as --out"
        )
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder")
        if not out.is_dir() or not any(out.iterdir()):
            return
    except OSError as exc:
        raise OutputError(f"{out}: cannot use this folder ({exc.strerror or exc})") from None
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


def usable_path(out: Path) -> None:
    """Refuse an output path that no folder can have: not text, too long, or unreadable.

    Args:
        out: The folder (or file) about to be written.

    Raises:
        OutputError: For a path with bytes that are not valid text (they could not be written
            into a manifest or a message), a name or path longer than the file system allows,
            or a place that cannot be looked at.
    """
    text = str(out)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise OutputError(
            f"{text!a}: the path is not valid UTF-8 text; choose a name of ordinary characters"
        ) from None
    shown = text if len(text) <= 120 else text[:60] + "..." + text[-40:]
    try:
        out.parent.exists()
        out.exists()
    except OSError as exc:  # a name or path too long for the file system, say
        raise OutputError(f"{shown}: cannot use this path ({exc.strerror or exc})") from None
    longest = _NAME_MAX - len(".") - len(".lock")  # the lock file beside it must fit too
    if len(os.fsencode(out.name)) > longest:
        raise OutputError(
            f"{shown}: the folder name is {len(os.fsencode(out.name))} bytes long; at most "
            f"{longest} are allowed"
        )


_NAME_MAX = 255
"""Bytes in a file name on the common file systems (ext4, xfs, btrfs, tmpfs, APFS, NTFS)."""


@contextlib.contextmanager
def atomic_folder(out: str | Path, force: bool = False) -> Iterator[Path]:
    """Write a folder all or nothing: yields a temporary folder that becomes ``out`` on success.

    Args:
        out: The folder to write.
        force: Replace ``out`` when it exists and is not empty.

    Yields:
        The temporary folder to write into.

    Raises:
        OutputError: If ``out`` is taken (see :func:`check_free`), another process is writing it
            (see :func:`folder_lock`, held from the checks to the final rename), it cannot be
            created, or writing fails; ``out`` is then as it was before.
    """
    out = Path(out)
    check_free(out, force)  # the refusals that need no lock, before creating one
    with folder_lock(out):
        with contextlib.suppress(OSError):  # tidying is best effort; the checks still apply
            recover_stale(out)
        check_free(out, force)  # again, under the lock: another writer may have just finished
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            prefix = f".{out.name}.tmp-{os.getpid()}-"
            tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=out.parent))
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
