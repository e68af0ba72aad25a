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

import math
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.input.bundled import bundled_scenario, unknown_scenario
from sim.input.errors import OutputError, Problem, ScenarioError, did_you_mean
from sim.input.params import collect_numbers, resolve, strip_provenance, with_values
from sim.input.scenario import (
    ALLOW_LARGE,
    MAX_REPLICATES,
    LoadedScenario,
    Scenario,
    Sourced,
    load_scenario,
    size_problems,
)
from sim.input.schema_errors import messages, model_at
from sim.input.yamlsource import YamlSource, read_yaml
from sim.model.ensemble import fixed_by_batch
from sim.model.limits import finite_problems, gib, memory_problem, run_bytes
from sim.results.atomic import usable_path
from sim.sweep.designs import MAX_POINTS, build_design, n_points

__all__ = [
    "MAX_CHUNK_SIZE",
    "MAX_DESIGN_POINTS",
    "LoadedSpec",
    "SweepSpec",
    "check_room",
    "default_parameters",
    "load_spec",
    "parameter_ranges",
    "parse_spec",
    "scenario_of",
    "strip_provenance",
    "validate_spec",
]

MAX_DESIGN_POINTS = 1_000_000
"""Most design points without ``--allow-large``: a Sobol design of 2**16 base samples over 13
parameters, enough for stable first-order and total indices; a million points of the baseline
take about an hour on 16 cores and write about 0.6 GB of summary results per replicate."""
ENSEMBLE_CHUNK = 4_000
"""Most runs in a default chunk of a summary sweep on the ensemble engine."""
MAX_TRAJECTORY_RUNS = 100_000
"""Most runs of a sweep that keeps trajectories (lifted by ``allow_large``)."""
MAX_CHUNK_SIZE = 10_000
"""Most runs per chunk without ``--allow-large``: a chunk is the unit of memory in a worker and
of work lost when one fails, so a larger one gains nothing (the default is at most 1,000)."""
DESIGN_OVERHEAD = 4
"""Peak memory of building a design over its raw size (points x parameters x 8 bytes), measured
for LHS and Sobol: the unit design, the scaled one and the Arrow columns written from it."""
_FIXED_BY_BATCH = (
    "the ensemble engine cannot vary it run by run (a state's population weights the influence "
    "index of a whole batch)"
)
"""Why a number is left out of a sweep's parameters."""
SAMPLED_POINTS = 12
"""Design points validated as full scenarios by :func:`validate_spec` (evenly spaced)."""
SAMPLE_DESIGN_LIMIT = 2_000_000
"""Largest design (points x parameters) that :func:`validate_spec` builds to sample from."""

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
            indices of a noisy model. Default: ``common`` for a Morris design (whose elementary
            effects, differences of single runs, are mostly noise with independent seeds),
            else ``independent``.
        chunk_size: Runs per chunk file (default: sized by the engine, see
            :meth:`LoadedSpec.chunk_size_for`).
        second_order: Sobol design only: also allow second-order indices.
        levels: Morris design only: levels of the grid of each parameter.
        allow_large: Lift the size limits (replicates, design points, chunk size and the
            scenario's states, powers and months), as ``greatgame sweep --allow-large`` does;
            a sweep started with the flag records it here, so that it resumes.
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
    allow_large: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_seeds(cls, data: Any) -> Any:
        if isinstance(data, dict) and "seeds" not in data:  # the default depends on the design
            return {**data, "seeds": "common" if data.get("design") == "morris" else "independent"}
        return data


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
    def notes(self) -> list[str]:
        """Warnings about a spec that runs but may not answer its question, one line each."""
        out = []
        if self.spec.design == "morris" and self.spec.seeds == "independent":
            out.append(
                f"{self.path}: seeds: independent with a Morris design: each elementary effect "
                "is the difference of two single runs with different noise, so the ranking is "
                "mostly noise; set seeds: common (the default for Morris)"
            )
        return out

    @property
    def chunk_size(self) -> int:
        """Runs per chunk file: the spec's, else the default for the ensemble engine."""
        return self.chunk_size_for("ensemble")

    def chunk_size_for(self, engine: str) -> int:
        """Runs per chunk file for an engine: the spec's ``chunk_size``, else sized by the engine.

        The ensemble engine advances a chunk as one batch, so a chunk of a summary sweep holds
        up to :data:`ENSEMBLE_CHUNK` runs (a batch that size runs near the engine's full speed)
        while the sweep still makes at least 8 chunks (work for every process, and finished
        chunks to resume from); with trajectories, at most 50 runs (their rows are large). The
        Mesa model runs one run at a time: about 100 chunks of at most 1,000 runs, so progress
        and resuming stay fine-grained.

        Args:
            engine: A key of :data:`sim.model.engines.ENGINES`.

        Returns:
            The chunk size.
        """
        if self.spec.chunk_size is not None:
            return self.spec.chunk_size
        n = self.n_runs
        if self.spec.keep == "trajectories":
            return max(1, min(50, max(10, math.ceil(n / 100))))
        if engine == "ensemble":
            return max(1, min(ENSEMBLE_CHUNK, n, max(100, math.ceil(n / 8))))
        return max(1, min(1000, max(10, math.ceil(n / 100))))

    def for_engine(self, engine: str) -> LoadedSpec:
        """This spec with its chunk size fixed for ``engine`` (what a sweep folder records)."""
        if self.spec.chunk_size is not None:
            return self
        fixed = self.spec.model_copy(update={"chunk_size": self.chunk_size_for(engine)})
        return replace(self, spec=fixed)

    def resolved(self) -> dict[str, Any]:
        """The spec with every default filled and the scenario as an absolute path."""
        data = self.spec.model_dump()
        data["scenario"] = str(self.loaded.path.resolve())
        data["parameters"] = {p: list(r) for p, r in self.parameters.items()}
        data["chunk_size"] = self.chunk_size
        if not data["allow_large"]:
            del data["allow_large"]  # the default: spec files stay as they were
        return data

    @property
    def design_bytes(self) -> int:
        """Estimated peak memory of building the design, in bytes.

        Points x (parameters + 1) x 8 bytes, times :data:`DESIGN_OVERHEAD`.
        """
        return self.n_points * (len(self.parameters) + 1) * 8 * DESIGN_OVERHEAD

    @property
    def chunk_bytes(self) -> int:
        """Estimated peak memory of one chunk in a worker.

        Each run holds its noise block (months x states x powers x 8 bytes); with
        ``keep: trajectories`` also its recorded variables and their table
        (:func:`sim.model.limits.run_bytes`).
        """
        sc = self.loaded.scenario
        noise = sc.n_steps * len(sc.states) * len(sc.powers) * 8
        kept = run_bytes(sc, 1) if self.spec.keep == "trajectories" else 0
        return self.chunk_size * (noise + kept)

    @property
    def output_bytes(self) -> int:
        """Estimated size of the sweep's results on disk, uncompressed.

        Every run's summary metrics, parameters and ids (8 bytes each), and with
        ``keep: trajectories`` every recorded variable of every month.
        """
        sc = self.loaded.scenario
        n_s, n_p = len(sc.states), len(sc.powers)
        columns = 2 * n_s * n_p + n_s + n_p + 1 + len(self.parameters) + 4
        per_run = columns * 8
        if self.spec.keep == "trajectories":
            per_run += (sc.n_steps + 1) * (n_s * n_p * 4 + n_p) * 8
        return self.n_runs * per_run

    def memory_bytes(self, workers: int | None = None) -> int:
        """Estimated peak memory of the sweep: the design, and one chunk per worker.

        Args:
            workers: Chunks run at once (default: the machine's CPUs).

        Returns:
            Bytes.
        """
        n_chunks = -(-self.n_runs // self.chunk_size)
        at_once = min(n_chunks, workers or os.cpu_count() or 1)
        return self.design_bytes + at_once * self.chunk_bytes


def _schema_problems(
    exc: ValidationError, src: YamlSource, root: type[BaseModel] = SweepSpec
) -> list[Problem]:
    problems = []
    for loc, message in messages(exc, root):
        if len(loc) > 2 and loc[0] == "parameters":  # parameters.<path>.<variant>...
            loc = loc[:2]
        problems.append(Problem(str(src.path), loc, message, src.line_of(loc)))
    return sorted(problems, key=lambda p: p.line or 0)


def parse_spec[M: BaseModel](data: Any, file: Path, src: YamlSource, model: type[M]) -> M:
    """A spec document checked against its schema (a sweep's or a calibration's).

    Args:
        data: The parsed document.
        file: The spec file.
        src: Its parsed source, for line numbers.
        model: The schema.

    Returns:
        The validated spec.

    Raises:
        ScenarioError: For a document that is not a mapping, or each schema problem, naming
            file, line and field path.
    """
    if not isinstance(data, dict):
        found = "an empty file" if data is None else type(data).__name__
        raise ScenarioError([Problem(str(file), (), f"expected a mapping of keys, found {found}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_schema_problems(exc, src, model)) from None


def default_parameters(
    loaded: LoadedScenario,
) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """The parameters a spec without ``parameters`` varies, and the ranged numbers it leaves out.

    Args:
        loaded: The scenario.

    Returns:
        ``(ranges, excluded)``: each varied path with its range, in file order, and each
        ranged number left out with the reason (the ensemble cannot vary it run by run, or it
        cannot be combined with the others).
    """
    spec = SweepSpec(scenario=str(loaded.path), design="lhs", samples=1)
    ranges, excluded, _ = _check_parameters(spec, loaded, YamlSource(loaded.path, {}, {}))
    return ranges, excluded


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
        fixed = fixed_by_batch(loaded, list(ranges))
        ranges = {p: r for p, r in ranges.items() if p not in fixed}
        ranges, excluded, why = _combinable(loaded, ranges)
        excluded = {p: _FIXED_BY_BATCH for p in fixed} | excluded
        if why:
            problem(("parameters",), f"expected assumption ranges that can be combined: {why}")
        elif not ranges:
            problem(
                ("parameters",),
                f"expected parameters with ranges: the scenario {loaded.path} has no "
                "assumption ranges to vary by default",
            )
        return ranges, excluded, problems
    if not spec.parameters:
        problem(
            ("parameters",),
            "expected at least one parameter path with its range, found an empty mapping; "
            "leave `parameters` out to vary every assumption range of the scenario",
        )
        return {}, {}, problems
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


def scenario_of(name: str, file: Path, src: YamlSource) -> LoadedScenario:
    """The scenario a spec names: a file relative to the spec's folder, or a bundled name.

    Args:
        name: The spec's ``scenario`` value.
        file: The spec file.
        src: Its parsed source, for the line of ``scenario``.

    Returns:
        The loaded scenario.

    Raises:
        ScenarioError: For a scenario that is neither a file nor a bundled name (naming the
            spec's line), or a bad scenario file.
    """
    scenario_path = Path(name)
    if not scenario_path.is_absolute():
        scenario_path = file.parent / scenario_path
    if not scenario_path.is_file():
        bundled = bundled_scenario(name)  # a plain name such as baseline_2022
        if bundled is None:
            line = src.line_of(("scenario",))
            plain = Path(name).name == name
            message = (
                unknown_scenario(name, scenario_path)
                if plain
                else f"scenario file not found: {scenario_path}"
            )
            raise ScenarioError([Problem(str(file), ("scenario",), message, line)])
        scenario_path = bundled
    return load_scenario(scenario_path)


def parameter_ranges(
    parameters: dict[str, tuple[float, float] | None] | None,
    loaded: LoadedScenario,
    src: YamlSource,
) -> tuple[dict[str, tuple[float, float]], dict[str, str], list[Problem]]:
    """The ranges of a spec's ``parameters`` (``null``: the scenario's assumption range).

    The checks of a sweep spec's ``parameters``, for other specs that name parameters the same
    way (a calibration's priors).

    Args:
        parameters: Path to range or ``None``; ``None`` for every assumption range.
        loaded: The scenario.
        src: The spec's parsed source (file and lines of the problems).

    Returns:
        ``(ranges, excluded, problems)``, as for a sweep spec.
    """
    spec = SweepSpec(scenario=str(loaded.path), design="lhs", samples=1, parameters=parameters)
    return _check_parameters(spec, loaded, src)


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


def _count(n: int) -> str:
    """A count for messages: ``10,000,000``, or ``1.2e+41`` for a runaway one."""
    return f"{n:,}" if n < 10**15 else f"{n:.3g}"


def _tied_hint(paths: list[str]) -> str:
    """What a sweep of parameters tied by a rule may do instead, for the known rules."""
    if any(p.startswith("model.channel_weights.") for p in paths):
        return (
            "; they are normalised to sum 1, so sweep at most 4 of the 5 channel weights (the "
            "fifth fixed), or keep a low end above 0"
        )
    if any(".lever_mix." in p for p in paths):
        return "; the shares of a lever mix must sum to 1: leave them out of the sweep"
    return ""


def _joint_problems(
    spec: SweepSpec, loaded: LoadedScenario, parameters: dict[str, tuple[float, float]]
) -> list[tuple[tuple[str, ...], str]]:
    """Problems of parameters that are valid one by one but not together, or not computable.

    Every point of a design must validate as a scenario, as each chunk validates it. The two
    corners (every parameter at its low end, then at its high end) are validated and simulated
    (:func:`sim.model.limits.finite_problems`), then up to :data:`SAMPLED_POINTS` points of
    the design itself are validated, when the design is small enough to build here.

    Returns:
        ``(spec field path, message)`` pairs; empty when the corners and the sample pass.
    """
    stripped = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, list(parameters))})
    names = list(parameters)
    fixed = fixed_by_batch(stripped, names)  # the engine varies each one run by run?
    if fixed:
        return [
            (
                ("parameters",),
                f"expected parameters that a sweep can vary: {', '.join(fixed)}: {_FIXED_BY_BATCH}",
            )
        ]

    def failed(values: dict[str, float], what: str) -> list[tuple[tuple[str, ...], str]]:
        try:
            sc = with_values(stripped, values)
        except ScenarioError as exc:
            first = exc.problems[0]
            prefix = _id_path(loaded.raw, first.loc)
            tied = [p for p in names if p == prefix or p.startswith(prefix + ".")] or names
            hint = _tied_hint(tied)
            if not hint:
                shown = ", ".join(tied) if len(tied) <= 3 else f"{', '.join(tied[:3])}, ..."
                hint = f" (tied by this rule: {shown})"
            return [
                (
                    ("parameters",),
                    f"expected ranges valid together; {what}, {prefix or 'the scenario'}: "
                    f"{first.message}{hint}",
                )
            ]
        found = finite_problems(sc)
        if found:
            return [
                (("parameters",), f"{what}, {_id_path(loaded.raw, found[0][0])}: {found[0][1]}")
            ]
        return []

    for side, end in ((0, "low"), (1, "high")):
        out = failed(
            {p: r[side] for p, r in parameters.items()}, f"at the {end} end of every range"
        )
        if out:
            return out
    k = len(parameters)
    n = n_points(spec.design, k, spec.samples, spec.second_order)
    if n * k > SAMPLE_DESIGN_LIMIT:
        return []
    values = build_design(
        spec.design, parameters, spec.samples, spec.seed, spec.second_order, spec.levels
    )
    for i in sorted({int(j) for j in np.linspace(0, len(values) - 1, SAMPLED_POINTS)}):
        row = dict(zip(names, values[i].tolist(), strict=True))
        try:
            with_values(stripped, row)
        except ScenarioError:
            shown = ", ".join(f"{p}={v:.6g}" for p, v in row.items())
            return failed(row, f"at design point {i} ({shown})")[:1]
    return []


def validate_spec(
    data: Any,
    file: str | Path = "<spec>",
    src: YamlSource | None = None,
    allow_large: bool = False,
) -> LoadedSpec:
    """Validate a spec document and check it against its scenario.

    Besides the schema and the parameter paths, the spec is checked as a whole: parameters
    tied by a rule (:func:`_joint_problems`), the size limits (:data:`MAX_DESIGN_POINTS`,
    :data:`MAX_CHUNK_SIZE`, :data:`sim.input.scenario.MAX_REPLICATES` and the scenario's
    :func:`sim.input.scenario.size_problems`, lifted by ``allow_large``), and the estimated
    memory against the machine's (:func:`sim.model.limits.memory_problem`).

    Args:
        data: The parsed document.
        file: The spec file; the scenario path is relative to its folder.
        src: The parsed source, for line numbers (optional).
        allow_large: Lift the size limits (``--allow-large``), as ``allow_large: true`` in the
            spec does; the returned spec then records it.

    Returns:
        The checked spec.

    Raises:
        ScenarioError: With every problem found, each naming file, line and field path.
    """
    file = Path(file)
    src = src or YamlSource(file, data, {})
    spec = parse_spec(data, file, src, SweepSpec)
    if allow_large and not spec.allow_large:
        spec = spec.model_copy(update={"allow_large": True})
    large = spec.allow_large
    problems = []

    def at(loc: tuple[str, ...], message: str) -> None:
        problems.append(Problem(str(file), loc, message, src.line_of(loc)))

    lift = f"; {ALLOW_LARGE} (or allow_large: true) lifts this limit"
    if not large and spec.replicates > MAX_REPLICATES:
        at(
            ("replicates",),
            f"expected at most {MAX_REPLICATES:,} replicates, found {spec.replicates:,}{lift}",
        )
    if not large and spec.chunk_size is not None and spec.chunk_size > MAX_CHUNK_SIZE:
        at(
            ("chunk_size",),
            f"expected at most {MAX_CHUNK_SIZE:,} runs per chunk, found {spec.chunk_size:,}{lift}",
        )
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        problems.append(
            Problem(
                str(file),
                ("samples",),
                f"expected a power of two for a sobol design, found {spec.samples}",
                src.line_of(("samples",)),
            )
        )
    try:
        loaded = scenario_of(spec.scenario, file, src)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems) from None
    if not large:
        problems += size_problems(loaded)
    parameters, excluded, more = _check_parameters(spec, loaded, src)
    problems += more
    plan = LoadedSpec(spec=spec, path=file, loaded=loaded, parameters=parameters, excluded=excluded)
    if not more:
        k = len(parameters)
        points = plan.n_points
        sizes = f"est. {gib(plan.memory_bytes())} of memory, {gib(plan.output_bytes)} of results"
        if points * spec.replicates > MAX_POINTS:
            at(
                ("samples",),
                f"expected at most {MAX_POINTS:,} runs, found a {spec.design} design of "
                f"{_count(points)} points over {k} parameters times {spec.replicates} replicates "
                f"({sizes})",
            )
        elif not large and points > MAX_DESIGN_POINTS:
            at(
                ("samples",),
                f"expected at most {MAX_DESIGN_POINTS:,} design points, found {_count(points)} "
                f"({spec.design}, {k} parameters; {sizes}){lift}",
            )
        elif not large and spec.keep == "trajectories" and plan.n_runs > MAX_TRAJECTORY_RUNS:
            at(
                ("keep",),
                f"expected at most {MAX_TRAJECTORY_RUNS:,} runs with keep: trajectories (every "
                f"month of every run is written), found {plan.n_runs:,} ({sizes}); keep: summary "
                f"keeps the summary metrics of any number of runs{lift}",
            )
        else:
            what = (
                f"a {spec.design} design of {points:,} points over {k} parameters, "
                f"{plan.chunk_size:,} runs per chunk ({gib(plan.output_bytes)} of results)"
            )
            why = memory_problem(plan.memory_bytes(), what, large, ALLOW_LARGE)
            if why:
                at(("samples",), why)
    if not problems:
        for loc, message in _joint_problems(spec, loaded, parameters):
            at(loc, message)
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    return plan


def check_room(plan: LoadedSpec, out: Path) -> None:
    """Refuse a sweep whose estimated results do not fit on the disk of its folder.

    Args:
        plan: The checked spec.
        out: The sweep folder (it may not exist yet).

    Raises:
        OutputError: When :attr:`LoadedSpec.output_bytes` exceeds the free space there.
    """
    usable_path(out)  # a path no folder can have is refused first, in one line
    where = out.absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return
    if plan.output_bytes > free:
        raise OutputError(
            f"{out}: the sweep's results need an estimated {gib(plan.output_bytes)}, more than "
            f"the {gib(free)} free on that disk; expected a smaller sweep or another --out"
        )


def load_spec(path: str | Path, allow_large: bool = False) -> LoadedSpec:
    """Load a sweep spec file and check it against its scenario.

    Args:
        path: The YAML file.
        allow_large: Lift the size limits (``--allow-large``; see :func:`validate_spec`).

    Returns:
        The checked spec.

    Raises:
        ScenarioError: With every problem found, each naming file, line and field path.
    """
    src = read_yaml(path)
    return validate_spec(src.data, src.path, src, allow_large=allow_large)
