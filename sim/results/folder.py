"""The one reader of a results folder (``greatgame run``), and the judge of a folder's kind.

Every command that reads a results folder reads it through :func:`read_run_folder` (and the event
log through :func:`read_events`); the sweep folder's readers (:mod:`sim.sweep.store`) use the
same checks (:func:`expect_kind`, :func:`read_json_object`, :func:`check_fields`,
:func:`read_parquet`). Each file is checked as it is read, and a damaged or foreign folder is
answered with :class:`~sim.input.errors.OutputError` (or, for ``scenario.yaml``,
:class:`~sim.input.errors.ScenarioError`): one line naming the file and what is wrong, never a
traceback. Layout of a results folder::

    results.parquet   the long table (sim.results.tables.long_table): run, seed, step, date, state,
                      power, variable, value
    events.csv        the event log: run, seed, step, date, id, type, magnitude, outcome, who,
                      why (scenario events and the agents' decisions, type "decision")
    answers.csv       every answer the events put to agents: run, seed, step, date, event, kind
                      (call or offer), state, power, yes (sim.results.tables.answers_table)
    scenario.yaml     the scenario as run (extends resolved)
    manifest.json     provenance: tool "greatgame run", seeds, replicates, ... (written last)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.input.errors import OutputError, Problem, ScenarioError, did_you_mean
from sim.input.scenario import Scenario, validate_document
from sim.input.yamlsource import read_yaml
from sim.results.atomic import manifest_tool
from sim.results.tables import ANSWER_COLUMNS

__all__ = [
    "ANSWERS",
    "EVENTS",
    "MANIFEST",
    "RESULTS",
    "SCENARIO",
    "RunFolder",
    "check_fields",
    "expect_kind",
    "folder_kind",
    "read_answers",
    "read_events",
    "read_json_object",
    "read_parquet",
    "read_run_folder",
]

RESULTS = "results.parquet"
EVENTS = "events.csv"
ANSWERS = "answers.csv"
SCENARIO = "scenario.yaml"
MANIFEST = "manifest.json"

Kind = Literal["results", "sweep"]

_WANTED = {
    "results": "a results folder (greatgame run)",
    "sweep": "a sweep folder (greatgame sweep)",
    None: "a results folder (greatgame run) or a sweep folder (greatgame sweep)",
}
_USE = {
    "results": "use greatgame observe, plot, report or compare",
    "sweep": "use greatgame analyze, plot --kind indices|scatter, or sweep --resume",
}
_RERUN = "; rerun greatgame run to write the folder again"

TABLE_COLUMNS = {
    "run": "integer",
    "seed": "integer",
    "step": "integer",
    "date": "text",
    "state": "text",
    "power": "text",
    "variable": "text",
    "value": "number",
}
"""Columns of ``results.parquet`` and the kind of values each holds."""

EVENT_COLUMNS = ("run", "seed", "step", "date", "id", "type", "magnitude", "outcome")
"""Columns of ``events.csv``."""

VARIABLES = ("alignment", "hedging", "influence")
"""Variables every results table holds (the commands draw and compare them)."""


# --- kinds -------------------------------------------------------------------------------------


def _sniff(folder: Path) -> tuple[Kind | None, str]:
    """The kind of a folder, or None with why it is neither."""
    if not folder.exists():
        return None, "no such folder"
    if not folder.is_dir():
        return None, "is a file, not a folder"
    tool = manifest_tool(folder)
    if tool == "greatgame run":
        return "results", ""
    if tool == "greatgame sweep":
        return "sweep", ""
    if tool == "greatgame compare":
        return None, "is a comparison folder (greatgame compare)"
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if "design.parquet" in names or (folder / "chunks").is_dir():
        return "sweep", ""
    if SCENARIO in names or EVENTS in names:
        return "results", ""
    if not names:
        return None, "is an empty folder"
    return None, f"holds no {MANIFEST}, {SCENARIO} or design.parquet: greatgame did not write it"


def folder_kind(folder: str | Path) -> Kind:
    """``results`` (written by ``greatgame run``) or ``sweep`` (written by ``greatgame sweep``).

    The manifest's ``tool`` decides; without a readable manifest the files do (``design.parquet``
    or ``chunks/``: a sweep; ``scenario.yaml`` or ``events.csv``: a results folder), so that a
    damaged folder is still told apart and its damage named by the reader.

    Raises:
        OutputError: If the path is missing, a file, or a folder of neither kind.
    """
    folder = Path(folder)
    kind, why = _sniff(folder)
    if kind is None:
        raise OutputError(f"{folder}: {why}; expected {_WANTED[None]}")
    return kind


def expect_kind(folder: str | Path, kind: Kind) -> Path:
    """Check that ``folder`` is of ``kind``, else say which kind it is and which command fits.

    Returns:
        The folder as a path.

    Raises:
        OutputError: For a missing path, a file, a folder of the other kind or of neither.
    """
    folder = Path(folder)
    found, why = _sniff(folder)
    if found is None:
        raise OutputError(f"{folder}: {why}; expected {_WANTED[kind]}")
    if found != kind:
        raise OutputError(
            f"{folder}: is {_WANTED[found]}, not {_WANTED[kind].split(' (')[0]}; {_USE[found]}"
        )
    return folder


# --- files -------------------------------------------------------------------------------------


def read_json_object(path: Path, remedy: str = "") -> dict[str, Any]:
    """A JSON file that holds an object (a manifest).

    Args:
        path: The file.
        remedy: Appended to every message (``"; rerun ..."``).

    Raises:
        OutputError: If the file is missing, unreadable, not UTF-8, not JSON or not an object.
    """
    if not path.is_file():
        what = "is not a file" if path.exists() else "missing"
        raise OutputError(f"{path}: {what}{remedy}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise OutputError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}){remedy}"
        ) from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({exc.strerror or exc}){remedy}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}){remedy}"
        ) from None
    except ValueError:  # nesting too deep for the decoder
        raise OutputError(f"{path}: not valid JSON{remedy}") from None
    if not isinstance(data, dict):
        raise OutputError(f"{path}: expected a JSON object, found {_json_type(data)}{remedy}")
    return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


Field = tuple[Callable[[Any], bool], str]
"""A manifest field's check and what it should be (``"an integer"``)."""


def is_int(value: Any) -> bool:
    """An integer, not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An integer or a float, not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_fields(
    data: Mapping[str, Any],
    path: Path,
    fields: Mapping[str, Field],
    require: Iterable[str] = (),
    remedy: str = "",
) -> None:
    """Check the fields of a manifest: those in ``require`` must be there, all of the right kind.

    Args:
        data: The manifest.
        path: Its file, named in messages.
        fields: Each known field's check and description; fields not listed are not checked.
        require: Fields that must be present.
        remedy: Appended to every message.

    Raises:
        OutputError: For the first field missing or of the wrong kind.
    """
    for key in require:
        if key not in data:
            raise OutputError(f"{path}: no '{key}' (expected {fields[key][1]}){remedy}")
    for key, (ok, what) in fields.items():
        if key in data and not ok(data[key]):
            found = _json_type(data[key])
            raise OutputError(f"{path}: '{key}' should be {what}, found {found}{remedy}")


def read_parquet(path: Path, remedy: str = "") -> pa.Table:
    """A Parquet file, read whole; pyarrow's errors are worded as ours.

    Raises:
        OutputError: If the file is missing or is not a readable Parquet file.
    """
    if not path.is_file():
        what = "is not a file" if path.exists() else "missing"
        raise OutputError(f"{path}: {what}{remedy}")
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError):
        raise OutputError(
            f"{path}: not a readable Parquet file (truncated, corrupt or another format){remedy}"
        ) from None


def _kind_of(dtype: pa.DataType) -> str:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype):
        return "number"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_null(dtype):
        return "text"
    return str(dtype)


def check_columns(
    table: pa.Table, path: Path, columns: Mapping[str, str], remedy: str = ""
) -> None:
    """Check that a table has the columns, each holding values of its kind.

    Args:
        table: The table read.
        path: Its file.
        columns: Column name to ``integer``, ``number`` or ``text`` (a ``number`` column may
            hold integers).
        remedy: Appended to every message.

    Raises:
        OutputError: For the first column missing or of another kind.
    """
    names = set(table.schema.names)
    missing = [c for c in columns if c not in names]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise OutputError(f"{path}: no column '{missing[0]}'{more}{remedy}")
    for name, want in columns.items():
        have = _kind_of(table.schema.field(name).type)
        if have != want and not (want == "number" and have == "integer"):
            raise OutputError(
                f"{path}: column '{name}' holds {have} values, expected {want}{remedy}"
            )


def _to_pandas(table: pa.Table, path: Path, remedy: str) -> pd.DataFrame:
    try:
        return table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError):
        raise OutputError(f"{path}: not a readable Parquet file (corrupt values){remedy}") from None


# --- the results folder ------------------------------------------------------------------------


_RUN_FIELDS: dict[str, Field] = {
    "tool": (lambda v: v == "greatgame run", '"greatgame run"'),
    "seeds": (lambda v: isinstance(v, list) and all(is_int(s) for s in v), "a list of integers"),
    "replicates": (lambda v: is_int(v) and v >= 1, "a positive integer"),
}


@dataclass(frozen=True, eq=False)
class RunFolder:
    """A results folder, read and checked.

    Attributes:
        path: The folder.
        table: The long results table (``results.parquet``; see
            :func:`sim.results.tables.long_table`).
        doc: The scenario as run, as plain data (``scenario.yaml``).
        scenario: The same, validated.
        manifest: ``manifest.json``.
    """

    path: Path
    table: pd.DataFrame
    doc: dict[str, Any]
    scenario: Scenario
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.meta.name

    def at_month(self, month: str, hint: str = "") -> pd.DataFrame:
        """The rows of the results table recorded at the end of ``month``.

        Args:
            month: ``YYYY-MM``.
            hint: Added to the message when the month is not in the folder.

        Returns:
            The rows of that month.

        Raises:
            ScenarioError: When the folder holds no such month, naming its first and last.
        """
        dates = sorted(self.table["date"].astype(str).unique())
        if month not in dates:
            tail = did_you_mean(month, dates)
            raise ScenarioError(
                [
                    Problem(
                        str(self.path),
                        ("date",),
                        f"expected a month from {dates[0]} to {dates[-1]}, found {month}"
                        f"{tail}{hint}",
                    )
                ]
            )
        return self.table[self.table["date"].astype(str) == month]


def _read_scenario(path: Path) -> tuple[dict[str, Any], Scenario]:
    """The scenario document of a results folder and the scenario it validates to."""

    def bad(message: str) -> ScenarioError:
        return ScenarioError([Problem(str(path), (), message + _RERUN)])

    if not path.is_file():
        raise bad("is not a file" if path.exists() else "missing")
    doc = read_yaml(path).data
    if doc is None:
        raise bad("empty file; expected the scenario as run")
    if not isinstance(doc, dict):
        raise bad(f"expected the scenario as a mapping of keys, found {_json_type(doc)}")
    try:
        scenario = validate_document(doc, path)
    except ScenarioError as exc:
        first, n = exc.problems[0], len(exc.problems)
        if n == 1:
            raise
        more = f" (and {n - 1} more problems: greatgame check {path} lists them)"
        problem = Problem(first.file, first.loc, first.message + more, first.line)
        raise ScenarioError([problem]) from None
    return doc, scenario


def _check_table(table: pd.DataFrame, path: Path, scenario: Scenario, seeds: list[int]) -> None:
    """Check the results table against the scenario and the manifest's seeds."""
    if table.empty:
        raise OutputError(f"{path}: holds no rows{_RERUN}")
    variables = set(table["variable"].dropna().astype(str))
    for v in VARIABLES:
        if v not in variables:
            raise OutputError(f"{path}: no rows of variable '{v}'{_RERUN}")
    for col, ids in (("state", scenario.state_ids), ("power", scenario.power_ids)):
        found = list(dict.fromkeys(table[col].dropna().astype(str)))
        if set(found) != set(ids):
            raise OutputError(
                f"{path}: its {col}s ({', '.join(sorted(found))}) are not those of {SCENARIO} "
                f"({', '.join(sorted(ids))}){_RERUN}"
            )
    runs = table.drop_duplicates("run").sort_values("run")
    if list(runs["run"]) != list(range(len(seeds))) or list(runs["seed"]) != seeds:
        raise OutputError(
            f"{path}: its runs and seeds are not the {len(seeds)} seeds of {MANIFEST}{_RERUN}"
        )
    n_dates = table["date"].astype(str).nunique()
    cells = len(seeds) * n_dates * len(scenario.state_ids) * len(scenario.power_ids)
    n_align = int((table["variable"] == "alignment").sum())
    if n_align != cells:
        raise OutputError(
            f"{path}: {n_align} alignment rows, expected {cells} (runs x months x states x "
            f"powers){_RERUN}"
        )


def read_run_folder(folder: str | Path) -> RunFolder:
    """Read and check a results folder: its table, scenario and manifest.

    Args:
        folder: A folder written by ``greatgame run``
            (:func:`sim.results.runner.write_run_folder`).

    Returns:
        The folder's contents.

    Raises:
        OutputError: If the path is not a results folder (a sweep folder, say, or an empty one),
            or ``results.parquet`` or ``manifest.json`` is missing, unreadable, or disagrees
            with the rest of the folder.
        ScenarioError: If ``scenario.yaml`` is missing, empty or not a valid scenario.
    """
    folder = expect_kind(folder, "results")
    manifest = read_json_object(folder / MANIFEST, _RERUN)
    check_fields(manifest, folder / MANIFEST, _RUN_FIELDS, _RUN_FIELDS, _RERUN)
    seeds = manifest["seeds"]
    if len(seeds) != manifest["replicates"]:
        raise OutputError(
            f"{folder / MANIFEST}: {len(seeds)} seeds for {manifest['replicates']} replicates"
            f"{_RERUN}"
        )
    doc, scenario = _read_scenario(folder / SCENARIO)
    path = folder / RESULTS
    arrow = read_parquet(path, _RERUN)
    check_columns(arrow, path, TABLE_COLUMNS, _RERUN)
    table = _to_pandas(arrow, path, _RERUN)
    _check_table(table, path, scenario, seeds)
    return RunFolder(folder, table, doc, scenario, manifest)


def _read_csv(path: Path, what: str, columns: Iterable[str]) -> pd.DataFrame:
    """A CSV file of a results folder, checked for its columns.

    Raises:
        OutputError: If the file is missing, not a readable CSV file, or lacks a column.
    """
    if not path.is_file():
        raise OutputError(f"{path}: {'is not a file' if path.exists() else 'missing'}{_RERUN}")
    try:
        table = pd.read_csv(path, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        raise OutputError(f"{path}: not a readable CSV {what}{_RERUN}") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({exc.strerror or exc}){_RERUN}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise OutputError(f"{path}: no column '{missing[0]}'{_RERUN}")
    return table


def read_events(folder: str | Path) -> pd.DataFrame:
    """The event log of a results folder (``events.csv``), one row per event fired per run.

    Raises:
        OutputError: If the file is missing, not a readable CSV file, or lacks a column.
    """
    return _read_csv(Path(folder) / EVENTS, "event log", EVENT_COLUMNS)


def read_answers(folder: str | Path) -> pd.DataFrame:
    """The answers of a results folder (``answers.csv``), one row per answer per run.

    Folders written before the file existed lack it: rerunning the scenario writes it.

    Raises:
        OutputError: If the file is missing, not a readable CSV file, lacks a column, or a
            ``yes`` is not ``True`` or ``False``.
    """
    path = Path(folder) / ANSWERS
    table = _read_csv(path, "table of answers", ANSWER_COLUMNS)
    flags = table["yes"].astype(str)
    bad = ~flags.isin(("True", "False"))
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise OutputError(
            f"{path}: row {row + 2}, column 'yes': expected True or False, found "
            f"{flags.iloc[row]!r}{_RERUN}"
        )
    table["yes"] = flags == "True"
    return table
