"""Experimental designs: points in parameter space for a sweep.

Four designs, each seeded from the sweep's root seed:

- ``grid``: every combination of ``samples`` evenly spaced levels per parameter;
- ``lhs``: a Latin hypercube of ``samples`` points (:class:`scipy.stats.qmc.LatinHypercube`);
- ``sobol``: Saltelli's extension of a scrambled Sobol' sequence (``SALib.sample.sobol``), the
  design that :func:`SALib.analyze.sobol.analyze` needs; ``samples`` is the base sample N;
- ``morris``: ``samples`` Morris trajectories on a grid of ``levels`` levels
  (``SALib.sample.morris``), for elementary effects.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping

import numpy as np

__all__ = ["DESIGNS", "MAX_POINTS", "build_design", "design_seed", "n_points", "salib_problem"]

DESIGNS = ("grid", "lhs", "sobol", "morris")
"""Design names."""

MAX_POINTS = 10_000_000
"""Largest number of runs a sweep may ask for."""

_DESIGN_TAG = 0x5EED_DE51
"""Mixed into the root seed so the design's stream differs from every run's stream."""


def n_points(design: str, k: int, samples: int, second_order: bool = False) -> int:
    """Number of parameter points a design makes.

    Args:
        design: One of :data:`DESIGNS`.
        k: Number of parameters.
        samples: The design's size argument (see :class:`sim.sweep.spec.SweepSpec`).
        second_order: Sobol only: the cross-sampled matrices for second-order indices.

    Returns:
        The number of points.
    """
    if design == "grid":
        return samples**k
    if design == "lhs":
        return samples
    if design == "sobol":
        return samples * (2 * k + 2 if second_order else k + 2)
    if design == "morris":
        return samples * (k + 1)
    raise ValueError(f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")


def design_seed(root: int) -> int:
    """The seed of the design's generator, derived from the sweep's root seed.

    Args:
        root: The sweep's root seed.

    Returns:
        A 32-bit seed from ``SeedSequence([root, tag])``, independent of the run seeds (which are
        spawned children of ``SeedSequence(root)``).
    """
    return int(np.random.SeedSequence([root, _DESIGN_TAG]).generate_state(1, np.uint32)[0])


def salib_problem(parameters: Mapping[str, tuple[float, float]]) -> dict:
    """The SALib problem dictionary of a set of parameter ranges."""
    return {
        "num_vars": len(parameters),
        "names": list(parameters),
        "bounds": [[float(lo), float(hi)] for lo, hi in parameters.values()],
    }


def build_design(
    design: str,
    parameters: Mapping[str, tuple[float, float]],
    samples: int,
    seed: int,
    second_order: bool = False,
    levels: int = 4,
) -> np.ndarray:
    """Points of a design, scaled to the parameter ranges.

    Args:
        design: One of :data:`DESIGNS`.
        parameters: Path to ``(low, high)``; columns follow this order.
        samples: The design's size argument.
        seed: The sweep's root seed (the design uses :func:`design_seed` of it).
        second_order: Sobol only.
        levels: Morris only: grid levels.

    Returns:
        ``(n_points, k)`` float array, one row per point.
    """
    k = len(parameters)
    if k == 0:
        raise ValueError("expected at least one parameter")
    lows = np.array([lo for lo, _ in parameters.values()], dtype=float)
    highs = np.array([hi for _, hi in parameters.values()], dtype=float)
    rng_seed = design_seed(seed)
    if design == "grid":
        axes = [np.linspace(0.0, 1.0, samples) if samples > 1 else np.array([0.5])] * k
        unit = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, k)
    elif design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=k, rng=np.random.default_rng(rng_seed)).random(samples)
    elif design == "sobol":
        from SALib.sample import sobol

        with warnings.catch_warnings():  # SALib warns about N; the spec checks it
            warnings.simplefilter("ignore")
            return sobol.sample(
                salib_problem(parameters),
                samples,
                calc_second_order=second_order,
                scramble=True,
                seed=rng_seed,
            )
    elif design == "morris":
        from SALib.sample import morris

        return morris.sample(salib_problem(parameters), samples, num_levels=levels, seed=rng_seed)
    else:
        raise ValueError(f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")
    return lows + unit * (highs - lows)
