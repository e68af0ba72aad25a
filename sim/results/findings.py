"""What a results folder says, in numbers a reader can check: the findings of a report.

Computed from the long results table (:mod:`sim.results.tables`) only, run by run, then summarised
across runs with a median and a 90% interval (the 5th to 95th percentile):

- :func:`influence_changes`: each power's regional influence at the start and the end, and its
  change, largest gain first;
- :func:`patron_changes`: each state's primary patron at the start and at the end (the most
  common across runs) and the share of runs in which it changed;
- :func:`largest_change`: the state and power whose median alignment changed most;
- :func:`crossovers`: for each state, the pairs of powers whose order in its median alignment
  differs between the start and the end, with the month the median crossed and the 90% interval
  of the crossing month over the runs that cross;
- :func:`summary`: the same as a few sentences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.results.tables import variable_array

__all__ = ["crossovers", "influence_changes", "largest_change", "patron_changes", "summary"]

_Q = (0.05, 0.5, 0.95)


def influence_changes(table: pd.DataFrame) -> pd.DataFrame:
    """Each power's regional influence at the start and end, and its change, largest gain first.

    Returns:
        ``power, start, end, change, change_p5, change_p95``: medians across runs, and the 90%
        interval of the per-run change.
    """
    cube, _, (powers,) = variable_array(table, "influence", "power")
    start, end = cube[:, 0], cube[:, -1]
    change = end - start
    low, mid, high = np.quantile(change, _Q, axis=0)
    out = pd.DataFrame(
        {
            "power": powers,
            "start": np.median(start, axis=0),
            "end": np.median(end, axis=0),
            "change": mid,
            "change_p5": low,
            "change_p95": high,
        }
    )
    return out.sort_values("change", ascending=False, kind="stable").reset_index(drop=True)


def _alignment(table: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Alignment as ``(runs, records, states, powers)``, with dates, states and powers."""
    cube, dates, (states, powers) = variable_array(table, "alignment", "state", "power")
    return cube, dates, states, powers


def largest_change(table: pd.DataFrame) -> tuple[str, str, float]:
    """The state and power whose median alignment changed most over the period, and by how much.

    Returns:
        ``(state, power, median change)``, the change of largest size (either sign).
    """
    cube, _, states, powers = _alignment(table)
    change = np.median(cube[:, -1] - cube[:, 0], axis=0)  # (states, powers)
    s, p = np.unravel_index(np.argmax(np.abs(change)), change.shape)
    return states[int(s)], powers[int(p)], float(change[s, p])


def patron_changes(table: pd.DataFrame) -> pd.DataFrame:
    """Each state's primary patron (highest alignment) at the start and at the end.

    Returns:
        ``state, patron_start, patron_end, changed_share``: the most common patron across runs
        at the first and the last record, and the share of runs whose patron at the end differs
        from their own at the start.
    """
    cube, _, states, powers = _alignment(table)
    first, last = cube[:, 0].argmax(axis=-1), cube[:, -1].argmax(axis=-1)  # (runs, states)

    def most_common(column: np.ndarray) -> str:
        counts = np.bincount(column, minlength=len(powers))
        return powers[int(counts.argmax())]

    return pd.DataFrame(
        {
            "state": states,
            "patron_start": [most_common(first[:, i]) for i in range(len(states))],
            "patron_end": [most_common(last[:, i]) for i in range(len(states))],
            "changed_share": (first != last).mean(axis=0),
        }
    )


def crossovers(table: pd.DataFrame) -> pd.DataFrame:
    """Pairs of powers that swap places in a state's median alignment over the period.

    For each state and each pair ``(leader, riser)`` with the leader above at the start and
    below at the end (medians across runs): the first month the median of the riser passes the
    leader, the share of runs in which the riser ends above, and the 5th to 95th percentile of
    the crossing month among those runs (a run's crossing month: its first record with the riser
    above, after which it stays above).

    Returns:
        ``state, leader, riser, month, runs_share, month_p5, month_p95``; empty when no pair
        swaps.
    """
    cube, dates, states, powers = _alignment(table)
    median = np.median(cube, axis=0)  # (records, states, powers)
    rows = []
    for s, state in enumerate(states):
        for a, leader in enumerate(powers):
            for b, riser in enumerate(powers):
                gap = median[:, s, b] - median[:, s, a]
                if a == b or not (gap[0] < 0 < gap[-1]):
                    continue
                runs_gap = cube[:, :, s, b] - cube[:, :, s, a]  # (runs, records)
                crossing = [_settled(g) for g in runs_gap]
                months = sorted(c for c in crossing if c is not None)
                rows.append(
                    {
                        "state": state,
                        "leader": leader,
                        "riser": riser,
                        "month": dates[_settled(gap) or len(dates) - 1],
                        "runs_share": len(months) / len(crossing),
                        "month_p5": dates[int(np.floor(np.quantile(months, 0.05)))]
                        if months
                        else "",
                        "month_p95": dates[int(np.ceil(np.quantile(months, 0.95)))]
                        if months
                        else "",
                    }
                )
    columns = ["state", "leader", "riser", "month", "runs_share", "month_p5", "month_p95"]
    return pd.DataFrame(rows, columns=columns)


def _settled(gap: np.ndarray) -> int | None:
    """The first record from which ``gap`` stays above 0 to the end, or None."""
    if gap[-1] <= 0:
        return None
    below = np.flatnonzero(gap <= 0)
    return int(below[-1]) + 1 if below.size else 0


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def summary(table: pd.DataFrame) -> list[str]:
    """The findings as sentences, each with its numbers (medians and 90% intervals).

    Returns:
        Who gains and loses the most influence, each state whose primary patron changes in
        most runs, and each crossover of two powers in a state's alignment.
    """
    label = {"usa": "the USA", "eu": "the EU"}

    def name(ident: str) -> str:
        return label.get(ident, ident.replace("_", " ").title())

    out = []
    infl = influence_changes(table).to_dict("records")
    for power, verb in ((infl[0], "gains"), (infl[-1], "loses")):
        if verb == "loses" and len(infl) == 1:
            break
        out.append(
            f"{name(power['power'])} {verb} the most regional influence: {power['start']:.3f} "
            f"to {power['end']:.3f} (change {power['change']:+.3f}, 90% of runs between "
            f"{power['change_p5']:+.3f} and {power['change_p95']:+.3f})."
        )
    for state in patron_changes(table).to_dict("records"):
        if state["patron_start"] != state["patron_end"]:
            out.append(
                f"{name(state['state'])} changes its primary patron from "
                f"{name(state['patron_start'])} to {name(state['patron_end'])} (in "
                f"{_pct(state['changed_share'])} of runs)."
            )
    for cross in crossovers(table).to_dict("records"):
        interval = f", 90% of them between {cross['month_p5']} and {cross['month_p95']}"
        out.append(
            f"In {name(cross['state'])}, alignment with {name(cross['riser'])} passes "
            f"{name(cross['leader'])} in {cross['month']} (median; it ends above in "
            f"{_pct(cross['runs_share'])} of runs{interval if cross['month_p5'] else ''})."
        )
    return [sentence[0].upper() + sentence[1:] for sentence in out]
