"""Can a scenario be run? Finite numbers, size limits and the memory a run or a sweep needs.

``greatgame check`` must refuse what ``greatgame run`` cannot compute: the schema bounds every
number, and :func:`check_runnable` compiles the scenario and simulates it once with the fast
engine to make sure every array stays finite, then checks the size limits of
:mod:`sim.input.scenario` (lifted by ``--allow-large``) and the estimated memory against the
machine's. Sweep specs use the same pieces (:mod:`sim.sweep.spec`).
"""

from __future__ import annotations

import os
from dataclasses import fields

import numpy as np

from sim.input.errors import Problem, ScenarioError
from sim.input.modelparams import model_parameters
from sim.input.scenario import (
    CHANNELS,
    LoadedScenario,
    Scenario,
    month_index,
    month_label,
    problem_at,
    size_problems,
)
from sim.model.compile import _PREFIX, _VECTOR, compile_run
from sim.model.dynamics import FloatArray
from sim.model.ensemble import run_ensemble
from sim.model.metrics import RECORDED

__all__ = [
    "BYTES_PER_RECORD",
    "MEMORY_SHARE",
    "MEMORY_SHARE_LARGE",
    "check_runnable",
    "finite_problems",
    "gib",
    "machine_memory",
    "memory_problem",
    "run_bytes",
]

MEMORY_SHARE = 0.5
"""Largest share of the machine's memory a run or a sweep may be estimated to need."""
MEMORY_SHARE_LARGE = 0.9
"""The same with ``--allow-large``: beyond it the machine would swap or kill the command."""
BYTES_PER_RECORD = 8 * 48
"""Memory per recorded number of a run of ``greatgame run``: 8 bytes in the recorded arrays,
times 48 for the results table built from them (a long table with its id columns, the derived
variables and the Parquet writer's buffers), measured: a 20 states x 20 powers x 50 years run
records 9.6 MB and peaks 0.4 GB above the interpreter, 40 x 40 x 100 years 77 MB and 3.4 GB."""

_LEVERS = ("aid", "security", "rhetoric")
_BY_STATE = {"a0": "alignment", "trust0": "trust", "threat0": "threat", "exposure": "border"}
"""Params arrays ``(B, S, P)`` read from a keyed field of each state."""


def machine_memory() -> int:
    """Physical memory of this machine in bytes (0 when the system does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return 0


def gib(n_bytes: float) -> str:
    """A size in GiB for messages: ``34.1 GiB``."""
    value = n_bytes / 2**30
    return f"{value:.1f} GiB" if value < 1e6 else f"{value:.3g} GiB"


def memory_problem(
    need: int, what: str, allow_large: bool, lift: str = "--allow-large"
) -> str | None:
    """Why an estimated memory need is refused on this machine, or None when it fits.

    Args:
        need: The estimate in bytes.
        what: What needs it, with how the estimate is made (for the message).
        allow_large: Whether the size limits are lifted (:data:`MEMORY_SHARE_LARGE` applies
            instead of :data:`MEMORY_SHARE`).
        lift: The flag that lifts the limits, named in the message.

    Returns:
        The message, or None.
    """
    total = machine_memory()
    share = MEMORY_SHARE_LARGE if allow_large else MEMORY_SHARE
    if total <= 0 or need <= share * total:
        return None
    tail = "" if allow_large else f" ({lift} allows up to {MEMORY_SHARE_LARGE:.0%})"
    return (
        f"{what} needs an estimated {gib(need)} of memory, more than {share:.0%} of this "
        f"machine's {gib(total)}{tail}; expected a smaller run"
    )


def run_bytes(sc: Scenario, runs: int) -> int:
    """Estimated peak memory of ``greatgame run`` for ``runs`` replicates of a scenario.

    Runs x states x powers x (months + 1) x the recorded variables of
    :data:`sim.model.metrics.RECORDED`, times :data:`BYTES_PER_RECORD`.

    Args:
        sc: The scenario.
        runs: Replicates.

    Returns:
        Bytes.
    """
    cells = len(sc.states) * len(sc.powers) * (sc.n_steps + 1) * len(RECORDED)
    return runs * cells * BYTES_PER_RECORD


def _param_loc(name: str, index: tuple[int, ...], sc: Scenario) -> tuple[str | int, ...]:
    """Where an element of a compiled array comes from in the scenario (best effort)."""
    pids, sids = sc.power_ids, sc.state_ids
    at = dict(enumerate(index))
    s, p = at.get(0, 0), at.get(1, 0)
    if name in _BY_STATE:
        return ("states", s, _BY_STATE[name], pids[p])
    if name == "dep0":
        return ("states", s, "dependence", pids[p], CHANNELS[at.get(2, 0)])
    if name in ("affinity", "priority", "weights"):
        if name != "affinity":  # a power's allocation weights start at its priorities
            return ("powers", p, "strategy", "priorities", sids[s])
        return ("states", s, "affinity", pids[p])
    if name in ("gdp_month", "neutrality", "peers"):
        return ("states", s, {"gdp_month": "gdp", "peers": "neighbours"}.get(name, name))
    if name == "budget":
        return ("powers", s, "monthly_budget")
    if name == "base_returns":  # the returns of a power's levers at the start
        return ("powers", s, "strategy")
    if name == "mix":
        return ("powers", s, "strategy", "lever_mix", _LEVERS[min(p, 2)])
    if name in ("courting", "threat_intensity"):
        return ("powers", s, "strategy", name)
    if name == "responsiveness":
        return ("powers", s, "strategy", "responsiveness")
    if name == "decides":
        return ("powers", s, "strategy", "response")
    if name == "rivalry":
        return ("powers", s, "rivalry", pids[p])
    for mp in model_parameters(type(sc.model)):
        if name == _PREFIX.get(mp.group, "") + mp.name or name == mp.group == _VECTOR:
            return tuple(mp.path.split("."))[: 2 if mp.group == _VECTOR else None]
    return ("states", s) if name.startswith(("base_", "residual")) else ()


def _arrays_of(obj: object) -> list[tuple[str, FloatArray]]:
    """The named arrays of a Params or WorldState (model parameters held in a mapping too)."""
    out: list[tuple[str, FloatArray]] = []
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        items = value.items() if isinstance(value, dict) else [(f.name, value)]
        out += [(k, np.asarray(v)) for k, v in items if isinstance(v, (np.ndarray, float, int))]
    return out


def finite_problems(sc: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Where a scenario's compiled arrays, or a run of it, are not finite.

    Compiles the scenario (:func:`compile_run`) and checks every array, then simulates one
    run of the whole period with the ensemble engine (the fast one; both engines compute the
    same numbers) and checks every recorded variable.

    Args:
        sc: A validated scenario.

    Returns:
        ``(field path, message)`` for the first non-finite number found (empty when none): the
        field it comes from, or for a run the state or power whose variable went non-finite.
    """
    with np.errstate(all="ignore"):
        params, start = compile_run(sc)
        for kind, obj in (("parameter", params), ("initial", start)):
            for name, arr in _arrays_of(obj):
                bad = np.argwhere(~np.isfinite(arr))
                if len(bad):
                    index = tuple(int(i) for i in bad[0][1:])
                    where = _param_loc(name, index, sc) if kind == "parameter" else ()
                    return [
                        (
                            where,
                            f"expected numbers the model can compute, found that they make "
                            f"the compiled {kind} array {name} {arr[tuple(bad[0])]} (at "
                            f"{list(index)}); make the largest numbers smaller",
                        )
                    ]
        values = run_ensemble(sc, [0], keep="trajectories").values
    for var, arr in values.items():
        bad = np.argwhere(~np.isfinite(arr))
        if not len(bad):
            continue
        _, t, *rest = (int(i) for i in bad[0])
        month = month_label(month_index(sc.meta.start) + t - 1)
        if len(rest) == 2:
            loc: tuple[str | int, ...] = ("states", rest[0])
            who = f"{var} of {sc.state_ids[rest[0]]} toward {sc.power_ids[rest[1]]}"
        else:
            loc = ("powers", rest[0])
            who = f"{var} of {sc.power_ids[rest[0]]}"
        return [
            (
                loc,
                f"expected a scenario the model can compute, found that a run gives {who} = "
                f"{arr[tuple(bad[0])]} at the end of {month}; make the largest numbers smaller",
            )
        ]
    return []


def check_runnable(loaded: LoadedScenario, replicates: int = 1, allow_large: bool = False) -> None:
    """Refuse a scenario that ``greatgame run`` cannot compute, or that would exhaust the machine.

    Checks, in order: the size limits (:func:`sim.input.scenario.size_problems`, lifted by
    ``allow_large``), the estimated memory of ``replicates`` runs (:func:`run_bytes`) against
    the machine's, and that the compiled arrays and a run stay finite
    (:func:`finite_problems`). Called by ``greatgame check``, ``run`` and ``validate`` after
    loading, so that what ``check`` accepts, ``run`` computes.

    Args:
        loaded: The loaded scenario.
        replicates: Runs that will be made.
        allow_large: Lift the size limits (``--allow-large``).

    Raises:
        ScenarioError: Naming the file, line and field path, and what was expected.
    """
    sc = loaded.scenario
    if not allow_large:
        found = size_problems(loaded)
        if found:
            raise ScenarioError(found)
    what = (
        f"{replicates} run(s) of {len(sc.states)} states x {len(sc.powers)} powers x "
        f"{sc.n_steps} months"
    )
    why = memory_problem(run_bytes(sc, replicates), what, allow_large)
    if why:
        raise ScenarioError([Problem(str(loaded.path), (), why)])
    problems = [problem_at(loaded, loc, message) for loc, message in finite_problems(sc)]
    if problems:
        raise ScenarioError(problems)
