"""Counter-based noise: Philox4x32-10 and Box-Muller over whole batches of runs at once.

The noise of a run is a pure function of its seed and of where it is used, not a stream drawn in
order from a generator: the standard normal of run ``seed`` at (month ``t``, state, power) comes
from one block of the counter-based generator Philox4x32-10 (Salmon, Moraes, Dror and Shaw,
"Parallel random numbers: as easy as 1, 2, 3", SC 2011; the Random123 library), with

- key ``(seed mod 2**32, seed // 2**32)``: the run's 64-bit seed;
- counter ``(t // 4, state rank, power rank, 0)``: the ranks are the positions of the ids in the
  *sorted* ids of the scenario (so the order of the YAML does not matter) and the last word names
  the stream (0: the alignment noise; other words are free for other noise);
- the block's four 32-bit words give four standard normals, months ``4 (t // 4)`` to
  ``4 (t // 4) + 3``, by Box-Muller on the pairs (word 0, word 1) and (word 2, word 3) of 32-bit
  uniforms, like cuRAND's ``curand_normal4`` (the angle is made differently: :func:`box_muller`).

So a value does not depend on the other runs of the batch, on the order of ids in the file or on
the number of months simulated, and :func:`standard_normals` computes a whole batch with numpy
array arithmetic (no Python loop over runs): both engines call it, the Mesa model with a batch of
one. :data:`NOISE_SCHEME` describes the scheme for results manifests.

Philox is written here with numpy ``uint64`` arithmetic on 32-bit words (a 32 x 32-bit product
fits in 64 bits); ``tests/test_noise.py`` checks it against the Random123 known-answer vectors.
Everything is elementwise on contiguous arrays (the sine is a polynomial: numpy's ``sin`` and
``cos`` are slow), so the numbers of a run are the same, bit for bit, in any batch and in either
engine; across machines only numpy's ``log`` may differ, in the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "NOISE_SCHEME",
    "box_muller",
    "philox4x32_10",
    "seed_keys",
    "standard_normals",
]

U64Array = npt.NDArray[np.uint64]
U32Array = npt.NDArray[np.uint32]
FloatArray = npt.NDArray[np.float64]

NOISE_SCHEME: Final[dict[str, object]] = {
    "generator": "philox4x32-10",
    "key": "seed (low 32 bits, high 32 bits)",
    "counter": "month // 4, state rank, power rank, 0 (ranks among the sorted ids)",
    "normal": "box-muller on 32-bit uniforms, 4 normals (months 4k to 4k+3) per block",
    "version": 2,
}
"""The noise scheme, as recorded in results manifests; ``version`` 1 was one
``numpy.random.default_rng(seed).standard_normal((months, states, powers))`` per run."""

_MASK: Final = np.uint64(0xFFFFFFFF)
_SHIFT: Final = np.uint64(32)
_M0: Final = np.uint64(0xD2511F53)  # Philox4x32 multipliers
_M1: Final = np.uint64(0xCD9E8D57)
_W0: Final = np.uint64(0x9E3779B9)  # Weyl key increments (golden ratio, sqrt(3) - 1)
_W1: Final = np.uint64(0xBB67AE85)
_ROUNDS: Final = 10

_BLOCKS_PER_CHUNK: Final = 8192
"""Philox blocks per numpy call: the 10 working arrays (640 KiB in all) stay in the CPU cache."""

# sin(x) = x + x z (c1 + z (c2 + ...)) with z = x^2 and c_k = (-1)^k / (2k + 1)!, k = 1..7: the
# first neglected term, x^17 / 17!, is below 5e-17 for 0 <= x <= pi / 4
_SIN: Final = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(7, 0, -1))
_ANGLE: Final = np.uint64((1 << 29) - 1)
_SIGN: Final = np.uint64(1 << 63)


@dataclass(frozen=True)
class _Work:
    """Working arrays of one shape, reused from chunk to chunk (fresh arrays cost page faults)."""

    w: list[U64Array]  # Philox: four words and two products
    f: list[FloatArray]  # Box-Muller: radius, angle, its square (then the cosine), sine
    i: list[U64Array]  # Box-Muller: bits (Philox's two products)

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> _Work:
        """Arrays of ``shape``."""
        w = [np.empty(shape, np.uint64) for _ in range(6)]
        # Box-Muller's bits reuse the arrays of Philox's products, free once the words are made
        return cls(w=w, f=[np.empty(shape) for _ in range(4)], i=w[4:])

    def first(self, n: int) -> _Work:
        """The same arrays for the first ``n`` rows (a shorter last chunk)."""
        return _Work(
            w=[a[:n] for a in self.w], f=[a[:n] for a in self.f], i=[a[:n] for a in self.i]
        )


def _philox(
    c: tuple[U64Array, U64Array, U64Array, U64Array], k: tuple[U64Array, U64Array], work: _Work
) -> tuple[U64Array, U64Array, U64Array, U64Array]:
    """Philox4x32-10 of broadcastable 32-bit words held in ``uint64``, of the shape of ``work``.

    Each round multiplies words 0 and 2 by the round's constants (32 x 32 -> 64 bits) and sets
    the words to ``(hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)``; the key is bumped by a Weyl
    sequence before every round but the first. The first two rounds run on the broadcast shapes
    of their inputs (a counter word that varies along one axis only gives products that vary
    along that axis only), the others in place in ``work``. The returned words are arrays of
    ``work``, valid until its next use.
    """
    c0, c1, c2, c3 = c
    k0, k1 = k
    for r in range(2):
        if r:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = c0 * _M0
        p1 = c2 * _M1
        c0, c1, c2, c3 = (p1 >> _SHIFT) ^ c1 ^ k0, p1 & _MASK, (p0 >> _SHIFT) ^ c3 ^ k1, p0 & _MASK
    x0, x1, x2, x3, p0, p1 = work.w
    for _ in range(2, _ROUNDS):  # c0..c3 are x0..x3 from the second pass on, or broadcast
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
        np.multiply(c0, _M0, out=p0)
        np.multiply(c2, _M1, out=p1)
        np.right_shift(p1, _SHIFT, out=x0)
        x0 ^= c1
        x0 ^= k0
        np.bitwise_and(p1, _MASK, out=x1)
        np.right_shift(p0, _SHIFT, out=x2)
        x2 ^= c3
        x2 ^= k1
        np.bitwise_and(p0, _MASK, out=x3)
        c0, c1, c2, c3 = x0, x1, x2, x3
    return x0, x1, x2, x3


def philox4x32_10(
    counter: Sequence[npt.ArrayLike], key: Sequence[npt.ArrayLike]
) -> tuple[U32Array, U32Array, U32Array, U32Array]:
    """The Philox4x32-10 block of each counter and key (Random123's ``philox4x32``, 10 rounds).

    Args:
        counter: Four 32-bit counter words, each an integer array (broadcast together).
        key: Two 32-bit key words.

    Returns:
        The four 32-bit output words, ``uint32`` arrays of the broadcast shape.

    Raises:
        ValueError: If there are not four counter and two key words, or a word is not an integer
            in [0, 2**32).
    """
    if len(counter) != 4 or len(key) != 2:
        raise ValueError(f"expected 4 counter and 2 key words, found {len(counter)} and {len(key)}")
    words = [_words(w) for w in (*counter, *key)]
    c0, c1, c2, c3, k0, k1 = words
    shape = np.broadcast_shapes(*(w.shape for w in words))
    out = _philox((c0, c1, c2, c3), (k0, k1), _Work.empty(shape))
    w0, w1, w2, w3 = (w.astype(np.uint32) for w in out)
    return w0, w1, w2, w3


def _words(value: npt.ArrayLike) -> U64Array:
    """32-bit words as ``uint64`` (checked)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"expected integer words, found dtype {arr.dtype}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= 2**32):
        raise ValueError("expected 32-bit words in [0, 2**32)")
    return arr.astype(np.uint64)


def seed_keys(seeds: npt.ArrayLike) -> tuple[U64Array, U64Array]:
    """The Philox keys of the runs: the low and the high 32 bits of each seed.

    Args:
        seeds: One integer seed per run, each in [0, 2**64).

    Returns:
        The two key words, ``(B,)`` each.

    Raises:
        ValueError: If a seed is negative, not below 2**64 or not an integer.
    """
    arr = np.asarray(seeds)
    if arr.ndim != 1:
        raise ValueError(f"expected a sequence of seeds, found shape {arr.shape}")
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
            raise ValueError(f"expected non-negative seeds, found {int(arr.min())}")
        key = arr.astype(np.uint64)
    else:  # Python integers beyond int64 (numpy makes them floats or objects), or not integers
        values = np.asarray(seeds, dtype=object).tolist()
        if any(
            isinstance(s, bool | np.bool_) or not isinstance(s, int | np.integer) for s in values
        ):
            raise ValueError(f"expected integer seeds, found {arr.dtype}")
        if any(not 0 <= int(s) < 2**64 for s in values):
            raise ValueError("expected seeds in [0, 2**64)")
        key = np.array([int(s) for s in values], dtype=np.uint64)
    return key & _MASK, key >> _SHIFT


def box_muller(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Two independent standard normals from two uniform 32-bit words (broadcast together).

    The radius is ``sqrt(-2 ln u)`` with ``u = (a + 1/2) / 2**32``, strictly inside (0, 1) (so
    ``|z| < 6.8``). The angle comes from ``b``: its low 29 bits ``m`` give
    ``phi = (m + 1/2) pi / 2**31`` in (0, pi/4), whose sine is a Taylor polynomial (error below
    1e-16) and cosine ``sqrt(1 - sin**2)`` (at least 0.7 there, so accurate too); its top three
    bits pick one of the eight symmetries of the square (bit 29: swap the two values; bits 31 and
    30: the sign of each), which carry (0, pi/4) onto the whole circle. So the angle is uniform
    on the circle to 2**-32, with no call to ``sin`` or ``cos`` (slow in numpy) and no branch.

    Args:
        a: Words for the radius, integers in [0, 2**32).
        b: Words for the angle.

    Returns:
        ``(r cos(theta), r sin(theta))``.
    """
    wa, wb = _words(a), _words(b)
    shape = np.broadcast_shapes(wa.shape, wb.shape)
    z0, z1 = np.empty(shape), np.empty(shape)
    _box_muller(wa, wb, z0, z1, _Work.empty(shape))
    return z0, z1


def _box_muller(a: U64Array, b: U64Array, z0: FloatArray, z1: FloatArray, work: _Work) -> None:
    """:func:`box_muller` into ``z0`` and ``z1`` (any strides), with the arrays of ``work``."""
    r, x, z, s = work.f
    np.multiply(a, 2.0**-32, out=r)
    r += 2.0**-33
    np.log(r, out=r)
    r *= -2.0
    np.sqrt(r, out=r)
    i, d = work.i
    np.bitwise_and(b, _ANGLE, out=i)
    np.multiply(i, math.pi / 2**31, out=x)
    x += math.pi / 2**32
    np.multiply(x, x, out=z)
    np.multiply(z, _SIN[0], out=s)
    for coef in _SIN[1:-1]:
        s += coef
        s *= z
    s += _SIN[-1]
    s *= z
    s *= x
    s += x  # sin(phi)
    c = z  # z is free now
    np.multiply(s, s, out=c)
    np.subtract(1.0, c, out=c)
    np.sqrt(c, out=c)  # cos(phi)
    s *= r
    c *= r
    # bit 29 swaps the two (an all-ones mask where set), bits 31 and 30 are their signs; on the
    # bits of the floats, without branches
    np.left_shift(b, np.uint64(34), out=i)
    np.right_shift(i.view(np.int64), 63, out=i.view(np.int64))
    np.bitwise_xor(c.view(np.uint64), s.view(np.uint64), out=d)
    d &= i
    for out, value, sign in ((z0, c, 32), (z1, s, 33)):
        bits = out.view(np.uint64)
        np.bitwise_xor(value.view(np.uint64), d, out=bits)
        np.left_shift(b, np.uint64(sign), out=i)
        i &= _SIGN
        bits |= i


def _ranks(ids: Sequence[str]) -> U64Array:
    """Each id's position among the sorted ids."""
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    rank = np.empty(len(ids), dtype=np.uint64)
    rank[order] = np.arange(len(ids), dtype=np.uint64)
    return rank


def standard_normals(
    seeds: npt.ArrayLike,
    n_steps: int,
    states: Sequence[str],
    powers: Sequence[str],
    stream: int = 0,
) -> FloatArray:
    """The noise of every run of a batch, ``(B, n_steps, states, powers)``, in scenario order.

    Run ``b`` at ``[b, t, i, j]`` gets the normal of (seed ``seeds[b]``, month ``t``, the rank of
    ``states[i]`` among the sorted state ids, the rank of ``powers[j]`` among the sorted power
    ids); see the module docstring.

    Args:
        seeds: One seed per run, each in [0, 2**64).
        n_steps: Months.
        states: State ids in scenario order (distinct).
        powers: Power ids in scenario order (distinct).
        stream: The counter's last word (0: the alignment noise).

    Returns:
        Standard normals, C-contiguous.

    Raises:
        ValueError: If a seed is out of range, ``n_steps`` is negative, ids repeat or ``stream``
            is not a 32-bit word.
    """
    k0, k1 = seed_keys(seeds)
    if n_steps < 0:
        raise ValueError(f"expected a non-negative number of months, found {n_steps}")
    if len(set(states)) != len(states) or len(set(powers)) != len(powers):
        raise ValueError("expected distinct state ids and distinct power ids")
    if not 0 <= stream < 2**32:
        raise ValueError(f"expected a 32-bit stream word, found {stream}")
    n_b, n_s, n_p = len(k0), len(states), len(powers)
    n_q = -(-n_steps // 4)  # blocks per (state, power): 4 months each
    out = np.empty((n_b, 4 * n_q, n_s, n_p))
    per_run = n_q * n_s * n_p
    if per_run == 0 or n_b == 0:
        return np.ascontiguousarray(out[:, :n_steps])
    ctr = (
        np.arange(n_q, dtype=np.uint64)[:, None, None],
        _ranks(states)[:, None],
        _ranks(powers),
        np.asarray(stream, dtype=np.uint64),
    )
    size = min(n_b, max(1, _BLOCKS_PER_CHUNK // per_run))
    work = _Work.empty((size, n_q, n_s, n_p))
    for lo in range(0, n_b, size):
        runs = slice(lo, min(lo + size, n_b))
        part = work.first(runs.stop - lo)
        key = (k0[runs, None, None, None], k1[runs, None, None, None])
        w0, w1, w2, w3 = _philox(ctr, key, part)
        lanes = out[runs].reshape(-1, n_q, 4, n_s, n_p)  # out[b, 4 q + m] is lane m of block q
        _box_muller(w0, w1, lanes[:, :, 0], lanes[:, :, 1], part)
        _box_muller(w2, w3, lanes[:, :, 2], lanes[:, :, 3], part)
    return out if n_steps == 4 * n_q else np.ascontiguousarray(out[:, :n_steps])
