"""Calibration spec files: schema, loading and checks against the scenario and the record.

A spec names a scenario, the parameters to calibrate (their priors: uniform over the ranges, as a
sweep spec gives them), the record and the years fitted, and the sampler's settings::

    scenario: ../scenarios/history_2012.yaml  # relative to the spec file, or a bundled name
    records: [un_agreement, remittances]  # yearly UN agreement, remittances (% of GDP)
    years: [2012, 2017]       # the record's years fitted, inclusive
    parameters:               # null: the scenario's assumption range
      model.adjustment_speed: null
      model.peer_effect: [0, 0.3]
    particles: 500
    generations: 6
    quantile: 0.5
    min_acceptance: 0.02
    seed: 20261204
    method: replenishment     # or pmc (importance weights, for a few parameters)

Problems are reported like scenario problems, naming file, line, field path, what was expected
and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.calibration.abc import Box, Settings
from sim.calibration.record import bundled_record
from sim.input.errors import Problem, ScenarioError
from sim.input.scenario import LoadedScenario, month_index
from sim.input.yamlsource import YamlSource, read_yaml
from sim.sweep.spec import parameter_ranges, parse_spec, scenario_of

__all__ = ["CalibrationSpec", "LoadedCalibration", "load_calibration", "validate_calibration"]

Record = Literal["un_agreement", "remittances"]
"""The records a calibration may score."""
_DEFAULT_RECORDS: tuple[Record, ...] = ("un_agreement",)

MAX_PARTICLES = 100_000
"""Most particles per generation (each generation keeps them all in memory and weighs each
against every particle of the previous one: ``particles**2`` kernel terms)."""


class CalibrationSpec(BaseModel):
    """The contents of a calibration spec file (unknown keys are rejected).

    Attributes:
        scenario: Scenario file, relative to the spec file, or a bundled scenario's name.
        records: The records scored (:mod:`sim.calibration.record`): ``un_agreement`` (yearly
            UN agreement shares) and ``remittances`` (remittances received, % of GDP).
        years: First and last calendar year of the record fitted; the scenario must cover
            every month of them.
        parameters: Dotted path to ``[low, high]`` (``null``: the scenario's assumption range).
        particles: Particles per generation.
        generations: Most generations, counting the prior sample.
        quantile: Quantile of a generation's distances taken as the next tolerance.
        min_acceptance: Stop once a generation keeps less than this share of its runs.
        seed: Root seed of the sampler and of every run seed.
        batch: Most runs simulated together (bounds memory).
        method: ``replenishment`` (default; equal weights, robust with many parameters) or
            ``pmc`` (importance weights; for a few parameters): :mod:`sim.calibration.abc`.
        max_moves: ``replenishment``: most MCMC moves of a resampled particle per generation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str = Field(min_length=1)
    records: list[Record] = Field(default_factory=lambda: list(_DEFAULT_RECORDS), min_length=1)
    years: tuple[int, int]
    parameters: dict[str, tuple[float, float] | None] = Field(min_length=1)
    particles: int = Field(500, ge=10, le=MAX_PARTICLES)
    generations: int = Field(6, ge=1, le=100)
    quantile: float = Field(0.5, gt=0, lt=1)
    min_acceptance: float = Field(0.02, ge=0, lt=1)
    seed: int = Field(0, ge=0, lt=2**63)
    batch: int = Field(5_000, ge=100, le=100_000)
    method: Literal["replenishment", "pmc"] = "replenishment"
    max_moves: int = Field(50, ge=1, le=1000)


@dataclass(frozen=True)
class LoadedCalibration:
    """A checked spec with its scenario and prior.

    Attributes:
        spec: The spec as written.
        path: The spec file.
        loaded: The scenario.
        box: The prior (uniform over each parameter's range).
    """

    spec: CalibrationSpec
    path: Path
    loaded: LoadedScenario
    box: Box

    @property
    def settings(self) -> Settings:
        """The sampler's settings."""
        s = self.spec
        return Settings(
            particles=s.particles,
            generations=s.generations,
            quantile=s.quantile,
            min_acceptance=s.min_acceptance,
            max_batch=s.batch,
            seed=s.seed,
            method=s.method,
            max_moves=s.max_moves,
        )


def _covers(loaded: LoadedScenario, years: tuple[int, int]) -> str | None:
    """Why the scenario does not cover every month of ``years``, or None."""
    meta = loaded.scenario.meta
    first, last = f"{years[0]}-01", f"{years[1]}-12"
    if month_index(meta.start) > month_index(first) or month_index(meta.end) < month_index(last):
        return (
            f"expected years within the scenario's months ({meta.start} to {meta.end}), found "
            f"{years[0]}-{years[1]} ({first} to {last})"
        )
    return None


def validate_calibration(
    data: Any, file: str | Path = "<spec>", src: YamlSource | None = None
) -> LoadedCalibration:
    """Validate a calibration spec document and check it against its scenario.

    Args:
        data: The parsed document.
        file: The spec file; the scenario path is relative to its folder.
        src: The parsed source, for line numbers (optional).

    Returns:
        The checked spec.

    Raises:
        ScenarioError: With every problem found, each naming file, line and field path.
    """
    file = Path(file)
    src = src or YamlSource(file, data, {})
    spec = parse_spec(data, file, src, CalibrationSpec)
    problems: list[Problem] = []

    def at(loc: tuple[str, ...], message: str) -> None:
        problems.append(Problem(str(file), loc, message, src.line_of(loc)))

    if spec.years[0] > spec.years[1]:
        at(("years",), f"expected [first, last] with first <= last, found {list(spec.years)}")
    loaded = scenario_of(spec.scenario, file, src)
    if len(set(spec.records)) < len(spec.records):
        at(("records",), f"expected each record once, found {spec.records}")
    if not problems:
        held = bundled_record().years
        if spec.years[0] < held[0] or spec.years[1] > held[-1]:
            at(
                ("years",),
                f"expected years within the record's {held[0]}-{held[-1]} (UN roll calls "
                f"before 2020), found {spec.years[0]}-{spec.years[1]}",
            )
        elif why := _covers(loaded, spec.years):
            at(("years",), why)
    ranges, _, more = parameter_ranges(dict(spec.parameters), loaded, src)
    problems += more
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    return LoadedCalibration(spec=spec, path=file, loaded=loaded, box=Box.of(ranges))


def load_calibration(path: str | Path) -> LoadedCalibration:
    """Load a calibration spec file and check it (see :func:`validate_calibration`)."""
    src = read_yaml(path)
    return validate_calibration(src.data, src.path, src)
