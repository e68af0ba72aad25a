"""Where a results or sweep folder came from: package versions, the git commit, the command.

Both manifests (``greatgame run`` and ``greatgame sweep``) take these from :func:`environment`.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["environment", "git_commit", "versions"]


def environment() -> dict[str, Any]:
    """``versions``, ``git_commit`` and ``command`` (this process's arguments) for a manifest."""
    return {"versions": versions(), "git_commit": git_commit(), "command": sys.argv}


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    out = {"python": platform.python_version()}
    for dist in ("greatgame", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "pyyaml"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def git_commit() -> str | None:
    """The checkout's commit (``-dirty`` when tracked files changed), or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return done.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
