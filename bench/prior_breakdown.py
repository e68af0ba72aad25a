"""Why the stylized facts fail where they do: breakdowns over the ``--prior`` design.

``greatgame validate SCENARIO --prior N --seed S`` reports each fact's pass rate over a Latin
hypercube of the assumption box. This script draws the same points and the same runs
(:func:`sim.cli.prior_design`, :func:`sim.results.validation.prior_pass_rates`) and breaks the
rates the README quotes down by what the runs did:

- (c): at the points where it fails, whether Kazakhstan is still above Tajikistan in its Russia
  alignment in January 2023, and whether China overtakes Russia as Tajikistan's closest power;
- (j): Kazakhstan's call to Russia answered, and whom Russia backs in the border war, over all
  runs (from each run's event log);
- (k): the share of points where Kazakhstan takes the Anka deal, of runs where Kyrgyzstan
  takes the TB2 drones and Tajikistan the US security package, and of runs where Tajikistan
  turns down the small US vehicle gift of May 2022;
- (l): the mean ``model.exit_threshold`` and ``model.participation_shift`` where (l) fails
  and where it holds;
- (n): how Russia answers its allies' drift from July to October 2022 (courts whom, punishes
  anyone), over all runs.

Usage::

    .venv/bin/python bench/prior_breakdown.py [SCENARIO] [--prior 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.cli import PRIOR_REPLICATES, prior_design  # noqa: E402
from sim.input.bundled import resolve_scenario  # noqa: E402
from sim.input.evidence import load_verified  # noqa: E402
from sim.results.validation import (  # noqa: E402
    Context,
    FactResult,
    PriorRates,
    prior_pass_rates,
)


def _answers(log: list[dict], event: str) -> list[dict]:
    """The answers of the run's event ``event`` (an id, or a type), from its event log."""
    entry = next((e for e in log if event in (e["id"], e["type"])), {})
    return list(entry.get("answers", ()))


def _border_war(log: list[dict]) -> str:
    """Whom Russia backed in the run's border war."""
    asked = [a for a in _answers(log, "border_conflict") if a["power"] == "russia"]
    backs = sorted(a["state"] for a in asked if a["yes"])
    if backs:
        return "backs " + " and ".join(backs)
    return "refuses every call" if asked else "is asked by neither side"


class Breakdown:
    """Collects, point by point, what the runs did (:meth:`see` is the ``on_point`` hook)."""

    def __init__(self) -> None:
        self.c_fail = collections.Counter[str]()
        self.c_failed = 0
        self.war = collections.Counter[str]()
        self.kz_answered: list[float] = []
        self.vehicles_refused: list[float] = []
        self.packages = collections.Counter[str]()
        self.l_params: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        self.russia = collections.Counter[str]()
        self.runs = 0

    def see(self, i: int, ctx: Context, facts: list[FactResult]) -> None:
        """Take one point's runs and the facts measured on them."""
        batch = ctx.runs()
        logs = batch.events
        self.runs += len(logs)
        ru, cn = ctx.p("russia"), ctx.p("china")
        kz, tj = ctx.s("kazakhstan"), ctx.s("tajikistan")
        align = np.median(batch.values["alignment"], axis=0)
        jan23 = ctx.at("2023-01")
        results = {r.key: r for r in facts}
        if not results["c"].passed:
            self.c_failed += 1
            if align[jan23, kz, ru] >= align[jan23, tj, ru]:
                self.c_fail["Kazakhstan still above Tajikistan in Jan 2023"] += 1
            if (align[: jan23 + 1, tj, cn] > align[: jan23 + 1, tj, ru]).any():
                self.c_fail["China overtakes Russia as Tajikistan's closest power"] += 1
        for log in logs:
            self.war[_border_war(log)] += 1
        request = batch.values["request"]
        self.kz_answered.append(float((request[:, ctx.at("2022-01"), kz, ru] == 1.0).mean()))
        refused = [
            any(not a["yes"] for a in _answers(log, "us_vehicles_tajikistan")) for log in logs
        ]
        self.vehicles_refused.append(float(np.mean(refused)))
        for event, state in (
            ("turkey_tb2_kyrgyzstan", "kyrgyzstan"),
            ("us_security_package_tajikistan", "tajikistan"),
        ):
            took = [
                any(a["state"] == state and a["yes"] for a in _answers(log, event)) for log in logs
            ]
            self.packages[event] += int(np.sum(took))
        model = ctx.scenario.model
        self.l_params[results["l"].passed].append(
            (float(model.exit_threshold), float(model.participation_shift))
        )
        response = batch.values["response"]
        later = slice(ctx.at("2022-07"), ctx.at("2022-10") + 1)
        for state in ("kazakhstan", "kyrgyzstan", "tajikistan"):
            took = response[:, later, ctx.s(state), ru]
            self.russia[f"courts {state}"] += int((took == 1.0).any(axis=1).sum())
            self.russia[f"punishes {state}"] += int((took == -1.0).any(axis=1).sum())

    def report(self, rates: PriorRates) -> None:
        """Print the breakdowns."""
        n = rates.prior
        print(f"{n} points, {self.runs} runs of the scenario")
        print(f"(c) fails at {self.c_failed} points; among them:")
        for why, k in self.c_fail.most_common():
            print(f"    {why}: {k} ({k / n:.1%} of all points)")
        print(f"(j) Kazakhstan's call answered in {np.mean(self.kz_answered):.1%} of runs")
        for what, k in self.war.most_common():
            print(f"    border war: Russia {what}: {k / self.runs:.1%}")
        anka = next(f for f in rates.facts if f.key == "k")
        print(
            f"(k) holds at {anka.rate:.1%}; Tajikistan refuses the US vehicle gift in "
            f"{np.mean(self.vehicles_refused):.1%} of runs"
        )
        for event, k in self.packages.items():
            print(f"    {event} accepted in {k / self.runs:.1%} of runs")
        for passed, rows in self.l_params.items():
            if rows:
                mean = np.mean(rows, axis=0)
                print(
                    f"(l) {'holds' if passed else 'fails'} at {len(rows)} points: "
                    f"exit_threshold {mean[0]:.2f}, participation_shift {mean[1]:.2f}"
                )
        print("(n) Russia from July to October 2022, share of runs:")
        for what, k in sorted(self.russia.items()):
            print(f"    {what}: {k / self.runs:.1%}")


def main() -> int:
    """Draw the design, run it, print the breakdowns."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="baseline_2022")
    parser.add_argument("--prior", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    loaded = load_verified(resolve_scenario(args.scenario))
    _, base, design = prior_design(loaded, args.prior, args.seed, PRIOR_REPLICATES)
    seen = Breakdown()
    rates = prior_pass_rates(
        base, design, seed=args.seed, replicates=PRIOR_REPLICATES, on_point=seen.see
    )
    seen.report(rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
