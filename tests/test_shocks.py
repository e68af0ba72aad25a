"""Power shocks with a time profile: onset, persistence and decay (issue 14, item 4).

A known answer for the profile, a hand-computed credibility path on mini.yaml in both engines,
the two engines equal, a swept profile equal to the scenario with its value written in, and
clear errors for a profile on another kind of event or out of its bounds.
"""

import numpy as np
import pytest
from conftest import write_yaml

from sim.input.errors import ScenarioError
from sim.input.params import with_values
from sim.input.scenario import load_scenario
from sim.model.dynamics import ShockProfile, shock_factor, shock_level
from sim.model.engines import simulate
from sim.model.ensemble import prepare_swept, simulate_ensemble


def profile(onset, persistence, decay):
    return ShockProfile(*(np.array([x], dtype=float) for x in (onset, persistence, decay)))


def test_profile_builds_up_holds_then_decays():
    p = profile(2, 1, 0.5)
    levels = [float(shock_level(k, p)[0]) for k in range(-1, 7)]
    assert levels == pytest.approx([0, 1 / 3, 2 / 3, 1, 1, 0.5, 0.25, 0.125], abs=1e-15)
    step = profile(0, 0, 0)
    assert [float(shock_level(k, step)[0]) for k in range(4)] == [1.0] * 4
    assert profile(0, 5, 0).is_step() and not profile(0, 5, 0.1).is_step()


def test_factors_multiply_to_the_level_and_a_wiped_out_variable_stays():
    p, m = profile(3, 2, 0.3), np.array([-0.4])
    total = np.prod([shock_factor(k, m, p) for k in range(12)], axis=0)
    assert total == pytest.approx(1 + m * shock_level(11, p), rel=1e-14)
    gone = profile(0, 0, 0.5)
    assert shock_factor(1, np.array([-1.0]), gone) == 1.0  # 0 stays 0: nothing to divide out


@pytest.fixture
def shaped(tmp_path, mini_raw):
    """mini.yaml with North's war shock (credibility -0.3 in 2022-02) built up and decaying.

    The border clash is off: a call for help that North refused would cost it credibility too.
    """
    next(e for e in mini_raw["events"] if e["id"] == "clash")["enabled"] = False
    war = next(e for e in mini_raw["events"] if e["id"] == "war")
    war.update(
        onset=2,
        persistence=1,
        decay={"value": 0.5, "assumption": {"range": [0.1, 0.9], "note": "test"}},
    )
    return load_scenario(write_yaml(tmp_path / "shaped.yaml", mini_raw))


@pytest.mark.parametrize("engine", ["mesa", "ensemble"])
def test_credibility_follows_the_profile(shaped, engine):
    batch = simulate([shaped.scenario], [5], engine)
    north = shaped.scenario.power_ids.index("north")
    cred = batch.values["credibility"][0, :, north]  # record r: after the step of month r - 1
    before = cred[1]  # after the January call for help, before the war of month 1
    hand = [before * (1 - 0.3 * h) for h in (1 / 3, 2 / 3, 1, 1, 0.5, 0.25, 0.125)]
    assert cred[2:9] == pytest.approx(hand, rel=1e-12)
    assert cred[-1] == pytest.approx(before * (1 - 0.3 * 0.5**7), rel=1e-12)  # December


def test_engines_agree_with_a_profile(shaped):
    seeds = [1, 2, 3]
    mesa = simulate([shaped.scenario] * 3, seeds, "mesa")
    fast = simulate([shaped.scenario] * 3, seeds, "ensemble")
    for name, values in mesa.values.items():
        np.testing.assert_allclose(fast.values[name], values, rtol=0, atol=1e-12, err_msg=name)


def test_a_swept_profile_equals_the_scenario_with_its_value(shaped):
    decays = np.array([0.1, 0.5, 0.9])
    swept = simulate_ensemble(
        prepare_swept(shaped, {"events.war.decay": decays}, [7, 7, 7]), keep="trajectories"
    )
    for b, d in enumerate(decays):
        one = simulate([with_values(shaped, {"events.war.decay": float(d)})], [7], "ensemble")
        np.testing.assert_array_equal(swept["credibility"][b], one.values["credibility"][0])
    assert not np.array_equal(swept["credibility"][0], swept["credibility"][2])


@pytest.mark.parametrize(
    ("event", "change", "message"),
    [
        ("menace", {"decay": 0.2}, "expected `decay` only on power_shock, sanctions and route"),
        ("war", {"decay": 1.5}, "decay"),
        ("war", {"onset": -1}, "onset"),
    ],
)
def test_a_bad_profile_is_refused_with_its_field(tmp_path, mini_raw, event, change, message):
    next(e for e in mini_raw["events"] if e["id"] == event).update(change)
    with pytest.raises(ScenarioError) as err:
        load_scenario(write_yaml(tmp_path / "bad.yaml", mini_raw))
    text = str(err.value)
    assert message in text and "events[" in text and "bad.yaml" in text
