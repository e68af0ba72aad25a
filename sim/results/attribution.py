"""Why did a state's alignment move? Attribution by channel and by event.

For a scenario, a state, a power and a period (``start`` to ``end``, both ``YYYY-MM``, records
being the state at the end of a month), the change in alignment from the end of the month before
``start`` to the end of ``end`` is split two ways:

**By channel.** Each month's update of :func:`sim.model.dynamics.decide`,
``a' = clip((1 - s) a + s ((1 - f) a* + f m) + sigma eps)``, is written exactly
as ``a' - a = anchoring + target + peers + noise + bounds`` with

- ``anchoring = s (1 - f) (a*0 - a)``: the pull back toward the status-quo target
  ``a*0 = (1 - n) sigmoid(L) + n a0`` with ``L`` the status-quo score, which makes ``a*0 = a0``
  (the model's one anchoring mechanism);
- ``peers = s f (m - a)``; ``noise = sigma eps``; ``bounds``: what clipping to [0, 1]
  removed (zero unless the update left the interval);
- ``target = s (1 - f) (a* - a*0) = s (1 - f) (1 - n) (sigmoid(x) - sigmoid(L))``
  split over the score's terms (:func:`sim.model.dynamics.score_components`: ``dependence``,
  ``security``, ``trust``, ``threat``, ``membership``, ``rivalry``) in proportion to each term's
  change from the status quo, i.e. each term's change times the secant slope of the sigmoid
  between ``L`` and ``x`` (the Aumann-Shapley / integrated-gradients split of a function of a sum,
  which adds up exactly).

Aid works through trust (with courting) and the investment channel of dependence; security aid
through dependence and the security value; threats through threat and trust. The monthly pieces
are summed over the period for every run; the table gives their mean over runs (means keep the
sum exact) and a 5-95% range across runs.

**By event.** The scenario is run again with one event switched off at a time, with the same
seeds (common random numbers: all noise is drawn before the first month, so switching an event
off changes nothing else). An event's contribution is the mean over runs of the period's change
with the event minus without it; a last row ``interactions and rest`` closes the sum (events
interact, and the change also has causes that are not events).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.input.scenario import Scenario, month_index
from sim.model import dynamics
from sim.model.ensemble import begin_month, events_by_step, noise_blocks, prepare, run_ensemble
from sim.results.folder import read_run_folder

__all__ = ["CHANNELS", "TARGET_TERMS", "attribute", "attribute_folder", "channel_contributions"]

TARGET_TERMS = ("dependence", "security", "trust", "threat", "membership", "rivalry")
"""Score terms that can change during a run (bias and affinity are constant)."""

CHANNELS = (*TARGET_TERMS, "peers", "anchoring", "noise", "bounds")
"""Channels of the monthly alignment update, in the order of the attribution table."""

REST = "interactions and rest"
"""Name of the closing row of the attribution by event."""


def _bad(where: str, field: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(where, (field,), message)])


def _index(name: str, ids: list[str], what: str, where: str) -> int:
    if name not in ids:
        tail = did_you_mean(name, ids)
        raise _bad(where, what, f"unknown {what} '{name}'{tail}; expected one of {', '.join(ids)}")
    return ids.index(name)


def _period(sc: Scenario, start: str | None, end: str | None, where: str) -> tuple[int, int]:
    """First and last step (0-based month of the run) of the period."""
    first = month_index(sc.meta.start)
    n = sc.n_steps
    out = []
    for field, label, default in (("from", start, 0), ("to", end, n - 1)):
        if label is None:
            out.append(default)
            continue
        try:
            step = month_index(label) - first
        except ValueError:
            raise _bad(where, field, f"expected a month as YYYY-MM, found {label!r}") from None
        if not 0 <= step < n:
            raise _bad(
                where,
                field,
                f"expected a month from {sc.meta.start} to {sc.meta.end}, found {label}",
            )
        out.append(step)
    if out[0] > out[1]:
        raise _bad(where, "from", f"the period starts ({start}) after it ends ({end})")
    return out[0], out[1]


def channel_contributions(
    scenario: Scenario, seeds: list[int], state: str, power: str, first: int, last: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Per-run contributions of each channel to the change over months ``first..last``.

    Args:
        scenario: The scenario.
        seeds: One seed per run.
        state: State id.
        power: Power id.
        first: First month of the period (0-based step).
        last: Last month of the period (inclusive).

    Returns:
        ``(contributions, start, end)``: channel name to ``(R,)`` sums over the period, and each
        run's alignment before the period and at its end, ``(R,)``; for every run the
        contributions add up to ``end - start``.
    """
    ens = prepare(scenario, seeds)
    s = ens.states.index(state)
    p = ens.powers.index(power)
    params, world = ens.params, ens.state
    n_b = world.alignment.shape[0]
    noise = noise_blocks(ens.seeds, ens.n_steps, ens.states, ens.powers)
    every = slice(None)
    base = dynamics.score_components(
        world, params, params.trust0, params.threat0, world.dependence.copy(), every
    )
    base_sum = sum(base.values())
    logit0 = (base_sum + params.residual)[:, s, p]
    a0 = params.a0[:, s, p]
    n = params.neutrality[:, s]
    target0 = (1.0 - n) / (1.0 + np.exp(-logit0)) + n * a0
    speed, phi, sigma = params.adjustment_speed, params.peer_effect, params.noise
    pull = speed * (1.0 - phi)
    by_step = events_by_step(ens)
    out = {name: np.zeros(n_b) for name in CHANNELS}
    start = end = None
    for t in range(last + 1):
        alloc, rows = begin_month(ens, world, t, by_step, noise[:, t])
        if t >= first:
            a = world.alignment[:, s, p]
            if t == first:
                start = a.copy()
            effects = dynamics.lever_effects(alloc, world, params)
            tau, theta, dep = dynamics.relations(world, params, effects, every)
            comps = dynamics.score_components(world, params, tau, theta, dep, every)
            deltas = {k: (comps[k] - base[k])[:, s, p] for k in TARGET_TERMS}
            shift = sum(deltas.values())
            x = logit0 + shift
            sig0 = 1.0 / (1.0 + np.exp(-logit0))
            sig1 = 1.0 / (1.0 + np.exp(-x))
            tiny = np.abs(shift) < 1e-12
            slope = np.where(tiny, sig0 * (1.0 - sig0), (sig1 - sig0) / np.where(tiny, 1.0, shift))
            scale = pull * (1.0 - n) * slope
            for k in TARGET_TERMS:
                out[k] += scale * deltas[k]
            m = np.clip(a0 + (params.peers @ (world.alignment - params.a0))[:, s, p], 0.0, 1.0)
            pieces = {
                "peers": speed * phi * (m - a),
                "anchoring": pull * (target0 - a),
                "noise": sigma * noise[:, t, s, p],
            }
            raw = a + sum(scale * deltas[k] for k in TARGET_TERMS) + sum(pieces.values())
            pieces["bounds"] = rows.alignment[:, s, p] - raw
            for k, v in pieces.items():
                out[k] += v
        world = dynamics.commit(world, [rows], params)
    if start is None:
        raise ValueError(f"expected 0 <= first <= last, found first={first}, last={last}")
    end = world.alignment[:, s, p].copy()
    return out, start, end


def _summary(kind: str, values: dict[str, np.ndarray]) -> list[dict]:
    return [
        {
            "kind": kind,
            "component": name,
            "value": float(np.mean(v)),
            "q05": float(np.quantile(v, 0.05)),
            "q95": float(np.quantile(v, 0.95)),
        }
        for name, v in values.items()
    ]


def attribute(
    scenario: Scenario,
    seeds: list[int],
    state: str,
    power: str,
    start: str | None = None,
    end: str | None = None,
    events: bool = True,
    where: str = "attribution",
) -> pd.DataFrame:
    """Attribute the change in a state's alignment toward a power over a period.

    Args:
        scenario: The scenario as run.
        seeds: The runs' seeds (``manifest.json``'s ``seeds``).
        state: State id.
        power: Power id.
        start: First month of the period, ``YYYY-MM`` (default: the scenario's first).
        end: Last month, ``YYYY-MM`` (default: the scenario's last).
        events: Also attribute by event (one extra run per event dated up to ``end``).
        where: Name used in error messages (a folder or file).

    Returns:
        A tidy table ``state, power, start, end, runs, kind, component, value, q05, q95``:
        ``kind`` is ``level`` (components ``start`` and ``end``: mean alignment before and at the
        end of the period), ``channel`` or ``event``. The ``value`` column holds means over runs;
        within each of ``channel`` and ``event`` the values add up to ``end - start``.

    Raises:
        ScenarioError: For an unknown state or power or a month outside the scenario.
    """
    s = _index(state, list(scenario.state_ids), "state", where)
    p = _index(power, list(scenario.power_ids), "power", where)
    first, last = _period(scenario, start, end, where)
    seeds = [int(x) for x in seeds]
    parts, a_start, a_end = channel_contributions(scenario, seeds, state, power, first, last)
    rows = _summary("level", {"start": a_start, "end": a_end}) + _summary("channel", parts)
    if events:
        change = a_end - a_start
        effects: dict[str, np.ndarray] = {}
        start_month = month_index(scenario.meta.start)
        # an event after the period cannot change it (noise is drawn first)
        fired = [
            ev
            for ev in scenario.events
            if ev.enabled and month_index(ev.date) - start_month <= last
        ]
        shown = sys.stderr.isatty() and len(fired) > 3  # one rerun per event: say how far
        for ev in tqdm(fired, desc="events switched off", unit="event", disable=not shown):
            off = scenario.model_copy(
                update={
                    "events": [
                        e.model_copy(update={"enabled": False}) if e is ev else e
                        for e in scenario.events
                    ]
                }
            )
            batch = run_ensemble(off, seeds, keep="trajectories")
            align = batch.values["alignment"][:, :, s, p]
            effects[ev.id] = change - (align[:, last + 1] - align[:, first])
        effects[REST] = change - sum(effects.values(), np.zeros_like(change))
        rows += _summary("event", effects)
    head = {
        "state": state,
        "power": power,
        "start": start or scenario.meta.start,
        "end": end or scenario.meta.end,
        "runs": len(seeds),
    }
    return pd.DataFrame([{**head, **row} for row in rows])


def attribute_folder(
    folder: str | Path,
    state: str,
    power: str,
    start: str | None = None,
    end: str | None = None,
    events: bool = True,
) -> pd.DataFrame:
    """:func:`attribute` for a results folder: its ``scenario.yaml`` and the manifest's seeds.

    Raises:
        OutputError: If the folder is not a results folder or is damaged
            (:func:`sim.results.folder.read_run_folder`).
        ScenarioError: For bad ids or months, or a damaged ``scenario.yaml``.
    """
    run = read_run_folder(folder)
    seeds = run.manifest["seeds"]
    return attribute(run.scenario, seeds, state, power, start, end, events, str(run.path))
