"""Balancing or bandwagoning depends on the alternatives a threatened state has (issue 14 item 5).

The alternatives are a noisy-or over the other powers (a known answer), and on a hand-made
scenario the same threat pushes a state away from the threatening power when another power is
there for it (balancing) and pulls it closer when it depends on the threatener and nobody else
offers anything (bandwagoning).
"""

import numpy as np
import pytest
from conftest import alpha_between, write_yaml

from sim.input.scenario import load_scenario
from sim.model.dynamics import alternatives
from sim.model.engines import simulate


def test_alternatives_are_a_noisy_or_over_the_other_powers():
    x = np.array([[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(alternatives(x), [[0.5, 0.5, 0.75]], rtol=0, atol=1e-15)
    assert alternatives(np.array([[0.9]]))[0, 0] == 0.0  # a single power: no alternative
    one, two = alternatives(np.array([0.0, 0.4, 0.0])), alternatives(np.array([0.0, 0.4, 0.4]))
    assert two[0] > one[0] == pytest.approx(0.4)  # two middling offers beat one


def threat_effect(tmp_path, mini_raw, north_level, east_level, east_security):
    """Alpha's alignment with North at the end, with North's October threat minus without it."""
    mini_raw["model"] = {"noise": 0.0, "trust_loss": 0.0}  # the threat rule alone moves it
    alpha_between(mini_raw, north_level, east_level, east_security)
    ends = []
    for enabled in (True, False):
        menace = next(e for e in mini_raw["events"] if e["id"] == "menace")
        menace["enabled"] = enabled
        sc = load_scenario(write_yaml(tmp_path / f"regime_{enabled}.yaml", mini_raw)).scenario
        batch = simulate([sc], [3], "ensemble")
        ends.append(batch.values["alignment"][0, -1, 0, sc.power_ids.index("north")])
    return ends[0] - ends[1]


def test_a_threat_repels_a_state_with_a_credible_alternative(tmp_path, mini_raw):
    effect = threat_effect(tmp_path, mini_raw, north_level=0.3, east_level=0.8, east_security=0.9)
    assert effect < -1e-3  # balancing


def test_a_threat_attracts_a_dependent_state_without_an_alternative(tmp_path, mini_raw):
    effect = threat_effect(tmp_path, mini_raw, north_level=0.9, east_level=0.0, east_security=0.0)
    assert effect > 1e-3  # bandwagoning
