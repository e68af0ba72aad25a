"""The Mesa model: determinism, Mesa wiring, events at their dates."""

import numpy as np
import pytest

from sim.input.scenario import load_scenario
from sim.model.mesa_model import GreatGameModel, PowerAgent, StateAgent


@pytest.fixture
def mini(mini_path):
    return load_scenario(mini_path)


def _values(traj):
    return np.concatenate([v.ravel() for v in traj.values.values()])


def test_same_seed_same_numbers_other_seed_other_numbers(mini):
    a = GreatGameModel(mini, rng=11).run()
    b = GreatGameModel(mini, rng=11).run()
    c = GreatGameModel(mini, rng=12).run()
    assert np.array_equal(_values(a), _values(b))
    assert not np.allclose(_values(a), _values(c))
    assert a.seeds.tolist() == [11] and c.seeds.tolist() == [12]


def test_noise_is_the_runs_only_randomness(mini, tmp_path, mini_raw):
    from conftest import write_yaml

    mini_raw["model"] = {"noise": 0.0}
    quiet = load_scenario(write_yaml(tmp_path / "quiet.yaml", mini_raw))
    a = GreatGameModel(quiet, rng=1).run()
    b = GreatGameModel(quiet, rng=2).run()
    assert np.array_equal(_values(a), _values(b))


def test_agents_are_mesa_agents_of_both_kinds(mini):
    model = GreatGameModel(mini, rng=0)
    assert len(model.agents_by_type[PowerAgent]) == 2
    assert len(model.agents_by_type[StateAgent]) == 3
    assert model.states[0].alignment() == {"north": 0.7, "east": 0.4}


def test_records_one_row_per_month_plus_initial(mini):
    model = GreatGameModel(mini, rng=0)
    traj = model.run()
    assert model.steps == 12 and not model.running
    assert traj.dates[0] == "2021-12" and traj.dates[-1] == "2022-12"
    assert traj.values["alignment"].shape == (1, 13, 3, 2)
    assert traj.values["credibility"].shape == (1, 13, 2)


def test_events_fire_once_at_their_month(mini):
    model = GreatGameModel(mini, rng=0)
    model.step()  # January: the unrest event fires before the step
    assert [e["id"] for e in model.event_log if e["type"] != "decision"] == ["unrest"]
    assert model.event_log[0]["outcome"] == "alpha asks north: honoured"
    before = model.world.credibility[0, 0]
    model.step()  # February: the war shock cuts North's credibility by 30%
    assert model.world.credibility[0, 0] == pytest.approx(before * 0.7)
    model.run_until(12.0)
    ids = [e["id"] for e in model.event_log if e["type"] != "decision"]
    assert sorted(ids) == sorted(e.id for e in mini.scenario.events)
    assert len(ids) == len(set(ids))


def test_threat_event_raises_threat_and_lowers_alignment(mini):
    traj = GreatGameModel(mini, rng=0).run()
    threat = traj.values["threat"][0, :, 0, 0]  # alpha's threat from north
    month = traj.dates.index("2022-10")
    assert threat[month] > threat[month - 1] + 0.1


def test_disabled_event_does_not_fire(mini_raw, tmp_path):
    from conftest import write_yaml

    mini_raw["events"][1]["enabled"] = False
    sc = load_scenario(write_yaml(tmp_path / "s.yaml", mini_raw))
    traj = GreatGameModel(sc, rng=0).run()
    assert "war" not in [e["id"] for e in traj.events[0]]
    clash = traj.dates.index("2022-09")  # where North may refuse a call and lose some
    assert np.all(traj.values["credibility"][0, :clash, 0] >= 0.7)


def test_unhonoured_request_costs_credibility(mini_raw, tmp_path):
    from conftest import write_yaml

    mini_raw["powers"][0]["attention"] = 0.1  # too distracted to answer the call
    sc = load_scenario(write_yaml(tmp_path / "s.yaml", mini_raw))
    model = GreatGameModel(sc, rng=0)
    model.step()
    assert model.event_log[0]["outcome"] == "alpha asks north: refused"
    assert model.world.credibility[0, 0] < 0.7


def test_status_quo_is_a_fixed_point(mini_raw, tmp_path):
    """Without events and noise nothing moves: the initial state is calibrated as equilibrium."""
    from conftest import write_yaml

    mini_raw["model"] = {"noise": 0.0}
    for event in mini_raw["events"]:
        event["enabled"] = False
    sc = load_scenario(write_yaml(tmp_path / "still.yaml", mini_raw))
    traj = GreatGameModel(sc, rng=0).run()
    for name in ("alignment", "trust", "threat", "dependence"):
        values = traj.values[name][0]
        assert np.allclose(values, values[0], atol=1e-12), name


def test_a_budget_cut_erodes_the_powers_standing(mini_raw, tmp_path):
    """Spending less than in the status quo lowers trust and alignment toward that power."""
    from conftest import write_yaml

    mini_raw["model"] = {"noise": 0.0}
    mini_raw["events"] = [
        {
            "id": "cut",
            "date": "2022-02",
            "type": "power_shock",
            "actors": ["east"],
            "variable": "budget",
            "magnitude": -0.8,
        }
    ]
    sc = load_scenario(write_yaml(tmp_path / "cut.yaml", mini_raw))
    traj = GreatGameModel(sc, rng=0).run()
    east = 1
    assert np.all(traj.values["trust"][0, -1, :, east] < traj.values["trust"][0, 0, :, east])
    assert np.all(
        traj.values["alignment"][0, -1, :, east] < traj.values["alignment"][0, 0, :, east]
    )
