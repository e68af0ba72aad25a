"""Small CSV tables of the evidence base, read as text and checked cell by cell.

The loaders of the bundled data tables (:mod:`sim.input.unvotes`, :mod:`sim.input.wdi`) read a
file with :func:`read_table` and report every bad cell through a :class:`Checker`, by file, line
and column, as scenario problems are reported.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from sim.input.errors import Problem, ScenarioError, did_you_mean

__all__ = [
    "MAX_BYTES",
    "MAX_PROBLEMS",
    "Checker",
    "duplicates",
    "integer",
    "one_of",
    "read_table",
]

MAX_BYTES = 64 * 2**20
"""A larger file is refused before it is parsed."""
MAX_PROBLEMS = 50
"""Problems reported per file at most (the first ones, in line order)."""

_INT = re.compile(r"^[0-9]{1,9}$")


def read_table(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """Read a CSV file as strings, refusing a missing, oversized or malformed one."""
    where = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError([Problem(where, (), f"cannot read the file: {exc.strerror}")]) from None
    if size > MAX_BYTES:
        message = f"the file has {size} bytes, over the limit of {MAX_BYTES}"
        raise ScenarioError([Problem(where, (), message)])
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", on_bad_lines="error"
        )
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        # pandas' EmptyDataError and ParserError are ValueErrors; keep only the first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError([Problem(where, (), f"not a readable CSV file: {first}")]) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        known = ", ".join(str(c) for c in frame.columns) or "none"
        problems = [
            Problem(
                where,
                (name,),
                f"missing column '{name}'{did_you_mean(name, map(str, frame.columns))}"
                f" (columns: {known})",
                1,
            )
            for name in missing
        ]
        raise ScenarioError(problems)
    return frame


class Checker:
    """Collects problems of one file, by line (the header is line 1) and column."""

    def __init__(self, path: Path, frame: pd.DataFrame) -> None:
        self.file = str(path)
        self.frame = frame
        self.problems: list[Problem] = []

    def cells(self, column: str, bad: Callable[[str], str | None]) -> None:
        """Report every cell of ``column`` for which ``bad`` returns a message."""
        for i, value in enumerate(self.frame[column].tolist()):
            message = bad(str(value))
            if message is not None:
                self.add(i, column, message)

    def add(self, row: int, column: str, message: str) -> None:
        """Report a problem at data row ``row`` (0-based) and ``column``."""
        self.problems.append(Problem(self.file, (column,), message, row + 2))

    def raise_if_any(self) -> None:
        """Raise a :class:`ScenarioError` with the first problems, in line order."""
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: (p.line or 0, str(p.loc)))
            raise ScenarioError(ordered[:MAX_PROBLEMS])


def one_of(choices: tuple[str, ...], what: str, empty: bool = False) -> Callable[[str], str | None]:
    """A cell check: the value is one of ``choices`` (or empty when ``empty``)."""
    listed = ", ".join(choices)

    def bad(value: str) -> str | None:
        if value in choices or (empty and value == ""):
            return None
        tail = did_you_mean(value, choices, f"; expected one of {listed}")
        return f"unknown {what} '{value}'{tail}"

    return bad


def integer(value: str) -> str | None:
    """A cell check: a whole number of at most nine digits."""
    return None if _INT.match(value) else f"expected a whole number, found '{value}'"


def duplicates(check: Checker, columns: list[str], what: str) -> None:
    """Report every row that repeats the key ``columns`` of an earlier row."""
    repeated = check.frame.duplicated(subset=columns, keep="first")
    for i in [int(n) for n in repeated.to_numpy().nonzero()[0]]:
        key = ", ".join(f"{c} {check.frame[c].iloc[i]}" for c in columns)
        check.add(i, columns[-1], f"duplicated {what} ({key})")
