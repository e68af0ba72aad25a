"""``greatgame backtest``: calibrate on early years, forecast the later ones, beat baselines?

The calibration spec's ``years`` are the fitting window (``2012-2017`` in the bundled spec); the
forecast covers the record's years after it, up to its last (2019: the bundled roll calls end in
January 2020). The scored quantity is the one the calibration fits: each state's yearly agreement
share with each power less the five states' mean (:mod:`sim.calibration.record`).

**The model's forecast.** ``draws`` parameter points are drawn by weight from the posterior, and
each is run once over the fitting and the forecast years (its own seed). For each run the slope
``b`` of the observation equation and the residual spread ``sigma`` are fitted on the fitting
years only; the forecast of a cell is ``b`` times the run's centred alignment, plus a normal
error of sd ``sigma``. The forecast distribution of a cell is the mixture over the runs.

**Baselines**, each with a normal error whose sd is its own in-sample residual spread (as the
model's, at least :data:`sim.calibration.record.SE_FLOOR`):

- ``no differences``: every state agrees with a power as the states' mean does (0);
- ``climatology``: the cell's mean over the fitting years;
- ``persistence``: the cell's value in the last fitting year;
- ``linear trend``: the cell's least-squares line over the fitting years, extended.

**Scores** over the forecast cells: root mean square error and mean absolute error of the point
forecast (the mean), in percentage points; the continuous ranked probability score (CRPS, lower
is better, in percentage points); and the share of cells inside the central 90% interval.
"""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.calibration.record import (
    REMITTANCE_SE,
    SE_FLOOR,
    AgreementRecord,
    RemittanceRecord,
    bundled_record,
    bundled_remittances,
    centred,
    fit_scale,
    fit_slope,
)
from sim.calibration.run import ScenarioScorer, calibrate, posterior_draws
from sim.calibration.spec import LoadedCalibration, load_calibration
from sim.input.errors import OutputError, Problem, ScenarioError
from sim.input.unvotes import load_un_votes
from sim.model.dynamics import FloatArray, IntArray
from sim.model.metrics import VOTES
from sim.results.atomic import atomic_file, folder_lock, manifest_tool, write_file
from sim.results.provenance import environment
from sim.results.votes import (
    FIT_NEUTRALITY,
    RIDGE_GRID,
    baseline_probabilities,
    fit_multinomial,
    load_vote_model,
    log_loss,
    probabilities,
    table_features,
    training_table,
)

__all__ = [
    "METHODS",
    "VOTE_METHODS",
    "Backtest",
    "backtest",
    "brier",
    "crps_ensemble",
    "crps_normal",
    "vote_scores",
]

METHODS = ("model", "no differences", "climatology", "persistence", "linear trend")
"""The forecasts of the agreement record compared, the model first."""
VOTE_METHODS = (
    "model",
    "vote model on observed agreement",
    "vote model on fitting-years agreement",
    "state majority",
    "persistence",
    "majority",
)
"""The forecasts of single votes compared, the model first."""
VOTE_DRAWS = 50
"""Posterior draws whose vote probabilities are averaged for the model's vote forecast."""

TOOL = "greatgame backtest"

_DRAW_TAG = 0xBAC7
"""Mixed into the seed of the forecast runs, so they differ from every calibration run."""


def crps_normal(y: FloatArray, mu: FloatArray, sigma: FloatArray) -> FloatArray:
    """CRPS of a normal forecast ``N(mu, sigma^2)`` at observation ``y`` (closed form)."""
    z = (y - mu) / sigma
    return np.asarray(sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)))


def crps_ensemble(y: FloatArray, members: FloatArray) -> FloatArray:
    """CRPS of an ensemble forecast: ``E|X - y| - E|X - X'| / 2`` over its members (axis 0).

    Args:
        y: Observations, shape ``S``.
        members: Forecast members, shape ``(M, *S)``.

    Returns:
        Shape ``S``.
    """
    m = np.sort(members, axis=0)
    n = m.shape[0]
    first = np.mean(np.abs(m - y[None]), axis=0)
    # E|X - X'| of a sorted sample: 2 / n^2 * sum_i (2i - n - 1) x_(i)
    ranks = (2 * np.arange(1, n + 1) - n - 1).reshape((n,) + (1,) * (m.ndim - 1))
    spread = 2.0 * np.sum(ranks * m, axis=0) / n**2
    return np.asarray(first - 0.5 * spread)


@dataclass(frozen=True)
class Backtest:
    """A backtest's scores and forecasts.

    Attributes:
        scores: One row per method of :data:`METHODS`: ``rmse``, ``mae``, ``crps`` (percentage
            points) and ``coverage90``, over the forecast cells.
        forecasts: One row per forecast cell: ``year``, ``state``, ``power``, ``observed`` and
            each method's point forecast (percentage points of agreement less the states' mean).
        fit_years: The fitting window.
        forecast_years: The forecast years.
        draws: Posterior draws run for the model's forecast.
        votes: One row per method of :data:`VOTE_METHODS`: log loss, Brier score and accuracy
            of the forecast years' single votes (:func:`vote_scores`); None for a record other
            than the bundled one.
        remittances: The scores of the remittance forecast (per cent of GDP; methods as
            ``scores`` but "no differences"), when the spec scores remittances; else None.
        remittance_paths: For the figure: ``years``, ``states``, ``observed``, each run's
            in-sample reading ``paths`` ``(B, Y, S)`` and ``first_forecast``; else None.
    """

    scores: pd.DataFrame
    forecasts: pd.DataFrame
    fit_years: tuple[int, int]
    forecast_years: tuple[int, ...]
    draws: int
    votes: pd.DataFrame | None = None
    remittances: pd.DataFrame | None = None
    remittance_paths: dict[str, Any] | None = None

    def skill(self, baseline: str = "persistence") -> float:
        """The model's CRPS skill against a baseline: ``1 - CRPS_model / CRPS_baseline``."""
        crps = self.scores.set_index("method")["crps"]
        return float(1.0 - crps["model"] / crps[baseline])


def brier(p: FloatArray, y: IntArray) -> float:
    """Mean multi-class Brier score: ``sum_k (p_k - [y = k])^2`` averaged over the rows."""
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def vote_scores(
    simulated: FloatArray,
    years: tuple[int, ...],
    record: AgreementRecord,
    fit_years: tuple[int, int],
) -> pd.DataFrame:
    """Scores of single-vote forecasts of the forecast years (those of ``years`` after the fit).

    The vote model (:mod:`sim.results.votes`) is refitted on the roll calls before the forecast
    years only (its bundled coefficients saw 2018-2019), with the ridge it chose on 2011-2014.
    The model's forecast feeds it the agreement the model predicts: for each power, the trailing
    agreement proxy of the fitting years regressed on the run's yearly alignment (a level and a
    slope per power, by least squares), read at the forecast years' alignments; the
    probabilities are averaged over up to :data:`VOTE_DRAWS` runs. The baselines: the same vote
    model fed the *observed* trailing agreement (real votes of the 365 days before each roll
    call), or each state's mean agreement over the fitting years (the control of the model: what
    the simulated alignments add over it is the model's own skill), each state's vote shares
    over the training roll calls, persistence (the state's
    previous vote on the same issue, through the training transition shares) and the overall
    vote shares (:func:`sim.results.votes.baseline_probabilities`).

    Args:
        simulated: Yearly alignments ``(B, Y, S, P)`` of the runs, on ``years`` and the record's
            states and powers.
        years: The years of ``simulated``.
        record: The record (its states and powers).
        fit_years: The fitting window.

    Returns:
        One row per method of :data:`VOTE_METHODS`: ``log_loss``, ``brier``, ``accuracy`` and
        ``n`` (votes scored).
    """
    table, x = _vote_table()
    year = table["date"].dt.year.to_numpy()
    y = table["y"].to_numpy()
    last_fit = fit_years[1]
    ahead = [yr for yr in years if yr > last_fit]
    train = year <= last_fit
    test = np.isin(year, ahead)
    fitting = (year >= fit_years[0]) & train
    coef, _ = fit_multinomial(x[train], y[train], _ridge())
    probs = {"vote model on observed agreement": probabilities(coef, x[test])}
    # the control of the model's forecast: the same vote model fed each state's mean agreement
    # over the fitting years, so what the simulated alignments add is the difference
    steady = table.iloc[np.flatnonzero(test)].copy()
    means = table[fitting].groupby("state")[list(record.powers)].mean()
    for power in record.powers:
        steady[power] = steady["state"].map(means[power]).to_numpy()
    probs["vote model on fitting-years agreement"] = probabilities(
        coef, table_features(steady, FIT_NEUTRALITY)
    )
    base = baseline_probabilities(table[train], table[test])
    probs |= {
        "state majority": base["state_majority"],
        "persistence": base["persistence"],
        "majority": base["majority"],
    }
    states = table["state"].map({s: i for i, s in enumerate(record.states)})
    s_index = states.fillna(-1).to_numpy(dtype=np.int64)
    in_years = pd.Series(year).map({yr: i for i, yr in enumerate(years)})
    y_index = in_years.fillna(-1).to_numpy(dtype=np.int64)  # -1: a year outside (never read)
    rows_fit, rows_test = np.flatnonzero(fitting), np.flatnonzero(test)
    model = np.zeros((len(rows_test), len(VOTES)))
    runs = simulated[: min(VOTE_DRAWS, len(simulated))]
    for a in runs:
        forecast = table.iloc[rows_test].copy()
        for k, power in enumerate(record.powers):
            seen = a[y_index[rows_fit], s_index[rows_fit], k]
            slope, level = np.polyfit(seen, table[power].to_numpy()[rows_fit], 1)
            ahead_a = a[y_index[rows_test], s_index[rows_test], k]
            forecast[power] = np.clip(level + slope * ahead_a, 0.0, 1.0)
        model += probabilities(coef, table_features(forecast, FIT_NEUTRALITY))
    probs = {"model": model / len(runs)} | probs
    y_test = y[test]
    return pd.DataFrame(
        [
            {
                "method": m,
                "log_loss": log_loss(probs[m], y_test),
                "brier": brier(probs[m], y_test),
                "accuracy": float(np.mean(probs[m].argmax(axis=1) == y_test)),
                "n": int(test.sum()),
            }
            for m in VOTE_METHODS
        ]
    )


@functools.cache
def _vote_table() -> tuple[pd.DataFrame, FloatArray]:
    return training_table(load_un_votes(), FIT_NEUTRALITY)


def _ridge() -> float:
    """The vote model's ridge, as chosen on 2011-2014 (``seeds/data/vote_model.json``)."""
    fit = load_vote_model().meta
    return float(fit.get("ridge", RIDGE_GRID[0]))


def _baselines(
    fit: FloatArray, n_ahead: int, floor: float = SE_FLOOR, centred_values: bool = True
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Each baseline's mean and sd for ``n_ahead`` years after the fitting years.

    Args:
        fit: Observations of the fitting years, ``(Y, S, P)``.
        n_ahead: Forecast years.
        floor: Least sd of a baseline's error.
        centred_values: The observations are deviations from the states' mean, so "no
            differences" (0) is a baseline; else it is left out.

    Returns:
        Method to ``(mean, sd)``, each ``(n_ahead, S, P)``.
    """
    y = fit.shape[0]
    shape = (n_ahead, *fit.shape[1:])
    t = np.arange(y, dtype=float)
    ahead = np.arange(y, y + n_ahead, dtype=float)
    clim = fit.mean(axis=0)
    slope = np.sum((t - t.mean())[:, None, None] * (fit - clim), axis=0) / np.sum(
        (t - t.mean()) ** 2
    )
    trend_fit = clim + slope * (t - t.mean())[:, None, None]
    trend = clim + slope * (ahead - t.mean())[:, None, None]

    def spread(resid: FloatArray) -> FloatArray:  # at least a cell's smallest standard error
        return np.full(shape, max(float(np.sqrt(np.mean(resid**2))), floor))

    zero = {"no differences": (np.zeros(shape), spread(fit))} if centred_values else {}
    return zero | {
        "climatology": (np.broadcast_to(clim, shape).copy(), spread(fit - clim)),
        "persistence": (np.broadcast_to(fit[-1], shape).copy(), spread(np.diff(fit, axis=0))),
        "linear trend": (trend, spread(fit - trend_fit)),
    }


def _model_members(
    simulated: FloatArray, record: AgreementRecord, n_fit: int, rng: np.random.Generator
) -> FloatArray:
    """The model's forecast members, ``(B, Y_ahead, S, P)``.

    Each run's in-sample slope times its centred alignment, plus a normal error of its in-sample
    residual spread.
    """
    fit_rec = AgreementRecord(
        record.years[:n_fit],
        record.states,
        record.powers,
        record.share[:n_fit],
        record.votes[:n_fit],
        record.se[:n_fit],
    )
    b = fit_slope(simulated[:, :n_fit], fit_rec)
    a = centred(simulated)
    resid = centred(fit_rec.share)[None] - b[:, None, None, None] * a[:, :n_fit]
    sigma = np.maximum(np.sqrt(np.mean(resid**2, axis=(1, 2, 3))), SE_FLOOR)
    point = b[:, None, None, None] * a[:, n_fit:]
    return np.asarray(point + sigma[:, None, None, None] * rng.standard_normal(point.shape))


def _remittance_members(
    simulated: FloatArray, record: RemittanceRecord, n_fit: int, rng: np.random.Generator
) -> FloatArray:
    """The model's remittance forecast members, ``(B, Y_ahead, S)`` (per cent of GDP).

    Each run's in-sample scales times its remittance dependence, plus a normal error of its
    in-sample residual spread (at least the smallest standard error, 0.5 points).
    """
    fit_rec = record.between(record.years[0], record.years[n_fit - 1])
    k = fit_scale(simulated[:, :n_fit], fit_rec)
    resid = fit_rec.value[None] - k[:, None, :] * simulated[:, :n_fit]
    sigma = np.maximum(np.sqrt(np.mean(resid**2, axis=(1, 2))), REMITTANCE_SE[1])
    point = k[:, None, :] * simulated[:, n_fit:]
    return np.asarray(point + sigma[:, None, None] * rng.standard_normal(point.shape))


def score_forecasts(
    observed: FloatArray,
    members: FloatArray,
    baselines: dict[str, tuple[FloatArray, FloatArray]],
    factor: float = 100.0,
) -> pd.DataFrame:
    """The scores of the model's members and of each baseline's normal forecast.

    Args:
        observed: Centred observations of the forecast years, ``(Y, S, P)``.
        members: The model's members, ``(B, Y, S, P)``.
        baselines: Method to ``(mean, sd)``.
        factor: Unit of the errors per unit of the values (100: shares to percentage points).

    Returns:
        One row per method: ``method``, ``rmse``, ``mae``, ``crps``, ``coverage90``.
    """
    rows = []
    point = members.mean(axis=0)
    lo, hi = np.quantile(members, [0.05, 0.95], axis=0)
    rows.append(
        {
            "method": "model",
            "rmse": float(np.sqrt(np.mean((point - observed) ** 2))) * factor,
            "mae": float(np.mean(np.abs(point - observed))) * factor,
            "crps": float(np.mean(crps_ensemble(observed, members))) * factor,
            "coverage90": float(np.mean((observed >= lo) & (observed <= hi))),
        }
    )
    z90 = norm.ppf(0.95)
    for method, (mu, sd) in baselines.items():
        rows.append(
            {
                "method": method,
                "rmse": float(np.sqrt(np.mean((mu - observed) ** 2))) * factor,
                "mae": float(np.mean(np.abs(mu - observed))) * factor,
                "crps": float(np.mean(crps_normal(observed, mu, sd))) * factor,
                "coverage90": float(np.mean(np.abs(observed - mu) <= z90 * sd)),
            }
        )
    return pd.DataFrame(rows)


def backtest(
    spec: str | Path | LoadedCalibration,
    out: str | Path,
    *,
    draws: int = 200,
    force: bool = False,
    progress: Any = None,
    record: AgreementRecord | None = None,
) -> Backtest:
    """Calibrate on the spec's years, forecast the record's later years, score against baselines.

    The calibration is written to ``OUT/calibration`` (a complete one there is reused, an
    interrupted one resumed); the scores to ``OUT/scores.csv``, the forecasts to
    ``OUT/forecasts.csv`` and what was done, last, to ``OUT/manifest.json``.

    Args:
        spec: The calibration spec (its ``years`` are the fitting window).
        out: The backtest folder.
        draws: Posterior draws run for the model's forecast.
        force: Start the calibration afresh even if ``OUT/calibration`` holds one.
        progress: Passed to :func:`sim.calibration.run.calibrate`.
        record: The record (default: the bundled one); for tests. Single votes are scored only
            with the bundled record.

    Returns:
        The scores and forecasts.

    Raises:
        ScenarioError: For a bad spec, or one whose scenario does not reach the forecast years.
        OutputError: When ``out`` cannot be written.
    """
    plan = spec if isinstance(spec, LoadedCalibration) else load_calibration(spec)
    full = record or bundled_record()
    first, last = plan.spec.years
    ahead = tuple(y for y in full.years if y > last)
    end = plan.loaded.scenario.meta.end
    reach = [y for y in ahead if f"{y}-12" <= end]
    if not reach:
        raise ScenarioError(
            [
                Problem(
                    str(plan.path),
                    ("years",),
                    f"expected fitting years that leave later years of the record to forecast "
                    f"within the scenario (to {end}), found {first}-{last} with the record "
                    f"ending {full.years[-1]}",
                )
            ]
        )
    out = Path(out)
    with folder_lock(out):
        _prepare(out, force)
        cal = out / "calibration"
        status = None
        if (cal / "manifest.json").is_file():
            status = json.loads((cal / "manifest.json").read_text(encoding="utf-8")).get("status")
        if status is not None:
            _same_spec(cal, plan)
        fit = ScenarioScorer(plan, full)
        if status == "running":  # an interrupted backtest: finish its calibration
            calibrate(None, cal, resume=True, progress=progress, scorer=fit)
        elif status != "complete":
            calibrate(plan, cal, force=True, progress=progress, scorer=fit)
        result = _forecast(plan, full, reach, cal, draws, with_votes=record is None)
        write_file(out / "scores.csv", result.scores.to_csv(index=False).encode())
        write_file(out / "forecasts.csv", result.forecasts.to_csv(index=False).encode())
        if result.votes is not None:
            write_file(out / "votes.csv", result.votes.to_csv(index=False).encode())
        if result.remittances is not None:
            write_file(out / "remittances.csv", result.remittances.to_csv(index=False).encode())
        _figure(result, out / "backtest.png")
        info = {
            "tool": TOOL,
            "spec": str(plan.path),
            "fit_years": [first, last],
            "forecast_years": list(result.forecast_years),
            "draws": draws,
            "seed": plan.spec.seed,
            "seed_scheme": "posterior draws as greatgame run --posterior with the spec's seed; "
            "forecast run seeds and errors from numpy SeedSequence([seed, 0xBAC7])",
            "scores": result.scores.to_dict(orient="records"),
            "crps_skill_vs_persistence": result.skill("persistence"),
            "votes": None if result.votes is None else result.votes.to_dict(orient="records"),
            "remittances": None
            if result.remittances is None
            else result.remittances.to_dict(orient="records"),
            **environment(),
        }
        write_file(out / "manifest.json", (json.dumps(info, indent=2) + "\n").encode())
    return result


def _figure(result: Backtest, path: Path) -> None:
    """Write the backtest's figure (:func:`sim.viz.plotting.plot_backtest`) atomically."""
    import matplotlib.pyplot as plt

    from sim.viz.plotting import plot_backtest

    first, last = result.fit_years
    ahead = ", ".join(map(str, result.forecast_years))
    title = f"Calibrated on {first}-{last}, forecast {ahead} ({result.draws} posterior draws)"
    fig = plot_backtest(result.scores, title, result.remittances, result.remittance_paths)
    try:
        with atomic_file(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)


def _same_spec(cal: Path, plan: LoadedCalibration) -> None:
    """Refuse to reuse a calibration made with another spec (or another scenario)."""
    try:
        theirs = load_calibration(cal / "spec.yaml")
    except (OSError, ScenarioError) as exc:
        raise OutputError(f"{cal}: cannot reuse this calibration ({exc}); use --force") from None
    mine = plan.spec.model_dump(exclude={"scenario"})
    held = theirs.spec.model_dump(exclude={"scenario"})
    if mine != held or theirs.loaded.path.resolve() != plan.loaded.path.resolve():
        raise OutputError(
            f"{cal}: this calibration was made with another spec or scenario than "
            f"{plan.path}; use --force to calibrate afresh, or another --out"
        )


def _prepare(out: Path, force: bool) -> None:
    """Check that ``out`` is new, empty or a backtest folder; with ``force``, empty it."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(p for p in out.iterdir() if not p.name.startswith(".")):
        if manifest_tool(out) != TOOL and not (out / "calibration").is_dir():
            raise OutputError(
                f"{out}: holds files that greatgame backtest did not write; choose another --out"
            )
        if force:
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _forecast(
    plan: LoadedCalibration,
    full: AgreementRecord,
    reach: list[int],
    cal: Path,
    draws: int,
    with_votes: bool,
) -> Backtest:
    """Run the posterior draws over the fitting and forecast years and score them."""
    first, last = plan.spec.years
    years = tuple(y for y in full.years if first <= y <= reach[-1])
    window = full.between(years[0], years[-1])
    remit = bundled_remittances() if "remittances" in plan.spec.records else None
    scorer = ScenarioScorer(plan, window, (years[0], years[-1]), remit)
    values = posterior_draws(cal, draws, seed=plan.spec.seed)
    seeds = np.random.default_rng(np.random.SeedSequence([plan.spec.seed, _DRAW_TAG]))
    run_seeds = seeds.integers(0, 2**63 - 1, size=draws, dtype=np.int64)
    theta = values[list(plan.box.names)].to_numpy(float)
    seen = scorer.observe(theta, run_seeds)
    simulated = seen["alignment"]
    n_fit = sum(1 for y in years if y <= last)
    members = _model_members(simulated, window, n_fit, seeds)
    observed = centred(window.share)[n_fit:]
    baselines = _baselines(centred(window.share)[:n_fit], len(years) - n_fit)
    scores = score_forecasts(observed, members, baselines)
    rows = []
    for i, y in enumerate(years[n_fit:]):
        for j, s in enumerate(window.states):
            for k, p in enumerate(window.powers):
                row = {"year": y, "state": s, "power": p, "observed": observed[i, j, k] * 100}
                row["model"] = float(members[:, i, j, k].mean()) * 100
                for method, (mu, _) in baselines.items():
                    row[method] = float(mu[i, j, k]) * 100
                rows.append(row)
    votes = vote_scores(simulated, years, window, (first, last)) if with_votes else None
    remittances: pd.DataFrame | None = None
    paths: dict[str, Any] | None = None
    if scorer.remittances is not None:
        record = scorer.remittances
        n_in = sum(1 for y in record.years if y <= last)
        members = _remittance_members(seen["remittances"], record, n_in, seeds)
        base = _baselines(record.value[:n_in, :, None], len(record.years) - n_in, 0.5, False)
        base = {m: (mu[..., 0], sd[..., 0]) for m, (mu, sd) in base.items()}
        remittances = score_forecasts(record.value[n_in:], members, base, factor=1.0)
        fit_rec = record.between(record.years[0], record.years[n_in - 1])
        scale = fit_scale(seen["remittances"][:, :n_in], fit_rec)
        paths = {
            "years": list(record.years),
            "states": list(record.states),
            "observed": record.value,
            "paths": scale[:, None, :] * seen["remittances"],
            "first_forecast": record.years[n_in],
        }
    ahead = years[n_fit:]
    return Backtest(
        scores, pd.DataFrame(rows), (first, last), ahead, draws, votes, remittances, paths
    )
