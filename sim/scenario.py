"""Typed scenario schema and loader.

A scenario is a YAML file with five sections: ``meta``, ``powers``, ``states``, ``model`` and
``events``. Unknown keys are rejected. Any number may be written bare (``0.7``) or with its
provenance (``{value: 0.7, evidence: [id, ...]}`` or
``{value: 0.7, assumption: {range: [0.5, 0.9], note: ...}}``). A file may start with
``extends: other.yaml`` and then only state what differs (see :func:`sim.yamlsource.deep_merge`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sim.errors import Problem, ScenarioError, suggest
from sim.schema_errors import describe, messages, model_at
from sim.yamlsource import YamlSource, deep_merge, read_yaml

__all__ = [
    "CHANNELS",
    "EVENT_RULES",
    "Event",
    "LoadedScenario",
    "ModelParams",
    "Power",
    "Scenario",
    "State",
    "load_scenario",
    "month_index",
    "month_label",
    "scenario_json_schema",
    "validate_document",
]

CHANNELS: tuple[str, ...] = ("trade", "remittances", "energy", "security", "investment")
"""Dependence channels of a state on a power, in array order."""

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_index(label: str) -> int:
    """Months since year 0 for a ``YYYY-MM`` label."""
    m = _MONTH.match(label)
    if not m:
        raise ValueError(f"expected a month as YYYY-MM, found {label!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    """Inverse of :func:`month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --- numbers with provenance -------------------------------------------------------------------


class Assumption(BaseModel):
    """A number that no seed document gives: its plausible range and why."""

    model_config = ConfigDict(extra="forbid")
    range: tuple[float, float]
    note: str = Field(min_length=1)

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] <= value[1]:
            raise ValueError(f"expected [low, high] with low <= high, found {list(value)}")
        return value


class Sourced(BaseModel):
    """A number with its provenance: evidence ids, an assumption, or both."""

    model_config = ConfigDict(extra="forbid")
    value: float = Field(allow_inf_nan=False)
    evidence: list[str] = Field(default_factory=list)
    assumption: Assumption | None = None

    @model_validator(mode="after")
    def _in_range(self) -> Sourced:
        if self.assumption is not None:
            low, high = self.assumption.range
            if not low <= self.value <= high:
                raise ValueError(
                    f"expected a value within its assumption range [{low}, {high}], "
                    f"found {self.value}"
                )
        return self


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        value = Sourced.model_validate(value).value
    if isinstance(value, bool):  # YAML 'yes'/'true' are not numbers
        raise ValueError(f"expected a number, found {str(value).lower()}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, found {value}")
    return value


def _month_text(value: Any) -> Any:
    if not isinstance(value, str):  # YAML reads 2022-01-05 as a date
        raise ValueError(f"expected a month as YYYY-MM, found {value}")
    if not _MONTH.match(value):
        raise ValueError(f"expected a month as YYYY-MM, found {value!r}")
    return value


def _num(ge: float | None = None, le: float | None = None) -> Any:
    bounds = {k: v for k, v in (("minimum", ge), ("maximum", le)) if v is not None}
    number = {"type": "number", **bounds}
    sourced = {
        "type": "object",
        "properties": {
            "value": number,
            "evidence": {"type": "array", "items": {"type": "string"}},
            "assumption": Assumption.model_json_schema(),
        },
        "required": ["value"],
        "additionalProperties": False,
    }
    return Annotated[
        float,
        BeforeValidator(_unwrap),
        Field(ge=ge, le=le, allow_inf_nan=False),
        WithJsonSchema({"anyOf": [number, sourced]}),
    ]


Unit = _num(0.0, 1.0)
"""A number in [0, 1], bare or with provenance."""
NonNeg = _num(0.0)
Signed = _num(-1.0, 1.0)
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Month = Annotated[
    str, BeforeValidator(_month_text), WithJsonSchema({"type": "string", "pattern": _MONTH.pattern})
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- sections ----------------------------------------------------------------------------------


class Meta(_Strict):
    """What the scenario is and the period it covers."""

    name: str = Field(min_length=1)
    description: str = ""
    question: str = Field(min_length=1, description="The question this scenario asks.")
    start: Month
    end: Month

    @model_validator(mode="after")
    def _order(self) -> Meta:
        if month_index(self.end) < month_index(self.start):
            raise ValueError(f"expected end ({self.end}) not before start ({self.start})")
        if month_index(self.end) - month_index(self.start) > 1200:
            raise ValueError("expected a period of at most 100 years")
        return self


class LeverMix(_Strict):
    """Shares of a power's spending on each lever; they must sum to 1."""

    aid: Unit
    security: Unit
    rhetoric: Unit

    @model_validator(mode="after")
    def _sums_to_one(self) -> LeverMix:
        total = self.aid + self.security + self.rhetoric
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"expected aid + security + rhetoric = 1, found {total:g}")
        return self


class Strategy(_Strict):
    """How a power spends and how it reacts when a state drifts away."""

    lever_mix: LeverMix
    courting: Unit = Field(description="Share of rhetoric that is respectful courting.")
    threat_intensity: Unit = Field(description="Strength of threatening rhetoric, 0 = none.")
    response: Literal["court", "punish", "ignore"] = "ignore"
    responsiveness: NonNeg = 0.0
    priorities: dict[Ident, NonNeg] = Field(
        default_factory=dict, description="Relative weight per state id; missing states get 1."
    )


class Power(_Strict):
    """A great power acting in the region."""

    id: Ident
    name: str = Field(min_length=1)
    monthly_budget: NonNeg = Field(description="USD million per month spent on the region.")
    military_capacity: Unit
    attention: Unit
    credibility: Unit
    kin_minority_weight: NonNeg = Field(
        0.0, description="How much a state's ethnic-Russian share adds to threat from this power."
    )
    memberships: list[Ident] = Field(default_factory=list)
    strategy: Strategy
    rivalry: dict[Ident, Unit] = Field(default_factory=dict)


class Dependence(_Strict):
    """Dependence of a state on one power, by channel, each in [0, 1]."""

    trade: Unit
    remittances: Unit
    energy: Unit
    security: Unit
    investment: Unit


class State(_Strict):
    """A Central Asian state and its initial relations with every power."""

    id: Ident
    name: str = Field(min_length=1)
    population: NonNeg = Field(description="Millions of people.")
    gdp: NonNeg = Field(description="USD billion per year.")
    ethnic_russian_share: Unit
    neutrality: Unit = Field(0.0, description="Strength of a neutrality doctrine.")
    memberships: list[Ident] = Field(default_factory=list)
    neighbours: list[Ident] = Field(default_factory=list)
    alignment: dict[Ident, Unit]
    trust: dict[Ident, Unit]
    threat: dict[Ident, Unit]
    dependence: dict[Ident, Dependence]
    border: dict[Ident, Unit] = Field(default_factory=dict)
    affinity: dict[Ident, Signed] = Field(default_factory=dict)


class Weights(_Strict):
    """Weights of the state's scoring of each power (see ``sim.dynamics.decide``)."""

    bias: _num(-10.0, 10.0) = -1.0
    dependence: _num(0.0, 10.0) = 1.5
    security: _num(0.0, 10.0) = 1.5
    threat: _num(0.0, 10.0) = 2.0
    bandwagon: _num(0.0, 10.0) = 1.0
    trust: _num(0.0, 10.0) = 1.0
    affinity: _num(0.0, 10.0) = 1.0
    membership: _num(0.0, 10.0) = 0.5
    rivalry: _num(0.0, 10.0) = 0.5


class ChannelWeights(_Strict):
    """How much each dependence channel counts in overall dependence (normalised to sum 1)."""

    trade: NonNeg = 1.0
    remittances: NonNeg = 1.0
    energy: NonNeg = 1.0
    security: NonNeg = 0.5
    investment: NonNeg = 1.0

    @model_validator(mode="after")
    def _positive(self) -> ChannelWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("expected at least one positive channel weight")
        return self


class ModelParams(_Strict):
    """Behavioural parameters shared by all states and powers."""

    weights: Weights = Weights()
    channel_weights: ChannelWeights = ChannelWeights()
    adjustment_speed: Unit = 0.15
    noise: _num(0.0, 0.5) = 0.01
    anchoring: Unit = 0.03
    peer_effect: Unit = 0.1
    trust_gain: Unit = 0.3
    trust_recovery: Unit = 0.05
    trust_loss: Unit = 0.3
    threat_gain: Unit = 0.3
    threat_decay: Unit = 0.05
    dependence_gain: Unit = 0.1
    dependence_decay: Unit = 0.02
    insecurity_decay: Unit = 0.1
    aid_scale: _num(1e-6, 1.0) = 0.01
    security_scale: _num(1e-6, 1.0) = 0.01
    rhetoric_scale: _num(1e-6, 1.0) = 0.002
    drift_scale: _num(1e-3, 1.0) = 0.1
    honour_threshold: Unit = 0.3
    credibility_penalty: Unit = 0.3


class EventType(StrEnum):
    """Kinds of dated events; each kind's rule is in ``EVENT_RULES``."""

    power_shock = "power_shock"
    security_request = "security_request"
    border_conflict = "border_conflict"
    threat = "threat"
    summit = "summit"
    aid_package = "aid_package"
    arms_deal = "arms_deal"
    diplomatic_signal = "diplomatic_signal"
    institutional = "institutional"


EVENT_RULES: dict[str, dict[str, Any]] = {
    # kind of actors (and how many when fixed), kind of targets (None = none allowed),
    # magnitude bounds, meaning
    "power_shock": {
        "actors": "power",
        "targets": None,
        "magnitude": (-1.0, 5.0),
        "meaning": "relative change of the power's `variable`: x <- x * (1 + magnitude)",
    },
    "security_request": {
        "n_actors": 1,
        "actors": "state",
        "targets": "power",
        "magnitude": (0.0, 1.0),
        "meaning": "severity of a crisis in which the state asks the targets for help",
    },
    "border_conflict": {
        "n_actors": 2,
        "actors": "state",
        "targets": None,
        "magnitude": (0.0, 1.0),
        "meaning": "severity of an armed clash between the actor states",
    },
    "threat": {
        "n_actors": 1,
        "actors": "power",
        "targets": "state",
        "magnitude": (0.0, 1.0),
        "meaning": "intensity of a threat (annexation talk, casus belli) toward the targets",
    },
    "summit": {
        "n_actors": 1,
        "actors": "power",
        "targets": "state",
        "magnitude": (-1.0, 1.0),
        "meaning": "warmth of a visit or summit; negative for a snub",
    },
    "aid_package": {
        "actors": "power",
        "targets": "state",
        "magnitude": (0.0, 1e6),
        "meaning": "USD million of economic aid or investment",
    },
    "arms_deal": {
        "actors": "power",
        "targets": "state",
        "magnitude": (0.0, 1e6),
        "meaning": "USD million of arms, training or security aid",
    },
    "diplomatic_signal": {
        "actors": "state",
        "targets": "power",
        "magnitude": (-1.0, 1.0),
        "meaning": "a state's public move toward (+) or away from (-) the targets",
    },
    "institutional": {
        "actors": "state",
        "targets": "power",
        "magnitude": (-1.0, 1.0),
        "meaning": "change in the institutional tie (membership, drills, treaties)",
    },
}

POWER_VARIABLES = ("credibility", "military_capacity", "budget", "attention")


class Event(_Strict):
    """A dated event; see ``EVENT_RULES`` for what each type means."""

    id: Ident
    date: Month
    type: EventType
    actors: list[Ident] = Field(min_length=1)
    targets: list[Ident] = Field(default_factory=list)
    magnitude: _num()
    variable: Literal["credibility", "military_capacity", "budget", "attention"] | None = None
    description: str = ""
    evidence: list[str] = Field(default_factory=list)
    enabled: bool = True

    @model_validator(mode="after")
    def _rule(self) -> Event:
        rule = EVENT_RULES[self.type.value]
        low, high = rule["magnitude"]
        if not low <= self.magnitude <= high:
            raise ValueError(
                f"expected magnitude in [{low:g}, {high:g}] for {self.type.value} "
                f"({rule['meaning']}), found {self.magnitude:g}"
            )
        if rule["targets"] is None and self.targets:
            raise ValueError(f"expected no targets for {self.type.value}")
        if rule["targets"] is not None and not self.targets:
            raise ValueError(f"expected at least one {rule['targets']} in targets")
        if (self.type == EventType.power_shock) != (self.variable is not None):
            raise ValueError(
                "expected `variable` (one of credibility, military_capacity, budget, attention) "
                "exactly for power_shock events"
            )
        n_actors = rule.get("n_actors")
        if n_actors is not None and len(self.actors) != n_actors:
            raise ValueError(
                f"expected exactly {n_actors} {rule['actors']}(s) in actors for "
                f"{self.type.value}, found {len(self.actors)}"
            )
        return self


class Scenario(_Strict):
    """A whole scenario: who acts, their starting relations, parameters and dated events."""

    extends: str | None = Field(None, description="Base scenario file, relative to this one.")
    meta: Meta
    powers: list[Power] = Field(min_length=1, max_length=50)
    states: list[State] = Field(min_length=1, max_length=100)
    model: ModelParams = ModelParams()
    events: list[Event] = Field(default_factory=list, max_length=10_000)

    @property
    def power_ids(self) -> list[str]:
        """Power ids in file order."""
        return [p.id for p in self.powers]

    @property
    def state_ids(self) -> list[str]:
        """State ids in file order."""
        return [s.id for s in self.states]

    @property
    def n_steps(self) -> int:
        """Number of monthly steps from ``meta.start`` to ``meta.end`` inclusive."""
        return month_index(self.meta.end) - month_index(self.meta.start) + 1

    def step_of(self, date: str) -> int:
        """Months from ``meta.start`` to ``date``."""
        return month_index(date) - month_index(self.meta.start)


# --- cross-references --------------------------------------------------------------------------


def _cross_check(sc: Scenario) -> list[tuple[tuple, str]]:
    """Find references to ids that do not exist, and other whole-file rules."""
    out: list[tuple[tuple, str]] = []
    powers, states = sc.power_ids, sc.state_ids

    def unknown(loc: tuple, value: str, kind: str, valid: list[str]) -> None:
        hint = suggest(value, valid)
        tail = f" (did you mean '{hint}'?)" if hint else f"; known {kind} ids: {', '.join(valid)}"
        out.append((loc, f"unknown {kind} id '{value}'{tail}"))

    for kind, ids, section in (("power", powers, "powers"), ("state", states, "states")):
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                out.append(((section, i, "id"), f"duplicated {kind} id '{ident}'"))
            seen.add(ident)
    if set(powers) & set(states):
        out.append((("states",), "expected power and state ids to differ"))

    for i, p in enumerate(sc.powers):
        for sid in p.strategy.priorities:
            if sid not in states:
                unknown(("powers", i, "strategy", "priorities", sid), sid, "state", states)
        for pid in p.rivalry:
            if pid not in powers:
                unknown(("powers", i, "rivalry", pid), pid, "power", powers)
            elif pid == p.id:
                out.append((("powers", i, "rivalry", pid), "expected no rivalry with itself"))

    for i, s in enumerate(sc.states):
        for field in ("alignment", "trust", "threat", "dependence"):
            given = getattr(s, field)
            for pid in given:
                if pid not in powers:
                    unknown(("states", i, field, pid), pid, "power", powers)
            missing = [p for p in powers if p not in given]
            if missing:
                out.append(
                    (("states", i, field), f"expected a value for every power, missing {missing}")
                )
        for field in ("border", "affinity"):
            for pid in getattr(s, field):
                if pid not in powers:
                    unknown(("states", i, field, pid), pid, "power", powers)
        for j, nid in enumerate(s.neighbours):
            if nid not in states:
                unknown(("states", i, "neighbours", j), nid, "state", states)
            elif nid == s.id:
                out.append((("states", i, "neighbours", j), "expected a state other than itself"))

    start, end = month_index(sc.meta.start), month_index(sc.meta.end)
    seen_events: set[str] = set()
    for i, ev in enumerate(sc.events):
        if ev.id in seen_events:
            out.append((("events", i, "id"), f"duplicated event id '{ev.id}'"))
        seen_events.add(ev.id)
        if not start <= month_index(ev.date) <= end:
            out.append(
                (
                    ("events", i, "date"),
                    f"expected a month from {sc.meta.start} to {sc.meta.end}, found {ev.date}",
                )
            )
        rule = EVENT_RULES[ev.type.value]
        for field in ("actors", "targets"):
            kind = rule[field]
            if kind is None:
                continue
            valid = powers if kind == "power" else states
            for j, ident in enumerate(getattr(ev, field)):
                if ident not in valid:
                    unknown(("events", i, field, j), ident, kind, valid)
    return out


# --- loading -----------------------------------------------------------------------------------


class LoadedScenario(BaseModel):
    """A validated scenario with where it came from.

    Attributes:
        scenario: The validated scenario.
        path: The file that was loaded.
        sha256: Hash of the merged document (canonical JSON), stable across formatting changes
            of the same content.
        files: Every file read, the loaded one first and its ``extends`` chain after it.
        raw: The merged document as plain data (with provenance still attached).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    scenario: Scenario
    path: Path
    sha256: str
    files: list[Path]
    raw: dict


def _read_chain(
    path: Path, depth: int = 0, seen: tuple[Path, ...] = ()
) -> tuple[dict, list[YamlSource]]:
    src = read_yaml(path)
    if src.data is None:
        raise ScenarioError(
            [Problem(str(path), (), "expected a scenario mapping, found an empty file")]
        )
    if not isinstance(src.data, dict):
        found = type(src.data).__name__
        raise ScenarioError(
            [Problem(str(path), (), f"expected a mapping of sections at top level, found {found}")]
        )
    base_name = src.data.get("extends")
    if base_name is None:
        return src.data, [src]

    def bad_extends(message: str) -> ScenarioError:
        return ScenarioError([Problem(str(path), ("extends",), message, src.line_of(("extends",)))])

    if not isinstance(base_name, str) or not base_name.strip() or "\0" in base_name:
        raise bad_extends(f"expected a file name, found {describe(base_name)}")
    if depth >= 10:
        raise bad_extends("extends chain deeper than 10 files (a cycle?)")
    try:
        base_path = (path.parent / base_name).resolve()
        is_file = base_path.is_file()
        exists = is_file or base_path.exists()
    except (OSError, ValueError) as exc:  # a name too long, a loop of symbolic links...
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise bad_extends(f"cannot use base file {describe(base_name)} ({why})") from None
    if not exists:
        raise bad_extends(f"base file not found: {base_path}")
    if base_path in seen or base_path == path.resolve():
        raise bad_extends(f"extends cycle: {base_path} extends itself through this file")
    if not is_file:
        raise bad_extends(
            f"expected the base to be a YAML file, found a folder or device: {base_path}"
        )
    base, chain = _read_chain(base_path, depth + 1, (*seen, path.resolve()))
    child = {k: v for k, v in src.data.items() if k != "extends"}
    return deep_merge(base, child), [src, *chain]


def _locate(chain: list[YamlSource], loc: tuple) -> tuple[str, int | None]:
    """Pick the file of the chain that defines the deepest part of ``loc``."""
    best, best_depth = chain[0], -1
    for src in chain:
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in src.lines:
                if cut > best_depth:
                    best, best_depth = src, cut
                break
    return str(best.path), best.line_of(loc)


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model of a scenario that owns the last key of ``loc`` (for did-you-mean)."""
    return model_at(Scenario, loc, Sourced)


def _pydantic_problems(exc: ValidationError, chain: list[YamlSource]) -> list[Problem]:
    problems = []
    for loc, message in messages(exc, Scenario, Sourced):
        file, line = _locate(chain, loc)
        problems.append(Problem(file, loc, message, line))
    return problems


def validate_document(
    data: Any, file: str | Path, chain: list[YamlSource] | None = None
) -> Scenario:
    """Validate a scenario document (schema, then cross-references).

    Args:
        data: The (merged) document as plain data.
        file: The file to name in problems.
        chain: Parsed sources, to give line numbers (optional).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: With every problem found.
    """
    chain = chain or [YamlSource(Path(file), data, {})]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, chain)) from None
    found = _cross_check(scenario)
    if found:
        problems = []
        for loc, message in found:
            where, line = _locate(chain, loc)
            problems.append(Problem(where, loc, message, line))
        raise ScenarioError(problems)
    return scenario


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load and validate a scenario file (following ``extends``).

    Args:
        path: The YAML file.

    Returns:
        The validated scenario with its hash and source files.

    Raises:
        ScenarioError: With every problem found, each naming file, line and field path.
    """
    path = Path(path)
    merged, chain = _read_chain(path)
    scenario = validate_document(merged, path, chain)
    canonical = json.dumps(merged, sort_keys=True, default=str).encode()
    return LoadedScenario(
        scenario=scenario,
        path=path,
        sha256=hashlib.sha256(canonical).hexdigest(),
        files=[src.path for src in chain],
        raw=merged,
    )


def scenario_json_schema() -> dict:
    """JSON Schema of scenario files, for editor completion and validation."""
    return Scenario.model_json_schema(mode="validation")
