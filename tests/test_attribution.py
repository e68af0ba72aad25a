"""Attribution of alignment changes by channel and by event (sim.results.attribution)."""

import numpy as np
import pytest
from conftest import ROOT

from sim.input.errors import ScenarioError
from sim.input.scenario import load_scenario
from sim.model import dynamics
from sim.model.compile import initial_state, to_params
from sim.model.mesa_model import GreatGameModel
from sim.results.attribution import CHANNELS, REST, attribute, channel_contributions
from sim.results.runner import replicate_seeds


@pytest.fixture(scope="module")
def mini():
    return load_scenario(ROOT / "tests" / "data" / "mini.yaml").scenario


def test_score_components_sum_to_the_models_score(mini):
    params, state = to_params(mini), initial_state(mini)
    rng = np.random.default_rng(0)
    tau = rng.uniform(size=state.trust.shape)
    theta = rng.uniform(size=state.threat.shape)
    dep = rng.uniform(size=state.dependence.shape)
    comps = dynamics.score_components(state, params, tau, theta, dep)
    assert set(comps) >= {"dependence", "security", "trust", "threat", "membership", "rivalry"}
    total = sum(comps.values())
    expected = dynamics._score(state, params, tau, theta, dep, slice(None))
    np.testing.assert_allclose(total, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("state", "power"), [("alpha", "north"), ("beta", "east")])
def test_channels_add_up_to_the_change_of_every_run(mini, state, power):
    seeds = replicate_seeds(3, 4)
    parts, start, end = channel_contributions(mini, seeds, state, power, 0, mini.n_steps - 1)
    assert set(parts) == set(CHANNELS)
    total = sum(parts.values())
    np.testing.assert_allclose(total, end - start, rtol=0, atol=1e-12)
    # the recorded trajectory of the Mesa model is what is attributed
    s, p = mini.state_ids.index(state), mini.power_ids.index(power)
    for i, seed in enumerate(seeds):
        traj = GreatGameModel(mini, rng=seed).run()
        assert start[i] == pytest.approx(traj.values["alignment"][0, 0, s, p], abs=1e-12)
        assert end[i] == pytest.approx(traj.values["alignment"][0, -1, s, p], abs=1e-12)
    assert np.any(np.abs(parts["noise"]) > 0)  # every channel is a real piece, not a remainder
    assert np.any(np.abs(parts["trust"]) > 1e-6)
    assert np.all(np.abs(parts["bounds"]) < 1e-9)  # alignment stays inside [0, 1] here


def test_a_subperiod_starts_from_the_record_before_it(mini):
    seeds = replicate_seeds(5, 2)
    parts, start, end = channel_contributions(mini, seeds, "alpha", "north", 3, 6)
    traj = GreatGameModel(mini, rng=seeds[0]).run()
    assert start[0] == pytest.approx(traj.values["alignment"][0, 3, 0, 0], abs=1e-12)
    assert end[0] == pytest.approx(traj.values["alignment"][0, 7, 0, 0], abs=1e-12)
    assert sum(parts.values())[0] == pytest.approx(end[0] - start[0], abs=1e-12)


def test_attribution_table_by_channel_and_event(mini):
    seeds = replicate_seeds(1, 3)
    table = attribute(mini, seeds, "alpha", "north", "2022-01", "2022-10")
    level = table[table["kind"] == "level"].set_index("component")["value"]
    change = level["end"] - level["start"]
    for kind in ("channel", "event"):
        assert table.loc[table["kind"] == kind, "value"].sum() == pytest.approx(change, abs=1e-12)
    events = table[table["kind"] == "event"].set_index("component")["value"]
    # every enabled event up to the period's end, none after it, and the closing row
    assert set(events.index) == {"unrest", "war", "clash", "menace", "package", REST}
    assert events["menace"] < 0  # a threat from north lowers alpha's alignment with north
    assert (table["state"] == "alpha").all() and (table["runs"] == 3).all()


def test_event_effect_equals_the_counterfactual_difference(mini):
    seeds = replicate_seeds(2, 2)
    table = attribute(mini, seeds, "alpha", "north")
    effect = table.set_index("component").loc["menace", "value"]
    off = mini.model_copy(
        update={
            "events": [
                e.model_copy(update={"enabled": False}) if e.id == "menace" else e
                for e in mini.events
            ]
        }
    )
    diffs = []
    for seed in seeds:
        with_ = GreatGameModel(mini, rng=seed).run().values["alignment"][0, :, 0, 0]
        without = GreatGameModel(off, rng=seed).run().values["alignment"][0, :, 0, 0]
        diffs.append((with_[-1] - with_[0]) - (without[-1] - without[0]))
    assert effect == pytest.approx(np.mean(diffs), abs=1e-12)
    assert abs(effect) > 1e-4


def test_bad_ids_and_months_name_the_field(mini):
    with pytest.raises(ScenarioError, match="did you mean 'alpha'"):
        attribute(mini, [1], "alpah", "north")
    with pytest.raises(ScenarioError, match="unknown power"):
        attribute(mini, [1], "alpha", "west")
    with pytest.raises(ScenarioError, match="expected a month from 2022-01 to 2022-12"):
        attribute(mini, [1], "alpha", "north", "2021-05")
    with pytest.raises(ScenarioError, match="starts"):
        attribute(mini, [1], "alpha", "north", "2022-06", "2022-03")
