"""``greatgame calibrate``: ABC-SMC of a scenario's parameters against the record, resumable.

A calibration folder holds::

    manifest.json        what was run (spec, prior, record, seeds, sampler) and how far it got
    spec.yaml            the spec, with its scenario as an absolute path (for --resume)
    generations/000.csv  each generation's particles: one column per parameter, weight, distance
    generations.csv      per generation: tolerance, runs, acceptance, effective sample size
    posterior.csv        the last generation: the weighted posterior sample
    summary.csv          prior range and posterior mean, sd and 5/50/95% quantiles per parameter
    prior_posterior.png  each parameter's prior and posterior

Each generation is written (atomically) as soon as it is complete, so an interrupted calibration
(Ctrl-C, SIGTERM) keeps its finished generations and ``greatgame calibrate --resume DIR`` goes on
from the next one, with the numbers an uninterrupted run gives (:mod:`sim.calibration.abc`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.calibration.abc import Box, Generation, run_abc, stop_reason
from sim.calibration.record import (
    AgreementRecord,
    RemittanceRecord,
    bundled_record,
    bundled_remittances,
    score,
    score_remittances,
)
from sim.calibration.spec import LoadedCalibration, load_calibration, validate_calibration
from sim.input.errors import Interrupted, OutputError, Problem, ScenarioError
from sim.input.scenario import LoadedScenario, month_index
from sim.model.dynamics import REMITTANCES, FloatArray, IntArray, WorldState
from sim.model.ensemble import prepare_swept, simulate_ensemble
from sim.results.atomic import atomic_file, check_free, folder_lock, write_file
from sim.results.provenance import environment

__all__ = [
    "POSTERIOR_RULE",
    "TOOL",
    "CalibrationInterrupted",
    "ScenarioScorer",
    "calibrate",
    "posterior_draws",
    "posterior_for",
    "read_generations",
    "yearly_means",
]

TOOL = "greatgame calibrate"
MANIFEST = "manifest.json"
SPEC = "spec.yaml"
GENERATIONS = "generations"
_RESUME_HINT = "or --resume to finish the calibration in it"


class CalibrationInterrupted(Interrupted):
    """A signal stopped a calibration; its finished generations are on disk."""


def yearly_means(
    loaded: LoadedScenario,
    theta: FloatArray,
    names: tuple[str, ...],
    seeds: IntArray,
    years: tuple[int, ...],
) -> dict[str, FloatArray]:
    """Each run's observed variables averaged over the months of each year.

    Args:
        loaded: The scenario.
        theta: Each run's values of the parameters, ``(B, d)``.
        names: The parameters' scenario paths.
        seeds: One seed per run.
        years: Calendar years, each covered whole by the scenario.

    Returns:
        ``alignment``: ``(B, Y, S, P)``; ``remittances``: the remittance dependence summed over
        the powers, ``(B, Y, S)``; both means of the end-of-month values over the twelve months
        of each year, in the scenario's order of states and powers.
    """
    swept = {name: np.ascontiguousarray(theta[:, i]) for i, name in enumerate(names)}
    ens = prepare_swept(loaded, swept, seeds)
    start = month_index(loaded.scenario.meta.start)
    where = {y: i for i, y in enumerate(years)}
    n_b, n_s, n_p = ens.state.alignment.shape
    alignment = np.zeros((n_b, len(years), n_s, n_p))
    remittances = np.zeros((n_b, len(years), n_s))

    def on_month(t: int, state: WorldState) -> None:
        i = where.get((start + t - 1) // 12)  # month t ends month start + t - 1
        if i is not None:
            alignment[:, i] += state.alignment
            remittances[:, i] += state.dependence[..., REMITTANCES].sum(axis=-1)

    last = max(years) * 12 + 11 - start + 1  # the months up to the end of the last year
    simulate_ensemble(ens, keep="summary", on_month=on_month, steps=last)
    return {"alignment": alignment / 12.0, "remittances": remittances / 12.0}


class ScenarioScorer:
    """The batch simulator of a calibration: runs of the scenario, scored against the records.

    The distance of a run is the root mean square of its distances from each record of the
    spec (:func:`sim.calibration.record.score` and
    :func:`sim.calibration.record.score_remittances`), so each record weighs the same however
    many cells it has.

    Args:
        plan: The checked spec.
        record: The agreement record (default: from the bundled roll calls).
        years: First and last year scored (default: the spec's years).
        remittances: The remittance record (default: the bundled one).
    """

    def __init__(
        self,
        plan: LoadedCalibration,
        record: AgreementRecord | None = None,
        years: tuple[int, int] | None = None,
        remittances: RemittanceRecord | None = None,
    ) -> None:
        span = years or plan.spec.years
        self.plan = plan
        self.records = tuple(plan.spec.records)
        self.record = (record or bundled_record()).between(*span)
        self.remittances = None
        if "remittances" in self.records:
            self.remittances = (remittances or bundled_remittances()).between(*span)
        held = set(self.record.years)
        if self.remittances is not None:
            held |= set(self.remittances.years)
        self.years = tuple(sorted(held))
        sc = plan.loaded.scenario
        wanted = list(self.record.states) + list(self.record.powers)
        if self.remittances is not None:
            wanted += list(self.remittances.states)
        missing = sorted({w for w in wanted if w not in sc.state_ids and w not in sc.power_ids})
        if missing:
            raise ScenarioError(
                [
                    Problem(
                        str(plan.path),
                        ("scenario",),
                        "expected a scenario with every state and power of the record, missing "
                        + ", ".join(missing),
                    )
                ]
            )
        ids = list(sc.state_ids)
        self._states = [ids.index(s) for s in self.record.states]
        self._powers = [list(sc.power_ids).index(p) for p in self.record.powers]
        self._a_years = [self.years.index(y) for y in self.record.years]
        if self.remittances is not None:
            self._r_states = [ids.index(s) for s in self.remittances.states]
            self._r_years = [self.years.index(y) for y in self.remittances.years]

    def observe(self, theta: FloatArray, seeds: IntArray) -> dict[str, FloatArray]:
        """The runs' yearly observed variables, on each record's years and ids.

        Returns ``alignment`` ``(B, Y, S, P)`` on the agreement record's years, states and
        powers, and (when the spec scores it) ``remittances`` ``(B, Y, S)`` on the remittance
        record's.
        """
        means = yearly_means(self.plan.loaded, theta, self.plan.box.names, seeds, self.years)
        a = means["alignment"][:, self._a_years][:, :, self._states][:, :, :, self._powers]
        out = {"alignment": a}
        if self.remittances is not None:
            r = means["remittances"][:, self._r_years][:, :, self._r_states]
            out["remittances"] = r
        return out

    def alignment(self, theta: FloatArray, seeds: IntArray) -> FloatArray:
        """Yearly alignments on the record's years, states and powers, ``(B, Y, S, P)``."""
        return self.observe(theta, seeds)["alignment"]

    def __call__(self, theta: FloatArray, seeds: IntArray) -> FloatArray:
        """The distance of each run from the spec's records."""
        seen = self.observe(theta, seeds)
        parts = []
        if "un_agreement" in self.records:
            parts.append(score(seen["alignment"], self.record))
        if self.remittances is not None:
            parts.append(score_remittances(seen["remittances"], self.remittances))
        return np.asarray(np.sqrt(np.mean(np.square(parts), axis=0)), float)


# --- the folder --------------------------------------------------------------------------------


def _scenario_hash(loaded: LoadedScenario) -> str:
    text = json.dumps(loaded.raw, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _write_json(data: dict[str, Any], path: Path) -> None:
    write_file(path, (json.dumps(data, indent=2) + "\n").encode())


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_file(path, frame.to_csv(index=False, float_format="%.17g").encode())


def _generation_frame(g: Generation, box: Box) -> pd.DataFrame:
    frame = pd.DataFrame(g.particles, columns=list(box.names))
    frame["weight"] = g.weights
    frame["distance"] = g.distances
    return frame


def _generation_row(g: Generation) -> dict[str, Any]:
    return {
        "generation": g.index,
        "epsilon": g.epsilon,
        "particles": len(g.weights),
        "simulated": g.simulated,
        "proposed": g.proposed,
        "acceptance": g.acceptance,
        "ess": g.ess,
        "median_distance": float(np.median(g.distances)),
    }


def _manifest(
    plan: LoadedCalibration, generations: list[Generation], status: str
) -> dict[str, Any]:
    box = plan.box
    return {
        "tool": TOOL,
        "status": status,
        "spec_file": str(plan.path),
        "scenario": str(plan.loaded.path),
        "scenario_name": plan.loaded.scenario.meta.name,
        "scenario_sha256": _scenario_hash(plan.loaded),
        "records": {
            "names": list(plan.spec.records),
            "years": list(plan.spec.years),
            "sources": {
                "un_agreement": "seeds/data/un_votes.csv (sim.calibration.record.agreement_record)",
                "remittances": "seeds/data/remittances.csv (sim.calibration.record."
                "remittance_record)",
            },
        },
        "prior": {
            n: [float(lo), float(hi)]
            for n, lo, hi in zip(box.names, box.low, box.high, strict=True)
        },
        "sampler": {
            "method": f"ABC-SMC, {plan.spec.method} (sim.calibration.abc)",
            "max_moves": plan.spec.max_moves,
            "particles": plan.spec.particles,
            "generations": plan.spec.generations,
            "quantile": plan.spec.quantile,
            "min_acceptance": plan.spec.min_acceptance,
            "batch": plan.spec.batch,
        },
        "seed": plan.spec.seed,
        "seed_scheme": "generation t draws its proposals, kernel moves and run seeds from "
        "numpy SeedSequence([seed, t]); each run's noise from its run seed (sim.model.noise)",
        "engine": "ensemble",
        "generations": [_generation_row(g) for g in generations],
        **environment(),
    }


def read_generations(folder: str | Path, box: Box) -> list[Generation]:
    """The generations stored in a calibration folder, in order.

    Args:
        folder: The calibration folder.
        box: The prior (the parameter columns expected).

    Returns:
        Every generation on disk.

    Raises:
        OutputError: For a folder without a manifest, or a damaged generation file.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{folder}: not a calibration folder ({exc})") from None
    out = []
    for row in manifest.get("generations", []):
        path = folder / GENERATIONS / f"{row['generation']:03d}.csv"
        try:
            frame = pd.read_csv(path)
            particles = frame[list(box.names)].to_numpy(float)
            weights, distances = frame["weight"].to_numpy(float), frame["distance"].to_numpy(float)
        except (OSError, KeyError, ValueError) as exc:
            raise OutputError(f"{path}: cannot read this generation ({exc})") from None
        out.append(
            Generation(
                int(row["generation"]),
                float(row["epsilon"]),
                particles,
                weights,
                distances,
                int(row["simulated"]),
                int(row["proposed"]),
                float(row["acceptance"]),
            )
        )
    return out


def _summary(generations: list[Generation], box: Box) -> pd.DataFrame:
    post = generations[-1]
    rows = []
    for j, name in enumerate(box.names):
        order = np.argsort(post.particles[:, j])
        cum = np.cumsum(post.weights[order])
        values = post.particles[order, j]

        def q(p: float, values: FloatArray = values, cum: FloatArray = cum) -> float:
            return float(values[min(int(np.searchsorted(cum, p)), len(values) - 1)])

        rows.append(
            {
                "parameter": name,
                "prior_low": box.low[j],
                "prior_high": box.high[j],
                "mean": post.mean()[j],
                "sd": post.sd()[j],
                "p5": q(0.05),
                "p50": q(0.5),
                "p95": q(0.95),
                "sd_over_prior_sd": post.sd()[j] / ((box.high[j] - box.low[j]) / np.sqrt(12)),
            }
        )
    return pd.DataFrame(rows)


def _plot(generations: list[Generation], box: Box, path: Path) -> None:
    import matplotlib.pyplot as plt

    from sim.viz.plotting import plot_posterior

    post = generations[-1]
    title = f"Posterior (generation {post.index}, tolerance {post.epsilon:.3g}) against the prior"
    low, high = box.low.tolist(), box.high.tolist()
    fig = plot_posterior(post.particles, post.weights, box.names, low, high, title)
    try:
        with atomic_file(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)


def _finish(out: Path, plan: LoadedCalibration, generations: list[Generation]) -> None:
    box = plan.box
    _write_csv(_generation_frame(generations[-1], box), out / "posterior.csv")
    _write_csv(_summary(generations, box), out / "summary.csv")
    _plot(generations, box, out / "prior_posterior.png")
    manifest = _manifest(plan, generations, "complete")
    manifest["stop_reason"] = stop_reason(generations, plan.settings)
    _write_json(manifest, out / MANIFEST)


def _reopen(out: Path) -> LoadedCalibration:
    path = out / SPEC
    if not path.is_file():
        raise OutputError(f"{out}: not a calibration folder (no {SPEC}); nothing to resume")
    plan = load_calibration(path)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("scenario_sha256") != _scenario_hash(plan.loaded):
        raise OutputError(
            f"{out}: the scenario {plan.loaded.path} changed since this calibration started; "
            "start a new calibration (the finished generations belong to the old scenario)"
        )
    return plan


def _start(plan: LoadedCalibration, out: Path, force: bool) -> None:
    check_free(out, force, hint=_RESUME_HINT)
    if out.is_dir() and any(out.iterdir()):
        shutil.rmtree(out)
    (out / GENERATIONS).mkdir(parents=True, exist_ok=True)
    data = plan.spec.model_dump(mode="json")
    data["scenario"] = str(plan.loaded.path.resolve())
    write_file(out / SPEC, yaml.safe_dump(data, sort_keys=False).encode())
    _write_json(_manifest(plan, [], "running"), out / MANIFEST)


def calibrate(
    spec: str | Path | LoadedCalibration | dict[str, Any] | None,
    out: str | Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[Generation], None] | None = None,
    scorer: Callable[[FloatArray, IntArray], FloatArray] | None = None,
) -> Path:
    """Run (or finish) a calibration and write its folder.

    Args:
        spec: A spec file, a loaded spec, or a spec as data (scenario relative to the working
            folder); ignored with ``resume``.
        out: The calibration folder.
        resume: Finish the calibration in ``out`` from its last finished generation.
        force: Replace a non-empty ``out`` that greatgame wrote.
        progress: Called with each generation when it is complete.
        scorer: The batch simulator (default: :class:`ScenarioScorer` of the spec); for tests.

    Returns:
        The folder.

    Raises:
        ScenarioError: For a bad spec or scenario.
        OutputError: When ``out`` cannot be used or resumed.
        CalibrationInterrupted: On Ctrl-C or SIGTERM, after the finished generations were kept.
    """
    out = Path(out)
    if not resume:
        if isinstance(spec, LoadedCalibration):
            plan = spec
        elif isinstance(spec, dict):
            plan = validate_calibration(spec, Path.cwd() / "<spec>")
        elif spec is None:
            raise ValueError("expected a spec (or resume=True)")
        else:
            plan = load_calibration(spec)
        check_free(out, force, hint=_RESUME_HINT)
    with folder_lock(out):
        if resume:
            plan = _reopen(out)
            done = read_generations(out, plan.box)
        else:
            _start(plan, out, force)
            done = []
        simulate = scorer or ScenarioScorer(plan)
        generations = list(done)

        def keep(g: Generation) -> None:
            generations.append(g)
            _write_csv(_generation_frame(g, plan.box), out / GENERATIONS / f"{g.index:03d}.csv")
            _write_json(_manifest(plan, generations, "running"), out / MANIFEST)
            if progress is not None:
                progress(g)

        try:
            run_abc(simulate, plan.box, plan.settings, done=done, on_generation=keep)
        except KeyboardInterrupt as exc:
            signum, by = Interrupted.stopped_by(exc)
            raise CalibrationInterrupted(
                f"interrupted{by}: {len(generations)} generation(s) are on disk in {out}/; "
                f"finish with: greatgame calibrate --resume {out}",
                signum,
            ) from None
        _finish(out, plan, generations)
    return out


POSTERIOR_RULE = (
    "replicate r takes particle k_r of posterior.csv, k ~ Categorical(weights) drawn with "
    "numpy default_rng(SeedSequence([seed, 0x9057]))"
)
"""How :func:`posterior_draws` picks the particles (recorded in a results folder's manifest)."""


def posterior_for(
    folder: str | Path, scenario: str, n: int, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Posterior draws for runs of ``scenario``: every number, or only the model's.

    Run on the scenario it was calibrated on, every calibrated number is drawn. Run on another
    scenario (the baseline from a calibration of the history), only the ``model.`` parameters
    are: the other numbers describe the calibrated scenario's own starting point and events
    (its 2012 alignments, its rouble crisis), not the other scenario's.

    Args:
        folder: A complete calibration folder.
        scenario: The name of the scenario to be run.
        n: Replicates.
        seed: Seed of the draw.

    Returns:
        ``(values, info)``: the draws to apply, and for the manifest the calibration, its
        scenario, the rule, and the numbers applied and left out.
    """
    draws = posterior_draws(folder, n, seed)
    manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    calibrated = manifest.get("scenario_name") or Path(manifest.get("scenario", "")).stem
    keep = list(draws.columns)
    if calibrated != scenario:
        keep = [c for c in draws.columns if c.startswith("model.")]
    info = {
        "calibration": str(Path(folder).resolve()),
        "calibrated_scenario": calibrated,
        "seed": seed,
        "rule": POSTERIOR_RULE,
        "applied": keep,
        "left_out": [c for c in draws.columns if c not in keep],
    }
    return draws[keep], info


def posterior_draws(folder: str | Path, n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter points drawn by weight from a calibration's posterior.

    Args:
        folder: A complete calibration folder.
        n: Points to draw.
        seed: Seed of the draw.

    Returns:
        One row per point, one column per parameter (scenario paths).

    Raises:
        OutputError: For a folder that is not a complete calibration.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{folder}: not a calibration folder ({exc})") from None
    if manifest.get("tool") != TOOL or manifest.get("status") != "complete":
        raise OutputError(
            f"{folder}: not a complete calibration (finish it with greatgame calibrate --resume)"
        )
    frame = pd.read_csv(folder / "posterior.csv")
    names = list(manifest["prior"])
    weights = frame["weight"].to_numpy(float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9057]))
    picks = rng.choice(len(frame), size=n, p=weights / weights.sum())
    return frame.loc[picks, names].reset_index(drop=True)
