"""The bundled UN General Assembly roll calls (1992 to 2020) of the five states and the powers.

Two tables in ``seeds/data/`` (``SOURCES.md`` there gives their origin, licence and derivation):

- ``un_roll_calls.csv``: one row per roll call: ``rcid, date, session, unres, short, descr,
  issues, importantvote, target, condemns, measure``. ``issues`` holds the source's topic codes
  (:data:`ISSUE_CODES`) separated by ``;``; ``condemns`` is the project power whose conduct the
  text targets, or empty; ``measure`` is one of :data:`MEASURES`.
- ``un_votes.csv``: one row per roll call and country of :data:`COUNTRIES`: ``rcid, date,
  session, unres, country, vote``, ``vote`` in :data:`VOTE_CODES` (``absent``: no yes, abstain
  or no recorded while a member).

No real-world outcome dated on or after :data:`CUTOFF` (2 March 2022) may enter the project:
:func:`load_un_votes` refuses a file holding such a date. Every problem is reported as a
:class:`~sim.input.errors.ScenarioError` naming the file, the line and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.input.bundled import evidence_dir
from sim.input.csvtables import Checker, duplicates, integer, one_of, read_table
from sim.input.errors import did_you_mean

__all__ = [
    "COUNTRIES",
    "CUTOFF",
    "ISSUE_CODES",
    "MEASURES",
    "POWERS",
    "ROLL_CALLS_FILE",
    "VOTES_FILE",
    "VOTE_CODES",
    "UnVotes",
    "load_un_votes",
    "un_votes_dir",
]

CUTOFF = "2022-03-02"
"""The first day whose outcomes must stay out of the project (``YYYY-MM-DD``)."""
VOTES_FILE = "un_votes.csv"
ROLL_CALLS_FILE = "un_roll_calls.csv"
COUNTRIES = (
    "kazakhstan",
    "kyrgyzstan",
    "tajikistan",
    "turkmenistan",
    "uzbekistan",
    "russia",
    "china",
    "usa",
    "turkey",
    "iran",
    "france",
    "germany",
)
"""The countries of the votes table: France and Germany stand in for the EU (not a UN member)."""
POWERS = ("russia", "china", "usa", "turkey", "iran", "eu")
"""The project's powers: the values ``condemns`` may take (besides empty)."""
VOTE_CODES = ("yes", "abstain", "no", "absent")
ISSUE_CODES = ("me", "nu", "di", "hr", "co", "ec")
"""The source's topic codes: Palestinian conflict, nuclear weapons, arms control and
disarmament, human rights, colonialism, economic development."""
MEASURES = (
    "declaratory",
    "humanitarian",
    "territorial",
    "membership_sanction",
    "accountability",
    "other",
)
VOTE_COLUMNS = ("rcid", "date", "session", "unres", "country", "vote")
ROLL_CALL_COLUMNS = (
    "rcid",
    "date",
    "session",
    "unres",
    "short",
    "issues",
    "importantvote",
    "condemns",
    "measure",
)
"""Required columns; ``descr`` and ``target`` are read when present."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class UnVotes:
    """The bundled roll calls and votes, checked.

    Attributes:
        votes: One row per roll call and country: ``rcid`` (int), ``date`` (datetime64),
            ``session`` (int), ``unres``, ``country``, ``vote`` (str).
        roll_calls: One row per roll call, by ``rcid``: ``date`` (datetime64), ``session``
            (int), ``importantvote`` (nullable Int64), the text columns as str.
    """

    votes: pd.DataFrame
    roll_calls: pd.DataFrame


def un_votes_dir() -> Path:
    """The folder of the bundled tables: ``data/`` of the evidence base (``seeds/data``)."""
    return evidence_dir() / "data"


def _date(value: str) -> str | None:
    if not _DATE.match(value):
        return f"expected a date YYYY-MM-DD, found '{value}'"
    try:
        pd.Timestamp(value)
    except ValueError:
        return f"not a calendar date: '{value}'"
    if value >= CUTOFF:
        return (
            f"date {value} is on or after {CUTOFF}: real-world outcomes from that day on must "
            "stay out of the project"
        )
    return None


def _issues(value: str) -> str | None:
    if value == "":
        return None
    for code in value.split(";"):
        if code not in ISSUE_CODES:
            tail = did_you_mean(code, ISSUE_CODES, f"; expected codes of {', '.join(ISSUE_CODES)}")
            return f"unknown issue code '{code}'{tail} (codes are separated by ';')"
    return None


def _important(value: str) -> str | None:
    return None if value in ("", "0", "1") else f"expected 0, 1 or empty, found '{value}'"


def _load_roll_calls(path: Path) -> pd.DataFrame:
    frame = read_table(path, ROLL_CALL_COLUMNS)
    check = Checker(path, frame)
    check.cells("rcid", integer)
    check.cells("date", _date)
    check.cells("session", integer)
    check.cells("issues", _issues)
    check.cells("importantvote", _important)
    check.cells("condemns", one_of(POWERS, "power", empty=True))
    check.cells("measure", one_of(MEASURES, "measure"))
    duplicates(check, ["rcid"], "roll call")
    check.raise_if_any()
    out = frame.copy()
    out["rcid"] = frame["rcid"].astype(int)
    out["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    out["session"] = frame["session"].astype(int)
    out["importantvote"] = pd.to_numeric(frame["importantvote"]).astype("Int64")
    return out


def _load_votes(path: Path, roll_calls: pd.DataFrame, calls_path: Path) -> pd.DataFrame:
    frame = read_table(path, VOTE_COLUMNS)
    check = Checker(path, frame)
    check.cells("rcid", integer)
    check.cells("date", _date)
    check.cells("session", integer)
    check.cells("country", one_of(COUNTRIES, "country"))
    check.cells("vote", one_of(VOTE_CODES, "vote"))
    duplicates(check, ["rcid", "country"], "vote")
    dates = dict(
        zip(roll_calls["rcid"].astype(str), roll_calls["date"].dt.strftime("%Y-%m-%d"), strict=True)
    )
    for i, (rcid, date) in enumerate(
        zip(frame["rcid"].tolist(), frame["date"].tolist(), strict=True)
    ):
        if str(rcid).isdigit():
            key = str(int(rcid))
            if key not in dates:
                check.add(i, "rcid", f"roll call {rcid} is not in {calls_path.name}")
            elif dates[key] != date:
                message = f"date {date} differs from the roll call's, {dates[key]}, in {calls_path}"
                check.add(i, "date", message)
    check.raise_if_any()
    out = frame.copy()
    out["rcid"] = frame["rcid"].astype(int)
    out["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    out["session"] = frame["session"].astype(int)
    return out


def load_un_votes(directory: str | Path | None = None) -> UnVotes:
    """Load and check the roll-call and vote tables.

    Args:
        directory: The folder with :data:`ROLL_CALLS_FILE` and :data:`VOTES_FILE`; the bundled
            one (:func:`un_votes_dir`) by default.

    Returns:
        The two tables, with typed columns.

    Raises:
        ScenarioError: A file is missing, unreadable or lacks a column, or a cell is wrong (an
            unknown country, vote, issue code, measure or power, a bad or late date, a vote on a
            roll call that is not listed); each problem names the file, the line and the column.
    """
    folder = Path(directory) if directory is not None else un_votes_dir()
    calls_path = folder / ROLL_CALLS_FILE
    roll_calls = _load_roll_calls(calls_path)
    votes = _load_votes(folder / VOTES_FILE, roll_calls, calls_path)
    return UnVotes(votes=votes, roll_calls=roll_calls)
