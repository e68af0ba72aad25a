"""The same seeds give the numbers recorded in tests/data/golden.json (see tests/golden.py).

Compared to 1e-12 relative, not bit for bit: another CPU may take other SIMD paths in numpy's
transcendental functions. On the machine that recorded them the numbers agree exactly.
"""

import numpy as np
import pytest
from golden import compute, load

RECORDED = load()


@pytest.fixture(scope="module")
def now():
    return compute()


def test_the_same_groups_and_variables_are_recorded(now):
    assert sorted(now) == sorted(RECORDED)
    for group, values in RECORDED.items():
        assert sorted(now[group]) == sorted(values), group


@pytest.mark.parametrize("group", sorted(RECORDED))
def test_golden_values_are_unchanged(now, group):
    for key, old in RECORDED[group].items():
        np.testing.assert_allclose(
            now[group][key], old, rtol=1e-12, atol=1e-15, err_msg=f"{group} {key}"
        )
