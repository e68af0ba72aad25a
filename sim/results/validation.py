"""Stylized facts of the seed documents, measured on model runs.

Each fact is computed from replicated runs of a scenario (and of variants of it built by
switching events off), never asserted as a constant. ``greatgame validate`` prints the table;
the test suite asserts the same facts on the baseline.

Variants are built from the validated scenario itself:

- *no war*: every ``power_shock`` event on Russia and every ``sanctions`` event on it switched
  off (invasion, sanctions, Kerch);
- *no border war*: every ``border_conflict`` event switched off.

A variant is run with the same seeds as the scenario (common random numbers), so the difference
between the two is free of sampling noise; a change of 0.005 is the smallest the facts treat as
real, and rises or falls "over a period" must exceed 0.01 (or 0.02 where stated).

:func:`prior_pass_rates` measures the facts at many parameter points (such as a Latin hypercube
of the scenario's assumption ranges, ``greatgame validate --prior N``) and counts how often each
holds: the runs of a batch of points are simulated together and handed to one :class:`Context`
per point.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from sim.input.params import with_values
from sim.input.scenario import LoadedScenario, Scenario, validate_document
from sim.model.dynamics import FloatArray, hedging_index
from sim.model.ensemble import DEFAULT_CHUNK, Ensemble, prepare_swept, simulate_ensemble
from sim.model.metrics import VOTES, Batch, VoteRule, influence, predicted_vote
from sim.results.runner import replicate_seeds, simulate_replicates

__all__ = [
    "FACTS",
    "FACT_KEYS",
    "VARIANTS",
    "Context",
    "FactRate",
    "FactResult",
    "PriorRates",
    "prior_pass_rates",
    "validate",
]


def _disabled(raw: dict, drop: Callable[[dict], bool]) -> dict:
    """A copy of a scenario document with every event for which ``drop(event)`` is true off."""
    raw = copy.deepcopy(raw)
    for event in raw.get("events") or []:
        if drop(event):
            event["enabled"] = False
    return raw


def _without(loaded: LoadedScenario, drop: Callable[[dict], bool]) -> Scenario:
    """The scenario with every event for which ``drop(event)`` is true switched off."""
    return validate_document(_disabled(loaded.raw, drop), loaded.path)


def _is_war_shock(event: dict) -> bool:
    kind = event.get("type")
    if kind == "sanctions":  # the war's sanctions on Russia
        return "russia" in (event.get("targets") or [])
    return kind == "power_shock" and "russia" in (event.get("actors") or [])


def _is_border_war(event: dict) -> bool:
    return event.get("type") == "border_conflict"


VARIANTS: dict[str, Callable[[dict], bool] | None] = {
    "scenario": None,
    "no_war": _is_war_shock,
    "no_border_war": _is_border_war,
}
"""The runs a :class:`Context` makes: each variant by the events it switches off (None: none)."""


class Context:
    """Runs of the scenario and its variants, made on first use and shared by the facts.

    Args:
        loaded: The scenario to validate.
        replicates: Runs per variant (the same seeds for every variant).
        seed: Root seed.
        engine: Engine name (see :mod:`sim.model.engines`).
        progress: Show a progress bar per variant (None: on a terminal, for more than 10 runs).
        runs: Runs made elsewhere, by variant (a key of :data:`VARIANTS`); when given, nothing
            is simulated here and a variant missing from them is a ``ValueError`` (the facts
            report it as not applicable), and ``replicates`` and ``seed`` are not used.
        scenario: The scenario those runs are of, when it is not ``loaded.scenario`` (a point
            of a design: the facts read its numbers, such as the states' neutrality).
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        replicates: int = 30,
        seed: int = 0,
        engine: str = "ensemble",
        progress: bool | None = None,
        *,
        runs: Mapping[str, Batch] | None = None,
        scenario: Scenario | None = None,
    ) -> None:
        self.loaded = loaded
        self.progress = progress
        self.scenario = loaded.scenario if scenario is None else scenario
        self.engine = engine
        self._given = runs is not None
        self._runs: dict[str, Batch] = dict(runs or {})
        if runs is None:
            self.seeds = replicate_seeds(seed, replicates)
        else:
            first = next(iter(self._runs.values()), None)
            self.seeds = [] if first is None else [int(s) for s in first.seeds]

    def runs(self, variant: str = "scenario") -> Batch:
        """Runs of ``scenario``, ``no_war`` or ``no_border_war``."""
        if variant not in self._runs:
            if self._given:
                raise ValueError(f"no runs of the variant {variant!r} were given")
            drop = VARIANTS[variant]
            sc = self.scenario if drop is None else _without(self.loaded, drop)
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
        key: Short label, (a) to (j).
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
    ru, tj, kz = c.p("russia"), c.s("tajikistan"), c.s("kazakhstan")
    a = c.median()
    until = c.at("2023-01")  # the horizon of the seed documents
    span = a[: until + 1, tj]
    patron = int((span.argmax(axis=1) == ru).sum())
    dip = float(span[0, ru] - span[:, ru].min())
    gap = float(a[until, tj, ru] - a[until, kz, ru])
    return FactResult(
        "c",
        "Tajikistan, normally a dependable Russian client, stays with Russia though it dips, and "
        "by January 2023 it is more aligned with Russia than Kazakhstan, the Kremlin's most "
        "trusted ally since 1991 that is no longer so",
        f"Russia Tajikistan's closest power in {patron}/{until + 1} months to Jan 2023; dip "
        f"{dip:.3f}; Tajikistan minus Kazakhstan in Jan 2023 {gap:+.3f}",
        "Russia closest every month, dip > 0.02 and Tajikistan above Kazakhstan in Jan 2023",
        patron == until + 1 and dip > 0.02 and gap > 0.0,
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
    end = c.at("2023-12")
    hedging = hedging_index(c.runs().values["alignment"][:, end]).mean(axis=1)
    peace = hedging_index(c.runs("no_war").values["alignment"][:, end]).mean(axis=1)
    effect = float(np.median(hedging - peace))
    names = ", ".join(c.scenario.power_ids[i] for i in patrons)
    return FactResult(
        "f",
        "At the end of 2023 no single power is the primary patron of all five, and the war "
        "leaves the states hedging more between the powers than they would without it",
        f"patrons: {names}; mean hedging index {float(np.median(hedging)):.3f}, effect of the "
        f"war {effect:+.3f}",
        "no power patron of all states and effect of the war on hedging > +0.005",
        bool(top_share < len(patrons) and effect > 0.005),
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


_DISTANCING = ("kazakhstan", "kyrgyzstan", "tajikistan")
"""The states that the seeds show distancing themselves from Russia in public in 2022: Tokayev's
refusal at the St Petersburg forum to recognise the Donbas republics (June), Kyrgyzstan's
cancelled CSTO drills (October), Rahmon's rebuke of Putin (October)."""


def _fact_i(c: Context) -> FactResult:
    stance = c.runs().values["stance"]
    ru = c.p("russia")
    year = slice(c.at("2022-01"), c.at("2022-12") + 1)
    shares, parts = [], []
    for state in _DISTANCING:
        share = float((stance[:, year, c.s(state), ru] == -1.0).any(axis=1).mean())
        shares.append(share)
        parts.append(f"{state[:3]} {share:.0%}")
    quiet = float((stance[:, :, c.s("turkmenistan")] == 0.0).all(axis=(1, 2)).mean())
    return FactResult(
        "i",
        "Kazakhstan, Kyrgyzstan and Tajikistan each distance themselves from Russia in public "
        "during 2022; neutral Turkmenistan takes no public stance toward any power",
        f"distance from Russia in 2022: {'; '.join(parts)}; Turkmenistan without a stance "
        f"{quiet:.0%}",
        "each of the three in >= 50% of runs, Turkmenistan stanceless in >= 50%",
        min(shares) >= 0.5 and quiet >= 0.5,
    )


def _fact_j(c: Context) -> FactResult:
    answer = c.runs().values["request"]
    ru = c.p("russia")
    jan, sep = c.at("2022-01"), c.at("2022-09")
    kz = float((answer[:, jan, c.s("kazakhstan"), ru] == 1.0).mean())
    backed = (answer[:, sep, c.s("tajikistan"), ru] == 1.0) & (
        answer[:, sep, c.s("kyrgyzstan"), ru] != 1.0
    )
    tj = float(backed.mean())
    return FactResult(
        "j",
        "In the January 2022 unrest Kazakhstan turns to Russia and Russia answers; in the "
        "September 2022 border war Russia backs Tajikistan, not Kyrgyzstan",
        f"Kazakhstan asks Russia and is answered in {kz:.0%} of runs; Russia backs Tajikistan "
        f"and not Kyrgyzstan in {tj:.0%}",
        "each in >= 50% of runs",
        min(kz, tj) >= 0.5,
    )


_TAKEN = (
    ("turkey_kazakhstan_anka", "kazakhstan"),
    ("turkey_tb2_kyrgyzstan", "kyrgyzstan"),
    ("us_security_package_tajikistan", "tajikistan"),
)
"""The packages of May 2022 that the seeds report taken by CSTO members, by event id and state:
Kazakhstan's Anka co-production deal with Turkey, the Turkish TB2 drones sold to Kyrgyzstan, the
US security package for Tajikistan announced by the US ambassador. Read from each run's answers
to the event (the event log's ``answers``), not from the recorded ``offer`` (the answer to a
power's latest package): Tajikistan is offered a second, small US package in the same month."""


def _accepted(c: Context, event: str, state: str) -> float:
    """Share of runs in which ``state`` accepted the package of event ``event``."""
    logs = c.runs().events
    fired = [next((e for e in log if e["id"] == event), None) for log in logs]
    if not logs or any(e is None for e in fired):
        raise ValueError(f"event {event!r} did not fire in every run")
    taken = [
        any(a["kind"] == "offer" and a["state"] == state and a["yes"] for a in e.get("answers", ()))
        for e in fired
        if e is not None
    ]
    return float(np.mean(taken))


def _fact_k(c: Context) -> FactResult:
    shares = [_accepted(c, event, state) for event, state in _TAKEN]
    parts = [f"{s[:3]} {share:.0%}" for (_, s), share in zip(_TAKEN, shares, strict=True)]
    return FactResult(
        "k",
        "In May 2022 Russia's allies take arms from its rivals: Kazakhstan the Turkish Anka "
        "deal, Kyrgyzstan the Turkish drones, Tajikistan the US security package",
        "accepted: " + "; ".join(parts),
        "each in >= 50% of runs",
        min(shares) >= 0.5,
    )


_STAY = ("kazakhstan", "kyrgyzstan", "tajikistan")
"""Russia's allies in the CSTO that the seeds show still members in early 2023 (six of nine
remain, ``csto_nine_to_six_members``), Kazakhstan having denied in May 2022 that it would leave
the EAEU (``kazakhstan_eaeu_exit_rumour_denied_2022_05``)."""


def _left(c: Context, power: str, states: Sequence[str], until: str) -> float:
    """Share of runs in which any of ``states`` has left ``power``'s blocs by month ``until``."""
    outcome = f"leaves the blocs of {power}"
    left = [
        any(
            e["id"] == "exit"
            and e["who"] in states
            and e["outcome"] == outcome
            and str(e["date"]) <= until
            for e in log
        )
        for log in c.runs().events
    ]
    return float(np.mean(left)) if left else 1.0


def _fact_l(c: Context) -> FactResult:
    kg, ru = c.s("kyrgyzstan"), c.p("russia")
    part = c.runs().values["participation"][:, :, kg, ru]
    calm = c.runs("no_border_war").values["participation"][:, :, kg, ru]
    aug, dec = c.at("2022-08"), c.at("2022-12")
    before, after = float(np.median(part[:, aug])), float(np.median(part[:, dec]))
    effect = float(np.median(part[:, dec] - calm[:, dec]))
    left = _left(c, "russia", _STAY, "2023-01")
    return FactResult(
        "l",
        "After the September 2022 border war Kyrgyzstan takes part less in Russia's blocs (it "
        "cancels CSTO drills in October), yet in early 2023 Kazakhstan, Kyrgyzstan and "
        "Tajikistan are all still members",
        f"Kyrgyzstan's participation Aug {before:.3f} -> Dec {after:.3f}; effect of the war "
        f"itself {effect:+.3f}; one of the three has left Russia's blocs by Jan 2023 in "
        f"{left:.0%} of runs",
        "Dec < Aug, effect of the border war < -0.005 and an exit in < 50% of runs",
        bool(after < before and effect < -0.005 and left < 0.5),
    )


def _fact_m(c: Context) -> FactResult:
    on_russia = [
        e
        for e in c.scenario.events
        if e.enabled and e.type.value == "sanctions" and "russia" in e.targets
    ]
    if not on_russia:  # nothing to comply with: the fact is about the sanctions, not silence
        raise ValueError("the scenario holds no sanctions on russia")
    stance = c.runs().values["sanctions"]
    kz, ru = c.s("kazakhstan"), c.p("russia")
    span = slice(c.at("2022-03"), c.at("2023-01") + 1)
    helped = float((stance[:, span, kz, ru] == 1.0).any(axis=1).mean())
    complied = float((stance[:, span, kz, ru] == -1.0).any(axis=1).mean())
    others = [
        f"{s[:3]} {float((stance[:, span, c.s(s), ru] == 1.0).any(axis=1).mean()):.0%}"
        for s in c.scenario.state_ids
        if s != "kazakhstan"
    ]
    return FactResult(
        "m",
        "Kazakhstan does not help Russia around the Western sanctions: Tokayev says in June 2022 "
        "that it will comply with them, though it does not join them",
        f"Kazakhstan facilitates Russia's trade in {helped:.0%} of runs and complies in "
        f"{complied:.0%} (Mar 2022 to Jan 2023); the others facilitate in {'; '.join(others)}",
        "Kazakhstan facilitates in < 50% of runs",
        helped < 0.5,
    )


def _fact_n(c: Context) -> FactResult:
    response = c.runs().values["response"]
    ru = c.p("russia")
    allies = [c.s(state) for state in _STAY]
    early = slice(c.at("2022-03"), c.at("2022-06") + 1)
    later = slice(c.at("2022-07"), c.at("2022-10") + 1)
    pressed = float((response[:, early][:, :, allies, ru] == -1.0).any(axis=(1, 2)).mean())
    answered = float((response[:, later][:, :, allies, ru] != 0.0).any(axis=(1, 2)).mean())
    span = response[:, later][:, :, allies, ru]
    kinds = [
        f"{name} {float((span == code).any(axis=(1, 2)).mean()):.0%}"
        for name, code in (("courts", 1.0), ("punishes", -1.0))
    ]
    return FactResult(
        "n",
        "Russia does not press its Central Asian allies in the first months of the war, yet by "
        "October 2022 it answers their drift (Putin's economic offers to the region)",
        f"Russia punishes Kazakhstan, Kyrgyzstan or Tajikistan by June 2022 in {pressed:.0%} of "
        f"runs; answers one of them from July to October 2022 in {answered:.0%} "
        f"({'; '.join(kinds)})",
        "punishes by June in < 50% of runs and answers by October in >= 50%",
        pressed < 0.5 and answered >= 0.5,
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
    _fact_i,
    _fact_j,
    _fact_k,
    _fact_l,
    _fact_m,
    _fact_n,
]
"""The stylized facts, in the order of the issues that asked for them."""
FACT_KEYS = "abcdefghijklmn"
"""Their labels, in that order."""


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
    return _measure(Context(loaded, replicates, seed, engine, progress))


def _measure(ctx: Context) -> list[FactResult]:
    """Every fact on the runs of a context; one that cannot be measured fails with the reason."""
    out = []
    for i, fact in enumerate(FACTS):
        try:
            out.append(fact(ctx))
        except (ValueError, IndexError) as exc:
            key = FACT_KEYS[i]
            out.append(FactResult(key, "(not applicable)", f"cannot measure: {exc}", "-", False))
    return out


@dataclass(frozen=True)
class FactRate:
    """How often one fact held over the points of a design.

    Attributes:
        key: The fact's label, (a) to (i).
        claim: The stylized fact.
        passed: Points at which it held.
        n: Points.
    """

    key: str
    claim: str
    passed: int
    n: int

    @property
    def rate(self) -> float:
        """Share of the points at which the fact held."""
        return self.passed / self.n


@dataclass(frozen=True)
class PriorRates:
    """The stylized facts' pass rates over the points of a design (:func:`prior_pass_rates`).

    Attributes:
        prior: Points of the design, ``N``.
        seed: Root seed of the run seeds.
        replicates: Runs per point and variant, ``R``.
        engine: The engine that ran them.
        facts: One rate per fact, in the order of :data:`FACTS`.
        passed: Whether each fact held at each point, ``(N, facts)`` booleans.
        results: Each point's results, as :func:`validate` gives them for one scenario.
    """

    prior: int
    seed: int
    replicates: int
    engine: str
    facts: list[FactRate]
    passed: np.ndarray
    results: list[list[FactResult]]

    @property
    def all_pass(self) -> int:
        """Points at which every fact held."""
        return int(self.passed.all(axis=1).sum())

    @property
    def all_pass_rate(self) -> float:
        """Share of the points at which every fact held."""
        return self.all_pass / self.prior

    def to_dict(self) -> dict:
        """The rates as JSON-ready data (what ``greatgame validate --prior N --json`` prints)."""
        return {
            "prior": self.prior,
            "seed": self.seed,
            "replicates": self.replicates,
            "engine": self.engine,
            "facts": [
                {"key": f.key, "claim": f.claim, "passed": f.passed, "n": f.n, "rate": f.rate}
                for f in self.facts
            ],
            "all_pass": self.all_pass,
            "all_pass_rate": self.all_pass_rate,
        }


def _trajectories(ens: Ensemble) -> Batch:
    """A prepared batch simulated: its trajectories and event logs (fact (k) reads them)."""
    values = simulate_ensemble(ens, "trajectories")
    return Batch(
        seeds=np.asarray(ens.seeds).astype(np.int64),
        dates=ens.dates,
        states=ens.states,
        powers=ens.powers,
        population=ens.population,
        values=values,
        events=ens.event_logs(),
    )


def _take(batch: Batch, runs: slice) -> Batch:
    """The runs ``runs`` of a batch (views of its arrays, not copies)."""
    return Batch(
        seeds=batch.seeds[runs],
        dates=batch.dates,
        states=batch.states,
        powers=batch.powers,
        population=batch.population,
        values={k: v[runs] for k, v in batch.values.items()},
        events=batch.events[runs],
    )


def prior_pass_rates(
    loaded: LoadedScenario,
    design: Mapping[str, FloatArray],
    seed: int = 0,
    replicates: int = 10,
    engine: str = "ensemble",
    progress: bool | None = None,
    on_point: Callable[[int, Context, list[FactResult]], None] | None = None,
) -> PriorRates:
    """Measure every stylized fact at each point of a design and count how often each holds.

    Point ``i`` is the scenario with the value ``design[path][i]`` written at each path
    (:func:`sim.input.params.with_values`); its facts are measured on ``replicates`` runs of
    that scenario and of each of its :data:`VARIANTS`, all with the same seeds (common random
    numbers between the variants of a point). Run ``r`` of point ``i`` has seed
    ``replicate_seeds(seed, N * R)[i * R + r]``, so every point has its own noise and the rates
    depend only on the design, ``seed`` and ``replicates``. The ensemble engine simulates the
    runs of up to :data:`sim.model.ensemble.DEFAULT_CHUNK` of them at once per variant,
    compiled once (:func:`sim.model.ensemble.run_swept`); another engine runs each point's
    scenario on its own, with the same numbers. A fact that cannot be measured at a point
    fails there.

    Args:
        loaded: The scenario; each number at a path of ``design`` must accept that path's
            values (a sweep strips their provenance first:
            :func:`sim.sweep.spec.strip_provenance`).
        design: Scenario path to one value per point, ``(N,)`` each (at least one path).
        seed: Root seed of the run seeds.
        replicates: Runs per point and variant.
        engine: Engine name.
        progress: Show a progress bar over the points (None: on a terminal, for more than 10
            points).
        on_point: Called with each point's index, its context (its runs of every variant) and
            its facts, for breakdowns beyond the pass rates (``bench/prior_breakdown.py``).

    Returns:
        The rates, with whether each fact held at each point.

    Raises:
        ValueError: For no paths, no points, values of unequal lengths or fewer than one
            replicate.
        ScenarioError: When a point's values do not make a valid scenario.
    """
    names = list(design)
    columns = [np.asarray(design[p], dtype=float) for p in names]
    n = len(columns[0]) if columns else 0
    if not names or n < 1 or any(c.shape != (n,) for c in columns):
        shapes = ", ".join(f"{p}: {np.shape(c)}" for p, c in zip(names, columns, strict=True))
        raise ValueError(f"expected paths with one value per point, at least one; found {shapes}")
    if replicates < 1:
        raise ValueError(f"expected at least one replicate, found {replicates}")
    values = np.stack(columns, axis=1)
    seeds = np.asarray(replicate_seeds(seed, n * replicates), dtype=np.int64)
    ensemble = engine == "ensemble"
    structures: dict[str, Scenario] = {}  # ensemble: each variant compiled once per chunk
    bases: dict[str, LoadedScenario] = {}  # else: each variant's point written in and run
    for v, drop in VARIANTS.items():
        if ensemble:
            structures[v] = loaded.scenario if drop is None else _without(loaded, drop)
        else:
            raw = loaded.raw if drop is None else _disabled(loaded.raw, drop)
            bases[v] = loaded.model_copy(update={"raw": raw})
    per_chunk = max(1, DEFAULT_CHUNK // replicates) if ensemble else 1
    disable = (True if n <= 10 else None) if progress is None else not progress
    results: list[list[FactResult]] = []
    with tqdm(total=n, desc="prior points", unit="point", disable=disable) as bar:
        for lo in range(0, n, per_chunk):
            hi = min(lo + per_chunk, n)
            chunk_seeds = seeds[lo * replicates : hi * replicates]
            batches: dict[str, Batch] = {}
            if ensemble:
                rows = np.repeat(values[lo:hi], replicates, axis=0)
                swept = {p: rows[:, j] for j, p in enumerate(names)}
                for v, sc in structures.items():
                    batches[v] = _trajectories(prepare_swept(sc, swept, chunk_seeds))
            for i in range(lo, hi):
                point = dict(zip(names, values[i].tolist(), strict=True))
                own = slice((i - lo) * replicates, (i - lo + 1) * replicates)
                if ensemble:
                    runs = {v: _take(b, own) for v, b in batches.items()}
                else:
                    point_seeds = [int(s) for s in chunk_seeds[own]]
                    runs = {
                        v: simulate_replicates(with_values(base, point), point_seeds, engine, False)
                        for v, base in bases.items()
                    }
                ctx = Context(loaded, engine=engine, runs=runs, scenario=with_values(loaded, point))
                results.append(_measure(ctx))
                if on_point is not None:
                    on_point(i, ctx, results[-1])
                bar.update(1)
    passed = np.array([[r.passed for r in point] for point in results], dtype=bool)
    facts = []
    for j, first in enumerate(results[0]):
        claims = [point[j].claim for point in results if point[j].claim != "(not applicable)"]
        facts.append(
            FactRate(first.key, claims[0] if claims else first.claim, int(passed[:, j].sum()), n)
        )
    return PriorRates(n, seed, replicates, engine, facts, passed, results)
