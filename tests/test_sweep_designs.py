"""Designs: sizes, ranges, determinism from the seed, and the properties each promises."""

import numpy as np
import pytest

from sim.sweep.designs import build_design, design_seed, n_points

PARAMS = {"a": (0.0, 1.0), "b": (10.0, 20.0), "c": (-1.0, -0.5)}


@pytest.mark.parametrize(
    ("design", "samples", "expected"),
    [("grid", 3, 27), ("lhs", 7, 7), ("sobol", 8, 8 * 5), ("morris", 4, 4 * 4)],
)
def test_sizes_ranges_and_seeding(design, samples, expected):
    x = build_design(design, PARAMS, samples, seed=11)
    assert x.shape == (expected, 3) == (n_points(design, 3, samples), 3)
    lows = np.array([lo for lo, _ in PARAMS.values()])
    highs = np.array([hi for _, hi in PARAMS.values()])
    assert np.all(x >= lows) and np.all(x <= highs)
    assert np.array_equal(x, build_design(design, PARAMS, samples, seed=11))
    if design != "grid":  # the grid has no randomness
        assert not np.array_equal(x, build_design(design, PARAMS, samples, seed=12))


def test_grid_is_every_combination_of_levels():
    x = build_design("grid", PARAMS, 3, seed=0)
    assert {tuple(r) for r in x} == {
        (a, b, c) for a in (0.0, 0.5, 1.0) for b in (10.0, 15.0, 20.0) for c in (-1.0, -0.75, -0.5)
    }


def test_latin_hypercube_has_one_point_per_stratum():
    n = 20
    x = build_design("lhs", PARAMS, n, seed=3)
    for j, (lo, hi) in enumerate(PARAMS.values()):
        strata = np.floor((x[:, j] - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_sobol_is_saltelli_and_morris_moves_one_factor_at_a_time():
    x = build_design("sobol", PARAMS, 4, seed=5)
    a, b = x[0], x[4]  # first block: A, AB_1 .. AB_3, B
    assert np.sum(x[1] != a) == 1 and x[1][0] == b[0]
    y = build_design("morris", PARAMS, 2, seed=5)
    steps = np.diff(y[:4], axis=0)  # one trajectory: k + 1 points
    assert np.all(np.sum(steps != 0, axis=1) == 1)


def test_second_order_sobol_and_the_design_seed():
    assert build_design("sobol", PARAMS, 4, seed=5, second_order=True).shape == (4 * 8, 3)
    assert design_seed(5) == design_seed(5) != design_seed(6)
    with pytest.raises(ValueError, match="unknown design 'box'"):
        build_design("box", PARAMS, 4, seed=5)
