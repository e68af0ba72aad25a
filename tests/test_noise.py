"""The counter-based noise (sim.model.noise): Philox4x32-10, Box-Muller and the batch layout.

Everything here is deterministic (fixed seeds), so the statistical tolerances are set at five or
more standard errors: they check that the numbers are standard normals, and cannot fail by chance.
"""

import math

import numpy as np
import pytest
from conftest import DATA
from scipy.special import ndtr

from sim.input.scenario import load_scenario
from sim.model.compile import draw_noise
from sim.model.ensemble import noise_blocks
from sim.model.mesa_model import GreatGameModel
from sim.model.noise import (
    NOISE_SCHEME,
    box_muller,
    philox4x32_10,
    seed_keys,
    standard_normals,
)

STATES = ["kaz", "kgz", "tjk", "tkm", "uzb"]
POWERS = ["china", "eu", "india", "russia", "turkey", "usa"]

# Random123's kat_vectors, the three philox4x32 10-round lines: counter (4 words), key (2 words),
# expected output (4 words)
KAT_4X32_10 = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


# --- an independent scalar Philox, from the paper ----------------------------------------------


def philox_reference(ctr, key, width: int, rounds: int = 10) -> tuple[int, ...]:
    """Philox4xW-R on Python integers, written from Salmon et al. (2011), Section 4.

    W = 32 or 64. Checked below against numpy's ``Philox`` bit generator (4x64-10), and then
    used, with the 32-bit constants, to check the vectorised 4x32 of ``sim.model.noise``.
    """
    if width == 32:
        mult, weyl = (0xD2511F53, 0xCD9E8D57), (0x9E3779B9, 0xBB67AE85)
    else:
        mult = (0xD2E7470EE14C6C93, 0xCA5A826395121157)
        weyl = (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B)
    mask = (1 << width) - 1
    x, k = list(ctr), list(key)
    for r in range(rounds):
        if r:
            k = [(k[0] + weyl[0]) & mask, (k[1] + weyl[1]) & mask]
        p0, p1 = mult[0] * x[0], mult[1] * x[2]
        x = [(p1 >> width) ^ x[1] ^ k[0], p1 & mask, (p0 >> width) ^ x[3] ^ k[1], p0 & mask]
    return tuple(x)


def numpy_philox4x64(ctr, key) -> tuple[int, ...]:
    """The block numpy's ``Philox`` (4x64-10) computes for a counter and key.

    numpy bumps the counter before each block, so it is started one below.
    """
    c = sum(w << (64 * i) for i, w in enumerate(ctr))
    k = key[0] | key[1] << 64
    bits = np.random.Philox(counter=(c - 1) % 2**256, key=k)
    return tuple(int(w) for w in bits.random_raw(4))


@pytest.mark.parametrize("ctr,key,want", KAT_4X32_10)
def test_philox_known_answers(ctr, key, want):
    got = philox4x32_10(ctr, key)
    assert tuple(int(w) for w in got) == want
    assert all(w.dtype == np.uint32 for w in got)
    assert philox_reference(ctr, key, 32) == want


def test_reference_philox_agrees_with_numpy_4x64():
    rng = np.random.default_rng(5)
    cases: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
        ((0, 0, 0, 0), (0, 0)),
        ((2**64 - 1,) * 4, (2**64 - 1,) * 2),
    ]
    cases += [
        (tuple(int(w) for w in rng.integers(0, 2**64, 4, dtype=np.uint64)), (int(a), int(b)))
        for a, b in rng.integers(0, 2**64, (6, 2), dtype=np.uint64)
    ]
    for ctr, key in cases:
        assert philox_reference(ctr, key, 64) == numpy_philox4x64(ctr, key)
    # and Random123's philox4x64 10-round zero vector
    assert philox_reference((0,) * 4, (0, 0), 64) == (
        0x16554D9ECA36314C,
        0xDB20FE9D672D0FDC,
        0xD7E772CEE186176B,
        0x7E68B68AEC7BA23B,
    )


def test_vectorised_philox_equals_the_reference_elementwise():
    rng = np.random.default_rng(11)
    n = 300
    ctr = [rng.integers(0, 2**32, n, dtype=np.uint64) for _ in range(4)]
    key = [rng.integers(0, 2**32, n, dtype=np.uint64) for _ in range(2)]
    got = np.stack(philox4x32_10(ctr, key), axis=1)
    for i in range(0, n, 7):
        want = philox_reference([int(c[i]) for c in ctr], [int(k[i]) for k in key], 32)
        assert tuple(int(w) for w in got[i]) == want
    # broadcasting: a column of counters against a row of keys
    grid = philox4x32_10((ctr[0][:5, None], 1, 2, 3), (key[0][None, :4], 9))
    assert grid[0].shape == (5, 4)
    want = philox_reference((int(ctr[0][3]), 1, 2, 3), (int(key[0][2]), 9), 32)
    assert tuple(int(w[3, 2]) for w in grid) == want


def test_philox_rejects_words_out_of_range():
    with pytest.raises(ValueError):
        philox4x32_10((2**32, 0, 0, 0), (0, 0))
    with pytest.raises(ValueError):
        philox4x32_10((0, 0, 0, -1), (0, 0))
    with pytest.raises(ValueError):
        philox4x32_10((0.5, 0, 0, 0), (0, 0))
    with pytest.raises(ValueError):
        philox4x32_10((0, 0, 0), (0, 0))


# --- Box-Muller --------------------------------------------------------------------------------


def test_box_muller_is_the_polar_form_on_the_angle_grid():
    """r = sqrt(-2 ln u); the angle is (k + 1/2) 2 pi / 2**32 with k a bijection of the word."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**32, 20_000, dtype=np.uint64)
    b = rng.integers(0, 2**32, 20_000, dtype=np.uint64)
    b[:6] = [0, 2**32 - 1, 2**29, 2**30, 2**31, 2**29 - 1]
    a[:2] = [0, 2**32 - 1]
    z0, z1 = box_muller(a, b)
    r = np.sqrt(-2.0 * np.log((a.astype(float) + 0.5) / 2**32))
    np.testing.assert_allclose(np.hypot(z0, z1), r, rtol=1e-14, atol=0)
    # the reflections of phi = (m + 1/2) pi / 2**31 in (0, pi/4), written out with libm
    m = (b & (2**29 - 1)).astype(float)
    phi = (m + 0.5) * math.pi / 2**31
    swap = (b >> 29) & 1 == 1
    sign0 = np.where((b >> 31) & 1 == 1, -1.0, 1.0)
    sign1 = np.where((b >> 30) & 1 == 1, -1.0, 1.0)
    want0 = sign0 * r * np.where(swap, np.sin(phi), np.cos(phi))
    want1 = sign1 * r * np.where(swap, np.cos(phi), np.sin(phi))
    np.testing.assert_allclose(z0, want0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(z1, want1, rtol=0, atol=1e-14)
    # the angle sits on the grid of 2**32 midpoints, each word on its own point
    k = np.mod(np.arctan2(z1, z0), 2 * math.pi) * 2**31 / math.pi - 0.5
    assert np.abs(k - np.round(k)).max() < 1e-3
    assert len(np.unique(np.round(k[np.unique(b, return_index=True)[1]]))) == len(np.unique(b))
    # the radius is finite and bounded: u is strictly inside (0, 1)
    assert np.isfinite(z0).all() and r.max() < 6.8 and r.min() > 0


def test_box_muller_broadcasts_and_checks_words():
    z0, z1 = box_muller(np.arange(6, dtype=np.uint64).reshape(2, 3), 7)
    assert z0.shape == z1.shape == (2, 3)
    with pytest.raises(ValueError):
        box_muller(2**32, 0)


# --- the noise of runs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    """4,000 runs x 24 months x 5 states x 6 powers: 2.88 million normals."""
    return standard_normals(np.arange(4000), 24, STATES, POWERS)


def test_standard_normal_moments(sample):
    z = sample.ravel()
    n = z.size
    se = 1 / math.sqrt(n)
    assert abs(z.mean()) < 5 * se
    assert abs(z.std() - 1) < 5 * se / math.sqrt(2)
    assert abs(np.mean(z**3)) < 5 * math.sqrt(15) * se  # var of z^3 is 15
    assert abs(np.mean(z**4) - 3) < 5 * math.sqrt(96) * se  # var of z^4 is 96
    # the distribution: Kolmogorov-Smirnov distance far below its 1e-9 critical value (~3.3/sqrt n)
    zs = np.sort(z)
    ecdf = np.arange(1, n + 1) / n
    assert np.abs(ecdf - ndtr(zs)).max() < 2.5 * se
    # tails: P(|z| > 3) = 0.0027
    p3 = 2 * ndtr(-3.0)
    assert abs(np.mean(np.abs(z) > 3) - p3) < 5 * math.sqrt(p3 / n)


def test_every_lane_and_cell_is_standard_normal_and_uncorrelated(sample):
    n_runs = sample.shape[0]
    # each month of a block of four (its lane), over all runs, states and powers
    for m in range(4):
        lane = sample[:, m::4].ravel()
        se = 1 / math.sqrt(lane.size)
        assert abs(lane.mean()) < 5 * se and abs(lane.std() - 1) < 5 * se
    # each (month, state, power) over the runs
    se = 1 / math.sqrt(n_runs)
    assert np.abs(sample.mean(axis=0)).max() < 5.5 * se
    assert np.abs(sample.std(axis=0) - 1).max() < 5.5 * se
    # neighbours in month (the four lanes share a block), state and power are uncorrelated
    flat = sample.reshape(n_runs, -1)
    for x, y in [
        (sample[:, 1:], sample[:, :-1]),
        (sample[:, :, 1:], sample[:, :, :-1]),
        (sample[:, :, :, 1:], sample[:, :, :, :-1]),
        (flat[1:], flat[:-1]),  # consecutive seeds
    ]:
        r = np.corrcoef(x.ravel(), y.ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(x.size)


def test_a_run_does_not_depend_on_its_batch(sample):
    seeds = np.arange(4000)
    # alone, in a shuffled batch with repeats, and in batches cut at other chunk boundaries
    for s in (0, 1, 90, 91, 1999, 3999):
        np.testing.assert_array_equal(standard_normals([s], 24, STATES, POWERS)[0], sample[s])
    pick = np.random.default_rng(1).permutation(seeds)[:500]
    pick = np.concatenate([pick, pick[:7]])
    np.testing.assert_array_equal(standard_normals(pick, 24, STATES, POWERS), sample[pick])
    np.testing.assert_array_equal(
        standard_normals(seeds[37:411], 24, STATES, POWERS), sample[37:411]
    )
    # a seed given as a Python int, a numpy integer or in an unsigned array
    one = sample[5]
    for given in ([5], np.array([5], dtype=np.uint32), [np.int64(5)], (5,)):
        np.testing.assert_array_equal(standard_normals(given, 24, STATES, POWERS)[0], one)


def test_order_of_ids_and_number_of_months_do_not_matter(sample):
    rng = np.random.default_rng(2)
    for _ in range(3):
        s_perm, p_perm = rng.permutation(len(STATES)), rng.permutation(len(POWERS))
        states, powers = [STATES[i] for i in s_perm], [POWERS[j] for j in p_perm]
        got = standard_normals(np.arange(50), 24, states, powers)
        np.testing.assert_array_equal(got, sample[:50][:, :, s_perm][:, :, :, p_perm])
    for months in (0, 1, 3, 4, 5, 13, 24):
        got = standard_normals(np.arange(50), months, STATES, POWERS)
        assert got.shape == (50, months, 5, 6) and got.flags.c_contiguous
        np.testing.assert_array_equal(got, sample[:50, :months])
    longer = standard_normals(np.arange(50), 61, STATES, POWERS)
    np.testing.assert_array_equal(longer[:, :24], sample[:50])


def test_different_seeds_and_streams_differ(sample):
    flat = sample[:200].reshape(200, -1)
    assert len({row.tobytes() for row in flat}) == 200
    assert not np.isin(flat[0], flat[1]).any()  # not merely shifted either
    # the high 32 bits of the seed are part of the key
    high = standard_normals([2**32, 2**32 + 1, 2**64 - 1], 24, STATES, POWERS)
    assert not np.isin(high.ravel(), sample[:2].ravel()).any()
    assert not np.isin(standard_normals([0], 24, STATES, POWERS, stream=1), sample[0]).any()
    # the ids are sorted ranks: the same rank in another scenario gets the same number
    other = standard_normals([0], 24, ["a", "b", "c", "d", "e"], POWERS)
    np.testing.assert_array_equal(other[0], sample[0])


def test_seeds_are_checked():
    np.testing.assert_array_equal(seed_keys([2**64 - 1])[1], [2**32 - 1])
    np.testing.assert_array_equal(seed_keys([2**32 + 3])[0], [3])
    for bad in ([-1], [2**64], [1.5], [True], np.array([1.0]), [2**63, 0.5]):
        with pytest.raises(ValueError):
            standard_normals(bad, 2, STATES, POWERS)
    with pytest.raises(ValueError):
        standard_normals([0], 2, ["a", "a"], POWERS)
    assert standard_normals([], 3, STATES, POWERS).shape == (0, 3, 5, 6)


def reference_normal(seed: int, month: int, state_rank: int, power_rank: int) -> float:
    """One value of the scheme as documented, from the scalar Philox and libm's sin and cos."""
    words = philox_reference(
        (month // 4, state_rank, power_rank, 0), (seed % 2**32, seed >> 32), 32
    )
    lane = month % 4
    a, b = words[2 * (lane // 2)], words[2 * (lane // 2) + 1]
    r = math.sqrt(-2 * math.log((a + 0.5) / 2**32))
    phi = ((b & (2**29 - 1)) + 0.5) * math.pi / 2**31
    swap = (b >> 29) & 1
    if lane % 2 == 0:
        return (-1) ** (b >> 31) * r * (math.sin(phi) if swap else math.cos(phi))
    return (-1) ** ((b >> 30) & 1) * r * (math.cos(phi) if swap else math.sin(phi))


def test_values_follow_the_documented_scheme(sample):
    rng = np.random.default_rng(8)
    ranks_s = np.argsort(np.argsort(STATES))
    ranks_p = np.argsort(np.argsort(POWERS))
    for _ in range(200):
        b, t, i, j = (int(rng.integers(n)) for n in sample.shape)
        want = reference_normal(b, t, int(ranks_s[i]), int(ranks_p[j]))
        assert sample[b, t, i, j] == pytest.approx(want, rel=0, abs=1e-14)
    big = 2**64 - 2
    got = standard_normals([big], 7, STATES, POWERS)[0]
    assert got[6, 2, 3] == pytest.approx(reference_normal(big, 6, 2, 3), rel=0, abs=1e-14)


# standard_normals([0, 2024], 5, ["a"], ["x", "y"]) under NOISE_SCHEME version 2
PINNED = [
    [
        [-0.04700498852047743, -0.4541364967309965],
        [-1.3546753606160777, -1.0556639591290227],
        [-0.6176089594591906, -2.367973042048019],
        [0.4820685874871796, 0.23149688586031117],
        [0.18082589777944116, -0.5522627594078527],
    ],
    [
        [0.9978575345394028, -0.06344215051156052],
        [-0.11691734837670117, 1.5557214841807734],
        [0.15243760585751548, 0.4371848044423641],
        [0.08834568595784816, 1.1878311801520418],
        [0.5437227007188749, 1.5553802700475188],
    ],
]


def test_pinned_values():
    """The stream of version 2: changing it means a new NOISE_SCHEME version (and new goldens)."""
    assert NOISE_SCHEME["generator"] == "philox4x32-10" and NOISE_SCHEME["version"] == 2
    got = standard_normals([0, 2024], 5, ["a"], ["x", "y"])
    np.testing.assert_allclose(got[:, :, 0], PINNED, rtol=1e-13, atol=1e-15)


# --- both engines ------------------------------------------------------------------------------


def test_mesa_and_ensemble_take_the_same_noise():
    sc = load_scenario(DATA / "mini.yaml").scenario
    seeds = np.array([0, 7, 2024, 4_294_967_295])
    batch = noise_blocks(seeds, sc.n_steps, sc.state_ids, sc.power_ids)
    for b, seed in enumerate(seeds.tolist()):
        model = GreatGameModel(sc, rng=seed)
        np.testing.assert_array_equal(model.noise, batch[b])
        np.testing.assert_array_equal(
            draw_noise(seed, sc.n_steps, sc.state_ids, sc.power_ids), batch[b]
        )
