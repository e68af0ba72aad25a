"""Screening of every ranged number: does it move any output at the ends of its range?

For each number of a scenario that carries an assumption range (``{value: v, assumption:
{range: [lo, hi]}}``), the scenario is run with that number at the low end and at the high end
of its range, every other number at its value, and compared with the run of the scenario as it
is (one at a time, OAT). Every run has the same seed (common random numbers), so the runs differ
only by the number changed, and they are all advanced together by the ensemble engine
(:func:`sim.model.ensemble.prepare_swept`, compiled once: ``2 k + 1`` runs for ``k`` numbers).

The effect of a number is the largest absolute difference, between its low or high run and the
baseline run, over every recorded output: each variable of :attr:`sim.model.metrics.Batch.values`
(alignment, trust, threat, dependence, credibility, attention, participation, stance, request) at
every record, state and power, and the outcome of each event that fired (whom a state asked for
help and whether that power answered; a changed outcome, a changed public stance or a changed
answer to a call counts as a difference of 1, the full range of an
indicator). A number whose effect is exactly ``0.0`` is
*inert*: at either end of its range nothing recorded changes by a single bit.

An inert number is either a defect of the model (a mechanism that cancels the number, or a cap
it never gets past) or structural, for a reason that the number's place in the scenario makes
plain: a number of a disabled event (it never fires), the decay of a shock that would begin
only after the scenario's last month or the persistence of one that does not decay, or a path
listed in :data:`STRUCTURALLY_INERT` with its reason. ``tests/test_screening.py`` lists the
numbers of the bundled scenarios that are inert without such a reason (the defects model v2 is
removing) and fails on any other.

The numbers screened are the default parameter set of a sweep spec
(:func:`sim.sweep.spec.validate_spec` without ``parameters``), plus those that the default set
leaves out only because they cannot take their range's ends together but can one at a time.
Not screened, with the reason: numbers the ensemble engine cannot vary run by run (a state's
population, :func:`sim.model.ensemble.fixed_by_batch`), numbers that cannot take an end of their
range alone (a share of a lever mix, which must sum to one with the others) and ranges of a
single value.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.input.errors import ScenarioError
from sim.input.params import collect_numbers, with_values
from sim.input.scenario import Event, LoadedScenario, Scenario
from sim.model.compile import PROFILE_FIELDS
from sim.model.dynamics import FloatArray
from sim.model.ensemble import Ensemble, fixed_by_batch, prepare_swept, simulate_ensemble
from sim.model.limits import run_bytes
from sim.results.runner import replicate_seeds
from sim.sweep.spec import default_parameters, strip_provenance

__all__ = [
    "DECISIONS",
    "MAX_BATCH_BYTES",
    "OUTCOME_DIFFERENCE",
    "ROUNDING",
    "STRUCTURALLY_INERT",
    "Effect",
    "Screening",
    "screen",
    "structural_reason",
]

STRUCTURALLY_INERT: dict[str, str] = {}
"""Scenario path to the reason why that number cannot move any output, whatever the model's
equations: a known, intended inertness, not a defect. A number listed here may be inert in the
screening test (``tests/test_screening.py``); any other inert number fails it unless the test
lists it as a known defect. The numbers of disabled events and late shock profiles need no
entry (:func:`structural_reason` knows them)."""

MAX_BATCH_BYTES = 2 * 2**30
"""Most estimated memory of one batch of the screening (:func:`sim.model.limits.run_bytes`); a
larger screening runs in several batches, each with its own baseline run. The bundled scenarios
need about 2.4 GiB (2.6 MB a run of two years), two batches."""

OUTCOME_DIFFERENCE = 1.0
"""The difference a changed event outcome counts for."""
DECISIONS = frozenset({"stance", "request", "offer", "sanctions", "response"})
"""Recorded variables that are choices (a state's public stance, -1, 0 or +1; the answer to its
latest call for help or offer, -1, 0 or +1; its stance toward sanctions; a power's response to
its drift, -1, 0 or +1): a changed choice
counts as a changed event outcome, :data:`OUTCOME_DIFFERENCE`, not as the distance between the
choices."""

ROUNDING = 1e-12
"""Effects above zero but below this are reported apart (:attr:`Screening.negligible`): rounding
error of 64-bit arithmetic on outputs of order one, the trace of a mechanism that cancels the
number in exact arithmetic (such as a residual fitted to the initial state). They are not
:attr:`Effect.inert`, but the screening test counts them as no effect."""


@dataclass(frozen=True)
class Effect:
    """What one ranged number does to the outputs at the ends of its range.

    Attributes:
        path: The number's path, as a sweep spec names it (``powers.russia.credibility``).
        value: Its value in the scenario.
        low: Low end of its assumption range.
        high: High end of its assumption range.
        effect: Largest absolute difference from the baseline run over every output, at either
            end (``max(effect_low, effect_high)``).
        effect_low: The same at the low end.
        effect_high: The same at the high end.
        output: The output that moved most, such as ``alignment[2022-12, kazakhstan, russia]``
            (record date, state, power) or ``events.kz_unrest_csto_request.outcome``; empty
            when the number is inert.
        end: ``low`` or ``high``, the end where it moved most; empty when inert.
        structural: Why the number is inert by construction (:func:`structural_reason`), or
            empty.
    """

    path: str
    value: float
    low: float
    high: float
    effect: float
    effect_low: float
    effect_high: float
    output: str
    end: str
    structural: str = ""

    @property
    def inert(self) -> bool:
        """True when no output moved at all, at either end (effect exactly 0.0)."""
        return self.effect == 0.0


@dataclass(frozen=True)
class Screening:
    """The screening of a scenario's ranged numbers.

    Attributes:
        scenario: The scenario's ``meta.name``.
        path: Its file.
        seed: The root seed given.
        run_seed: The seed of the first replicate (:func:`sim.results.runner.replicate_seeds`,
            so its baseline run is ``greatgame run SCENARIO --seed SEED``'s first run).
        effects: One per number screened, in file order; each the largest over the
            replicates.
        not_screened: The ranged numbers left out, path to the reason.
        runs: Runs simulated (``R (2 k + 1)`` for ``k`` numbers in one batch, ``R``
            replicates).
        run_seeds: The seed of each replicate (``greatgame run --seed SEED -r R``'s seeds).
        wall_time: Seconds taken (listing the numbers, simulating, comparing).
    """

    scenario: str
    path: Path
    seed: int
    run_seed: int
    effects: list[Effect]
    not_screened: dict[str, str] = field(default_factory=dict)
    runs: int = 0
    wall_time: float = 0.0
    run_seeds: list[int] = field(default_factory=list)

    @property
    def inert(self) -> list[Effect]:
        """The numbers with no effect at all, in file order."""
        return [e for e in self.effects if e.inert]

    @property
    def negligible(self) -> list[Effect]:
        """The numbers that moved an output by less than :data:`ROUNDING`, in file order."""
        return [e for e in self.effects if 0.0 < e.effect < ROUNDING]

    @property
    def unexplained(self) -> list[Effect]:
        """The inert numbers without a structural reason: defects to look into."""
        return [e for e in self.inert if not e.structural]

    def ranked(self) -> list[Effect]:
        """The effects by increasing effect (file order among equals): the inert ones first."""
        return sorted(self.effects, key=lambda e: e.effect)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record: the counts, the effects ranked, the numbers not screened."""
        return {
            "scenario": self.scenario,
            "file": str(self.path),
            "seed": self.seed,
            "run_seed": self.run_seed,
            "run_seeds": self.run_seeds,
            "replicates": len(self.run_seeds),
            "runs": self.runs,
            "wall_time": round(self.wall_time, 3),
            "screened": len(self.effects),
            "inert": len(self.inert),
            "inert_structural": len(self.inert) - len(self.unexplained),
            "inert_unexplained": len(self.unexplained),
            "negligible": len(self.negligible),
            "effects": [
                asdict(e) | {"inert": e.inert, "effect": _json_float(e.effect)}
                for e in self.ranked()
            ],
            "not_screened": self.not_screened,
        }


def _json_float(x: float) -> float | str:
    """A float for JSON: ``inf`` (an output that became non-finite) as text."""
    return x if math.isfinite(x) else str(x)


def structural_reason(sc: Scenario | LoadedScenario, path: str) -> str:
    """Why the number at ``path`` cannot move any output by construction, or ``""``.

    Args:
        sc: The scenario (a loaded one also gives the ranges of a shock's persistence).
        path: A scenario path.

    Returns:
        The reason in :data:`STRUCTURALLY_INERT`; for a number of the threat channel that
        multiplies a zero (a threat intensity where no state is exposed, an exposure to a power
        that makes no threat), why (:func:`_threat_reason`); for a number of a disabled event,
        that it never fires; for the decay or persistence of a shock that cannot act before the
        scenario ends, why (:func:`_late_profile`); else an empty string.
    """
    if path in STRUCTURALLY_INERT:
        return STRUCTURALLY_INERT[path]
    parts = path.split(".")
    scenario = sc.scenario if isinstance(sc, LoadedScenario) else sc
    channel = _threat_reason(scenario, parts) or _sanctions_reason(scenario, path)
    if channel or len(parts) != 3 or parts[0] != "events":
        return channel
    event = next((e for e in scenario.events if e.id == parts[1]), None)
    if event is None:
        return ""
    if not event.enabled and parts[2] in ("magnitude", *PROFILE_FIELDS):
        return f"event {event.id} is disabled (enabled: false): it never fires"
    if event.enabled and parts[2] in ("decay", "persistence"):
        raw = sc.raw if isinstance(sc, LoadedScenario) else {}
        span = next((n.range for n in collect_numbers(raw) if n.path == path), None)
        return _late_profile(scenario, event, parts[2], span)
    return ""


def _threat_reason(sc: Scenario, parts: list[str]) -> str:
    """Why a number of the threat channel cannot act in ``sc``, or ``""``.

    A power's threats (its threatening rhetoric and its ``threat`` events) act on a state only
    through the state's exposure to it, ``x_sp = 1 - (1 - border_sp)(1 - min(1, share_s kin_p))``
    (docs/ODD.md, Sections 2, 7.5 and 7.11), and exposure acts through nothing else. So a
    power's threat intensity cannot matter where no state is exposed to it (no border, no kin
    weight on an ethnic-Russian share), and a state's border with a power, or the power's kin
    weight, cannot matter where the power makes no threat (threat intensity 0 and no ``threat``
    event): the product is 0 whatever the one number is.
    """
    powers = {p.id: p for p in sc.powers}

    def silent(power: str) -> bool:
        quiet = powers[power].strategy.threat_intensity == 0.0
        return quiet and not any(
            e.enabled and e.type.value == "threat" and power in e.actors for e in sc.events
        )

    def unexposed(power: str) -> bool:
        kin = powers[power].kin_minority_weight
        return all(
            s.border.get(power, 0.0) == 0.0 and kin * s.ethnic_russian_share == 0.0
            for s in sc.states
        )

    if parts[:1] == ["powers"] and len(parts) >= 3 and parts[1] in powers:
        power = parts[1]
        if parts[2:] == ["strategy", "threat_intensity"] and unexposed(power):
            return (
                f"no state is exposed to {power} (no border with it, no kin weight), and a "
                "power's threats act only through exposure"
            )
        if parts[2:] == ["kin_minority_weight"] and silent(power):
            return (
                f"{power} makes no threat (threat intensity 0, no threat event), and exposure to "
                "a power acts only on its threats"
            )
    border = parts[:1] == ["states"] and len(parts) == 4 and parts[2] == "border"
    if border and parts[3] in powers and silent(parts[3]):
        return (
            f"{parts[3]} makes no threat (threat intensity 0, no threat event), and a border "
            "with a power acts only on its threats"
        )
    return ""


SANCTIONS_PARAMETERS = ("model.sanctions_risk", "model.sanctions_trade")
"""The model parameters that act only while some power is under sanctions."""


def _sanctions_reason(sc: Scenario, path: str) -> str:
    """Why a parameter of the economic channels cannot act in ``sc``, or ``""``.

    The sanctions stance acts only while some power is under sanctions, the remittances
    follow a power's budget factor, which only sanctions and budget shocks move, and the offer
    cost weighs only the answers to offers (``aid_package`` and ``arms_deal`` events).
    """
    sanctions = any(e.enabled and e.type.value == "sanctions" for e in sc.events)
    if path in SANCTIONS_PARAMETERS and not sanctions:
        return "the scenario holds no sanctions event, and the sanctions stance acts only on one"
    budget = any(
        e.enabled and e.type.value == "power_shock" and e.variable == "budget" for e in sc.events
    )
    if path == "model.remittance_elasticity" and not (sanctions or budget):
        return (
            "no power's budget is shocked (no sanctions, no budget shock), and remittances "
            "follow a power's budget factor"
        )
    offers = any(e.enabled and e.type.value in ("aid_package", "arms_deal") for e in sc.events)
    if path == "model.offer_cost" and not offers:
        return (
            "the scenario holds no aid_package or arms_deal event, and the offer cost weighs "
            "only a state's answer to such an offer"
        )
    return ""


def _late_profile(sc: Scenario, event: Event, name: str, span: tuple[float, float] | None) -> str:
    """Why the ``name`` (decay or persistence) of a shock cannot act before the scenario ends.

    The decay of a shock begins ``onset + persistence`` months after its event
    (:func:`sim.model.dynamics.shock_level`); at or after the scenario's last month it changes
    nothing, and neither does the persistence when there is no decay or when even the low end of
    its range (``span``) leaves no month of decay.
    """
    months_left = sc.n_steps - 1 - sc.step_of(event.date)  # k of the scenario's last month
    if name == "decay":
        if event.onset + event.persistence >= months_left:
            return (
                f"event {event.id}'s decay would begin {event.onset + event.persistence:g} "
                f"months after it, after the scenario's last month ({months_left:g} months on)"
            )
        return ""
    if event.decay == 0.0:
        return f"event {event.id} does not decay (decay 0): how long it persists cannot matter"
    low = min([event.persistence, *(span or ())])
    if event.onset + low >= months_left:
        return (
            f"event {event.id}'s decay would begin after the scenario's last month even with "
            f"the persistence at {low:g}"
        )
    return ""


def _ranges(loaded: LoadedScenario) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """The ranged numbers to screen, and those left out with the reason.

    The default parameter set of a sweep spec (``sim.sweep.spec``), plus the numbers it leaves
    out that the engine can vary and that are valid at each end of their range alone.
    """
    ranged = {n.path: n.range for n in collect_numbers(loaded.raw) if n.range is not None}
    if not ranged:
        return {}, {}
    default, excluded = default_parameters(loaded)
    skipped = {p: "its range is a single value" for p, r in ranged.items() if r[0] >= r[1]}
    candidates = [p for p, r in ranged.items() if r[0] < r[1] and p not in default]
    fixed = set(fixed_by_batch(loaded, candidates))
    stripped = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, candidates)})
    for path in candidates:
        if path in fixed:
            skipped[path] = excluded.get(path, "the ensemble engine cannot vary it run by run")
            continue
        for bound in ranged[path]:
            try:
                with_values(stripped, {path: bound})
            except ScenarioError as exc:
                why = "; ".join(p.message for p in exc.problems)
                skipped[path] = f"cannot take the end {bound:g} of its range alone: {why}"
                break
    out = {p: (float(r[0]), float(r[1])) for p, r in ranged.items() if p not in skipped}
    return out, skipped  # in file order


def _label(ens: Ensemble, name: str, shape: tuple[int, ...], flat: int) -> str:
    """The output at position ``flat`` of one run's record of variable ``name``."""
    index = [int(i) for i in np.unravel_index(flat, shape)]
    parts = [ens.dates[index[0]]]
    if len(shape) == 3:  # (T + 1, S, P)
        parts += [ens.states[index[1]], ens.powers[index[2]]]
    else:  # (T + 1, P)
        parts.append(ens.powers[index[1]])
    return f"{name}[{', '.join(parts)}]"


def _differences(values: dict[str, FloatArray], ens: Ensemble) -> tuple[FloatArray, list[str]]:
    """Each run's largest absolute difference from run 0 over every output, and where.

    Args:
        values: The recorded variables of the batch, ``(B, T + 1, ...)`` each.
        ens: The simulated batch (what fired, whom each state asked for help and who answered).

    Returns:
        ``(B - 1,)`` differences of runs 1.., and the output of each (empty where none moved).
    """
    n = len(ens.seeds) - 1
    best = np.zeros(n)
    where: list[tuple[str, tuple[int, ...], int] | None] = [None] * n
    for name, v in values.items():
        runs, base = v[1:].reshape(n, -1), v[0].reshape(1, -1)
        with np.errstate(invalid="ignore"):
            d = np.abs(runs - base)
        both_nan = np.isnan(runs) & np.isnan(base)
        d = np.where(both_nan, 0.0, np.where(np.isnan(d), np.inf, d))  # nan in one run only: inf
        if name in DECISIONS:  # a changed choice counts as a changed outcome, whatever its size
            d = np.where(d > 0.0, OUTCOME_DIFFERENCE, 0.0)
        at = d.argmax(axis=1)
        top = d[np.arange(n), at]
        for b in np.flatnonzero(top > best).tolist():
            best[b], where[b] = top[b], (name, v.shape[1:], int(at[b]))
    labels = [_label(ens, *w) if w else "" for w in where]
    by_event = np.zeros(n, dtype=bool)  # the first event whose outcome changed names the run
    for e, answers in ens.fired:  # the outcome of an event: whom a state asked, who answered
        for r in answers:
            moved = (r.power[1:] != r.power[0]) | (r.yes[1:] != r.yes[0])
            for b in np.flatnonzero(moved & ~by_event & (best <= OUTCOME_DIFFERENCE)).tolist():
                best[b], labels[b] = OUTCOME_DIFFERENCE, f"events.{ens.events[e].id}.outcome"
                by_event[b] = True
    return best, labels


def numbers_per_batch(sc: Scenario, max_batch_bytes: int = MAX_BATCH_BYTES) -> int:
    """How many numbers one screening batch holds: a low and a high run each, plus its baseline.

    Args:
        sc: The scenario (its size sets a run's memory, :func:`run_bytes`).
        max_batch_bytes: Most estimated memory of one batch.

    Returns:
        At least 1.
    """
    most_runs = max(3, max_batch_bytes // max(1, run_bytes(sc, 1)))
    return (most_runs - 1) // 2


SCREEN_REPLICATES = 3
"""Noise draws of a screening by default. A number whose effect runs through a discrete choice
near its threshold (whom a state asks for help, whether a power answers) can leave every output
of one draw unchanged and move them in the next; a number is inert only where it moves nothing
in any of the draws."""


def screen(
    loaded: LoadedScenario,
    seed: int = 0,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    replicates: int = SCREEN_REPLICATES,
) -> Screening:
    """Run every ranged number at each end of its range, one at a time, and measure its effect.

    Each replicate runs the scenario's values and each number at each end with the same seed
    (common random numbers); a number's effect is the largest over the replicates.

    Args:
        loaded: The scenario.
        seed: Root seed; replicate ``r`` has the seed of ``greatgame run --seed SEED``'s run
            ``r``.
        max_batch_bytes: Most estimated memory of one batch (:data:`MAX_BATCH_BYTES`).
        replicates: Noise draws (:data:`SCREEN_REPLICATES`), at least 1.

    Returns:
        The effect of each number screened, and the numbers not screened with the reason.

    Raises:
        ValueError: For fewer than one replicate.
    """
    if replicates < 1:
        raise ValueError(f"expected at least one replicate, found {replicates}")
    started = time.perf_counter()
    ranges, skipped = _ranges(loaded)
    run_seeds = [int(s) for s in replicate_seeds(seed, replicates)]
    sc = loaded.scenario
    values = {n.path: n.value for n in collect_numbers(loaded.raw)}
    names = list(ranges)
    per_batch = numbers_per_batch(sc, max_batch_bytes)
    effects: list[Effect] = []
    runs = 0
    for lo in range(0, len(names), per_batch):
        chunk = names[lo : lo + per_batch]
        n_runs = 1 + 2 * len(chunk)
        swept = {p: np.full(n_runs, values[p]) for p in names}
        for j, p in enumerate(chunk):
            swept[p][1 + 2 * j], swept[p][2 + 2 * j] = ranges[p]
        diffs, outputs = np.full(n_runs - 1, -1.0), [""] * (n_runs - 1)
        for run_seed in run_seeds:  # the largest difference over the draws, and where
            ens = prepare_swept(sc, swept, np.full(n_runs, run_seed))
            drawn, where = _differences(simulate_ensemble(ens, "trajectories"), ens)
            for b in np.flatnonzero(drawn > diffs).tolist():
                diffs[b], outputs[b] = drawn[b], where[b]
            runs += n_runs
        for j, p in enumerate(chunk):
            d_low, d_high = float(diffs[2 * j]), float(diffs[2 * j + 1])
            top = 1 if d_high > d_low else 0
            moved = max(d_low, d_high) > 0.0
            effects.append(
                Effect(
                    path=p,
                    value=values[p],
                    low=ranges[p][0],
                    high=ranges[p][1],
                    effect=max(d_low, d_high),
                    effect_low=d_low,
                    effect_high=d_high,
                    output=outputs[2 * j + top] if moved else "",
                    end=("low", "high")[top] if moved else "",
                    structural=structural_reason(loaded, p),
                )
            )
    return Screening(
        scenario=sc.meta.name,
        path=loaded.path,
        seed=seed,
        run_seed=run_seeds[0],
        effects=effects,
        not_screened=skipped,
        runs=runs,
        wall_time=time.perf_counter() - started,
        run_seeds=run_seeds,
    )
