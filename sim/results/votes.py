"""A resolution-aware model of UN General Assembly votes, read from an alignment profile.

The observation model of ``greatgame votes`` (``docs/ODD.md``, "Observation model: UN General
Assembly votes"). A state's vote on a resolution is one of :data:`VOTES` (yes, abstain, no,
absent), drawn from a multinomial logit, in the spirit of the item-response models of UN voting
(Bailey, Strezhnev and Voeten 2017) with the resolution's position on the West-East dimension
replaced by what the resolution is about::

    P(vote = k | state, resolution) = exp(x . b_k) / sum_j exp(x . b_j),   b_yes = 0

The features ``x`` (:data:`FEATURES`) combine the state's alignment profile (toward each power, in
[0, 1]) and its neutrality doctrine with the resolution's description
(:class:`sim.input.resolutions.Resolution`):

- state: ``west`` = mean alignment with the usa and the eu; ``east`` = mean alignment with russia
  and china; ``cross`` = min(west, east), how cross-pressured the state is; ``neutrality``;
- resolution: its issue codes, its measure (``other`` is the reference), ``important`` (1 when
  listed as an important vote) and ``condemns`` (1 when it targets a power's conduct);
- the resolution's discrimination: ``position`` = west - east times each issue, measure and
  ``important``; for a text condemning power ``c``, the alignment with ``c`` (``aligned``), the
  alignment with the West, and the cross-pressure min(alignment with ``c``, west);
  ``neutrality`` times ``important`` and times ``condemns``.

Absence is one of the four outcomes, with its own coefficients: it is a modelled choice, not a
constant rate.

**Fitting on history.** The simulated alignment is unobserved in the past, so the fit uses an
explicit proxy measured from the votes themselves (:func:`agreement_proxy`): a state's alignment
with a power before roll call ``r`` is its *agreement share* with that power over the previous
12 months: of the roll calls dated in the 365 days before ``r``'s day on which the power cast
yes, abstain or no, the share on which the state cast the same vote (the state's absence matches
nothing; agreement with the EU is the mean of those with France and Germany). The roll call
predicted and the others of its day are never in its window. The observation equation's
assumption is that the model's alignment is read on the scale of such an agreement share.

The coefficients are fitted once by :func:`fit_vote_model` (``bench/fit_vote_model.py`` writes
``seeds/data/vote_model.json``) by penalised maximum likelihood (ridge, chosen on a validation
split), and the held-out evaluation (train before 2015, test 2015 to January 2020) is stored with
them. At run time only numpy is needed (:func:`load_vote_model`, :meth:`VoteModel.probabilities`);
:func:`predict_folder` applies the model to the runs of a results folder.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.input.errors import Problem, ScenarioError
from sim.input.resolutions import Resolution
from sim.input.unvotes import (
    ISSUE_CODES,
    MEASURES,
    ROLL_CALLS_FILE,
    VOTES_FILE,
    UnVotes,
    load_un_votes,
    un_votes_dir,
)
from sim.model.dynamics import FloatArray, IntArray
from sim.model.metrics import VOTES
from sim.results.tables import variable_array

if TYPE_CHECKING:
    from sim.results.folder import RunFolder

__all__ = [
    "EAST",
    "FEATURES",
    "FIT_NEUTRALITY",
    "MODEL_FILE",
    "NEEDED_POWERS",
    "STATES",
    "VOTES",
    "WEST",
    "VoteModel",
    "agreement_proxy",
    "baseline_probabilities",
    "baseline_scores",
    "design",
    "features",
    "fit_multinomial",
    "fit_vote_model",
    "load_vote_model",
    "log_loss",
    "month_for",
    "predict_folder",
    "probabilities",
    "table_features",
    "training_table",
]


MODEL_FILE = "vote_model.json"
"""The fitted coefficients, in ``seeds/data/`` (:func:`sim.input.unvotes.un_votes_dir`)."""
WEST = ("usa", "eu")
EAST = ("russia", "china")
NEEDED_POWERS = (*EAST, *WEST)
"""Powers a scenario must have for the vote model (besides the one a text condemns)."""
STATES = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan")
"""The states whose votes the model is fitted on."""
PROXY_POWERS: dict[str, tuple[str, ...]] = {
    "russia": ("russia",),
    "china": ("china",),
    "usa": ("usa",),
    "turkey": ("turkey",),
    "iran": ("iran",),
    "eu": ("france", "germany"),
}
"""The countries of the votes table whose agreement stands for each power's (EU: the mean)."""
WINDOW_DAYS = 365
"""The proxy's window: roll calls dated in the 365 days before the one predicted."""
MIN_VOTES = 10
"""Fewest votes of a power the window must hold; a thinner window is widened back to the last
:data:`MIN_VOTES` votes of that power (the proxy is undefined before that many exist)."""
FIT_NEUTRALITY: dict[str, float] = {
    "kazakhstan": 0.0,
    "kyrgyzstan": 0.0,
    "tajikistan": 0.0,
    "turkmenistan": 0.8,
    "uzbekistan": 0.45,
}
"""Each state's neutrality in the fit: the values of ``scenarios/baseline_2022.yaml`` (the default
0 where it gives none), held constant over 1992-2020 (a test checks that they still agree)."""
RIDGE_GRID = (0.01, 0.1, 1.0, 10.0)
"""Ridge penalties tried (on the summed log-likelihood; intercepts are not penalised)."""
VALIDATION = ("2011-01-01", "2015-01-01")
"""Model selection: fit on roll calls before the first day, score those up to the second."""
TEST_START = "2015-01-01"
"""Held-out evaluation: fit on roll calls before this day, test on those from it on."""

ISSUE_FEATURES = tuple(f"issue_{c}" for c in ISSUE_CODES)
MEASURE_LEVELS = tuple(m for m in MEASURES if m != "other")
"""Measures with a feature of their own (``other`` is the reference)."""
MEASURE_FEATURES = tuple(f"measure_{m}" for m in MEASURE_LEVELS)
_RESOLUTION = (*ISSUE_FEATURES, *MEASURE_FEATURES, "important")
FEATURES: tuple[str, ...] = (
    "const",
    "neutrality",
    "west",
    "east",
    "cross",
    *_RESOLUTION,
    "condemns",
    "condemns*aligned",
    "condemns*west",
    "condemns*cross",
    *(f"position*{name}" for name in _RESOLUTION),
    "neutrality*important",
    "neutrality*condemns",
)
"""The model's features, in the order of the coefficients' columns (see the module's text)."""
OUTCOMES = VOTES[1:]
"""The outcomes with coefficients of their own; ``yes`` is the reference (all zero)."""


# --- the model ---------------------------------------------------------------------------------


def design(
    west: npt.ArrayLike,
    east: npt.ArrayLike,
    neutrality: npt.ArrayLike,
    issues: npt.ArrayLike,
    measures: npt.ArrayLike,
    important: npt.ArrayLike,
    condemns: npt.ArrayLike,
    aligned: npt.ArrayLike,
) -> FloatArray:
    """The feature matrix of :data:`FEATURES`, broadcasting over any leading axes.

    Args:
        west: Mean alignment with the usa and the eu, ``(...)``.
        east: Mean alignment with russia and china, ``(...)``.
        neutrality: The state's neutrality, ``(...)``.
        issues: 0/1 per code of :data:`~sim.input.unvotes.ISSUE_CODES`, ``(..., 6)``.
        measures: 0/1 per measure of :data:`MEASURE_LEVELS`, ``(..., 5)``.
        important: 1 for an important vote, else 0, ``(...)``.
        condemns: 1 when the text condemns a power, else 0, ``(...)``.
        aligned: Alignment with the condemned power (any value when ``condemns`` is 0), ``(...)``.

    Returns:
        ``(..., len(FEATURES))``.
    """
    w, e, n = (np.asarray(a, dtype=float) for a in (west, east, neutrality))
    imp, con, c = (np.asarray(a, dtype=float) for a in (important, condemns, aligned))
    iss, mea = np.asarray(issues, dtype=float), np.asarray(measures, dtype=float)
    shape = np.broadcast_shapes(w.shape, e.shape, n.shape, imp.shape, con.shape, c.shape)
    shape = np.broadcast_shapes(shape, iss.shape[:-1], mea.shape[:-1])

    def full(a: FloatArray) -> FloatArray:
        return np.broadcast_to(a, shape)

    res = np.concatenate(
        [
            np.broadcast_to(iss, (*shape, iss.shape[-1])),
            np.broadcast_to(mea, (*shape, mea.shape[-1])),
            full(imp)[..., None],
        ],
        axis=-1,
    )
    position = full(w - e)[..., None]
    con_b = full(con)
    columns = [
        np.ones(shape),
        full(n),
        full(w),
        full(e),
        full(np.minimum(w, e)),
    ]
    head = np.stack(columns, axis=-1)
    cond = np.stack(
        [con_b, con_b * full(c), con_b * full(w), con_b * full(np.minimum(c, w))], axis=-1
    )
    tail = np.stack([full(n * imp), full(n) * con_b], axis=-1)
    out: FloatArray = np.concatenate([head, res, cond, position * res, tail], axis=-1)
    return out


def _resolution_terms(resolution: Resolution) -> tuple[FloatArray, FloatArray, float, float]:
    issues = np.array([c in resolution.issues for c in ISSUE_CODES], dtype=float)
    measures = np.array([resolution.measure == m for m in MEASURE_LEVELS], dtype=float)
    important = 1.0 if resolution.importantvote else 0.0
    return issues, measures, important, 1.0 if resolution.condemns else 0.0


def features(
    profile: Mapping[str, npt.ArrayLike], neutrality: npt.ArrayLike, resolution: Resolution
) -> FloatArray:
    """The features of states with alignment ``profile`` on one resolution.

    Args:
        profile: Alignment toward each power, each ``(...)`` (e.g. runs x states); must hold
            :data:`NEEDED_POWERS` and the power the resolution condemns.
        neutrality: Neutrality, broadcastable to the profile's shape.
        resolution: The resolution.

    Returns:
        ``(..., len(FEATURES))``.

    Raises:
        KeyError: If the profile lacks a power the features need.
    """
    a = {p: np.asarray(v, dtype=float) for p, v in profile.items()}
    missing = [p for p in (*NEEDED_POWERS, resolution.condemns) if p is not None and p not in a]
    if missing:
        raise KeyError(f"the alignment profile lacks {', '.join(missing)}")
    west = (a["usa"] + a["eu"]) / 2
    east = (a["russia"] + a["china"]) / 2
    issues, measures, important, condemns = _resolution_terms(resolution)
    aligned = a[resolution.condemns] if resolution.condemns else np.zeros_like(west)
    return design(west, east, neutrality, issues, measures, important, condemns, aligned)


def probabilities(coef: npt.ArrayLike, x: npt.ArrayLike) -> FloatArray:
    """Vote probabilities of a multinomial logit with ``yes`` as the reference.

    Args:
        coef: ``(3, K)``: the coefficients of abstain, no and absent.
        x: ``(..., K)`` features.

    Returns:
        ``(..., 4)``: P(yes), P(abstain), P(no), P(absent), each row summing to 1.
    """
    b, xs = np.asarray(coef, dtype=float), np.asarray(x, dtype=float)
    eta = np.concatenate([np.zeros((*xs.shape[:-1], 1)), xs @ b.T], axis=-1)
    eta -= eta.max(axis=-1, keepdims=True)
    p = np.exp(eta)
    out: FloatArray = p / p.sum(axis=-1, keepdims=True)
    return out


@dataclass(frozen=True)
class VoteModel:
    """A fitted vote model.

    Attributes:
        coef: ``(3, len(FEATURES))``: the coefficients of abstain, no and absent (yes: zero).
        meta: The fit's record (data, sizes, dates, log-likelihood, held-out scores).
        path: The file it was read from, if any.
    """

    coef: FloatArray
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def probabilities(
        self,
        profile: Mapping[str, npt.ArrayLike],
        neutrality: npt.ArrayLike,
        resolution: Resolution,
    ) -> FloatArray:
        """P(yes, abstain, no, absent) of states with this profile on ``resolution``.

        Args:
            profile: Alignment toward each power, each ``(...)``.
            neutrality: Neutrality, broadcastable to the profile's shape.
            resolution: The resolution.

        Returns:
            ``(..., 4)`` in :data:`VOTES` order.
        """
        return probabilities(self.coef, features(profile, neutrality, resolution))

    def to_json(self) -> dict[str, Any]:
        """The model as the JSON object of :data:`MODEL_FILE`."""
        return {
            "model": "multinomial logit of a state's UN General Assembly vote (sim.results.votes)",
            "votes": list(VOTES),
            "reference": VOTES[0],
            "features": list(FEATURES),
            "coefficients": {
                k: {f: _round(float(v)) for f, v in zip(FEATURES, row, strict=True)}
                for k, row in zip(OUTCOMES, self.coef, strict=True)
            },
            "fit": self.meta,
        }


def _round(value: float, digits: int = 6) -> float:
    return float(round(value, digits))


def load_vote_model(path: str | Path | None = None) -> VoteModel:
    """Read a vote model file (the bundled ``seeds/data/vote_model.json`` by default).

    Raises:
        ScenarioError: If the file is missing, not JSON, or its features, votes or coefficients
            are not those of this module (refit it: ``python bench/fit_vote_model.py``).
    """
    file = Path(path) if path is not None else un_votes_dir() / MODEL_FILE
    refit = "; rewrite it with python bench/fit_vote_model.py"

    def bad(loc: tuple[str | int, ...], message: str) -> ScenarioError:
        return ScenarioError([Problem(str(file), loc, message + refit)])

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise bad((), f"cannot read the file ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad((), f"not a JSON file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise bad((), "expected a JSON object")
    if data.get("votes") != list(VOTES):
        raise bad(("votes",), f"expected {list(VOTES)}, found {data.get('votes')!r}")
    if data.get("features") != list(FEATURES):
        raise bad(("features",), "the features are not those of sim.results.votes.FEATURES")
    table = data.get("coefficients")
    rows = []
    for k in OUTCOMES:
        row = table.get(k) if isinstance(table, dict) else None
        if not isinstance(row, dict) or set(row) != set(FEATURES):
            raise bad(("coefficients", k), "expected one number per feature")
        values = [row[f] for f in FEATURES]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise bad(("coefficients", k), "expected numbers")
        rows.append(values)
    coef = np.array(rows, dtype=float)
    if not np.isfinite(coef).all():
        raise bad(("coefficients",), "expected finite numbers")
    meta = data.get("fit")
    return VoteModel(coef=coef, meta=meta if isinstance(meta, dict) else {}, path=file)


# --- the proxy and the training table ----------------------------------------------------------


def _windows(days: IntArray, cast: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """For each roll call, the slice [lo, hi) of earlier roll calls its proxy reads.

    ``hi`` is the first roll call of the same day (the day's votes are left out); ``lo`` the
    first within :data:`WINDOW_DAYS`, moved back so the slice holds :data:`MIN_VOTES` roll calls
    with ``cast`` true when the 12 months hold fewer (when so many exist).
    """
    lo = np.searchsorted(days, days - WINDOW_DAYS, side="left")
    hi = np.searchsorted(days, days, side="left")
    counted = np.concatenate([[0], np.cumsum(cast)])
    short = counted[hi] - counted[lo] < MIN_VOTES
    # the last index i with counted[hi] - counted[i] >= MIN_VOTES
    wide = np.searchsorted(counted, counted[hi] - MIN_VOTES, side="right") - 1
    lo = np.where(short, np.maximum(wide, 0), lo)
    return lo.astype(np.int64), hi.astype(np.int64)


def agreement_proxy(un: UnVotes, states: Sequence[str] = STATES) -> pd.DataFrame:
    """Each state's alignment proxy before each roll call: its agreement share with each power.

    Before roll call ``r`` (day ``d``), the agreement of state ``s`` with country ``c`` is, over
    the roll calls dated in ``[d - 365 days, d)`` on which ``c`` cast yes, abstain or no, the
    share on which ``s`` cast the same vote (an absence of ``s`` agrees with nothing). When the
    window holds fewer than :data:`MIN_VOTES` votes of ``c`` it is widened back to the last
    :data:`MIN_VOTES`; before that many exist the share is undefined (NaN). A power's
    agreement is that of its country, the EU's the mean of France's and Germany's
    (:data:`PROXY_POWERS`).

    Args:
        un: The roll calls and votes (:func:`sim.input.unvotes.load_un_votes`).
        states: The states.

    Returns:
        One row per roll call and state, ordered by date, roll call and state: ``rcid``,
        ``date``, ``state`` and one column per power of :data:`PROXY_POWERS`.
    """
    calls = un.roll_calls.sort_values(["date", "rcid"], kind="stable").reset_index(drop=True)
    votes = un.votes.pivot(index="rcid", columns="country", values="vote").loc[calls["rcid"]]
    days = calls["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    shares: dict[str, dict[str, FloatArray]] = {s: {} for s in states}
    for power, countries in PROXY_POWERS.items():
        per_country: dict[str, list[FloatArray]] = {s: [] for s in states}
        for country in countries:
            theirs = votes[country].to_numpy()
            cast = theirs != "absent"
            lo, hi = _windows(days, cast)
            counted = np.concatenate([[0], np.cumsum(cast)])
            n = counted[hi] - counted[lo]
            for s in states:
                agree = np.concatenate([[0], np.cumsum(cast & (votes[s].to_numpy() == theirs))])
                with np.errstate(invalid="ignore", divide="ignore"):
                    share = np.where(n >= MIN_VOTES, (agree[hi] - agree[lo]) / n, np.nan)
                per_country[s].append(share)
        for s in states:
            shares[s][power] = np.mean(per_country[s], axis=0)
    frames = []
    for s in states:
        frame = pd.DataFrame({"rcid": calls["rcid"], "date": calls["date"], "state": s})
        for power in PROXY_POWERS:
            frame[power] = shares[s][power]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["date", "rcid", "state"], kind="stable").reset_index(drop=True)


def training_table(
    un: UnVotes, neutrality: Mapping[str, float] = FIT_NEUTRALITY
) -> tuple[pd.DataFrame, FloatArray]:
    """The observations of the fit: one per roll call and state with a defined proxy.

    Args:
        un: The roll calls and votes.
        neutrality: Each state's neutrality (the states fitted are its keys).

    Returns:
        The table (``rcid``, ``date``, ``state``, ``issues``, ``vote``, ``y`` the vote's index
        in :data:`VOTES`, the proxy's power columns, and ``previous``: the index of the state's
        vote on the last earlier-dated roll call with the same issue codes, else on any
        earlier-dated one, else -1) and its feature matrix ``(n, len(FEATURES))``.
    """
    states = tuple(neutrality)
    proxy = agreement_proxy(un, states)
    calls = un.roll_calls.set_index("rcid")
    votes = un.votes.set_index(["rcid", "country"])["vote"]
    table = proxy.copy()
    table["issues"] = calls.loc[table["rcid"], "issues"].to_numpy()
    table["measure"] = calls.loc[table["rcid"], "measure"].to_numpy()
    table["condemns"] = calls.loc[table["rcid"], "condemns"].to_numpy()
    important = calls.loc[table["rcid"], "importantvote"].to_numpy(dtype=float, na_value=0.0)
    table["important"] = important
    keys = pd.MultiIndex.from_arrays([table["rcid"], table["state"]])
    table["vote"] = votes.reindex(keys).to_numpy()
    table["y"] = table["vote"].map({v: i for i, v in enumerate(VOTES)}).astype(int)
    table["previous"] = _previous_votes(table)
    table = table[table[list(PROXY_POWERS)].notna().all(axis=1)].reset_index(drop=True)
    return table, table_features(table, neutrality)


def table_features(table: pd.DataFrame, neutrality: Mapping[str, float]) -> FloatArray:
    """The feature matrix of rows of :func:`training_table`, from their power columns.

    A forecast that replaces the observed agreement shares (the power columns) by predicted
    ones gets its features here, by the same rule.

    Args:
        table: Rows with ``state``, ``issues``, ``measure``, ``condemns``, ``important`` and one
            column per power of :data:`PROXY_POWERS`.
        neutrality: Each state's neutrality.

    Returns:
        ``(n, len(FEATURES))``.
    """
    codes = table["issues"].str.split(";")
    issues = np.array([[c in have for c in ISSUE_CODES] for have in codes], dtype=float)
    issues = issues.reshape(len(table), len(ISSUE_CODES))
    measures = np.stack([(table["measure"] == m).to_numpy() for m in MEASURE_LEVELS], axis=-1)
    condemns = (table["condemns"] != "").to_numpy(dtype=float)
    aligned = np.zeros(len(table))
    for power in PROXY_POWERS:
        here = (table["condemns"] == power).to_numpy()
        aligned[here] = table.loc[here, power].to_numpy()
    return design(
        (table["usa"] + table["eu"]).to_numpy() / 2,
        (table["russia"] + table["china"]).to_numpy() / 2,
        table["state"].map(dict(neutrality)).to_numpy(dtype=float),
        issues,
        measures.astype(float),
        table["important"].to_numpy(dtype=float),
        condemns,
        aligned,
    )


def _previous_votes(table: pd.DataFrame) -> IntArray:
    """Per row, the state's vote on the last earlier-dated roll call of the same issues."""
    left = table[["date", "state", "issues"]].reset_index()
    right = table[["date", "state", "issues", "y"]]
    same = pd.merge_asof(
        left.sort_values("date", kind="stable"),
        right.sort_values("date", kind="stable"),
        on="date",
        by=["state", "issues"],
        allow_exact_matches=False,
        direction="backward",
    ).set_index("index")["y"]
    right_any = table[["date", "state", "y"]]
    any_issue = pd.merge_asof(
        left.sort_values("date", kind="stable"),
        right_any.sort_values("date", kind="stable"),
        on="date",
        by="state",
        allow_exact_matches=False,
        direction="backward",
    ).set_index("index")["y"]
    out = same.reindex(table.index).fillna(any_issue.reindex(table.index)).fillna(-1)
    return out.to_numpy(dtype=np.int64)


# --- fitting and scoring -----------------------------------------------------------------------


def log_loss(p: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Mean negative log probability (natural log) of the observed votes."""
    probs, obs = np.asarray(p, dtype=float), np.asarray(y, dtype=np.int64)
    picked = np.clip(probs[np.arange(len(obs)), obs], 1e-15, 1.0)
    return float(-np.mean(np.log(picked)))


def _accuracy(p: npt.ArrayLike, y: npt.ArrayLike) -> float:
    return float(np.mean(np.asarray(p).argmax(axis=-1) == np.asarray(y)))


def fit_multinomial(x: FloatArray, y: IntArray, ridge: float) -> tuple[FloatArray, float]:
    """Penalised maximum-likelihood fit of the multinomial logit (``yes`` the reference).

    Maximises ``sum_i log P(y_i | x_i) - ridge / 2 * sum(b**2)`` over the coefficients of
    abstain, no and absent, the intercepts (feature ``const``, column 0) unpenalised, by
    Newton's method (exact gradient and Hessian, step halving until the objective improves)
    from all-zero coefficients, until the Newton decrement is below 1e-10: deterministic. The
    objective is strictly concave for ``ridge`` > 0, so the optimum is unique.

    Args:
        x: ``(n, K)`` features.
        y: ``(n,)`` vote indices into :data:`VOTES`.
        ridge: The penalty's weight (> 0).

    Returns:
        The coefficients ``(3, K)`` and the log-likelihood at them (without the penalty).

    Raises:
        ValueError: If ``ridge`` is not positive, or Newton's method does not converge.
    """
    if not ridge > 0:
        raise ValueError(f"expected a positive ridge, found {ridge}")
    n, k = x.shape
    outcomes = np.eye(len(VOTES))[y][:, 1:]
    penalty = np.full(k, ridge)
    penalty[0] = 0.0

    def objective(b: FloatArray) -> float:
        return log_loss(probabilities(b, x), y) * n + 0.5 * float(np.sum(penalty * b**2))

    b = np.zeros((3, k))
    current = objective(b)
    for _ in range(MAX_NEWTON):
        p = probabilities(b, x)[:, 1:]
        grad = ((p - outcomes).T @ x + penalty * b).ravel()
        # d2/db_i db_j of the negative log-likelihood: sum_n p_i (1[i = j] - p_j) x x^T, as one
        # matrix product (one BLAS call: far faster than nine on a busy machine)
        w = p[:, :, None] * (np.eye(3)[None] - p[:, None, :])  # (n, 3, 3)
        blocks = x.T @ (w.reshape(n, 9, 1) * x[:, None, :]).reshape(n, 9 * k)  # (K, 9 K)
        hess = blocks.reshape(k, 3, 3, k).transpose(1, 0, 2, 3).reshape(3 * k, 3 * k)
        hess += np.diag(np.tile(penalty, 3))
        step = np.linalg.solve(hess, grad)
        decrement = float(grad @ step)
        if decrement / 2 < 1e-10:
            break
        t = 1.0
        while t > 1e-12:
            trial = b - t * step.reshape(3, k)
            value = objective(trial)
            if value <= current:
                break
            t /= 2
        b, current = trial, value
    else:
        raise ValueError(f"Newton's method did not converge in {MAX_NEWTON} steps")
    return b, -log_loss(probabilities(b, x), y) * n


MAX_NEWTON = 100
"""Most Newton steps of :func:`fit_multinomial` (a fit takes about 10 to 20)."""


def _frequencies(y: IntArray) -> FloatArray:
    """Vote shares with one added to each count (no vote gets probability 0)."""
    counts = np.bincount(y, minlength=len(VOTES)).astype(float) + 1.0
    out: FloatArray = counts / counts.sum()
    return out


def baseline_scores(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Log-loss and accuracy on ``test`` of three baselines estimated on ``train``.

    - ``majority``: always the most common vote of the training set (probabilities: its vote
      shares, each count plus one);
    - ``state_majority``: each state's most common training vote (its shares, plus one);
    - ``persistence``: the state's vote on the last earlier-dated roll call with the same issue
      codes (else on any earlier one; else the majority); its probabilities are the training
      set's transition shares P(vote | that previous vote), each count plus one.

    Args:
        train: Rows of :func:`training_table` to estimate on.
        test: Rows to score.

    Returns:
        Name to ``{"log_loss": ..., "accuracy": ...}``.
    """
    y_te = test["y"].to_numpy()
    probs = baseline_probabilities(train, test)
    overall = _frequencies(train["y"].to_numpy())
    previous = test["previous"].to_numpy()
    guess = np.where(previous >= 0, previous, int(overall.argmax()))
    out = {
        k: {"log_loss": log_loss(p, y_te), "accuracy": _accuracy(p, y_te)} for k, p in probs.items()
    }
    out["persistence"]["accuracy"] = float(np.mean(guess == y_te))  # the previous vote itself
    return out


def baseline_probabilities(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, FloatArray]:
    """The vote probabilities of the baselines of :func:`baseline_scores` on ``test``.

    Args:
        train: Rows of :func:`training_table` to estimate on.
        test: Rows to forecast.

    Returns:
        ``majority``, ``state_majority`` and ``persistence`` to ``(len(test), 4)``.
    """
    y_tr = train["y"].to_numpy()
    overall = _frequencies(y_tr)
    p_major = np.tile(overall, (len(test), 1))
    by_state = {s: _frequencies(g["y"].to_numpy()) for s, g in train.groupby("state")}
    p_state = np.stack([by_state.get(s, overall) for s in test["state"]])
    transition = np.ones((len(VOTES) + 1, len(VOTES)))  # row -1 (no previous vote) is the last
    np.add.at(transition, (train["previous"].to_numpy(), y_tr), 1.0)
    transition /= transition.sum(axis=1, keepdims=True)
    p_persist = transition[test["previous"].to_numpy()]
    return {"majority": p_major, "state_majority": p_state, "persistence": p_persist}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _span(table: pd.DataFrame) -> list[str]:
    return [table["date"].min().strftime("%Y-%m-%d"), table["date"].max().strftime("%Y-%m-%d")]


def fit_vote_model(
    directory: str | Path | None = None, neutrality: Mapping[str, float] = FIT_NEUTRALITY
) -> VoteModel:
    """Fit the vote model on the bundled votes, with its model selection and held-out scores.

    1. Selection: for each ridge of :data:`RIDGE_GRID`, fit on the roll calls dated before
       ``VALIDATION[0]`` and score the log-loss of those up to ``VALIDATION[1]``; keep the best.
    2. Held-out evaluation: fit on the roll calls before :data:`TEST_START` with that ridge;
       score the model and :func:`baseline_scores` on the later ones.
    3. The model: fit on every roll call with that ridge.

    Args:
        directory: The folder of the UN vote tables (the bundled one by default).
        neutrality: Each state's neutrality (:data:`FIT_NEUTRALITY`).

    Returns:
        The model of step 3, with the record of all three in ``meta``.
    """
    folder = Path(directory) if directory is not None else un_votes_dir()
    un = load_un_votes(folder)
    table, x = training_table(un, neutrality)
    y = table["y"].to_numpy()
    dates = table["date"]

    def split(start: str | None, end: str | None) -> npt.NDArray[np.bool_]:
        keep = np.ones(len(table), dtype=bool)
        if start is not None:
            keep &= (dates >= pd.Timestamp(start)).to_numpy()
        if end is not None:
            keep &= (dates < pd.Timestamp(end)).to_numpy()
        return keep

    fit_part, check_part = split(None, VALIDATION[0]), split(*VALIDATION)
    selection = []
    for ridge in RIDGE_GRID:
        coef, _ = fit_multinomial(x[fit_part], y[fit_part], ridge)
        loss = log_loss(probabilities(coef, x[check_part]), y[check_part])
        selection.append({"ridge": ridge, "validation_log_loss": _round(loss)})
    best = min(selection, key=lambda r: (r["validation_log_loss"], r["ridge"]))["ridge"]

    train, test = split(None, TEST_START), split(TEST_START, None)
    coef, _ = fit_multinomial(x[train], y[train], best)
    p_test = probabilities(coef, x[test])
    scores = {
        "model": {"log_loss": log_loss(p_test, y[test]), "accuracy": _accuracy(p_test, y[test])}
    }
    scores.update(baseline_scores(table[train], table[test]))
    final, loglik = fit_multinomial(x, y, best)
    meta = {
        "script": "bench/fit_vote_model.py",
        "data": {
            name: {"sha256": _sha256(folder / name)} for name in (ROLL_CALLS_FILE, VOTES_FILE)
        },
        "states": list(neutrality),
        "neutrality": {s: float(v) for s, v in neutrality.items()},
        "proxy": {
            "definition": "agreement share of the state with each power over the roll calls "
            "dated in the 365 days before the one predicted on which the power voted (the "
            "state's absence agrees with nothing); eu = mean of france and germany",
            "window_days": WINDOW_DAYS,
            "min_votes": MIN_VOTES,
        },
        "n_roll_calls": int(table["rcid"].nunique()),
        "n_observations": len(table),
        "dates": _span(table),
        "votes": {v: int((y == i).sum()) for i, v in enumerate(VOTES)},
        "ridge": best,
        "selection": {
            "fit": [_span(table[fit_part])[0], _span(table[fit_part])[1]],
            "validate": _span(table[check_part]),
            "grid": selection,
        },
        "log_likelihood": _round(loglik, 3),
        "mean_log_loss": _round(-loglik / len(table)),
        "held_out": {
            "train": _span(table[train]),
            "test": _span(table[test]),
            "n_train": int(train.sum()),
            "n_test": int(test.sum()),
            "scores": {name: {k: _round(v) for k, v in s.items()} for name, s in scores.items()},
        },
    }
    return VoteModel(coef=final, meta=meta)


# --- a results folder --------------------------------------------------------------------------


def month_for(date: str) -> str:
    """The month of the last record on or before day ``date``.

    A record ``YYYY-MM`` is the state at the end of that month, so a vote on any day but the
    month's last reads the previous month's record (2022-03-02: 2022-02; 2022-03-31: 2022-03).

    Args:
        date: ``YYYY-MM-DD``.

    Returns:
        ``YYYY-MM``.
    """
    day = dt.date.fromisoformat(date)
    last = calendar.monthrange(day.year, day.month)[1]
    if day.day == last:
        return f"{day.year:04d}-{day.month:02d}"
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _month_end(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def predict_folder(
    folder: str | Path | RunFolder,
    resolutions: Sequence[Resolution],
    model: VoteModel | None = None,
) -> dict[str, Any]:
    """The vote model applied to every run of a results folder, per resolution and state.

    For each resolution, each run's alignment is read at the last record on or before its day
    (:func:`month_for`), the model gives each state's vote probabilities (with the scenario's
    neutrality), and these are averaged over the runs; the vote named is the most likely one.

    Args:
        folder: A results folder (a path or a :class:`~sim.results.folder.RunFolder`).
        resolutions: The resolutions (:func:`sim.input.resolutions.load_resolutions`).
        model: The vote model (the bundled one by default).

    Returns:
        ``{"results": ..., "model": ..., "runs": R, "resolutions": [{"id", "date", "title",
        "issues", "condemns", "measure", "month", "runs", "states": {state: {"vote": ...,
        "p": {vote: probability}}}}]}``.

    Raises:
        ScenarioError: If the scenario lacks a power the model needs, or a resolution is dated
            outside the folder's records or condemns a power the scenario does not have (each
            problem names the resolutions file, line and field).
        OutputError: If the folder is not a readable results folder.
    """
    from sim.results.folder import SCENARIO, RunFolder, read_run_folder

    run = folder if isinstance(folder, RunFolder) else read_run_folder(folder)
    vote_model = model if model is not None else load_vote_model()
    scenario, table = run.scenario, run.table
    states, powers = list(scenario.state_ids), list(scenario.power_ids)
    lacking = [p for p in NEEDED_POWERS if p not in powers]
    if lacking:
        message = (
            f"the vote model needs the powers {', '.join(NEEDED_POWERS)} (west: usa, eu; east: "
            f"russia, china); this scenario lacks {', '.join(lacking)} (its powers: "
            f"{', '.join(powers)})"
        )
        raise ScenarioError([Problem(str(run.path / SCENARIO), ("powers",), message)])
    cube, months, (table_states, table_powers) = variable_array(
        table, "alignment", "state", "power"
    )  # (runs, records, states, powers), one pivot for every resolution
    cube = cube[:, :, [table_states.index(s) for s in states]]
    cube = cube[..., [table_powers.index(p) for p in powers]]
    first, last = _month_end(months[0]), _month_end(months[-1])
    problems = []
    for res in resolutions:
        if not first <= res.date <= last:
            problems.append(
                res.problem(
                    "date",
                    f"{res.date} is outside the results' period: {run.path} records the end of "
                    f"{months[0]} to the end of {months[-1]}, so a resolution may be dated "
                    f"{first} to {last}",
                )
            )
        if res.condemns is not None and res.condemns not in powers:
            problems.append(
                res.problem(
                    "condemns",
                    f"power '{res.condemns}' is not in the scenario of {run.path} (its powers: "
                    f"{', '.join(powers)})",
                )
            )
    if problems:
        raise ScenarioError(problems)
    n_runs = cube.shape[0]
    neutrality = np.array([s.neutrality for s in scenario.states])
    out = []
    for res in resolutions:
        month = month_for(res.date)
        at = cube[:, months.index(month)]  # (R, S, P)
        profile = {p: at[:, :, j] for j, p in enumerate(powers)}
        p = vote_model.probabilities(profile, neutrality[None, :], res).mean(axis=0)  # (S, 4)
        out.append(
            {
                "id": res.id,
                "date": res.date,
                "title": res.title,
                "issues": list(res.issues),
                "condemns": res.condemns,
                "measure": res.measure,
                "month": month,
                "runs": n_runs,
                "states": {
                    s: {
                        "vote": VOTES[int(p[i].argmax())],
                        "p": {v: float(p[i, k]) for k, v in enumerate(VOTES)},
                    }
                    for i, s in enumerate(states)
                },
            }
        )
    return {
        "results": str(run.path),
        "model": str(vote_model.path) if vote_model.path is not None else None,
        "runs": n_runs,
        "resolutions": out,
    }
