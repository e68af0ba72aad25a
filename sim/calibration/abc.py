"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), for batch simulators.

The sampler of ``greatgame calibrate``: population Monte Carlo ABC (Beaumont, Cornuet, Marin and
Robert 2009, "Adaptive approximate Bayesian computation", *Biometrika* 96(4): 983-990; Toni et
al. 2009) with tolerances chosen adaptively as a quantile of the previous generation's distances
(as in Del Moral, Doucet and Jasra 2012 and pyABC's default):

1. Generation 0 draws ``particles`` points from the prior (a uniform box: the parameters'
   assumption ranges) and keeps them all; its tolerance is infinite.
2. Generation ``t`` takes as tolerance the weighted ``quantile`` of generation ``t - 1``'s
   distances. It proposes points by picking a particle of ``t - 1`` by weight and moving it by a
   Gaussian kernel with twice the weighted covariance of ``t - 1`` (Beaumont et al.'s choice),
   simulates them **as one batch**, and keeps those within the
   tolerance, in the order proposed, until it holds ``particles`` of them. A kept particle's
   weight is ``prior(x) / sum_j w_j K(x | x_j)``. The kernel works in unbounded coordinates,
   ``x = logit`` of the point's place in the box (where the flat prior has the logistic
   density), so no move leaves the box, however many parameters: moves in the box itself that
   leave it would be drawn again, and with 30 parameters nearly all of them leave it.
3. It stops after ``generations`` generations, or when a generation's acceptance falls below
   ``min_acceptance`` (further generations would cost more than they narrow), or when the
   tolerance reaches ``min_epsilon``.

Why not pyABC: its model interface simulates one parameter point per call (``ICB-DCM/pyABC``
issue 351 asked for vectorised models; the answer is a sampler per point), while the ensemble
engine's speed comes from advancing thousands of runs together. The algorithm is short, and a
known-answer test (``tests/test_calibration.py``) recovers a conjugate posterior.

Reproducible: generation ``t`` draws everything (proposals, kernel moves and the run seeds) from
``SeedSequence([seed, t])``, and its batch sizes depend only on counts, so a calibration resumed
after generation ``t`` continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import expit, logsumexp

from sim.model.dynamics import FloatArray, IntArray

__all__ = [
    "Box",
    "Generation",
    "Settings",
    "Simulator",
    "effective_sample_size",
    "run_abc",
    "stop_reason",
    "weighted_quantile",
]


Simulator = Callable[[FloatArray, IntArray], FloatArray]
"""``simulate(theta, seeds)``: points ``(n, d)`` in the parameters' own units and one run seed
each, to one distance each, ``(n,)`` (``inf`` or ``nan`` for a run that could not be scored)."""

MAX_SEED = 2**63 - 1
_EDGE = 1e-12
"""Distance from the box's faces at which a point is held in unbounded coordinates."""
"""Run seeds are drawn below this (the engines take non-negative 64-bit seeds)."""


@dataclass(frozen=True)
class Box:
    """A uniform prior over a box: each parameter's ``[low, high]``.

    Attributes:
        names: The parameters, in order (scenario paths).
        low: Lower bounds, ``(d,)``.
        high: Upper bounds, ``(d,)``, each above its lower bound.
    """

    names: tuple[str, ...]
    low: FloatArray
    high: FloatArray

    def __post_init__(self) -> None:
        low, high = np.asarray(self.low, float), np.asarray(self.high, float)
        if low.shape != (len(self.names),) or high.shape != low.shape:
            raise ValueError(f"expected {len(self.names)} bounds, found {low.shape}, {high.shape}")
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
            raise ValueError("expected finite bounds with low < high for every parameter")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @classmethod
    def of(cls, ranges: dict[str, tuple[float, float]]) -> Box:
        """The box of named ranges, in their order."""
        return cls(
            tuple(ranges),
            np.array([r[0] for r in ranges.values()], float),
            np.array([r[1] for r in ranges.values()], float),
        )

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def to_unit(self, theta: FloatArray) -> FloatArray:
        """Points in the parameters' units to the unit cube."""
        return (np.asarray(theta, float) - self.low) / (self.high - self.low)

    def from_unit(self, u: FloatArray) -> FloatArray:
        """Points of the unit cube to the parameters' units."""
        return self.low + np.asarray(u, float) * (self.high - self.low)


@dataclass(frozen=True)
class Generation:
    """One population of ABC-SMC.

    Attributes:
        index: 0 for the prior sample, then 1, 2, ...
        epsilon: Its tolerance (``inf`` for generation 0).
        particles: The kept points, ``(n, d)``, in the parameters' units.
        weights: Their normalised importance weights, ``(n,)``.
        distances: Their distances, ``(n,)``.
        simulated: Runs simulated to find them (the cost).
        proposed: Runs proposed (``pmc``: up to the last one kept, the runs of a batch after
            it were simulated but not needed; ``replenishment``: every move tried).
        acceptance: Share of the proposed runs kept (``pmc``) or of the moves taken
            (``replenishment``): the sampler's acceptance rate.
    """

    index: int
    epsilon: float
    particles: FloatArray
    weights: FloatArray
    distances: FloatArray
    simulated: int
    proposed: int
    acceptance: float

    @property
    def ess(self) -> float:
        """Effective sample size of the weights (Kish)."""
        return effective_sample_size(self.weights)

    def mean(self) -> FloatArray:
        """Weighted mean of each parameter."""
        return np.asarray(self.weights @ self.particles, float)

    def sd(self) -> FloatArray:
        """Weighted standard deviation of each parameter."""
        centred = self.particles - self.mean()
        return np.sqrt(np.asarray(self.weights @ centred**2, float))


@dataclass(frozen=True)
class Settings:
    """The sampler's settings (see the module docstring).

    Attributes:
        particles: Particles per generation.
        generations: Most generations, counting generation 0.
        quantile: Quantile of the previous distances taken as the next tolerance, in (0, 1).
        min_acceptance: Stop once a generation keeps less than this share of its runs.
        min_epsilon: Stop once the tolerance is at or below this.
        max_batch: Most runs simulated in one call of the simulator.
        seed: Root seed.
        method: ``replenishment`` (Drovandi and Pettitt 2011: drop the worst particles,
            resample the rest, move them by MCMC; equal weights, robust with many parameters)
            or ``pmc`` (Beaumont et al. 2009: importance weights; fine with a few parameters,
            its weights degenerate with tens of them).
        max_moves: ``replenishment``: most MCMC moves of a resampled particle in a generation.
    """

    particles: int = 500
    generations: int = 6
    quantile: float = 0.5
    min_acceptance: float = 0.02
    min_epsilon: float = 0.0
    max_batch: int = 20_000
    seed: int = 0
    method: Literal["replenishment", "pmc"] = "replenishment"
    max_moves: int = 50

    def __post_init__(self) -> None:
        if self.particles < 2:
            raise ValueError(f"particles must be at least 2, found {self.particles}")
        if self.generations < 1:
            raise ValueError(f"generations must be at least 1, found {self.generations}")
        if not 0 < self.quantile < 1:
            raise ValueError(f"quantile must be in (0, 1), found {self.quantile}")
        if not 0 <= self.min_acceptance < 1:
            raise ValueError(f"min_acceptance must be in [0, 1), found {self.min_acceptance}")
        if self.max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, found {self.max_batch}")
        if self.method not in ("replenishment", "pmc"):
            raise ValueError(f"method must be 'replenishment' or 'pmc', found {self.method!r}")
        if self.max_moves < 1:
            raise ValueError(f"max_moves must be at least 1, found {self.max_moves}")


def effective_sample_size(weights: FloatArray) -> float:
    """Kish's effective sample size, ``1 / sum(w**2)`` of the normalised weights."""
    w = np.asarray(weights, float)
    w = w / w.sum()
    return float(1.0 / np.sum(w**2))


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """The ``q`` quantile of ``values`` under normalised ``weights`` (the inverse of the ECDF)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(np.asarray(weights, float)[order])
    cum /= cum[-1]
    at = int(np.searchsorted(cum, q, side="left"))
    return float(np.asarray(values, float)[order][min(at, len(order) - 1)])


def _to_free(box: Box, theta: FloatArray) -> FloatArray:
    """Points in the parameters' units to unbounded coordinates: the logit of the unit cube."""
    u = np.clip(box.to_unit(theta), _EDGE, 1.0 - _EDGE)
    return np.asarray(np.log(u) - np.log1p(-u), float)


def _from_free(box: Box, x: FloatArray) -> FloatArray:
    """Unbounded coordinates back to the parameters' units."""
    return box.from_unit(expit(x))


def _log_prior(x: FloatArray) -> FloatArray:
    """Log density, in unbounded coordinates, of the uniform prior (the logistic density)."""
    return np.asarray(np.sum(-np.logaddexp(0.0, x) - np.logaddexp(0.0, -x), axis=1), float)


def _kernel(prev: Generation, box: Box) -> FloatArray:
    """Cholesky factor of the perturbation covariance: twice the particles' weighted one."""
    x = _to_free(box, prev.particles)
    centred = x - prev.weights @ x
    cov = 2.0 * (centred.T * prev.weights) @ centred
    cov = cov + np.eye(box.dim) * 1e-10  # a parameter the particles all share keeps moving a bit
    return np.linalg.cholesky(cov)


def _propose(
    rng: np.random.Generator, prev: Generation, box: Box, chol: FloatArray, n: int
) -> FloatArray:
    """``n`` moved particles, in unbounded coordinates (so no move leaves the prior's box)."""
    x_prev = _to_free(box, prev.particles)
    picks = rng.choice(len(prev.weights), size=n, p=prev.weights)
    return np.asarray(x_prev[picks] + rng.standard_normal((n, box.dim)) @ chol.T, float)


def _log_weights(x: FloatArray, prev: Generation, box: Box, chol: FloatArray) -> FloatArray:
    """Log importance weights of points ``x``: ``log prior(x) - log sum_j w_j K(x | x_j)``."""
    x_prev = _to_free(box, prev.particles)
    inv = np.linalg.inv(chol)
    z_new, z_prev = x @ inv.T, x_prev @ inv.T
    sq = (
        np.sum(z_new**2, axis=1)[:, None]
        + np.sum(z_prev**2, axis=1)[None, :]
        - 2.0 * z_new @ z_prev.T
    )
    with np.errstate(divide="ignore"):
        log_w_prev = np.log(prev.weights)
    mixture = logsumexp(log_w_prev[None, :] - 0.5 * np.maximum(sq, 0.0), axis=1)
    return np.asarray(_log_prior(x) - mixture, float)


def _seeds(rng: np.random.Generator, n: int) -> IntArray:
    return rng.integers(0, MAX_SEED, size=n, dtype=np.int64)


def _batch_size(need: int, acceptance: float, settings: Settings) -> int:
    """Runs to simulate for ``need`` more particles at the expected acceptance (deterministic)."""
    guess = math.ceil(1.2 * need / max(acceptance, 1e-3))
    return int(min(settings.max_batch, max(guess, need, 64)))


def _first_generation(simulate: Simulator, box: Box, settings: Settings) -> Generation:
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 0]))
    n = settings.particles
    u = rng.random((n, box.dim))
    theta = box.from_unit(u)
    distances = np.asarray(simulate(theta, _seeds(rng, n)), float)
    bad = ~np.isfinite(distances)
    weights = np.where(bad, 0.0, 1.0)
    if not weights.any():
        raise RuntimeError("no run of the prior sample could be scored (every distance infinite)")
    return Generation(0, math.inf, theta, weights / weights.sum(), distances, n, n, 1.0)


def _next_generation(
    simulate: Simulator, box: Box, settings: Settings, prev: Generation
) -> Generation:
    t = prev.index + 1
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, t]))
    finite = np.isfinite(prev.distances)
    epsilon = weighted_quantile(prev.distances[finite], prev.weights[finite], settings.quantile)
    chol = _kernel(prev, box)
    n = settings.particles
    kept_u: list[FloatArray] = []
    kept_d: list[FloatArray] = []
    have = simulated = proposed = 0
    within = 0
    acceptance = prev.acceptance * settings.quantile
    while have < n:
        size = _batch_size(n - have, acceptance, settings)
        u = _propose(rng, prev, box, chol, size)
        distances = np.asarray(simulate(_from_free(box, u), _seeds(rng, size)), float)
        simulated += size
        hits = np.flatnonzero(np.isfinite(distances) & (distances <= epsilon))
        ok = hits[: n - have]
        kept_u.append(u[ok])
        kept_d.append(distances[ok])
        have += len(ok)
        proposed += int(ok[-1]) + 1 if have == n else size
        within += len(hits)
        acceptance = max(within / simulated, 1e-3)  # every run of every batch, for the next size
        if have < n and simulated > 2 * n / max(settings.min_acceptance, 1e-6):
            break  # acceptance far below the floor: stop with what it holds
    u_all = np.concatenate(kept_u)
    if len(u_all) < 2:
        raise RuntimeError(
            f"generation {t} kept {len(u_all)} of {simulated} runs within tolerance {epsilon:.4g}: "
            "lower the quantile or min_acceptance"
        )
    log_w = _log_weights(u_all, prev, box, chol)
    weights = np.exp(log_w - log_w.max())
    # a short generation (acceptance collapsed) keeps what it found; its count says so
    particles, distances_kept = _from_free(box, u_all), np.concatenate(kept_d)
    w = weights / weights.sum()
    return Generation(
        t, epsilon, particles, w, distances_kept, simulated, proposed, have / proposed
    )


MOVE_MISS = 0.01
"""``replenishment``: the chance a resampled particle is left unmoved after a generation's
moves, from which their number follows (``log(MOVE_MISS) / log(1 - acceptance)``)."""


def _chunks(simulate: Simulator, box: Box, x: FloatArray, seeds: IntArray, size: int) -> FloatArray:
    """Distances of points ``x`` (unbounded coordinates), simulated ``size`` at a time."""
    parts = [
        np.asarray(simulate(_from_free(box, x[i : i + size]), seeds[i : i + size]), float)
        for i in range(0, len(x), size)
    ]
    return np.concatenate(parts)


def _replenish(simulate: Simulator, box: Box, settings: Settings, prev: Generation) -> Generation:
    """One generation of replenishment ABC-SMC (Drovandi and Pettitt 2011).

    The tolerance is the ``quantile`` of the previous distances; the particles within it are
    kept, the others replaced by copies of kept ones drawn at random, and each copy is moved by
    Metropolis-Hastings (a Gaussian step with the kept particles' covariance, scaled by
    ``min(1, 2.38^2 / d)`` as for random-walk Metropolis in ``d`` dimensions (Roberts, Gelman
    and Gilks 1997), in unbounded coordinates; taken when its run is within the tolerance, with
    the prior's density ratio),
    as many times as makes an unmoved copy unlikely at the previous acceptance rate.
    """
    t = prev.index + 1
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, t]))
    n = len(prev.distances)
    order = np.argsort(np.where(np.isfinite(prev.distances), prev.distances, np.inf), kind="stable")
    n_keep = min(max(2, math.floor(settings.quantile * n)), n - 1)
    kept, dropped = order[:n_keep], n - n_keep
    epsilon = float(prev.distances[kept[-1]])
    x = _to_free(box, prev.particles)
    cov = np.cov(x[kept], rowvar=False).reshape(box.dim, box.dim) * min(1.0, 2.38**2 / box.dim)
    chol = np.linalg.cholesky(cov + np.eye(box.dim) * 1e-10)
    picks = rng.choice(kept, size=dropped)
    xs, ds = x[picks].copy(), prev.distances[picks].copy()
    guess = prev.acceptance if prev.index > 0 else 0.5
    moves = settings.max_moves
    if guess < 1.0:
        moves = min(moves, max(1, math.ceil(math.log(MOVE_MISS) / math.log1p(-guess))))
    taken = 0
    for _ in range(moves):
        proposal = xs + rng.standard_normal(xs.shape) @ chol.T
        d_new = _chunks(simulate, box, proposal, _seeds(rng, dropped), settings.max_batch)
        log_ratio = _log_prior(proposal) - _log_prior(xs)
        take = np.isfinite(d_new) & (d_new <= epsilon) & (np.log(rng.random(dropped)) < log_ratio)
        xs[take], ds[take] = proposal[take], d_new[take]
        taken += int(take.sum())
    runs = moves * dropped
    particles = _from_free(box, np.concatenate([x[kept], xs]))
    distances = np.concatenate([prev.distances[kept], ds])
    weights = np.full(n, 1.0 / n)
    return Generation(t, epsilon, particles, weights, distances, runs, runs, taken / runs)


def run_abc(
    simulate: Simulator,
    box: Box,
    settings: Settings,
    done: Sequence[Generation] = (),
    on_generation: Callable[[Generation], None] | None = None,
) -> list[Generation]:
    """Run ABC-SMC to its end, continuing after the generations ``done`` (a resumed run).

    Args:
        simulate: The batch simulator (:data:`Simulator`).
        box: The prior.
        settings: The sampler's settings.
        done: Generations already made with the same simulator, box and settings, in order
            (``[]`` to start afresh).
        on_generation: Called with each new generation as soon as it is complete (to store it).

    Returns:
        Every generation, ``done`` included; the last is the posterior sample.
    """
    generations = list(done)
    for i, g in enumerate(generations):
        if g.index != i:
            raise ValueError(f"expected generation {i} at position {i}, found generation {g.index}")
    while stop_reason(generations, settings) is None:
        if generations:
            step = _replenish if settings.method == "replenishment" else _next_generation
            new = step(simulate, box, settings, generations[-1])
        else:
            new = _first_generation(simulate, box, settings)
        generations.append(new)
        if on_generation is not None:
            on_generation(new)
    return generations


def stop_reason(generations: Sequence[Generation], settings: Settings) -> str | None:
    """Why the sampler stops after these generations, in words; None while it goes on."""
    if not generations:
        return None
    last = generations[-1]
    if len(last.weights) < settings.particles:
        return (
            f"generation {last.index} found only {len(last.weights)} of {settings.particles} "
            "particles within tolerance before its acceptance fell far below min_acceptance"
        )
    if last.index > 0 and last.acceptance < settings.min_acceptance:
        return (
            f"acceptance {last.acceptance:.3g} fell below min_acceptance {settings.min_acceptance}"
        )
    if last.epsilon <= settings.min_epsilon:
        return f"tolerance {last.epsilon:.4g} reached min_epsilon {settings.min_epsilon}"
    if len(generations) >= settings.generations:
        return f"the {settings.generations} generations asked for are done"
    return None
