"""Resolutions files: UN General Assembly texts described for the vote model (``greatgame votes``).

A resolutions file lists texts by what they are about, never by how anyone voted::

    resolutions:
      - id: ES-11/1
        date: 2022-03-02
        title: Aggression against Ukraine
        issues: [co]
        condemns: russia
        measure: declaratory

Fields of each item (:data:`FIELDS`):

- ``id``: the text's symbol or any unique label (text);
- ``date``: the day of the vote, ``YYYY-MM-DD``;
- ``title``: a short title (text);
- ``issues``: a list of the Voeten dataset's topic codes (:data:`sim.input.unvotes.ISSUE_CODES`:
  ``me`` Palestinian conflict, ``nu`` nuclear weapons, ``di`` arms control, ``hr`` human rights,
  ``co`` colonialism, ``ec`` economic development); may be empty;
- ``condemns``: the power whose conduct the text targets (a power id), or ``null``;
- ``measure``: one of :data:`sim.input.unvotes.MEASURES` (what the text does: ``declaratory``,
  ``humanitarian``, ``territorial``, ``membership_sanction``, ``accountability``, ``other``);
- ``importantvote`` (optional): ``true`` when the US State Department lists the vote as
  important, ``false`` when it does not; leave it out when unknown;
- ``note`` (optional): free text, e.g. where the description comes from.

The codes are those of the bundled roll calls (``seeds/data/un_roll_calls.csv``, see
``seeds/data/SOURCES.md``), on which the vote model was fitted. A file states no votes: a field
such as ``votes`` or ``result`` is refused, since no real-world outcome dated on or after
:data:`sim.input.unvotes.CUTOFF` may enter the project. Every problem is reported as a
:class:`~sim.input.errors.Problem` naming the file, the line and the field path
(``resolutions[0].measure``), all of them at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.input.unvotes import ISSUE_CODES, MEASURES, un_votes_dir
from sim.input.yamlsource import YamlSource, read_yaml

__all__ = [
    "FIELDS",
    "OUTCOME_FIELDS",
    "REQUIRED",
    "SECTION",
    "Resolution",
    "bundled_resolutions",
    "load_resolutions",
    "resolve_resolutions",
]

SECTION = "resolutions"
"""The one top-level key of a resolutions file."""
REQUIRED = ("id", "date", "title", "issues", "condemns", "measure")
"""Fields every resolution gives (``condemns`` may be ``null``, ``issues`` empty)."""
FIELDS = (*REQUIRED, "importantvote", "note")
"""Every field a resolution may have."""
OUTCOME_FIELDS = frozenset(
    {"vote", "votes", "result", "results", "outcome", "yes", "no", "abstain", "absent", "tally"}
)
"""Fields that would record how the text was voted: refused with the project's date rule."""

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_RESOLUTIONS = 1_000
"""Most resolutions one file may list."""
BUNDLED_PREFIX = "resolutions"
"""Bundled resolutions files are ``seeds/data/resolutions*.yaml``."""


def bundled_resolutions() -> list[str]:
    """The names of the bundled resolutions files (``seeds/data/resolutions*.yaml``), sorted."""
    return sorted(p.stem for p in un_votes_dir().glob(f"{BUNDLED_PREFIX}*.yaml") if p.is_file())


def resolve_resolutions(text: str) -> Path:
    """A resolutions argument: a file, else the name of a bundled one (``resolutions_2022``).

    Args:
        text: The argument as given.

    Returns:
        The file (a path that does not exist when neither: :func:`load_resolutions` says so).
    """
    path = Path(text)
    if path.exists() or Path(text).name != text:
        return path
    bare = text.removesuffix(".yaml")
    if bare in bundled_resolutions():
        return un_votes_dir() / f"{bare}.yaml"
    return path


@dataclass(frozen=True)
class Resolution:
    """One resolution, checked.

    Attributes:
        id: Its symbol or label.
        date: The day of the vote, ``YYYY-MM-DD``.
        title: Its title.
        issues: Topic codes, in :data:`~sim.input.unvotes.ISSUE_CODES` order.
        condemns: The power whose conduct it targets, or None.
        measure: What the text does (one of :data:`~sim.input.unvotes.MEASURES`).
        importantvote: Whether the vote is listed as important; None when not given.
        note: Free text, or None.
        file: The file it was read from.
        index: Its position in the file's list.
        lines: The 1-based line of each field given (and of the item itself, under ``""``).
    """

    id: str
    date: str
    title: str
    issues: tuple[str, ...]
    condemns: str | None
    measure: str
    importantvote: bool | None = None
    note: str | None = None
    file: str = "<memory>"
    index: int = 0
    lines: Mapping[str, int] = field(default_factory=dict)

    def problem(self, where: str, message: str) -> Problem:
        """A problem with one of this resolution's fields, at its file, line and path.

        Args:
            where: The field (one of :data:`FIELDS`), or ``""`` for the item itself.
            message: What is wrong.
        """
        loc: tuple[str | int, ...] = (
            (SECTION, self.index, where) if where else (SECTION, self.index)
        )
        line = self.lines.get(where, self.lines.get(""))
        return Problem(self.file, loc, message, line)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Item:
    """Checks one list item, collecting problems at its fields' lines."""

    def __init__(self, src: YamlSource, index: int, problems: list[Problem]) -> None:
        self.src = src
        self.index = index
        self.problems = problems

    def add(self, loc: tuple[str | int, ...], message: str) -> None:
        full = (SECTION, self.index, *loc)
        self.problems.append(Problem(str(self.src.path), full, message, self.src.line_of(full)))

    def text(self, data: Mapping[str, Any], key: str) -> str | None:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool) and key == "id":
            self.add((key,), f"expected text, found {_kind(value)}: quote it ('{value}')")
            return None
        self.add((key,), f"expected non-empty text, found {_kind(value)}")
        return None

    def date(self, data: Mapping[str, Any]) -> str | None:
        value = data.get("date")
        if isinstance(value, dt.datetime):
            self.add(("date",), f"expected a day YYYY-MM-DD, found a time ({value.isoformat()})")
            return None
        if isinstance(value, dt.date):  # YAML reads an unquoted 2022-03-02 as a date
            return value.isoformat()
        if isinstance(value, str) and _DAY.match(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                self.add(("date",), f"not a calendar day: '{value}'")
                return None
        self.add(("date",), f"expected a day YYYY-MM-DD, found {_kind(value)}")
        return None

    def issues(self, data: Mapping[str, Any]) -> tuple[str, ...] | None:
        value = data.get("issues")
        listed = ", ".join(ISSUE_CODES)
        if not isinstance(value, list):
            hint = " (write [] for none)" if value is None else ""
            self.add(
                ("issues",),
                f"expected a list of issue codes ({listed}), found {_kind(value)}{hint}",
            )
            return None
        ok = True
        seen: set[str] = set()
        for j, code in enumerate(value):
            if not isinstance(code, str) or code not in ISSUE_CODES:
                shown = str(code) if isinstance(code, str) else ""
                tail = did_you_mean(shown, ISSUE_CODES, f"; expected one of {listed}")
                self.add(("issues", j), f"unknown issue code {_kind(code)}{tail}")
                ok = False
            elif code in seen:
                self.add(("issues", j), f"issue code '{code}' is listed twice")
                ok = False
            else:
                seen.add(code)
        return tuple(c for c in ISSUE_CODES if c in seen) if ok else None

    def condemns(
        self, data: Mapping[str, Any], powers: tuple[str, ...] | None
    ) -> tuple[bool, str | None]:
        value = data.get("condemns")
        if value is None:
            return True, None
        if not isinstance(value, str) or not _IDENT.match(value):
            self.add(("condemns",), f"expected a power id or null, found {_kind(value)}")
            return False, None
        if powers is not None and value not in powers:
            known = ", ".join(powers)
            tail = did_you_mean(value, powers)
            self.add(
                ("condemns",), f"unknown power '{value}'{tail}; the scenario's powers: {known}"
            )
            return False, None
        return True, value

    def measure(self, data: Mapping[str, Any]) -> str | None:
        value = data.get("measure")
        if isinstance(value, str) and value in MEASURES:
            return value
        listed = ", ".join(MEASURES)
        tail = (
            did_you_mean(value, MEASURES, f"; expected one of {listed}")
            if isinstance(value, str)
            else f"; expected one of {listed}"
        )
        self.add(("measure",), f"unknown measure {_kind(value)}{tail}")
        return None

    def important(self, data: Mapping[str, Any]) -> tuple[bool, bool | None]:
        if "importantvote" not in data:
            return True, None
        value = data["importantvote"]
        if isinstance(value, bool):
            return True, value
        if isinstance(value, int) and value in (0, 1):
            return True, bool(value)
        message = f"expected true, false (or 1, 0), found {_kind(value)}; leave it out when unknown"
        self.add(("importantvote",), message)
        return False, None


def _one(
    src: YamlSource, index: int, data: Any, powers: tuple[str, ...] | None, problems: list[Problem]
) -> Resolution | None:
    item = _Item(src, index, problems)
    if not isinstance(data, dict):
        item.add((), f"expected a mapping of fields ({', '.join(REQUIRED)}), found {_kind(data)}")
        return None
    before = len(problems)
    for key in data:
        name = str(key)
        if name in FIELDS:
            continue
        if name.lower() in OUTCOME_FIELDS:
            message = (
                f"'{name}': a resolutions file describes texts, never the votes cast (no "
                "real-world outcome dated on or after 2022-03-02 may enter the project)"
            )
        else:
            tail = did_you_mean(name, FIELDS, f"; fields: {', '.join(FIELDS)}")
            message = f"unknown field '{name}'{tail}"
        item.add((name,), message)
    missing = [k for k in REQUIRED if k not in data]
    for key in missing:
        hint = " (null when it condemns no power)" if key == "condemns" else ""
        hint = " (a list of codes; [] for none)" if key == "issues" else hint
        item.add((), f"missing field '{key}'{hint}")
    ident = item.text(data, "id") if "id" in data else None
    date = item.date(data) if "date" in data else None
    title = item.text(data, "title") if "title" in data else None
    issues = item.issues(data) if "issues" in data else None
    condemned_ok, condemns = item.condemns(data, powers) if "condemns" in data else (False, None)
    measure = item.measure(data) if "measure" in data else None
    important_ok, important = item.important(data)
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        item.add(("note",), f"expected text, found {_kind(note)}")
    if len(problems) > before:
        return None
    assert ident is not None and date is not None and title is not None  # checked above
    assert issues is not None and measure is not None and condemned_ok and important_ok
    lines = {"": src.line_of((SECTION, index)) or 0}
    for key in data:
        line = src.lines.get((SECTION, index, str(key)))
        if line is not None:
            lines[str(key)] = line
    return Resolution(
        id=ident,
        date=date,
        title=title,
        issues=issues,
        condemns=condemns,
        measure=measure,
        importantvote=important,
        note=note,
        file=str(src.path),
        index=index,
        lines=lines,
    )


def load_resolutions(path: str | Path, powers: Iterable[str] | None = None) -> list[Resolution]:
    """Load and check a resolutions file.

    Args:
        path: The YAML file.
        powers: The power ids ``condemns`` may name (a scenario's powers); any id when None.

    Returns:
        The resolutions in file order.

    Raises:
        ScenarioError: For a file that cannot be read or is not YAML (:func:`read_yaml`), and
            for every problem of its items at once: a missing or unknown field, a bad date, an
            unknown issue code, measure or power, a duplicated id; each names the file, the
            line and the field path.
    """
    if not Path(path).exists():
        known = ", ".join(bundled_resolutions()) or "none"
        message = f"no such file (bundled resolutions files, by name: {known})"
        raise ScenarioError([Problem(str(path), (), message)])
    src = read_yaml(path)  # also refuses duplicated keys and impossible unquoted dates
    name = str(src.path)
    data = src.data
    if not isinstance(data, dict) or SECTION not in data:
        found = "an empty file" if data is None else _kind(data)
        if isinstance(data, dict):
            keys = ", ".join(str(k) for k in data) or "none"
            found = f"a mapping with keys {keys}"
        message = f"expected a mapping with '{SECTION}:' (a list of resolutions), found {found}"
        raise ScenarioError([Problem(name, (), message, src.line_of(()))])
    problems: list[Problem] = []
    for key in data:
        if key != SECTION:
            tail = did_you_mean(str(key), (SECTION,), f"; the only key is '{SECTION}'")
            problems.append(
                Problem(name, (str(key),), f"unknown key '{key}'{tail}", src.line_of((str(key),)))
            )
    items = data[SECTION]
    if not isinstance(items, list) or not items:
        what = "an empty list" if isinstance(items, list) else _kind(items)
        problems.append(
            Problem(
                name,
                (SECTION,),
                f"expected a list of resolutions, found {what}",
                src.line_of((SECTION,)),
            )
        )
        raise ScenarioError(problems)
    if len(items) > MAX_RESOLUTIONS:
        message = f"expected at most {MAX_RESOLUTIONS:,} resolutions, found {len(items):,}"
        raise ScenarioError([Problem(name, (SECTION,), message, src.line_of((SECTION,)))])
    allowed = tuple(powers) if powers is not None else None
    out = [_one(src, i, item, allowed, problems) for i, item in enumerate(items)]
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    return [r for r in out if r is not None]
