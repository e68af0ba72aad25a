"""The evidence base: the seed documents, the facts they give, and checks of citations.

``seeds/sources.yaml`` lists the seed documents (``sources:``); ``seeds/evidence.yaml`` lists
facts restated from them (``facts:``), each citing one or more sources. Scenario numbers and
events cite fact ids in their ``evidence`` lists; :func:`check_citations` finds ids that are not
facts and :func:`unsourced` finds numbers with no provenance at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from sim.input.bundled import evidence_dir
from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.input.params import collect_numbers
from sim.input.schema_errors import messages
from sim.input.yamlsource import YamlSource, read_yaml

if TYPE_CHECKING:
    from sim.input.scenario import LoadedScenario

__all__ = [
    "Fact",
    "Quantity",
    "Source",
    "check_citations",
    "default_evidence_dir",
    "load_all",
    "load_evidence",
    "load_sources",
    "load_verified",
    "search",
    "unsourced",
]


def _as_text(value: Any) -> Any:
    """YAML reads an unquoted 2022-05-10 as a date; keep dates as ISO text."""
    return value.isoformat()[:10] if isinstance(value, dt.date) else value


_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_DAY = r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"
Month = Annotated[str, BeforeValidator(_as_text), Field(pattern=_MONTH)]
MonthOrDay = Annotated[str, BeforeValidator(_as_text), Field(pattern=_DAY)]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """One seed document, or a public web page.

    A source without ``url`` is a seed document: its id is a file name in the seed folder
    (``../shared/seeds``). A source with ``url`` is a public page (an official statement, a news
    archive, an encyclopaedia article), cited for events the seed documents do not cover; its id
    names no file.

    Attributes:
        id: A seed document's file name, e.g. ``000_caedb08cfa03fef9.txt``; for a public page a
            stable id of our own, e.g. ``rferl_putin_kazakh_statehood_2014``.
        title: The document's own headline.
        date: Approximate publication date, ``YYYY-MM`` or ``YYYY-MM-DD``; for a page that is
            revised over time (an encyclopaedia article), the month of the events it is cited
            for, as ``date_basis`` says.
        date_basis: How the date was inferred when the document prints none.
        covers: What it covers, in one or two sentences.
        url: The https address of a public page; ``None`` for a seed document.
        outlet: The publication, when the text names it.
        author: The author, when the text names one.
        note: Caveats about the text.
    """

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=120)]
    title: Text
    date: MonthOrDay
    date_basis: str = ""
    covers: Text
    url: Annotated[str, Field(pattern=r"^https://[^\s/]+\.[^\s/]+/\S*$", max_length=500)] | None = (
        None
    )
    outlet: str | None = None
    author: str | None = None
    note: str = ""

    @property
    def seed_document(self) -> bool:
        """Whether the source is a seed document (a file in the seed folder), not a web page."""
        return self.url is None


class Quantity(_Strict):
    """A number a document gives, with its unit and how exact it is."""

    value: float = Field(allow_inf_nan=False)
    unit: Text
    qualifier: Literal["about", "up to", "close to", "less than", "more than"] | None = None


class Fact(_Strict):
    """One fact restated from the seed documents.

    Attributes:
        id: Stable snake_case id that scenarios cite.
        claim: The fact in our own words.
        date: ``YYYY-MM`` of the event, or of the document when the event is undated.
        actors: Lowercase ids of the states, powers and organisations involved.
        sources: Ids of the documents (``Source.id``) that give it.
        quantities: Numbers the documents give, by name.
        note: Disagreements between documents and other caveats.
    """

    id: Ident
    claim: Text
    date: Month
    actors: list[Ident] = Field(min_length=1)
    sources: list[str] = Field(min_length=1)
    quantities: dict[Ident, Quantity] = Field(default_factory=dict)
    note: str = ""


class _SourcesFile(_Strict):
    sources: list[Source] = Field(min_length=1)


class _EvidenceFile(_Strict):
    facts: list[Fact] = Field(min_length=1)


def default_evidence_dir() -> Path:
    """The bundled evidence base: the folder with ``sources.yaml`` and ``evidence.yaml``.

    The package data of an installed wheel, or the repository's ``seeds/`` in a checkout (see
    :func:`sim.input.bundled.evidence_dir`).
    """
    return evidence_dir()


# --- loading -----------------------------------------------------------------------------------


def _problems(exc: ValidationError, src: YamlSource, root: type[BaseModel]) -> list[Problem]:
    return [
        Problem(str(src.path), loc, message, src.line_of(loc))
        for loc, message in messages(exc, root)
    ]


def _read(path: str | Path, root: type[BaseModel], section: str) -> tuple[Any, YamlSource]:
    src = read_yaml(path)
    if not isinstance(src.data, dict):
        found = "an empty file" if src.data is None else type(src.data).__name__
        raise ScenarioError(
            [Problem(str(src.path), (), f"expected a mapping with '{section}:', found {found}")]
        )
    try:
        return root.model_validate(src.data), src
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, src, root)) from None


def _duplicates(items: Sequence[Source | Fact], section: str, src: YamlSource) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        if item.id in seen:
            loc = (section, i, "id")
            out.append(Problem(str(src.path), loc, f"duplicated id '{item.id}'", src.line_of(loc)))
        seen.add(item.id)
    return out


def load_sources(path: str | Path) -> list[Source]:
    """Load and validate a sources file.

    Args:
        path: A YAML file with a ``sources:`` list.

    Returns:
        The sources in file order.

    Raises:
        ScenarioError: With every problem found (file, line, field path).
    """
    parsed, src = _read(path, _SourcesFile, "sources")
    problems = _duplicates(parsed.sources, "sources", src)
    if problems:
        raise ScenarioError(problems)
    return list(parsed.sources)


def load_evidence(path: str | Path, sources: Iterable[Source | str]) -> list[Fact]:
    """Load and validate an evidence file against the known sources.

    Args:
        path: A YAML file with a ``facts:`` list.
        sources: The sources (or their ids) that facts may cite.

    Returns:
        The facts in file order.

    Raises:
        ScenarioError: With every problem found: schema errors, duplicated fact ids, and cited
            sources that do not exist (with a did-you-mean suggestion).
    """
    known = [s.id if isinstance(s, Source) else str(s) for s in sources]
    parsed, src = _read(path, _EvidenceFile, "facts")
    problems = _duplicates(parsed.facts, "facts", src)
    for i, fact in enumerate(parsed.facts):
        for j, ident in enumerate(fact.sources):
            if ident in known:
                continue
            tail = did_you_mean(ident, known, f"; known: {', '.join(known)}")
            loc = ("facts", i, "sources", j)
            problems.append(
                Problem(str(src.path), loc, f"unknown source id '{ident}'{tail}", src.line_of(loc))
            )
    if problems:
        raise ScenarioError(problems)
    return list(parsed.facts)


def load_all(directory: str | Path | None = None) -> tuple[list[Source], list[Fact]]:
    """Load ``sources.yaml`` and ``evidence.yaml`` from a folder.

    Args:
        directory: The folder (default: :func:`default_evidence_dir`).

    Returns:
        The sources and the facts.

    Raises:
        ScenarioError: If either file is missing or invalid.
    """
    folder = Path(directory) if directory is not None else default_evidence_dir()
    sources = load_sources(folder / "sources.yaml")
    return sources, load_evidence(folder / "evidence.yaml", sources)


def search(facts: Iterable[Fact], word: str) -> list[Fact]:
    """Facts whose id, claim or actors contain ``word`` (case-insensitive).

    Args:
        facts: The facts to search.
        word: The text to look for; an empty word matches every fact.

    Returns:
        The matching facts in their original order.
    """
    needle = word.casefold()
    return [
        f
        for f in facts
        if needle in f.id.casefold()
        or needle in f.claim.casefold()
        or any(needle in actor for actor in f.actors)
    ]


# --- scenario citations ----------------------------------------------------------------------

_ID_LISTS = ("powers", "states", "events")


def _index_loc(data: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """Turn ``("states", "kazakhstan", ...)`` into ``("states", 3, ...)`` for one file."""
    if len(loc) < 2 or loc[0] not in _ID_LISTS:
        return loc
    items = data.get(loc[0]) if isinstance(data, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and str(item.get("id")) == loc[1]:
            return (loc[0], i, *loc[2:])
    return None


def _where(chain: list[YamlSource], loc: tuple[str | int, ...]) -> tuple[str, int | None]:
    """The file of an ``extends`` chain that defines ``loc`` most deeply, and its line."""
    best: tuple[int, str, int | None] = (-1, str(chain[0].path), None)
    for src in chain:
        index = _index_loc(src.data, loc)
        if index is None:
            continue
        depth = next((cut for cut in range(len(index), -1, -1) if index[:cut] in src.lines), 0)
        if depth > best[0]:
            best = (depth, str(src.path), src.line_of(index))
    return best[1], best[2]


def check_citations(loaded: LoadedScenario, facts: Iterable[Fact | str]) -> list[Problem]:
    """Find evidence ids cited by a scenario that are not fact ids.

    Looks at the ``evidence`` of every number with provenance and of every event.

    Args:
        loaded: The loaded scenario (its merged document and source files are used).
        facts: The known facts (or their ids).

    Returns:
        One problem per unknown citation, naming file, line and id path, with a did-you-mean
        suggestion; empty when every citation is a fact.
    """
    known = [f.id if isinstance(f, Fact) else str(f) for f in facts]
    cited: list[tuple[tuple[str | int, ...], str]] = []
    for number in collect_numbers(loaded.raw):
        for j, ident in enumerate(number.evidence):
            cited.append(((*number.path.split("."), "evidence", j), ident))
    for event in loaded.raw.get("events") or []:
        if isinstance(event, dict) and isinstance(event.get("evidence"), list):
            for j, ident in enumerate(event["evidence"]):
                cited.append((("events", str(event.get("id")), "evidence", j), str(ident)))
    known_set = set(known)
    unknown = [(loc, ident) for loc, ident in cited if ident not in known_set]
    if not unknown:
        return []
    chain = [read_yaml(path) for path in loaded.files]
    problems = []
    for loc, ident in unknown:
        tail = did_you_mean(ident, known, "; no fact has this id")
        file, line = _where(chain, loc)
        problems.append(Problem(file, loc, f"unknown evidence id '{ident}'{tail}", line))
    return problems


def unsourced(loaded: LoadedScenario) -> list[str]:
    """Paths of the scenario's numbers that cite no evidence and are no labelled assumption.

    Args:
        loaded: The loaded scenario.

    Returns:
        Dotted paths with ids (e.g. ``states.kazakhstan.alignment.russia``), in file order.
    """
    return [number.path for number in collect_numbers(loaded.raw) if not number.sourced]


def load_verified(path: str | Path, directory: str | Path | None = None) -> LoadedScenario:
    """Load a scenario and verify that every evidence id it cites is a fact.

    Args:
        path: The scenario file.
        directory: Evidence folder (default: :func:`default_evidence_dir`).

    Returns:
        The loaded scenario.

    Raises:
        ScenarioError: For an invalid scenario, an invalid evidence base, or unknown citations.
    """
    from sim.input.scenario import load_scenario

    loaded = load_scenario(path)
    _, facts = load_all(directory)
    problems = check_citations(loaded, facts)
    if problems:
        raise ScenarioError(problems)
    return loaded
