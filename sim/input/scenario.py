"""Typed scenario schema and loader.

A scenario is a YAML file with five sections: ``meta``, ``powers``, ``states``, ``model`` and
``events``. Unknown keys are rejected. Any number may be written bare (``0.7``) or with its
provenance (``{value: 0.7, evidence: [id, ...]}`` or
``{value: 0.7, assumption: {range: [0.5, 0.9], note: ...}}``). A file may start with
``extends: other.yaml`` and then only state what differs (see
:func:`sim.input.yamlsource.deep_merge`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
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

from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.input.schema_errors import describe, messages, model_at
from sim.input.yamlsource import REMOVE, YamlSource, deep_merge, read_yaml, removals

__all__ = [
    "ALLOW_LARGE",
    "CHANNELS",
    "EVENT_RULES",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_MONTHS",
    "MAX_POWERS",
    "MAX_REPLICATES",
    "MAX_STATES",
    "PROFILED",
    "Event",
    "LoadedScenario",
    "ModelParams",
    "Power",
    "Scenario",
    "State",
    "Symbol",
    "load_scenario",
    "locate",
    "month_index",
    "month_label",
    "problem_at",
    "scenario_json_schema",
    "size_problems",
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

_VALUE_DOC = "The number itself."
_EVIDENCE_DOC = (
    "Ids of facts in seeds/evidence.yaml that support the number (`greatgame check` verifies "
    "that each exists)."
)
_ASSUMPTION_DOC = (
    "The number's plausible range and the reason for it, when it is a judgement rather than "
    "(only) a figure from a seed document."
)
_SOURCED_DOC = (
    "The number with its provenance: `value` plus `evidence` ids, an `assumption`, or both."
)


class Assumption(BaseModel):
    """A number that no seed document gives: its plausible range and why."""

    model_config = ConfigDict(extra="forbid")
    range: tuple[
        Annotated[float, Field(allow_inf_nan=False)], Annotated[float, Field(allow_inf_nan=False)]
    ] = Field(
        description=(
            "Plausible interval [low, high] of the number, low <= high; the value must lie "
            "within it. A sweep spec without `parameters` varies the number over this range."
        )
    )
    note: str = Field(
        min_length=1, description="Why the number and its range were chosen, in a few words."
    )

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] <= value[1]:
            raise ValueError(f"expected [low, high] with low <= high, found {list(value)}")
        return value


class Sourced(BaseModel):
    """A number with its provenance: evidence ids, an assumption, or both."""

    model_config = ConfigDict(extra="forbid")
    value: float = Field(allow_inf_nan=False, description=_VALUE_DOC)
    evidence: list[str] = Field(default_factory=list, description=_EVIDENCE_DOC)
    assumption: Assumption | None = Field(None, description=_ASSUMPTION_DOC)

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


FIRST_YEAR = 1900
"""Earliest year a scenario's months may fall in."""
LAST_YEAR = 2200
"""Latest year a scenario's months may fall in: the model is about the present and the coming
decades; years such as 0000 or 9999 are typing mistakes, and the plotting library cannot draw
dates outside its calendar range (years 1 to 9999)."""


def _month_text(value: Any) -> Any:
    if not isinstance(value, str):  # YAML reads 2022-01-05 as a date
        raise ValueError(f"expected a month as YYYY-MM, found {describe(value)}")
    m = _MONTH.match(value)
    if not m:
        raise ValueError(f"expected a month as YYYY-MM, found {describe(value)}")
    if not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        raise ValueError(
            f"expected a month from {FIRST_YEAR}-01 to {LAST_YEAR}-12, found {describe(value)}"
        )
    return value


def _num(ge: float | None = None, le: float | None = None) -> tuple[object, ...]:
    """The metadata of a number field: ``Annotated[float, *_num(ge, le)]``.

    Args:
        ge: The lowest value allowed, if any.
        le: The highest value allowed, if any.

    Returns:
        The validator that unwraps a sourced number, the bounds and the JSON Schema.
    """
    bounds = {k: v for k, v in (("minimum", ge), ("maximum", le)) if v is not None}
    number = {"type": "number", **bounds}
    sourced = {
        "type": "object",
        "description": _SOURCED_DOC,
        "properties": {
            "value": {**number, "description": _VALUE_DOC},
            "evidence": {
                "type": "array",
                "items": {"type": "string"},
                "description": _EVIDENCE_DOC,
            },
            "assumption": {**Assumption.model_json_schema(), "description": _ASSUMPTION_DOC},
        },
        "required": ["value"],
        "additionalProperties": False,
    }
    return (
        BeforeValidator(_unwrap),
        Field(ge=ge, le=le, allow_inf_nan=False),
        WithJsonSchema({"anyOf": [number, sourced]}),
    )


Unit = Annotated[float, *_num(0.0, 1.0)]
"""A number in [0, 1], bare or with provenance."""
Budget = Annotated[float, *_num(0.0, 1e6)]
"""USD million per month, in [0, 1e6] (USD 12 trillion a year: more than any power spends)."""
Weight = Annotated[float, *_num(0.0, 1000.0)]
"""A relative weight in [0, 1000]: only ratios matter, and the bound keeps products finite."""
Gain = Annotated[float, *_num(0.0, 100.0)]
"""A multiplier of an effect in [0, 100]; larger values overflow the model's arithmetic."""
Signed = Annotated[float, *_num(-1.0, 1.0)]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
_MONTH_IN_RANGE = r"^(19\d\d|2[01]\d\d|2200)-(0[1-9]|1[0-2])$"
"""JSON Schema pattern of a month from ``FIRST_YEAR`` to ``LAST_YEAR``."""
Month = Annotated[
    str,
    BeforeValidator(_month_text),
    WithJsonSchema({"type": "string", "pattern": _MONTH_IN_RANGE}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Symbol:
    r"""The math symbol of a model parameter in ``docs/ODD.md``, declared with its field.

    Written in the field's type, ``Annotated[Unit, Symbol(r"\lambda")]``; it does not change
    validation or the JSON Schema. :mod:`sim.input.modelparams` puts it in the ODD's parameter
    table.

    Attributes:
        tex: The symbol in TeX, without the dollar signs.
        odd: What the parameter means in the terms of the ODD's equations (TeX allowed), the
            meaning column of the ODD's table; the field's description (plain words, with its
            bounds) serves the JSON Schema and error messages. Empty: the description is used.
    """

    tex: str
    odd: str = ""


# --- sections ----------------------------------------------------------------------------------


SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""What ``meta.name`` may be: it names a folder under ``results/``, so no separator, no ``..``,
no control character, and a bounded length."""


class Meta(_Strict):
    """What the scenario is and the period it covers."""

    name: str = Field(
        min_length=1,
        json_schema_extra={"pattern": SAFE_NAME, "maxLength": 64},
        description=(
            "Short name of the scenario, shown in titles and used as the default output folder "
            "(results/<name>): 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit, so that it is always one folder inside results/."
        ),
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if len(name) > 64 or not re.fullmatch(SAFE_NAME, name):
            raise ValueError(
                "expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
                f"digit (it names the folder results/<name>), found {describe(name)}"
            )
        return name

    description: str = Field(
        "", description="What the scenario contains and what it changes, in prose (optional)."
    )
    question: str = Field(
        min_length=1, description="The question this scenario asks (the what-if it answers)."
    )
    start: Month = Field(
        description=(
            "First month simulated, YYYY-MM. The initial state (record 0) is dated the month "
            "before."
        )
    )
    end: Month = Field(
        description=(
            "Last month simulated, YYYY-MM, inclusive: not before `start`, at most 100 years "
            "after it."
        )
    )

    @model_validator(mode="after")
    def _order(self) -> Meta:
        if month_index(self.end) < month_index(self.start):
            raise ValueError(f"expected end ({self.end}) not before start ({self.start})")
        if month_index(self.end) - month_index(self.start) > 1200:
            raise ValueError("expected a period of at most 100 years")
        return self


class LeverMix(_Strict):
    """Shares of a power's spending on each lever; they must sum to 1."""

    aid: Unit = Field(
        description=(
            "Share of spending on economic aid, loans and investment, in [0, 1]; raises trust "
            "and the investment channel of dependence."
        )
    )
    security: Unit = Field(
        description=(
            "Share of spending on security aid (arms, training, bases), in [0, 1]; raises the "
            "security channel of dependence, scaled by military capacity."
        )
    )
    rhetoric: Unit = Field(
        description=(
            "Share of spending on rhetoric (media, statements), in [0, 1]; split into courting "
            "and threat by `courting` and `threat_intensity`."
        )
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> LeverMix:
        total = self.aid + self.security + self.rhetoric
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"expected aid + security + rhetoric = 1, found {total:g}")
        return self


class Strategy(_Strict):
    """How a power spends and how it reacts when a state drifts away."""

    lever_mix: LeverMix = Field(
        description="Shares of the spending on aid, security aid and rhetoric; they sum to 1."
    )
    courting: Unit = Field(
        description="Share of rhetoric that is respectful courting, in [0, 1]; it raises trust."
    )
    threat_intensity: Unit = Field(
        description=(
            "Strength of threatening rhetoric, in [0, 1] (0 = none); it raises the threat felt "
            "by exposed states and lowers their trust."
        )
    )
    response: Literal["decide", "court", "punish", "ignore"] = Field(
        "ignore",
        description=(
            "Reaction when a state's alignment with the power falls below its initial value: "
            "`decide` lets the power choose each month, state by state, whichever of courting "
            "and punishing gains it more in that state (or neither), from the model's own "
            "one-month look ahead; `court` always moves money toward that state, `punish` "
            "always threatens it harder, `ignore` does nothing."
        ),
    )
    responsiveness: Gain = Field(
        0.0,
        description=(
            "Strength of that reaction, in [0, 100]: at 1, a drift of `model.drift_scale` "
            "doubles the power's effort (money when courting, threat when punishing) toward "
            "the state."
        ),
    )
    entry_response: Unit = Field(
        0.0,
        description=(
            "Opportunism, in [0, 1]: the share of the room left by weakened powers that this "
            "power moves into, as extra attention (0 = it never enters). The room is the "
            "region's initial alignment with each other power times the share of that power's "
            "reliability lost since the start."
        ),
    )
    priorities: dict[Ident, Weight] = Field(
        default_factory=dict,
        description=(
            "Allocation weight of each state (state id -> weight, in [0, 1000]): the budget is "
            "shared in proportion; states not listed get 1."
        ),
    )


class Power(_Strict):
    """A great power acting in the region."""

    id: Ident = Field(
        description=(
            "Unique id of the power (lowercase letters, digits and _, starting with a letter, "
            "at most 40 characters), used wherever the power is referred to; it must differ "
            "from every state id. An `extends:` file names a power by its id to change it."
        )
    )
    name: str = Field(min_length=1, description="Display name of the power.")
    monthly_budget: Budget = Field(
        description=(
            "USD million per month spent on the region, in [0, 1e6]; the share actually "
            "deployed is set by `attention`, and `power_shock` events on `budget` scale it."
        )
    )
    military_capacity: Unit = Field(
        description=(
            "Ability to provide security, in [0, 1]; scales the effect of security aid and is "
            "part of reliability (credibility x capacity x attention)."
        )
    )
    attention: Unit = Field(
        description=(
            "Share of the budget actually deployed in the region at the start, in [0, 1]; "
            "`power_shock` events on `attention` scale it, and opportunistic entry "
            "(`strategy.entry_response`) adds to what is deployed. Part of reliability."
        )
    )
    credibility: Unit = Field(
        description=(
            "Belief that the power keeps its promises, in [0, 1]; part of reliability, it falls "
            "when the power fails a call for help."
        )
    )
    kin_minority_weight: Gain = Field(
        0.0,
        description=(
            "How much a state's ethnic-Russian share adds to its exposure to this power's "
            "threats, in [0, 100] (the exposure is capped at 1)."
        ),
    )
    memberships: list[Ident] = Field(
        default_factory=list,
        description=(
            "Ids of the blocs the power leads or belongs to (e.g. csto, eaeu, sco, cis, ots); "
            "a state's initial participation in the power's blocs is the share of these it "
            "belongs to."
        ),
    )
    strategy: Strategy = Field(description="How the power spends its budget and reacts to drift.")
    rivalry: dict[Ident, Unit] = Field(
        default_factory=dict,
        description=(
            "Resentment of each other power (power id -> [0, 1], not itself; missing = 0): how "
            "much aligning with that power costs a state in this power's eyes."
        ),
    )


class Dependence(_Strict):
    """Dependence of a state on one power, by channel, each in [0, 1]."""

    trade: Unit = Field(description="Dependence through trade, in [0, 1]; constant during a run.")
    remittances: Unit = Field(
        description="Dependence through migrants' remittances, in [0, 1]; constant during a run."
    )
    energy: Unit = Field(
        description=(
            "Dependence through energy (supply, transit, pipelines), in [0, 1]; constant during "
            "a run."
        )
    )
    security: Unit = Field(
        description=(
            "Dependence for security, in [0, 1]; raised by security aid and honoured calls for "
            "help, and times reliability it gives the power's security value."
        )
    )
    investment: Unit = Field(
        description="Dependence through investment and loans, in [0, 1]; raised by aid."
    )


class State(_Strict):
    """A Central Asian state and its initial relations with every power."""

    id: Ident = Field(
        description=(
            "Unique id of the state (lowercase letters, digits and _, starting with a letter, "
            "at most 40 characters); it must differ from every power id. An `extends:` file "
            "names a state by its id to change it."
        )
    )
    name: str = Field(min_length=1, description="Display name of the state.")
    population: Annotated[float, *_num(0.0, 1e4)] = Field(
        description="Population in millions, in [0, 10000]; weights regional influence."
    )
    gdp: Annotated[float, *_num(0.0, 1e6)] = Field(
        description=(
            "GDP in USD billion per year, in [0, 1e6]; monthly GDP (1000 x gdp / 12, USD "
            "million) is the scale of every lever's effect."
        )
    )
    ethnic_russian_share: Unit = Field(
        description=(
            "Share of ethnic Russians in the population, in [0, 1]; times a power's "
            "`kin_minority_weight` it adds to the state's exposure to that power."
        )
    )
    neutrality: Unit = Field(
        0.0,
        description=(
            "Strength of a neutrality doctrine, in [0, 1]: the alignment target is pulled to the "
            "initial alignment in this proportion; at 0.4 or more the state is absent from UN "
            "votes."
        ),
    )
    memberships: list[Ident] = Field(
        default_factory=list,
        description=(
            "Ids of the blocs the state belongs to (e.g. csto, eaeu, sco, cis, ots); they give "
            "its initial participation in each power's blocs."
        ),
    )
    neighbours: list[Ident] = Field(
        default_factory=list,
        description=(
            "Ids of the states whose drift this one follows (peer effect), weighted equally; "
            "with none listed it follows all other states."
        ),
    )
    alignment: dict[Ident, Unit] = Field(
        description=(
            "Initial alignment with each power (power id -> [0, 1], every power required): how "
            "closely the state sides with it. Alignment is pulled back toward this value."
        )
    )
    trust: dict[Ident, Unit] = Field(
        description=(
            "Initial trust in each power (power id -> [0, 1], every power required); trust "
            "relaxes back toward it."
        )
    )
    threat: dict[Ident, Unit] = Field(
        description=(
            "Initial threat perceived from each power (power id -> [0, 1], every power "
            "required); threat relaxes back toward it."
        )
    )
    dependence: dict[Ident, Dependence] = Field(
        description=(
            "Initial dependence on each power by channel (power id -> channels, every power "
            "required); dependence relaxes back toward it."
        )
    )
    border: dict[Ident, Unit] = Field(
        default_factory=dict,
        description=(
            "Land-border exposure to each power (power id -> [0, 1], missing = 0); with the "
            "kin-minority term it sets how strongly the power's threats count."
        ),
    )
    affinity: dict[Ident, Signed] = Field(
        default_factory=dict,
        description=(
            "Identity affinity with each power (power id -> [-1, 1], missing = 0): language, "
            "kinship, shared past."
        ),
    )


class Weights(_Strict):
    """Weights of the state's scoring of each power (see ``sim.model.dynamics.decide``)."""

    dependence: Annotated[
        float,
        *_num(0.0, 10.0),
        Symbol("w_D", r"weight of overall dependence $\bar D_{sp}$ in $\mathrm{score}_{sp}$"),
    ] = Field(1.5, description="Weight of overall (channel-weighted) dependence, in [0, 10].")
    security: Annotated[
        float,
        *_num(0.0, 10.0),
        Symbol("w_S", r"weight of security value $v_{sp}$ (times $1 + I_s$)"),
    ] = Field(
        1.5,
        description=(
            "Weight of security value (security dependence x reliability), times 1 + the "
            "state's insecurity, in [0, 10]."
        ),
    )
    threat: Annotated[
        float,
        *_num(0.0, 10.0),
        Symbol(r"w_\theta", r"balancing: threat $\theta_{sp}$ × alternatives repels"),
    ] = Field(
        2.0,
        description=(
            "Balancing: how much threat times the state's alternatives repels it from the "
            "power, in [0, 10]."
        ),
    )
    bandwagon: Annotated[
        float,
        *_num(0.0, 10.0),
        Symbol(
            "w_B",
            r"bandwagoning: threat × dependence $\bar D_{sp}$ × (1 − alternatives) attracts",
        ),
    ] = Field(
        1.0,
        description=(
            "Bandwagoning: how much threat times dependence times (1 - alternatives) "
            "draws the state to the power, in [0, 10]."
        ),
    )
    trust: Annotated[
        float, *_num(0.0, 10.0), Symbol(r"w_\tau", r"weight of trust, as $2\tau_{sp} - 1$")
    ] = Field(1.0, description="Weight of trust, entered as 2 x trust - 1, in [0, 10].")
    affinity: Annotated[
        float,
        *_num(0.0, 10.0),
        Symbol(
            r"w_\psi",
            r"how much identity affinity $\psi_{sp}$ amplifies (or damps) trust's response to "
            r"courting and aid: factor $\max(0, 1 + w_\psi \psi_{sp})$",
        ),
    ] = Field(
        1.0,
        description=(
            "How much identity affinity amplifies (positive affinity) or damps (negative) a "
            "state's trust response to a power's courting and aid: the response is multiplied "
            "by max(0, 1 + weight x affinity), in [0, 10]. Affinity is not a term of the score "
            "(there the status-quo calibration cancelled it)."
        ),
    )
    membership: Annotated[
        float, *_num(0.0, 10.0), Symbol("w_M", r"weight of bloc participation $M_{sp}$")
    ] = Field(0.5, description="Weight of participation in the power's blocs, in [0, 10].")
    rivalry: Annotated[
        float, *_num(0.0, 10.0), Symbol("w_R", r"weight of rivals' resentment $R_{sp}$")
    ] = Field(
        0.5,
        description=(
            "Weight of rivals' resentment (alignment with powers that resent this one), in [0, 10]."
        ),
    )


class ChannelWeights(_Strict):
    """How much each dependence channel counts in overall dependence (normalised to sum 1)."""

    trade: Annotated[
        Weight, Symbol(r"\omega_{trade}", r"weight of trade in $\bar D_{sp}$ (before normalising)")
    ] = Field(
        1.0, description="Weight of trade in overall dependence, in [0, 1000] (before normalising)."
    )
    remittances: Annotated[
        Weight, Symbol(r"\omega_{rem}", r"weight of remittances in $\bar D_{sp}$")
    ] = Field(1.0, description="Weight of remittances in overall dependence, in [0, 1000].")
    energy: Annotated[Weight, Symbol(r"\omega_{energy}", r"weight of energy in $\bar D_{sp}$")] = (
        Field(1.0, description="Weight of energy in overall dependence, in [0, 1000].")
    )
    security: Annotated[Weight, Symbol(r"\omega_{sec}", r"weight of security in $\bar D_{sp}$")] = (
        Field(
            0.5,
            description=(
                "Weight of security in overall dependence, in [0, 1000] (security also counts "
                "through security value)."
            ),
        )
    )
    investment: Annotated[
        Weight, Symbol(r"\omega_{inv}", r"weight of investment in $\bar D_{sp}$")
    ] = Field(1.0, description="Weight of investment in overall dependence, in [0, 1000].")

    @model_validator(mode="after")
    def _positive(self) -> ChannelWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("expected at least one positive channel weight")
        return self


class ModelParams(_Strict):
    """Behavioural parameters shared by all states and powers."""

    weights: Weights = Field(
        Weights(), description="Weights of the terms of the score a state gives each power."
    )
    channel_weights: ChannelWeights = Field(
        ChannelWeights(),
        description="Weights of the dependence channels in overall dependence (normalised).",
    )
    adjustment_speed: Annotated[
        Unit, Symbol(r"\lambda", r"share of the way to the target $a^{*}_{sp}$ moved per month")
    ] = Field(
        0.15, description="Share of the way to the target alignment moved per month, in [0, 1]."
    )
    noise: Annotated[
        float,
        *_num(0.0, 0.5),
        Symbol(r"\sigma_a", r"standard deviation of the monthly alignment noise $\sigma_a z$"),
    ] = Field(
        0.01,
        description=(
            "Standard deviation of the monthly Gaussian noise on alignment, in [0, 0.5]; the "
            "model's only random element."
        ),
    )
    peer_effect: Annotated[
        Unit, Symbol(r"\varphi", r"weight of the neighbours' drift $m_{sp}$ in the adjustment")
    ] = Field(0.1, description="Weight of the neighbours' drift in the adjustment, in [0, 1].")
    trust_gain: Annotated[
        Unit, Symbol(r"g_\tau", r"trust gained per unit of extra courting and aid; summit scale")
    ] = Field(
        0.3,
        description=(
            "Trust gained per unit of extra courting and aid, in [0, 1]; also the scale of "
            "`summit` events."
        ),
    )
    trust_recovery: Annotated[
        Unit, Symbol(r"r_\tau", r"monthly relaxation of trust toward $\tau^0$")
    ] = Field(0.05, description="Monthly relaxation of trust toward its initial value, in [0, 1].")
    trust_loss: Annotated[
        Unit,
        Symbol(
            r"l_\tau",
            r"trust lost per unit of extra threat × exposure $x_{sp}$; `threat` event scale",
        ),
    ] = Field(
        0.3,
        description=(
            "Trust lost per unit of extra threat x exposure, in [0, 1]; also the scale of "
            "`threat` events."
        ),
    )
    threat_gain: Annotated[
        Unit,
        Symbol(
            r"g_\theta",
            r"threat gained per unit of extra threatening rhetoric $\Delta e^{thr}$ "
            r"× exposure $x_{sp}$",
        ),
    ] = Field(
        0.3,
        description="Threat gained per unit of extra threatening rhetoric x exposure, in [0, 1].",
    )
    threat_decay: Annotated[
        Unit, Symbol(r"r_\theta", r"monthly relaxation of threat toward $\theta^0$")
    ] = Field(0.05, description="Monthly relaxation of threat toward its initial value, in [0, 1].")
    dependence_gain: Annotated[
        Unit,
        Symbol(
            "g_D",
            r"investment / security dependence gained per unit of extra aid / security aid "
            r"$\Delta e$",
        ),
    ] = Field(
        0.1,
        description=(
            "Investment (security) dependence gained per unit of extra aid (security aid), in "
            "[0, 1]."
        ),
    )
    dependence_decay: Annotated[
        Unit, Symbol("r_D", r"monthly relaxation of dependence toward $D^0$")
    ] = Field(
        0.02, description="Monthly relaxation of dependence toward its initial value, in [0, 1]."
    )
    insecurity_decay: Annotated[Unit, Symbol("r_I", r"monthly decay of insecurity $I_s$")] = Field(
        0.1,
        description="Monthly decay of a state's insecurity after crises and clashes, in [0, 1].",
    )
    aid_scale: Annotated[
        float,
        *_num(1e-6, 1.0),
        Symbol("k_{aid}", r"aid, as a share of monthly GDP $G_s$, reaching 63% of the full effect"),
    ] = Field(
        0.01,
        description=(
            "Aid, as a share of the recipient's monthly GDP, that reaches 63% of its full "
            "effect, in [1e-06, 1]."
        ),
    )
    security_scale: Annotated[
        float, *_num(1e-6, 1.0), Symbol("k_{sec}", r"the same for security aid")
    ] = Field(
        0.01,
        description=(
            "Security aid, as a share of the recipient's monthly GDP, that reaches 63% of its "
            "full effect, in [1e-06, 1]."
        ),
    )
    rhetoric_scale: Annotated[
        float, *_num(1e-6, 1.0), Symbol("k_{rh}", r"the same for rhetoric (reach)")
    ] = Field(
        0.002,
        description=(
            "Rhetoric spending, as a share of the recipient's monthly GDP, that reaches 63% of "
            "its full reach, in [1e-06, 1]."
        ),
    )
    drift_scale: Annotated[
        float,
        *_num(1e-3, 1.0),
        Symbol(r"\delta", r"drift that doubles a responsive power's effort (at responsiveness 1)"),
    ] = Field(
        0.1,
        description=(
            "Drift from the initial alignment that doubles a responsive power's effort (at "
            "responsiveness 1), in [0.001, 1]."
        ),
    )
    honour_threshold: Annotated[
        Unit,
        Symbol(
            "H",
            r"honour value $h = (1 - k_h) c \kappa \alpha + k_h \min(1, a_{sp} \pi_{sp} / "
            r"\bar\pi_p)$ needed to answer a call for help",
        ),
    ] = Field(
        0.3,
        description=(
            "Honour value (reliability, credibility x capacity x attention, mixed by "
            "honour_stakes with the caller's alignment weighted by the power's priority for "
            "it) a power needs to answer a call for help, in "
            "[0, 1]."
        ),
    )
    honour_stakes: Annotated[
        Unit,
        Symbol(
            "k_h",
            r"weight of the caller's alignment with the power, times the power's priority for "
            r"it (what it stands to lose), against its reliability when it decides to answer "
            r"a call",
        ),
    ] = Field(
        0.3,
        description=(
            "Weight, in [0, 1], of what an asked power stands to lose (the calling state's "
            "alignment with it) against what it can do (its reliability) when it decides "
            "whether to answer a call for help."
        ),
    )
    request_cost: Annotated[
        float,
        *_num(0.0, 5.0),
        Symbol(
            r"c_r",
            r"cost of asking a power for help per unit of its rivals' anger $R_{sp}$",
        ),
    ] = Field(
        0.2,
        description=(
            "Cost, per unit of the anger of a power's rivals, of asking that power for help in a "
            "crisis, weighed against the protection it can give, in [0, 5]."
        ),
    )
    offer_cost: Annotated[
        float,
        *_num(0.0, 5.0),
        Symbol(
            r"c_o",
            r"cost of accepting a power's package per unit of its rivals' anger $R_{sp}$",
        ),
    ] = Field(
        0.3,
        description=(
            "Cost, per unit of the anger of a power's rivals, of accepting that power's aid or "
            "arms package, weighed against what the package is worth in the state's economy, "
            "in [0, 5]."
        ),
    )
    credibility_penalty: Annotated[
        Unit,
        Symbol(
            r"\beta_c",
            r"share of credibility lost per unit of severity when a call is not honoured",
        ),
    ] = Field(
        0.3,
        description=(
            "Share of credibility lost per unit of severity when a call for help is not "
            "honoured, in [0, 1]."
        ),
    )
    entry_rate: Annotated[
        Unit,
        Symbol(
            r"r_e",
            r"monthly speed at which a power's opportunistic entry $e_p$ moves toward "
            r"$o_p O_p$",
        ),
    ] = Field(
        0.1,
        description=(
            "Monthly speed, in [0, 1], at which a power's opportunistic entry moves toward its "
            "entry response times the room left by weakened powers (it recedes at the same "
            "speed when the room closes)."
        ),
    )
    mix_learning: Annotated[
        Unit,
        Symbol(
            r"r_\mu",
            r"monthly share of a power's lever mix moved toward the levers whose marginal "
            r"return has risen most since the start (0: a fixed mix)",
        ),
    ] = Field(
        0.0,
        description=(
            "Monthly speed, in [0, 1], at which a power shifts its lever mix (aid, security, "
            "rhetoric) toward the levers whose marginal return on its objective (the states' "
            "priority-weighted target alignment with it) has risen most against the return "
            "at the start; 0 keeps the mix fixed."
        ),
    )
    allocation_learning: Annotated[
        Unit,
        Symbol(
            r"r_u",
            r"monthly share of a power's allocation weights $u_{sp}$ moved toward the states "
            r"whose marginal return has risen most since the start (0: weights fixed at the "
            r"priorities)",
        ),
    ] = Field(
        0.0,
        description=(
            "Monthly speed, in [0, 1], at which a power shifts its spending over the states "
            "toward those where one more USD million has gained most in return on its "
            "objective since the start; 0 keeps its allocation weights at its priorities."
        ),
    )
    response_threshold: Annotated[
        Unit,
        Symbol(
            r"\delta_r",
            r"smallest drift from its initial alignment to which a power that decides its "
            r"response courts or punishes a state",
        ),
    ] = Field(
        0.01,
        description=(
            "Smallest drift of a state's alignment below its initial value, in [0, 1], that a "
            "power choosing its response (`strategy.response: decide`) answers by courting or "
            "punishing; smaller drift it ignores."
        ),
    )
    stance_threshold: Annotated[
        Unit,
        Symbol(
            r"\delta_\sigma",
            r"margin by which the pull $\varpi$ (judged minus initial alignment) must exceed its "
            r"cost for a state to take a public stance",
        ),
    ] = Field(
        0.03,
        description=(
            "How far, in [0, 1], a state's own judgement of a power (its target alignment) must "
            "have moved from the initial alignment, beyond the cost of saying so, before it takes "
            "a public stance of distance or rapprochement."
        ),
    )
    stance_cost: Annotated[
        Unit,
        Symbol(
            r"\kappa_\sigma",
            r"cost of a stance per unit of dependence on the power (distance) or of its rivals' "
            r"resentment (rapprochement)",
        ),
    ] = Field(
        0.05,
        description=(
            "Cost, in [0, 1], of a public stance: per unit of overall dependence on the power "
            "for a distancing, per unit of its rivals' resentment for a rapprochement."
        ),
    )
    stance_effect: Annotated[
        Unit,
        Symbol(r"\eta_\sigma", r"one-off move of the state's own trust when its stance changes"),
    ] = Field(
        0.1,
        description=(
            "Share, in [0, 1], by which a change of public stance moves the state's own trust "
            "in the power, once, in the direction of the change."
        ),
    )
    participation_rate: Annotated[
        Unit,
        Symbol(r"r_m", r"monthly speed of bloc participation toward the level its stance sets"),
    ] = Field(
        0.05,
        description=(
            "Monthly speed, in [0, 1], at which a state's participation in a power's blocs "
            "moves toward the level its stance sets."
        ),
    )
    participation_shift: Annotated[
        Unit,
        Symbol(
            r"\mu_\sigma",
            r"share by which a distancing (rapprochement) lowers (raises) the participation level",
        ),
    ] = Field(
        0.3,
        description=(
            "Share, in [0, 1], by which a stance of distance lowers (of rapprochement raises) "
            "the level of participation in the power's blocs from its initial level."
        ),
    )
    exit_threshold: Annotated[
        Unit,
        Symbol(
            r"\chi_X",
            r"share of its initial participation $M^0_{sp}$ below which a distancing state "
            r"leaves the power's blocs",
        ),
    ] = Field(
        0.6,
        description=(
            "Share, in [0, 1], of its initial participation in a power's blocs below which a "
            "state that keeps its distance from the power leaves them for good (0: never)."
        ),
    )
    sanctions_risk: Annotated[
        float,
        *_num(0.0, 10.0),
        Symbol(
            r"c_z",
            r"weight of a state's dependence on the sanctioning powers (what their secondary "
            r"sanctions put at risk) against its trade with the sanctioned power",
        ),
    ] = Field(
        1.5,
        description=(
            "Weight, in [0, 10], of a state's overall dependence on the powers that sanction "
            "another (what their secondary sanctions put at risk) against its trade with the "
            "sanctioned power (what facilitating its trade earns) in the state's sanctions stance."
        ),
    )
    remittance_elasticity: Annotated[
        float,
        *_num(0.0, 5.0),
        Symbol(
            r"\epsilon_r",
            r"elasticity of the remittances from a power to its economy (its budget factor "
            r"$f_p$)",
        ),
    ] = Field(
        1.0,
        description=(
            "Elasticity, in [0, 5], of the remittances a state's migrants send from a power to "
            "that power's economy, its budget factor: remittance dependence relaxes toward its "
            "initial level times the budget factor to this power (0: remittances ignore the "
            "host economy)."
        ),
    )
    sanctions_trade: Annotated[
        Unit,
        Symbol(
            r"g_z",
            r"monthly move of trade dependence on a sanctioned power per unit of bite, up when "
            r"the state facilitates its trade, down when it complies",
        ),
    ] = Field(
        0.05,
        description=(
            "Share, in [0, 1], by which a state's trade dependence on a sanctioned power moves "
            "each month per unit of the sanctions' bite: toward 1 when the state facilitates the "
            "power's trade, toward 0 when it complies with the sanctions."
        ),
    )


class EventType(StrEnum):
    """Kind of dated event: who may act and be targeted, and what the magnitude means.

    One of power_shock, crisis, security_request, border_conflict, threat, summit, aid_package,
    arms_deal, diplomatic_signal, institutional, sanctions, route; each kind's rule is in
    ``EVENT_RULES``.
    """

    power_shock = "power_shock"
    crisis = "crisis"
    security_request = "security_request"
    border_conflict = "border_conflict"
    threat = "threat"
    summit = "summit"
    aid_package = "aid_package"
    arms_deal = "arms_deal"
    diplomatic_signal = "diplomatic_signal"
    institutional = "institutional"
    sanctions = "sanctions"
    route = "route"


EVENT_RULES: dict[str, dict[str, Any]] = {
    # kind of actors (and how many when fixed), kind of targets (None = none allowed),
    # magnitude bounds, meaning
    "power_shock": {
        "actors": "power",
        "targets": None,
        "magnitude": (-1.0, 5.0),
        "meaning": "relative change of the power's `variable`: x <- x * (1 + magnitude * h), "
        "h the shock's time profile (`onset`, `persistence`, `decay`; by default 1: whole at "
        "once, for ever)",
    },
    "crisis": {
        "n_actors": 1,
        "actors": "state",
        "targets": None,
        "magnitude": (0.0, 1.0),
        "meaning": "severity of a crisis (unrest, an attack) in which the state decides whom to "
        "ask for help, or nobody, and the asked power whether to answer",
    },
    "security_request": {
        "n_actors": 1,
        "actors": "state",
        "targets": "power",
        "magnitude": (0.0, 1.0),
        "meaning": "severity of a crisis in which the state asks the targets for help (the "
        "scenario fixes whom it asks; a `crisis` lets the state decide)",
    },
    "border_conflict": {
        "n_actors": 2,
        "actors": "state",
        "targets": None,
        "magnitude": (0.0, 1.0),
        "meaning": "severity of an armed clash between the actor states; each decides whom to "
        "ask for help, as in a `crisis`, and a power asked by both backs at most one",
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
        "meaning": "change in bloc participation (drills, summits, treaties)",
    },
    "sanctions": {
        "actors": "power",
        "targets": "power",
        "magnitude": (0.0, 1.0),
        "meaning": "bite of the actors' sanctions on the targets: the share of each target's "
        "budget they take at full effect, b <- magnitude * h (h the time profile: `onset`, "
        "`persistence`, `decay`); each state decides to comply, stay out or facilitate trade",
    },
    "route": {
        "actors": "power",
        "targets": "state",
        "magnitude": (0.0, 1.0),
        "meaning": "share of each target's energy and transit dependence on the other powers "
        "that a new route through the actors carries at full effect, r <- magnitude * h (h the "
        "time profile: `onset` for the building, `persistence`, `decay`)",
    },
}
PROFILED = ("power_shock", "sanctions", "route")
"""Event types that take a time profile (``onset``, ``persistence``, ``decay``)."""

POWER_VARIABLES = ("credibility", "military_capacity", "budget", "attention")


def _who(rule: dict[str, Any], side: str) -> str:
    """Who may fill ``side`` (actors or targets) of an event rule, in words."""
    kind = rule[side]
    if kind is None:
        return "none"
    count = rule.get("n_actors") if side == "actors" else None
    if count is None:
        return f"{kind}s"
    return f"exactly {count} {kind}{'' if count == 1 else 's'}"


def _bound(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


_EVENT_TYPE_DOC = "Kind of event, which fixes its actors, targets and magnitude:" + "".join(
    f"\n- `{kind}`: actors {_who(rule, 'actors')}, targets {_who(rule, 'targets')}"
    for kind, rule in EVENT_RULES.items()
)
"""Description of ``Event.type``, one line per kind, from ``EVENT_RULES``."""

_MAGNITUDE_DOC = "Size of the event; its meaning and bounds depend on `type`:" + "".join(
    f"\n- `{kind}` in [{_bound(rule['magnitude'][0])}, {_bound(rule['magnitude'][1])}]: "
    f"{rule['meaning']}"
    for kind, rule in EVENT_RULES.items()
)
"""Description of ``Event.magnitude``, one line per kind, from ``EVENT_RULES``."""


MAX_SHOCK_MONTHS = 1200.0
"""Longest onset or persistence of a shock, in months (a century)."""


class Event(_Strict):
    """A dated event: who acts on whom, when, and how strongly.

    What each ``type`` allows and means is in ``EVENT_RULES``.
    """

    id: Ident = Field(
        description=(
            "Unique id of the event (lowercase letters, digits and _, starting with a letter, "
            "at most 40 characters). An `extends:` file names an event by its id to change it "
            "or switch it off."
        )
    )
    date: Month = Field(
        description=(
            "Month the event fires, YYYY-MM, from `meta.start` to `meta.end`; it acts before "
            "that month's step, after the events listed before it."
        )
    )
    type: EventType = Field(description=_EVENT_TYPE_DOC)
    actors: list[Ident] = Field(
        min_length=1,
        description="Ids of the acting powers or states (at least one; which kind, and how many, "
        "depends on `type`).",
    )
    targets: list[Ident] = Field(
        default_factory=list,
        description=(
            "Ids of the powers or states acted on; required for every type except "
            "`power_shock` and `border_conflict`, which take none."
        ),
    )
    magnitude: Annotated[float, *_num()] = Field(description=_MAGNITUDE_DOC)
    variable: Literal["credibility", "military_capacity", "budget", "attention"] | None = Field(
        None,
        description=(
            "The variable of each actor power that a `power_shock` changes (`budget` is the "
            "budget factor); required for `power_shock` events and refused for any other."
        ),
    )
    onset: Annotated[float, *_num(ge=0.0, le=MAX_SHOCK_MONTHS)] = Field(
        0.0,
        description=(
            "For a `power_shock`, `sanctions` or `route`: months from the event to its full "
            "effect (0: "
            "at once). In "
            "month k after the event (k = 0 its own month) the shock stands at "
            "h(k) = min(1, (k + 1) / (onset + 1)) * (1 - decay) ** max(0, k - onset - "
            "persistence) of its magnitude; the variable is the level it would have without "
            "the shock times 1 + magnitude * h(k). Refused for other types."
        ),
    )
    persistence: Annotated[float, *_num(ge=0.0, le=MAX_SHOCK_MONTHS)] = Field(
        0.0,
        description=(
            "For a `power_shock`, `sanctions` or `route`: months the shock stays at its full "
            "effect after "
            "`onset` "
            "before it decays. Refused for other types."
        ),
    )
    decay: Annotated[float, *_num(ge=0.0, le=1.0)] = Field(
        0.0,
        description=(
            "For a `power_shock`, `sanctions` or `route`: share of what remains of the shock that "
            "fades "
            "each month "
            "after `onset` + `persistence` (0: permanent; 1: gone the next month). Refused for "
            "other types."
        ),
    )
    description: str = Field("", description="What happened, in prose (optional).")
    evidence: list[str] = Field(
        default_factory=list,
        description="Ids of facts in seeds/evidence.yaml that report the event.",
    )
    enabled: bool = Field(
        True,
        description=(
            "Whether the event fires; a counterfactual switches an inherited event off with "
            "`enabled: false`."
        ),
    )

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
        shaped = [f for f in ("onset", "persistence", "decay") if getattr(self, f) != 0.0]
        if shaped and self.type.value not in PROFILED:
            raise ValueError(
                f"expected {', '.join(f'`{f}`' for f in shaped)} only on power_shock, "
                f"sanctions and route events (the time profile of a shock), found on a "
                f"{self.type.value} event"
            )
        both = sorted(set(self.actors) & set(self.targets))
        if self.type == EventType.sanctions and both:
            raise ValueError(
                "expected a sanctions event's targets to differ from its actors (a power does "
                f"not sanction itself), found {', '.join(both)} in both"
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

    extends: str | None = Field(
        None,
        description=(
            "Base scenario file, relative to this one. This file then states only what differs "
            "and is merged onto the base: mappings key by key, `null` removes a key, lists of "
            "items with an `id` item by item on the id (new ids appended), anything else "
            "replaces."
        ),
    )
    meta: Meta = Field(description="What the scenario is and the months it covers.")
    powers: list[Power] = Field(
        min_length=1, max_length=50, description="The outside powers (1 to 50), with unique ids."
    )
    states: list[State] = Field(
        min_length=1,
        max_length=100,
        description="The states (1 to 100), with unique ids, and their relations to every power.",
    )
    model: ModelParams = Field(
        ModelParams(),
        description="Behavioural parameters shared by all states and powers; each has a default.",
    )
    events: list[Event] = Field(
        default_factory=list,
        max_length=10_000,
        description="Dated events (at most 10,000); events of the same month fire in file order.",
    )

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


def _cross_check(sc: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Find references to ids that do not exist, and other whole-file rules."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    powers, states = sc.power_ids, sc.state_ids

    def unknown(loc: tuple[str | int, ...], value: str, kind: str, valid: list[str]) -> None:
        tail = did_you_mean(value, valid, f"; known {kind} ids: {', '.join(valid)}")
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
    raw: dict[Any, Any]


def _read_chain(
    path: Path, depth: int = 0, seen: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], list[YamlSource]]:
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
    except (OSError, ValueError, RuntimeError) as exc:  # a name too long, a symlink loop...
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
    if base_path.suffix.lower() not in (".yaml", ".yml"):
        # Only scenario files: never parse (and quote back) some other file of the machine.
        raise bad_extends(f"expected a .yaml or .yml scenario file, found {describe(base_name)}")
    base, chain = _read_chain(base_path, depth + 1, (*seen, path.resolve()))
    child = {k: v for k, v in src.data.items() if k != "extends"}
    wrong = removals(base, child)
    if wrong:
        raise ScenarioError(
            [Problem(str(path), loc, message, src.line_of(loc)) for loc, message in wrong]
        )
    return deep_merge(base, child), [src, *chain]


_ID_SECTIONS = ("powers", "states", "events")
"""Top-level lists whose items :func:`sim.input.yamlsource.deep_merge` merges by ``id``."""


def _local_loc(data: Any, merged: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """``loc`` (an index into the merged document) as an index into one file's own document.

    An ``extends:`` file lists only the items it changes, in its own order, so item 5 of the
    merged ``events`` may be item 0 of the child file: the item is found by its ``id``.

    Args:
        data: One file's document.
        merged: The merged document that ``loc`` indexes.
        loc: Field path in the merged document.

    Returns:
        The same path in ``data``; only the section (``("events",)``) when the file has no
        item with that id; ``loc`` unchanged when it does not point into an id list.
    """
    if merged is None or len(loc) < 2 or loc[0] not in _ID_SECTIONS or not isinstance(loc[1], int):
        return loc
    items = merged.get(loc[0]) if isinstance(merged, dict) else None
    item = items[loc[1]] if isinstance(items, list) and 0 <= loc[1] < len(items) else None
    ident = item.get("id") if isinstance(item, dict) else None
    if not isinstance(ident, str):
        return loc
    own = data.get(loc[0]) if isinstance(data, dict) else None
    for i, mine in enumerate(own if isinstance(own, list) else []):
        if isinstance(mine, dict) and mine.get("id") == ident:
            return (loc[0], i, *loc[2:])
    return loc[:1]


def _locate(
    chain: list[YamlSource], loc: tuple[str | int, ...], merged: Any = None
) -> tuple[str, int | None]:
    """Pick the file of the chain that defines the deepest part of ``loc``, and its line.

    Args:
        chain: The file and its ``extends`` chain, the file first.
        loc: Field path in the merged document.
        merged: The merged document; with it, list items merged by id are found in each file
            by their id (a child's override of a base event points to the child's line).

    Returns:
        The file and the line (None when unknown).
    """
    best, best_loc, best_depth = chain[0], loc, -1
    for src in chain:
        own = _local_loc(src.data, merged, loc) if len(chain) > 1 else loc
        for cut in range(len(own), -1, -1):
            if own[:cut] in src.lines:
                if cut > best_depth:
                    best, best_loc, best_depth = src, own, cut
                break
    return str(best.path), best.line_of(best_loc)


def locate(loaded: LoadedScenario, loc: tuple[str | int, ...]) -> tuple[str, int | None]:
    """The file and line that define a field of a loaded scenario (its ``extends`` chain read).

    Args:
        loaded: The loaded scenario.
        loc: Field path in the merged document, list items by index (``("states", 2, "gdp")``).

    Returns:
        The file and the line (None when unknown).
    """
    try:
        chain = [read_yaml(path) for path in loaded.files]
    except ScenarioError:  # a file changed since it was loaded: name the scenario itself
        return str(loaded.path), None
    return _locate(chain, loc, loaded.raw) if chain else (str(loaded.path), None)


def problem_at(loaded: LoadedScenario, loc: tuple[str | int, ...], message: str) -> Problem:
    """A problem at a field of a loaded scenario, naming the file and line that define it.

    Args:
        loaded: The loaded scenario.
        loc: Field path in the merged document.
        message: What was expected and what was found.

    Returns:
        The problem.
    """
    file, line = locate(loaded, loc)
    return Problem(file, loc, message, line)


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model of a scenario that owns the last key of ``loc`` (for did-you-mean)."""
    return model_at(Scenario, loc, Sourced)


def _pydantic_problems(
    exc: ValidationError, chain: list[YamlSource], merged: Any = None
) -> list[Problem]:
    problems = []
    for loc, message in messages(exc, Scenario, Sourced):
        file, line = _locate(chain, loc, merged)
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
        raise ScenarioError(_pydantic_problems(exc, chain, data)) from None
    found = _cross_check(scenario)
    if found:
        problems = []
        for loc, message in found:
            where, line = _locate(chain, loc, data)
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


# --- size limits -------------------------------------------------------------------------------

ALLOW_LARGE = "--allow-large"
"""The command-line flag that lifts the size limits below (``allow_large: true`` in a spec)."""

MAX_STATES = 20
"""Most states a scenario may have without ``--allow-large``.

A run's cost grows as states x powers x months: with the Mesa engine of ``greatgame run``, a
20 states x 20 powers x 50 years run takes about 20 s and 0.6 GB on a laptop, and 40 x 40 x 100
years took 293 s and 3.4 GB, every replicate. The region has 5 states and 6 powers; 20 of each
leaves room for a larger region, or for splitting an actor, without a run that looks stuck.
"""
MAX_POWERS = 20
"""Most powers a scenario may have without ``--allow-large`` (see :data:`MAX_STATES`)."""
MAX_MONTHS = 600
"""Most months (50 years) a scenario may cover without ``--allow-large``: the model's monthly
relaxation rates are calibrated on a few years of events (the bundled scenarios cover 2 to 9
years), and the schema's hard limit is 100 years."""
MAX_REPLICATES = 1000
"""Most replicates of ``greatgame run`` or ``validate``, or per point of a sweep, without
``--allow-large``: a run of the baseline takes about 0.2 s with Mesa, so 1,000 take minutes, and
1,000 replicates already pin a mean to a small fraction of the noise's spread."""


def size_problems(loaded: LoadedScenario) -> list[Problem]:
    """The size limits a scenario exceeds, each naming the file, the line and how to lift it.

    The limits are :data:`MAX_STATES`, :data:`MAX_POWERS` and :data:`MAX_MONTHS`.

    Args:
        loaded: The loaded scenario.

    Returns:
        One problem per limit exceeded; empty when the scenario is within every limit.
    """
    sc = loaded.scenario
    lift = f"; make it smaller, or pass {ALLOW_LARGE} to run it anyway (slow, memory-hungry)"
    found = []
    for section, count, limit in (
        ("states", len(sc.states), MAX_STATES),
        ("powers", len(sc.powers), MAX_POWERS),
    ):
        if count > limit:
            found.append(
                problem_at(
                    loaded, (section,), f"expected at most {limit} {section}, found {count}{lift}"
                )
            )
    if sc.n_steps > MAX_MONTHS:
        found.append(
            problem_at(
                loaded,
                ("meta", "end"),
                f"expected at most {MAX_MONTHS} months ({MAX_MONTHS // 12} years) from "
                f"meta.start to meta.end, found {sc.n_steps}{lift}",
            )
        )
    return found


# --- JSON Schema -------------------------------------------------------------------------------

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of :func:`scenario_json_schema`."""

_NULL: dict[str, str] = {"type": "null"}
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated"})
_PARTIAL = "Partial"
"""Prefix of the ``$defs`` names of the partial variant of each model."""


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or ``null``, with its annotations (description, default...) kept outside."""
    if _NULL in schema.get("anyOf", []):
        return schema
    notes = {k: v for k, v in schema.items() if k in _ANNOTATIONS}
    core = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
    branches = core["anyOf"] if list(core) == ["anyOf"] else [core]
    return {**notes, "anyOf": [*branches, _NULL]}


def _partial(schema: Any, models: frozenset[str]) -> Any:
    """The partial counterpart of a (sub)schema, for a file that ``extends`` another.

    What :func:`sim.input.yamlsource.deep_merge` accepts in such a file: every property may be left
    out or set to ``null`` (which removes it from the base), in objects and in maps alike; an
    item of a list of objects carrying an ``id`` needs only its ``id``, which may not be
    ``null`` (it merges onto the base item with that id). References to a model point to its
    partial variant. Everything else (types, bounds, patterns, enums, list lengths, unknown
    keys refused) is kept, so a value that no complete file could hold is refused here too.

    Args:
        schema: A schema, or any node inside one.
        models: Names of the ``$defs`` entries that are objects (and so have a partial variant).

    Returns:
        A new schema; ``schema`` is not modified.
    """
    if isinstance(schema, list):
        return [_partial(item, models) for item in schema]
    if not isinstance(schema, dict):
        return schema
    keyed = "id" in schema.get("required", [])  # a list item, merged on its id
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key in ("enum", "const"):
            out[key] = value  # data, not schemas
        elif key == "$ref" and value.removeprefix("#/$defs/") in models:
            out[key] = f"#/$defs/{_PARTIAL}{value.removeprefix('#/$defs/')}"
        elif key == "properties":
            out[key] = {
                name: _partial(sub, models)
                if keyed and name == "id"
                else _nullable(_partial(sub, models))
                for name, sub in value.items()
            }
        elif key == "patternProperties":  # maps (power id -> number...)
            out[key] = {name: _nullable(_partial(sub, models)) for name, sub in value.items()}
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = _nullable(_partial(value, models))
        elif key == "required":
            if keyed:  # the id says which base item to merge onto: required, never null
                out[key] = ["id"]
        else:
            out[key] = _partial(value, models)
    return out


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of scenario files, for editor completion and validation.

    One schema covers both kinds of file. A complete file (no ``extends``) must match the full
    model, ``$defs/Scenario``. A file with ``extends: base.yaml`` is a partial document, merged
    onto its base by :func:`sim.input.yamlsource.deep_merge`, so it must match only the partial
    variant: every property optional and nullable (``null`` removes an inherited key), items
    of the ``powers``, ``states`` and ``events`` lists needing only their ``id``. The partial
    variant (``$defs/Partial<Model>`` and the top level) is derived from the full schema by
    code, so the two never drift apart; it keeps every type, bound, pattern and refusal of
    unknown keys. Whether the merged result is complete, and the rules that span fields (lever
    shares summing to 1, ids that exist, magnitude bounds per event type), are checked only by
    ``greatgame check``.

    The top level is the partial variant, so every file must match it; an ``if``/``else`` adds
    the full model for files without a string ``extends``.

    Returns:
        The schema as a JSON-ready dict.
    """
    full = Scenario.model_json_schema(mode="validation")
    defs: dict[str, Any] = full.pop("$defs")
    defs["Scenario"] = full
    models = frozenset(name for name, sub in defs.items() if "properties" in sub)
    for name in sorted(models):
        if _PARTIAL + name in defs:
            raise RuntimeError(f"$defs name clash: {_PARTIAL + name}")
        partial = _partial(defs[name], models)
        partial["title"] = f"{defs[name].get('title', name)} (partial)"
        partial["description"] = (
            f"{defs[name].get('description', '')} In a file with `extends:`: every field is "
            "optional, `null` removes an inherited value, and a list item needs only its `id`."
        ).strip()
        defs[_PARTIAL + name] = partial
    for name in ("Power", "State", "Event"):  # an item of an id list may drop the base's item
        defs[_PARTIAL + name]["properties"][REMOVE] = {
            "const": True,
            "description": "Drop the base's item of this id (the item then holds only `id`).",
        }
    root = dict(defs[_PARTIAL + "Scenario"])
    root.pop("title", None)
    root.pop("description", None)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "greatgame scenario",
        "description": (
            "A greatgame scenario file: meta, powers, states, model and events. A file with "
            "`extends: base.yaml` states only what differs from its base (a partial document); "
            "any other file must be complete. Any number may be bare or written as "
            "{value, evidence, assumption}."
        ),
        **root,
        "if": {
            "required": ["extends"],
            "properties": {
                "extends": {"type": "string", "description": "A base file: this one is partial."}
            },
        },
        "else": {"$ref": "#/$defs/Scenario"},
        "$defs": dict(sorted(defs.items())),
    }
