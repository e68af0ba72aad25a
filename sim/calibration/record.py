"""The pre-2022 record a calibration is scored on, and its observation equation.

**The record.** For each calendar year, state and power, the state's *agreement share* with the
power in the UN General Assembly: of the year's roll calls on which both cast yes, abstain or no,
the share on which they cast the same vote (the EU's is the mean of France's and Germany's). It
differs from the proxy the vote model is fitted on (:func:`sim.results.votes.agreement_proxy`,
a trailing year in which a state's absence agrees with nothing) in leaving absences out: absence
is a state's habit of participation (Turkmenistan's neutrality), which the vote model reads from
its neutrality, not a position toward any power. Computed from the bundled roll calls
(``seeds/data/un_votes.csv``, 1992 to January 2020; nothing after 2 March 2022 enters), for the
years in which every cell holds at least :data:`sim.results.votes.MIN_VOTES` roll calls (2020,
with one roll call in January, is left out). Since the states vote on the same roll calls, what
the observation equation compares (a state's share less the states' mean) has a paired standard
error: that of the mean over the year's roll calls of the state's agreement less the states' mean
agreement on that roll call, at least :data:`SE_FLOOR`.

**The observation equation** (``docs/ODD.md``, "Observation model: yearly UN agreement"). The
roll calls of a year differ from those of the next (2017's record holds only two months), which
moves every state's agreement with a power together; so each power-year's mean over the states is
removed from both sides, and what is compared is how the states *differ* in their agreement with
each power and how those differences move:

    share[y, s, p] - mean_s share[y, ., p]
        = b * (A[y, s, p] - mean_s A[y, ., p]) + e[y, s, p],    e ~ N(0, se[y, s, p]^2)

where ``A[y, s, p]`` is the simulated alignment of ``s`` with ``p`` averaged over the months of
year ``y``, and ``b >= 0`` is one slope for every power (the alignment is read on one scale). The
slope is not a prior parameter: for each run it takes its weighted least-squares value (clipped at
0), so a run is scored on the pattern of its alignments, not on their level, which the record
cannot tell apart from the roll-call mix. The distance of a run is the root mean square of the
standardised residuals, ``sqrt(mean(((z - b a) / se)^2))``; a run whose alignments differ in no
way across states scores the spread of the record itself.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.input.unvotes import UnVotes, load_un_votes
from sim.input.wdi import load_remittances
from sim.model.dynamics import FloatArray
from sim.results.votes import MIN_VOTES, PROXY_POWERS, STATES

__all__ = [
    "REMITTANCE_SE",
    "SE_FLOOR",
    "AgreementRecord",
    "RemittanceRecord",
    "agreement_record",
    "bundled_record",
    "bundled_remittances",
    "centred",
    "fit_scale",
    "fit_slope",
    "remittance_record",
    "score",
    "score_remittances",
]

SE_FLOOR = 0.01
"""Smallest standard error of a cell: a year in which the states vote alike on every roll call
would otherwise weigh far more than its information warrants."""


@dataclass(frozen=True)
class AgreementRecord:
    """Yearly agreement shares of the states with the powers.

    Attributes:
        years: The calendar years, ascending.
        states: The states.
        powers: The powers.
        share: Agreement share, ``(Y, S, P)``.
        votes: Roll calls on which both the state and the power voted, ``(Y, S, P)`` (for the
            EU, the mean over France and Germany).
        se: Paired standard error of each share less the states' mean, ``(Y, S, P)``.
    """

    years: tuple[int, ...]
    states: tuple[str, ...]
    powers: tuple[str, ...]
    share: FloatArray
    votes: FloatArray
    se: FloatArray

    def between(self, first: int, last: int) -> AgreementRecord:
        """The record of the years ``first`` to ``last``, inclusive."""
        keep = [i for i, y in enumerate(self.years) if first <= y <= last]
        if not keep:
            raise ValueError(f"the record holds no year in {first}-{last} (it has {self.span})")
        return AgreementRecord(
            tuple(self.years[i] for i in keep),
            self.states,
            self.powers,
            self.share[keep],
            self.votes[keep],
            self.se[keep],
        )

    @property
    def span(self) -> str:
        """The years it covers, as text."""
        return f"{self.years[0]}-{self.years[-1]}"

    def to_frame(self) -> pd.DataFrame:
        """One row per year, state and power: ``share``, ``votes``, ``se``."""
        rows = [
            {
                "year": y,
                "state": s,
                "power": p,
                "share": float(self.share[i, j, k]),
                "votes": float(self.votes[i, j, k]),
                "se": float(self.se[i, j, k]),
            }
            for i, y in enumerate(self.years)
            for j, s in enumerate(self.states)
            for k, p in enumerate(self.powers)
        ]
        return pd.DataFrame(rows)


def agreement_record(
    un: UnVotes,
    states: Sequence[str] = STATES,
    powers: Sequence[str] = tuple(PROXY_POWERS),
) -> AgreementRecord:
    """The yearly agreement shares of the bundled roll calls (every year with roll calls).

    Args:
        un: The roll calls and votes (:func:`sim.input.unvotes.load_un_votes`).
        states: The states.
        powers: Powers of :data:`sim.results.votes.PROXY_POWERS`.

    Returns:
        The record; a year in which a power cast no vote is left out.
    """
    votes = un.votes.pivot(index="rcid", columns="country", values="vote")
    year = pd.Series(un.roll_calls.set_index("rcid")["date"].dt.year).reindex(votes.index)
    years = sorted(int(y) for y in year.unique())
    agree = np.zeros((len(years), len(states), len(powers)))
    n = np.zeros_like(agree)
    var = np.zeros_like(agree)
    mine = np.stack([votes[s].to_numpy() for s in states], axis=1)  # (R, S)
    for i, y in enumerate(years):
        rows = year.to_numpy() == y
        for k, power in enumerate(powers):
            members = PROXY_POWERS[power]  # the EU: the mean over its two members
            for country in members:
                theirs = votes[country].to_numpy()[rows, None]
                both = (theirs != "absent") & (mine[rows] != "absent")
                hit = np.where(both, (mine[rows] == theirs).astype(float), np.nan)
                count = both.sum(axis=0)
                with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a roll call all absent
                    share = np.nansum(hit, axis=0) / count
                    # paired: the state's agreement less the states' mean on the same roll call
                    dev = hit - np.nanmean(hit, axis=1, keepdims=True)
                    spread = np.nansum((dev - np.nanmean(dev, axis=0)) ** 2, axis=0) / count
                agree[i, :, k] += share / len(members)
                n[i, :, k] += count / len(members)
                var[i, :, k] += spread / len(members) / np.maximum(count, 1)
    keep = [i for i in range(len(years)) if np.all(n[i] >= MIN_VOTES)]
    share, n = agree[keep], n[keep]
    se = np.maximum(np.sqrt(var[keep]), SE_FLOOR)
    return AgreementRecord(
        tuple(years[i] for i in keep), tuple(states), tuple(powers), share, n, se
    )


@functools.cache
def bundled_record() -> AgreementRecord:
    """The record of the bundled roll calls (computed once per process)."""
    return agreement_record(load_un_votes())


def _nonnegative_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """A weighted least-squares coefficient ``num / den``, clipped at 0 (0 where ``den`` is 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den > 0, num / den, 0.0)
    return np.asarray(np.maximum(ratio, 0.0), float)


def centred(values: FloatArray) -> FloatArray:
    """``values[..., y, s, p]`` less its mean over the states (axis -2)."""
    return np.asarray(values - values.mean(axis=-2, keepdims=True), float)


def fit_slope(simulated: FloatArray, record: AgreementRecord) -> FloatArray:
    """Each run's slope ``b >= 0`` of the observation equation, by weighted least squares.

    Args:
        simulated: Yearly mean alignments, ``(B, Y, S, P)``, on the record's years, states and
            powers.
        record: The record.

    Returns:
        ``(B,)``.
    """
    a = centred(simulated)
    z = centred(record.share)[None]
    w = 1.0 / record.se[None] ** 2
    num = np.sum(w * a * z, axis=(1, 2, 3))
    den = np.sum(w * a * a, axis=(1, 2, 3))
    return _nonnegative_ratio(num, den)


def score(
    simulated: FloatArray, record: AgreementRecord, slope: FloatArray | None = None
) -> FloatArray:
    """Each run's distance from the record (the module docstring).

    Args:
        simulated: Yearly mean alignments, ``(B, Y, S, P)``.
        record: The record.
        slope: Each run's slope, ``(B,)``; default: fitted to this record (:func:`fit_slope`).
            A forecast is scored with the slope fitted in sample.

    Returns:
        ``(B,)``; ``inf`` for a run with a non-finite alignment.
    """
    b = fit_slope(simulated, record) if slope is None else np.asarray(slope, float)
    resid = (centred(record.share)[None] - b[:, None, None, None] * centred(simulated)) / (
        record.se[None]
    )
    d = np.sqrt(np.mean(resid**2, axis=(1, 2, 3)))
    return np.asarray(np.where(np.isfinite(d), d, np.inf), float)


# --- remittances -------------------------------------------------------------------------------

REMITTANCE_SE = (0.10, 0.5)
"""A remittance cell's standard error: 10% of its value plus 0.5 percentage points. An
assumption: two vintages of the same World Bank series differ by about a tenth for Tajikistan
(44.1 against 49.3% of GDP in 2008), and Uzbekistan's shares moved by half with its 2017
currency reform (``seeds/data/SOURCES.md``)."""


@dataclass(frozen=True)
class RemittanceRecord:
    """Migrants' remittances received, per cent of GDP, by year and state.

    **Observation equation.** ``r[y, s] = k[s] * R[y, s] + e``, ``e ~ N(0, se[y, s]^2)``, where
    ``R`` is the state's simulated remittance dependence summed over the powers and averaged over
    the months of the year, and ``k[s] >= 0`` one scale per run and state, fitted by weighted
    least squares (clipped at 0). The dependence is a tie in [0, 1] with no unit, and what full
    dependence means in per cent of GDP differs by state (Tajikistan's migrants send home far
    more per unit of GDP than Uzbekistan's), so a run is scored on how each state's remittances
    move over the years, for instance with the rouble crisis of 2014 and after it, not on their
    level.

    Attributes:
        years: The calendar years, ascending.
        states: The states.
        value: Per cent of GDP, ``(Y, S)``.
        se: Standard errors (:data:`REMITTANCE_SE`), ``(Y, S)``.
    """

    years: tuple[int, ...]
    states: tuple[str, ...]
    value: FloatArray
    se: FloatArray

    def between(self, first: int, last: int) -> RemittanceRecord:
        """The record of the years ``first`` to ``last``, inclusive."""
        keep = [i for i, y in enumerate(self.years) if first <= y <= last]
        if not keep:
            span = f"{self.years[0]}-{self.years[-1]}"
            raise ValueError(f"the remittance record holds no year in {first}-{last} ({span})")
        return RemittanceRecord(
            tuple(self.years[i] for i in keep), self.states, self.value[keep], self.se[keep]
        )


def remittance_record(table: pd.DataFrame) -> RemittanceRecord:
    """The record of a remittances table (:func:`sim.input.wdi.load_remittances`).

    Args:
        table: Rows of ``state``, ``year``, ``remittances_gdp``; every state must have every
            year of the table.

    Returns:
        The record, states in the table's order of first appearance.

    Raises:
        ValueError: When a state lacks a year that another state has.
    """
    wide = table.pivot(index="year", columns="state", values="remittances_gdp")
    states = tuple(dict.fromkeys(table["state"]))
    wide = wide[list(states)]
    if wide.isna().any().any():
        missing = [f"{s} {y}" for y in wide.index for s in states if pd.isna(wide.loc[y, s])]
        raise ValueError(f"the remittance record has gaps: {', '.join(missing[:5])}")
    value = wide.to_numpy(float)
    rel, floor = REMITTANCE_SE
    return RemittanceRecord(tuple(int(y) for y in wide.index), states, value, rel * value + floor)


@functools.cache
def bundled_remittances() -> RemittanceRecord:
    """The record of the bundled remittances table (computed once per process)."""
    return remittance_record(load_remittances())


def fit_scale(simulated: FloatArray, record: RemittanceRecord) -> FloatArray:
    """Each run's scales ``k[s] >= 0`` of the remittance observation equation.

    Args:
        simulated: Yearly remittance dependence, ``(B, Y, S)``, on the record's years and
            states.
        record: The record.

    Returns:
        ``(B, S)``.
    """
    w = 1.0 / record.se[None] ** 2
    num = np.sum(w * simulated * record.value[None], axis=1)
    den = np.sum(w * simulated**2, axis=1)
    return _nonnegative_ratio(num, den)


def score_remittances(
    simulated: FloatArray, record: RemittanceRecord, scale: FloatArray | None = None
) -> FloatArray:
    """Each run's distance from the remittance record: RMS of the standardised residuals.

    Args:
        simulated: Yearly remittance dependence, ``(B, Y, S)``.
        record: The record.
        scale: Each run's scales, ``(B, S)`` (default: fitted, :func:`fit_scale`).

    Returns:
        ``(B,)``; ``inf`` for a run with a non-finite value.
    """
    k = fit_scale(simulated, record) if scale is None else np.asarray(scale, float)
    resid = (record.value[None] - k[:, None, :] * simulated) / record.se[None]
    d = np.sqrt(np.mean(resid**2, axis=(1, 2)))
    return np.asarray(np.where(np.isfinite(d), d, np.inf), float)
