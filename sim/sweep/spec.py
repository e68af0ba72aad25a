"""Sweep specification files: schema, loading and checks against the scenario.

A spec names a scenario, the parameters to vary by path with their ranges, a design and its size,
replicates per point, a root seed and what to keep::

    scenario: scenarios/baseline_2022.yaml   # relative to the spec file, or a bundled name
    design: sobol        # grid | lhs | sobol | morris
    samples: 1024
    replicates: 4
    seed: 20261123
    parameters: {powers.russia.strategy.threat_intensity: [0.2, 0.9]}

Without ``parameters`` every number of the scenario that carries an assumption range is varied
over that range, except numbers that cannot vary on their own (the shares of a lever mix, which
must sum to one; they are listed in ``LoadedSpec.excluded``); a parameter listed with ``null``
takes its assumption range. Problems are
reported like scenario problems, naming file, line, field path, what was expected and what was
found, with a suggestion for typos.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.input.bundled import bundled_scenario, unknown_scenario
from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.input.params import collect_numbers, resolve, with_values
from sim.input.scenario import LoadedScenario, Scenario, Sourced, load_scenario
from sim.input.schema_errors import messages, model_at
from sim.input.yamlsource import YamlSource, read_yaml
from sim.sweep.designs import MAX_POINTS, n_points

__all__ = ["LoadedSpec", "SweepSpec", "load_spec", "strip_provenance", "validate_spec"]

Design = Literal["grid", "lhs", "sobol", "morris"]
_ID_SECTIONS = ("powers", "states", "events")
Keep = Literal["summary", "trajectories"]


class SweepSpec(BaseModel):
    """The contents of a sweep spec file (unknown keys are rejected).

    Attributes:
        scenario: Scenario file, relative to the spec file, or the name of a bundled scenario
            (used when no such file exists there).
        design: ``grid``, ``lhs`` (Latin hypercube), ``sobol`` (Saltelli's scheme, for Sobol
            indices) or ``morris`` (elementary effects).
        samples: Size of the design. ``grid``: levels per parameter (points = samples ** k);
            ``lhs``: points; ``sobol``: base samples N, a power of two (points = N (k + 2), or
            N (2k + 2) with ``second_order``); ``morris``: trajectories (points = N (k + 1)).
        replicates: Runs per point, each with its own seed.
        seed: Root seed of the run seeds and of the design.
        parameters: Dotted path to ``[low, high]``; ``null`` takes the scenario's assumption range.
            Omitted: every assumption range in the scenario.
        keep: ``summary`` (summary metrics per run) or ``trajectories`` (also every recorded
            variable of every month, in chunked Parquet files).
        seeds: ``independent``: run k gets child k of ``SeedSequence(seed)``, so every run has
            its own noise; ``common``: replicate r of every point gets child r (common random
            numbers), so points differ only by their parameters, which sharpens Sobol and Morris
            indices of a noisy model.
        chunk_size: Runs per chunk file (default: about 100 chunks, at most 1000 runs each, 50
            with trajectories, at least 10).
        second_order: Sobol design only: also allow second-order indices.
        levels: Morris design only: levels of the grid of each parameter.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str = Field(min_length=1)
    design: Design
    samples: int = Field(gt=0)
    replicates: int = Field(1, gt=0)
    seed: int = Field(0, ge=0, lt=2**63)
    parameters: dict[str, tuple[float, float] | None] | None = None
    keep: Keep = "summary"
    seeds: Literal["independent", "common"] = "independent"
    chunk_size: int | None = Field(None, gt=0)
    second_order: bool = False
    levels: int = Field(4, ge=2, le=100)


@dataclass(frozen=True)
class LoadedSpec:
    """A checked spec with its scenario and resolved parameter ranges.

    Attributes:
        spec: The validated spec.
        path: The spec file (or ``<spec>`` for a spec given as data).
        loaded: The scenario.
        parameters: Path to ``(low, high)``, in the order given (or file order by default).
        excluded: Assumption ranges left out of a default parameter set because the number
            cannot vary on its own (such as one share of a lever mix), with the reason.
    """

    spec: SweepSpec
    path: Path
    loaded: LoadedScenario
    parameters: dict[str, tuple[float, float]]
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        """Parameter points of the design."""
        s = self.spec
        return n_points(s.design, len(self.parameters), s.samples, s.second_order)

    @property
    def n_runs(self) -> int:
        """Runs of the sweep: points times replicates."""
        return self.n_points * self.spec.replicates

    @property
    def chunk_size(self) -> int:
        """Runs per chunk file."""
        if self.spec.chunk_size is not None:
            return self.spec.chunk_size
        cap = 50 if self.spec.keep == "trajectories" else 1000
        return max(1, min(cap, max(10, math.ceil(self.n_runs / 100))))

    def resolved(self) -> dict[str, Any]:
        """The spec with every default filled and the scenario as an absolute path."""
        data = self.spec.model_dump()
        data["scenario"] = str(self.loaded.path.resolve())
        data["parameters"] = {p: list(r) for p, r in self.parameters.items()}
        data["chunk_size"] = self.chunk_size
        return data


def _schema_problems(exc: ValidationError, src: YamlSource) -> list[Problem]:
    problems = []
    for loc, message in messages(exc, SweepSpec):
        if len(loc) > 2 and loc[0] == "parameters":  # parameters.<path>.<variant>...
            loc = loc[:2]
        problems.append(Problem(str(src.path), loc, message, src.line_of(loc)))
    return sorted(problems, key=lambda p: p.line or 0)


def strip_provenance(raw: dict, paths: list[str]) -> dict:
    """A copy of a scenario document whose numbers at ``paths`` are bare values.

    A swept number may then take values outside its assumption range.

    Args:
        raw: The scenario document.
        paths: Paths of the swept numbers.

    Returns:
        The modified copy.
    """
    raw = copy.deepcopy(raw)
    for path in paths:
        container, key = resolve(raw, path, create=True)
        old = container.get(key)
        if isinstance(old, dict) and "value" in old:
            container[key] = old["value"]
    return raw


def _check_parameters(
    spec: SweepSpec, loaded: LoadedScenario, src: YamlSource
) -> tuple[dict[str, tuple[float, float]], dict[str, str], list[Problem]]:
    numbers = {n.path: n for n in collect_numbers(loaded.raw)}
    problems: list[Problem] = []

    def problem(loc: tuple, message: str) -> None:
        message = message if len(message) <= 300 else message[:297] + "..."  # a runaway path
        problems.append(Problem(str(src.path), loc, message, src.line_of(loc)))

    if spec.parameters is None:
        ranges = {p: n.range for p, n in numbers.items() if n.range and n.range[0] < n.range[1]}
        ranges, excluded, why = _combinable(loaded, ranges)
        if why:
            problem(("parameters",), f"expected assumption ranges that can be combined: {why}")
        elif not ranges:
            problem(
                ("parameters",),
                f"expected parameters with ranges: the scenario {loaded.path} has no "
                "assumption ranges to vary by default",
            )
        return ranges, excluded, problems
    out: dict[str, tuple[float, float]] = {}
    for path, given in spec.parameters.items():
        loc = ("parameters", path)
        if path not in numbers:
            try:
                container, key = resolve(dict(loaded.raw), path, create=True, copy_path=True)
            except KeyError as exc:
                problem(loc, f"unknown parameter path: {exc.args[0].split(': ', 1)[1]}")
                continue
            existing = container.get(key)
            parts = path.split(".")
            at = [0 if i == 1 and parts[0] in _ID_SECTIONS else p for i, p in enumerate(parts)]
            owner = model_at(Scenario, tuple(at), Sourced)  # a key unknown to the schema?
            if existing is None and owner not in (None, Sourced) and key not in owner.model_fields:
                tail = did_you_mean(str(key), owner.model_fields)
                tail = tail or f"; expected one of: {', '.join(owner.model_fields)}"
                problem(loc, f"unknown parameter path: unknown key '{key}'{tail}")
                continue
            if existing is not None:  # the path names a mapping or text, not a number
                kind = {"dict": "mapping", "str": "text"}.get(type(existing).__name__, "list")
                tail = did_you_mean(path, numbers)
                problem(loc, f"expected the path of a number, found a {kind}{tail}")
                continue
        if given is None:
            number = numbers.get(path)
            if number is None or number.range is None:
                problem(
                    loc,
                    "expected a range [low, high]: the scenario gives no assumption range here",
                )
                continue
            given = number.range
        low, high = given
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            problem(loc, f"expected a range [low, high] with low < high, found {list(given)}")
            continue
        out[path] = (float(low), float(high))
    if not problems and _extremes_valid(loaded, out):
        return out, {}, problems
    stripped = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, list(out))})
    for path, (low, high) in out.items():
        for bound in (low, high):
            try:
                with_values(stripped, {path: bound})
            except ScenarioError as exc:
                why = "; ".join(p.message for p in exc.problems)
                if why.startswith("unknown key"):
                    problem(("parameters", path), f"unknown parameter path: {why}")
                else:
                    problem(
                        ("parameters", path),
                        f"expected a range within the valid values of this field, found "
                        f"[{low}, {high}]: at {bound}: {why}",
                    )
                break
    return out, {}, problems


def _extremes_valid(loaded: LoadedScenario, ranges: dict[str, tuple[float, float]]) -> bool:
    """True when every parameter at its low end, and every one at its high end, validates."""
    stripped = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, list(ranges))})
    try:
        for side in (0, 1):
            with_values(stripped, {p: r[side] for p, r in ranges.items()})
    except ScenarioError:
        return False
    return True


def _id_path(raw: dict, loc: tuple) -> str:
    """A problem's location as a dotted path with ids (``powers.russia.strategy``)."""
    parts = []
    for i, part in enumerate(loc):
        if i == 1 and isinstance(part, int) and loc[0] in ("powers", "states", "events"):
            parts.append(str(raw[loc[0]][part]["id"]))
        else:
            parts.append(str(part))
    return ".".join(parts)


def _combinable(
    loaded: LoadedScenario, ranges: dict[str, tuple[float, float]]
) -> tuple[dict[str, tuple[float, float]], dict[str, str], str]:
    """Leave out the assumption ranges that cannot vary on their own.

    A number tied to others by a constraint (the shares of a lever mix sum to one) cannot take
    its range's ends while the others stay put. Every number is set to its low end at once, then
    to its high end; the numbers under a failing field are left out, and the check repeats.

    Returns:
        The ranges kept, the paths left out with the reason, and a message when a failure could
        not be traced to a parameter (else empty).
    """
    excluded: dict[str, str] = {}
    for _ in range(10):
        stripped = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, list(ranges))})
        failed: dict[str, str] = {}
        for side in (0, 1):
            try:
                with_values(stripped, {p: r[side] for p, r in ranges.items()})
            except ScenarioError as exc:
                for prob in exc.problems:
                    prefix = _id_path(loaded.raw, prob.loc)
                    hit = [p for p in ranges if p == prefix or p.startswith(prefix + ".")]
                    if not hit:
                        return ranges, excluded, str(prob)
                    for p in hit:
                        failed.setdefault(p, f"{prefix}: {prob.message}")
        if not failed:
            break
        excluded |= failed
        ranges = {p: r for p, r in ranges.items() if p not in failed}
    return ranges, excluded, ""


def validate_spec(
    data: Any, file: str | Path = "<spec>", src: YamlSource | None = None
) -> LoadedSpec:
    """Validate a spec document and check it against its scenario.

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
    if not isinstance(data, dict):
        found = "an empty file" if data is None else type(data).__name__
        raise ScenarioError([Problem(str(file), (), f"expected a mapping of keys, found {found}")])
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_schema_problems(exc, src)) from None
    problems = []
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        problems.append(
            Problem(
                str(file),
                ("samples",),
                f"expected a power of two for a sobol design, found {spec.samples}",
                src.line_of(("samples",)),
            )
        )
    scenario_path = Path(spec.scenario)
    if not scenario_path.is_absolute():
        scenario_path = file.parent / scenario_path
    if not scenario_path.is_file():
        bundled = bundled_scenario(spec.scenario)  # a plain name such as baseline_2022
        if bundled is None:
            line = src.line_of(("scenario",))
            plain = Path(spec.scenario).name == spec.scenario
            message = (
                unknown_scenario(spec.scenario, scenario_path)
                if plain
                else f"scenario file not found: {scenario_path}"
            )
            problems.append(Problem(str(file), ("scenario",), message, line))
            raise ScenarioError(problems)
        scenario_path = bundled
    loaded = load_scenario(scenario_path)
    parameters, excluded, more = _check_parameters(spec, loaded, src)
    problems += more
    if not problems:
        k = len(parameters)
        points = n_points(spec.design, k, spec.samples, spec.second_order)
        if points * spec.replicates > MAX_POINTS:
            problems.append(
                Problem(
                    str(file),
                    ("samples",),
                    f"expected at most {MAX_POINTS:,} runs, found a {spec.design} design of "
                    f"{points:,} points over {k} parameters times {spec.replicates} replicates",
                    src.line_of(("samples",)),
                )
            )
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    return LoadedSpec(spec=spec, path=file, loaded=loaded, parameters=parameters, excluded=excluded)


def load_spec(path: str | Path) -> LoadedSpec:
    """Load a sweep spec file and check it against its scenario.

    Args:
        path: The YAML file.

    Returns:
        The checked spec.

    Raises:
        ScenarioError: With every problem found, each naming file, line and field path.
    """
    src = read_yaml(path)
    return validate_spec(src.data, src.path, src)
