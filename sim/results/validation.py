"""Stylized facts of the seed documents, measured on model runs.

Each fact is computed from replicated runs of a scenario (and of variants of it built by
switching events off), never asserted as a constant. ``greatgame validate`` prints the table;
the test suite asserts the same facts on the baseline.

Variants are built from the validated scenario itself:

- *no war*: every ``power_shock`` event on Russia switched off (invasion, sanctions, Kerch);
- *no border war*: every ``border_conflict`` event switched off.

A variant is run with the same seeds as the scenario (common random numbers), so the difference
between the two is free of sampling noise; a change of 0.005 is the smallest the facts treat as
real, and rises or falls "over a period" must exceed 0.01 (or 0.02 where stated).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.input.scenario import LoadedScenario, Scenario, validate_document
from sim.model.dynamics import hedging_index
from sim.model.metrics import VOTES, Batch, VoteRule, influence, predicted_vote
from sim.results.runner import replicate_seeds, simulate_replicates

__all__ = ["FACTS", "Context", "FactResult", "validate"]


def _without(loaded: LoadedScenario, drop: Callable[[dict], bool]) -> Scenario:
    """The scenario with every event for which ``drop(event)`` is true switched off."""
    raw = copy.deepcopy(loaded.raw)
    for event in raw.get("events") or []:
        if drop(event):
            event["enabled"] = False
    return validate_document(raw, loaded.path)


def _is_war_shock(event: dict) -> bool:
    return event.get("type") == "power_shock" and "russia" in (event.get("actors") or [])


def _is_border_war(event: dict) -> bool:
    return event.get("type") == "border_conflict"


class Context:
    """Runs of the scenario and its variants, made on first use and shared by the facts.

    Args:
        loaded: The scenario to validate.
        replicates: Runs per variant (the same seeds for every variant).
        seed: Root seed.
        engine: Engine name (see :mod:`sim.model.engines`).
        progress: Show a progress bar per variant (None: on a terminal, for more than 10 runs).
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        replicates: int = 30,
        seed: int = 0,
        engine: str = "ensemble",
        progress: bool | None = None,
    ) -> None:
        self.loaded = loaded
        self.progress = progress
        self.scenario = loaded.scenario
        self.seeds = replicate_seeds(seed, replicates)
        self.engine = engine
        self._runs: dict[str, Batch] = {}

    def runs(self, variant: str = "scenario") -> Batch:
        """Runs of ``scenario``, ``no_war`` or ``no_border_war``."""
        if variant not in self._runs:
            sc = {
                "scenario": lambda: self.scenario,
                "no_war": lambda: _without(self.loaded, _is_war_shock),
                "no_border_war": lambda: _without(self.loaded, _is_border_war),
            }[variant]()
            self._runs[variant] = simulate_replicates(
                sc, self.seeds, self.engine, self.progress, desc=variant
            )
        return self._runs[variant]

    def median(self, variant: str = "scenario") -> np.ndarray:
        """Median alignment across runs, ``(T + 1, S, P)``."""
        return np.median(self.runs(variant).values["alignment"], axis=0)

    def at(self, date: str) -> int:
        """Record index of a ``YYYY-MM`` date."""
        return self.runs().dates.index(date)

    def s(self, state: str) -> int:
        """Index of a state id."""
        return self.scenario.state_ids.index(state)

    def p(self, power: str) -> int:
        """Index of a power id."""
        return self.scenario.power_ids.index(power)


@dataclass(frozen=True)
class FactResult:
    """The outcome of one fact.

    Attributes:
        key: Short label, (a) to (h).
        claim: The stylized fact, from the seed documents.
        measured: What the runs gave.
        threshold: What passing requires.
        passed: Whether it holds.
    """

    key: str
    claim: str
    measured: str
    threshold: str
    passed: bool


def _fact_a(c: Context) -> FactResult:
    a = c.median()[:, c.s("kazakhstan"), c.p("russia")]
    start, peak = a[c.at("2021-12")], a[c.at("2022-01") : c.at("2022-04") + 1].max()
    end = a[c.at("2022-12")]
    return FactResult(
        "a",
        "Kazakhstan's alignment with Russia rises briefly after the January 2022 CSTO "
        "deployment, then ends 2022 below its January level",
        f"start {start:.3f}, peak Jan-Apr {peak:.3f}, Dec 2022 {end:.3f}",
        "peak > start + 0.01 and Dec 2022 < start - 0.01",
        bool(peak > start + 0.01 and end < start - 0.01),
    )


def _fact_b(c: Context) -> FactResult:
    ks, ru = c.s("kyrgyzstan"), c.p("russia")
    a = c.median()[:, ks, ru]
    before, after = a[c.at("2022-08")], a[c.at("2022-12")]
    runs = c.runs().values["alignment"][:, c.at("2022-12"), ks, ru]
    calm = c.runs("no_border_war").values["alignment"][:, c.at("2022-12"), ks, ru]
    effect = float(np.median(runs - calm))
    return FactResult(
        "b",
        "Kyrgyzstan's alignment with Russia falls after the September 2022 border war",
        f"Aug {before:.3f} -> Dec {after:.3f}; effect of the war itself {effect:+.3f}",
        "Dec < Aug - 0.02 and effect of the border war < -0.005",
        bool(after < before - 0.02 and effect < -0.005),
    )


def _fact_c(c: Context) -> FactResult:
    a = c.median()[:, :, c.p("russia")]
    tj = c.s("tajikistan")
    always = bool((a.argmax(axis=1) == tj).all())
    dip = float(a[0, tj] - a[:, tj].min())
    return FactResult(
        "c",
        "Tajikistan stays the most Russia-aligned of the five, though it dips",
        f"most aligned in {int((a.argmax(axis=1) == tj).sum())}/{len(a)} months; dip {dip:.3f}",
        "most aligned every month and dip > 0.02",
        always and dip > 0.02,
    )


def _influence_rise(c: Context, power: str, key: str) -> FactResult:
    pop = np.array([s.population for s in c.scenario.states])
    infl = influence(c.median(), pop)[:, c.p(power)]
    start, end = infl[c.at("2021-12")], infl[c.at("2023-12")]
    return FactResult(
        key,
        f"{power.title()}'s regional influence rises over 2022-23",
        f"{start:.3f} -> {end:.3f} ({end - start:+.3f})",
        "rise > 0.01",
        bool(end - start > 0.01),
    )


def _fact_f(c: Context) -> FactResult:
    a = c.median()
    patrons = a[c.at("2023-12")].argmax(axis=1)
    top_share = np.bincount(patrons).max()
    h0 = hedging_index(a[c.at("2022-01")]).mean()
    h1 = hedging_index(a[c.at("2023-12")]).mean()
    names = ", ".join(c.scenario.power_ids[i] for i in patrons)
    return FactResult(
        "f",
        "At the end of 2023 no single power is the primary patron of all five, and the "
        "average hedging index is higher than in January 2022",
        f"patrons: {names}; hedging {h0:.3f} -> {h1:.3f}",
        "no power patron of all states and hedging rises",
        bool(top_share < len(patrons) and h1 > h0),
    )


def _fact_g(c: Context) -> FactResult:
    end, ru = c.at("2023-12"), c.p("russia")
    base = c.runs().values["alignment"][:, end, :, ru]
    peace = c.runs("no_war").values["alignment"][:, end, :, ru]
    gap = np.median(peace - base, axis=0)
    return FactResult(
        "g",
        "Without the war, every state ends 2023 more aligned with Russia than in the baseline",
        "no-war minus baseline: " + ", ".join(f"{g:+.3f}" for g in gap),
        "every state > +0.01",
        bool((gap > 0.01).all()),
    )


_EXPECTED_VOTES = {
    "kazakhstan": "abstain",
    "kyrgyzstan": "abstain",
    "tajikistan": "abstain",
    "uzbekistan": "absent",
    "turkmenistan": "absent",
}


def _fact_h(c: Context) -> FactResult:
    a = c.runs().values["alignment"][:, c.at("2022-02")]  # state on the eve of 2 March 2022
    neutrality = np.array([s.neutrality for s in c.scenario.states])
    votes = predicted_vote(a, c.scenario.power_ids, neutrality, VoteRule())
    shares, parts = [], []
    for state, expected in _EXPECTED_VOTES.items():
        share = float((votes[:, c.s(state)] == VOTES.index(expected)).mean())
        shares.append(share)
        parts.append(f"{state[:3]} {expected} {share:.0%}")
    return FactResult(
        "h",
        "Predicted votes on 2 March 2022: Kazakhstan, Kyrgyzstan and Tajikistan abstain, "
        "Uzbekistan and Turkmenistan do not vote",
        "; ".join(parts),
        "each expected vote in >= 80% of runs",
        min(shares) >= 0.8,
    )


FACTS: list[Callable[[Context], FactResult]] = [
    _fact_a,
    _fact_b,
    _fact_c,
    lambda c: _influence_rise(c, "turkey", "d"),
    lambda c: _influence_rise(c, "china", "e"),
    _fact_f,
    _fact_g,
    _fact_h,
]
"""The stylized facts, in the order of the issue that asked for them."""


def validate(
    loaded: LoadedScenario,
    replicates: int = 30,
    seed: int = 0,
    engine: str = "ensemble",
    progress: bool | None = None,
) -> list[FactResult]:
    """Measure every stylized fact on runs of a scenario.

    A fact that refers to a state, power or month the scenario lacks fails with the reason.

    Args:
        loaded: The scenario.
        replicates: Runs per variant (at least 30 is advised).
        seed: Root seed.
        engine: Engine name.
        progress: Show a progress bar per variant (None: on a terminal, for more than 10 runs).

    Returns:
        One result per fact.
    """
    ctx = Context(loaded, replicates, seed, engine, progress)
    out = []
    for i, fact in enumerate(FACTS):
        try:
            out.append(fact(ctx))
        except (ValueError, IndexError) as exc:
            key = "abcdefgh"[i]
            out.append(FactResult(key, "(not applicable)", f"cannot measure: {exc}", "-", False))
    return out
