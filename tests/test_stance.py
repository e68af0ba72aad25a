"""States choose a public stance toward each power and their bloc participation follows it.

Issue 14 item 1: the Central Asian states' distancing signals, cancelled drills and declined
agreements are no longer scripted events but the states' own decisions. ``choose_stance`` is
checked against hand-computed cases (adopt, hold, drop, switch, cost of each direction); on the
mini scenario nobody takes a stance without a shock, a power's lost credibility makes the states
that relied on it distance themselves, participation falls while the stance is held and comes
back after it, a change of stance moves trust once, both engines agree and log the same
decisions, and the Mesa state agents expose their stance. On the baseline, the three CSTO states
distance themselves from Russia in 2022 and the decisions reach ``events.csv``.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import write_yaml

from sim.cli import main
from sim.input.bundled import resolve_scenario
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import choose_stance, stance_name
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel
from sim.results.folder import read_events


def _mini(tmp_path, mini_raw, name="stance", **model):
    mini_raw["model"] = {"noise": 0.0, **model}
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def test_choose_stance_by_hand(tmp_path, mini_raw):
    params, _ = compile_run(_mini(tmp_path, mini_raw, stance_threshold=0.03, stance_cost=0.05))
    # one run, one state, six cases side by side on the power axis
    pull = np.array([[[-0.1, 0.04, 0.04, -0.01, 0.2, -0.02]]])
    dep = np.array([[[0.4, 0.9, 0.9, 0.0, 0.9, 1.0]]])
    resent = np.array([[[0.9, 0.5, 0.5, 0.0, 0.2, 0.0]]])
    previous = np.array([[[0.0, 0.0, 1.0, -1.0, -1.0, -1.0]]])
    stance, cost = choose_stance(pull, dep, resent, previous, params)
    # distancing costs 0.05 x dependence, a rapprochement 0.05 x the rivals' resentment
    np.testing.assert_allclose(cost[0, 0], [0.02, 0.025, 0.025, 0.0, 0.01, 0.05], rtol=1e-12)
    # 0.08 > 0.03: distance; 0.015 < 0.03: no new stance, but one held is kept (0.015 > 0);
    # a held distance stays while its reason does (0.01 > 0); a strong opposite pull switches it;
    # a distance whose cost now exceeds the pull is dropped
    np.testing.assert_array_equal(stance[0, 0], [-1.0, 0.0, 1.0, -1.0, 1.0, 0.0])
    assert [stance_name(v) for v in (-1.0, 0.0, 1.0)] == ["distance", "neutral", "rapprochement"]


def test_without_a_shock_nobody_takes_a_stance(tmp_path, mini_raw):
    for event in mini_raw["events"]:
        event["enabled"] = False
    sc = _mini(tmp_path, mini_raw)
    batch = simulate([sc], [1], "ensemble")
    assert not batch.values["stance"].any()
    part = batch.values["participation"][0]
    np.testing.assert_array_equal(part, np.broadcast_to(part[0], part.shape))
    assert not [e for e in batch.events[0] if e["type"] == "decision"]


def _lasting_collapse(tmp_path, mini_raw, name, **model):
    """North loses most of its credibility in February, for good (no other event)."""
    for event in mini_raw["events"]:
        event["enabled"] = event["id"] == "war"
    war = next(e for e in mini_raw["events"] if e["id"] == "war")
    war["magnitude"] = -0.9
    mini_raw["meta"]["end"] = "2024-12"
    return _mini(tmp_path, mini_raw, name, **model)


def test_a_collapse_of_credibility_makes_its_clients_distance_and_take_part_less(
    tmp_path, mini_raw
):
    sc = _lasting_collapse(tmp_path, mini_raw, "collapse")
    batch = simulate([sc], [1], "ensemble")
    north = sc.power_ids.index("north")
    alpha = sc.state_ids.index("alpha")
    stance = batch.values["stance"][0, :, alpha, north]
    part = batch.values["participation"][0, :, alpha, north]
    taken = int(np.argmax(stance == -1.0))
    assert stance[taken] == -1.0 and taken > 1  # after the collapse, not before
    assert part[taken] == part[0]  # participation follows the stance from the next month
    assert np.all(np.diff(part[taken:]) <= 0) and part[-1] < part[0] - 0.05
    logged = [e for e in batch.events[0] if e["type"] == "decision" and e["who"] == "alpha"]
    first = next(e for e in logged if e["outcome"] == "distance from north")
    assert first["step"] == taken - 1 and first["magnitude"] == -1.0
    assert first["why"].startswith("target moved -")


def test_a_stance_taken_back_lets_participation_recover(tmp_path, mini_raw):
    sc = _lasting_collapse(tmp_path, mini_raw, "recover")
    war = next(e for e in sc.events if e.id == "war")
    sc = sc.model_copy(
        update={"events": [war.model_copy(update={"persistence": 2.0, "decay": 0.5})]}
    )
    batch = simulate([sc], [1], "ensemble")
    north, alpha = sc.power_ids.index("north"), sc.state_ids.index("alpha")
    stance = batch.values["stance"][0, :, alpha, north]
    part = batch.values["participation"][0, :, alpha, north]
    held = np.flatnonzero(stance == -1.0)
    assert held.size and held[-1] < len(stance) - 2  # taken, then given up as North recovers
    low = int(np.argmin(part))
    assert part[low] < part[0] and part[-1] > part[low] and np.all(np.diff(part[low:]) >= 0)


def test_a_change_of_stance_moves_trust_once(tmp_path, mini_raw):
    loud = _lasting_collapse(tmp_path, mini_raw, "loud", stance_effect=0.2)
    quiet = _lasting_collapse(tmp_path, mini_raw, "quiet", stance_effect=0.0)
    batch = simulate([loud, quiet], [1, 1], "ensemble")
    north, alpha = loud.power_ids.index("north"), loud.state_ids.index("alpha")
    stance = batch.values["stance"][0, :, alpha, north]
    taken = int(np.argmax(stance == -1.0))
    np.testing.assert_array_equal(batch.values["stance"][1, :taken, alpha, north], 0.0)
    trust = batch.values["trust"][:, :, alpha, north]
    np.testing.assert_array_equal(trust[0, :taken], trust[1, :taken])  # identical before
    assert trust[0, taken] == pytest.approx(trust[1, taken] * 0.8, rel=1e-12)  # nudge by -0.2


def test_both_engines_agree_and_the_mesa_states_expose_their_stance(tmp_path, mini_raw):
    sc = _lasting_collapse(tmp_path, mini_raw, "engines", noise=0.01)
    fast = simulate([sc, sc], [5, 6], "ensemble")
    slow = simulate([sc, sc], [5, 6], "mesa")
    for name, values in fast.values.items():
        np.testing.assert_allclose(slow.values[name], values, rtol=0, atol=1e-12)
    assert fast.events == slow.events
    assert any(e["type"] == "decision" for e in fast.events[0])
    model = GreatGameModel(sc, rng=5)
    model.run()
    alpha = next(s for s in model.states if s.spec.id == "alpha")
    assert alpha.stance["north"] == stance_name(float(model.world.stance[0, alpha.index, 0]))
    assert alpha.stance["north"] == "distance"
    assert alpha.participation["north"] == float(model.world.membership[0, alpha.index, 0])


def test_on_the_baseline_the_csto_states_distance_from_russia_and_it_is_logged(tmp_path):
    out = tmp_path / "base"
    assert main(["run", "baseline_2022", "--seed", "1", "-r", "4", "--out", str(out)]) == 0
    log = read_events(out)
    decisions = log[log["type"] == "decision"]
    assert set(decisions.columns) >= {"who", "why", "outcome"}
    distance = decisions[(decisions["outcome"] == "distance from russia")]
    by_2023 = distance[pd.to_datetime(distance["date"]) <= "2022-12-01"]
    for state in ("kazakhstan", "kyrgyzstan", "tajikistan"):
        assert by_2023[by_2023["who"] == state]["run"].nunique() == 4, state
    assert decisions[decisions["who"] == "turkmenistan"].empty  # neutrality: no public stance
    # no scripted state act is left in the baseline
    sc = load_scenario(resolve_scenario("baseline_2022")).scenario
    assert not [e.id for e in sc.events if e.type.value in ("diplomatic_signal", "institutional")]
