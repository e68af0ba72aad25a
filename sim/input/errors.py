"""The project's own error type for bad input, with file, line and field path."""

from __future__ import annotations

import difflib
import re
import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Interrupted",
    "OutputError",
    "Problem",
    "ScenarioError",
    "did_you_mean",
    "format_path",
    "suggest",
]


def format_path(loc: Sequence[str | int]) -> str:
    """Render a location tuple as ``states[2].alignment.russia``.

    Args:
        loc: Keys (str) and list indices (int), outermost first.

    Returns:
        The dotted path, or ``<top level>`` for an empty location.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = str(part) if len(str(part)) <= 60 else str(part)[:57] + "..."  # a runaway key
            out += f".{part}" if out else part
    return out or "<top level>"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """Return the closest valid choice to ``word``, or None when nothing is close.

    Args:
        word: The misspelt key or id.
        choices: The valid keys or ids.

    Returns:
        For a month written another way (``2022-2``, ``2022/02``, ``2022-02-15``) that month as
        ``YYYY-MM`` when it is a choice; else the best match by ``difflib`` similarity (cutoff
        0.6), if any.
    """
    options = [str(c) for c in choices]
    month = _MONTH_LIKE.match(str(word).strip())
    if month is not None:  # 2022-2, 2022/02, 2022-02-15: the month, not the closest string
        year, number = month.group(1), int(month.group(2))
        if f"{year}-{number:02d}" in options:
            return f"{year}-{number:02d}"
    matches = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return matches[0] if matches else None


_MONTH_LIKE = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?$")
"""A month written another way than ``YYYY-MM`` (one digit, a slash, a day)."""


def did_you_mean(word: str, choices: Iterable[str], otherwise: str = "") -> str:
    """The tail of a message about an unknown name: the closest valid choice, if any.

    Args:
        word: The unknown key, id or name.
        choices: The valid ones.
        otherwise: What to say when nothing is close (e.g. ``"; known: a, b"``).

    Returns:
        `` (did you mean 'x'?)`` for the closest choice (see :func:`suggest`), else ``otherwise``.
    """
    hint = suggest(word, choices)
    return f" (did you mean '{hint}'?)" if hint else otherwise


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Attributes:
        file: The file the problem was found in.
        loc: Field path as a tuple of keys and indices.
        message: What was expected and what was found.
        line: 1-based line in ``file`` when known.
    """

    file: str
    loc: tuple[str | int, ...]
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {format_path(self.loc)}: {self.message}"


@dataclass
class ScenarioError(Exception):
    """Raised for any invalid scenario or specification file.

    Attributes:
        problems: Every problem found, each naming file, line and field path.
    """

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        head = [str(p) for p in self.problems[:10]]
        if len(self.problems) > 10:
            head.append(f"... and {len(self.problems) - 10} more problems")
        return "\n".join(head)


class OutputError(Exception):
    """A results folder cannot be written (exists and is not empty, or is not writable)."""


class Interrupted(KeyboardInterrupt):
    """A signal stopped the command: Ctrl-C (SIGINT), SIGTERM or SIGHUP.

    The command line turns SIGTERM and SIGHUP into this exception, so that ``timeout``, Slurm or
    ``docker stop`` end a command exactly as Ctrl-C does: what is complete is kept, nothing is
    left half written, and the exit status is ``128 + signal number``.

    Attributes:
        signum: The signal's number.
    """

    def __init__(self, message: str = "", signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)

    @property
    def signal_name(self) -> str:
        """``SIGINT``, ``SIGTERM``, ..."""
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """The shell's convention for a command ended by a signal: 128 plus its number."""
        return 128 + self.signum

    @staticmethod
    def stopped_by(exc: BaseException) -> tuple[int, str]:
        """The signal that raised ``exc`` (SIGINT for a plain Ctrl-C) and its words for a message.

        Returns:
            ``(signum, text)``: ``text`` is empty for SIGINT, else `` by SIGTERM`` (or the like).
        """
        signum = int(getattr(exc, "signum", signal.SIGINT))
        return signum, "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
