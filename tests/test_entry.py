"""Opportunistic entry: a power moves into the room a weakened power leaves (issue 14 item 2).

``dynamics.enter`` is checked against a hand computation, then on the mini scenario: nobody
enters without a shock, a refused call for help is such a shock, a rival's lost credibility
draws the other power in (more attention, more spending), the entry recedes when the weakened
power recovers, both engines agree, and the Mesa power agents expose their entry. On the
baseline, the powers whose scripted attention events the mechanism replaced deploy more
attention with the war than without it, and without the war only as much as Russia's refusal
of a call for help opens for them.
"""

import numpy as np
import pytest
from conftest import write_yaml

from sim.input.bundled import resolve_scenario
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import allocate, deployed, enter
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel


def _mini(tmp_path, mini_raw, name="entry", response=0.6, rate=0.2, **war):
    mini_raw["powers"][1]["strategy"]["entry_response"] = response  # East is opportunistic
    mini_raw["model"] = {"entry_rate": rate, "noise": 0.0}
    event = next(e for e in mini_raw["events"] if e["id"] == "war")
    event.update(war)
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def test_entry_follows_the_room_left_by_a_weakened_power(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw)
    params, world = compile_run(sc)
    north, east = sc.power_ids.index("north"), sc.power_ids.index("east")
    np.testing.assert_array_equal(enter(world, params), np.zeros((1, 2)))  # nothing lost yet
    world.credibility[0, north] *= 0.6  # North keeps 60% of its reliability
    world.entry[0, east] = 0.05
    a0_north = np.mean([0.7, 0.8, 0.4])  # the region's initial alignment with North
    opening = 0.4 * a0_north
    expected = 0.05 + 0.2 * (0.6 * opening - 0.05)
    new = enter(world, params)
    assert new[0, east] == pytest.approx(expected, rel=1e-12)
    assert new[0, north] == 0.0  # East lost nothing: no room for North
    one = enter(world, params, powers=slice(east, east + 1))  # a Mesa agent's own column
    assert one[0, 0] == new[0, east]
    before = allocate(world, params).aid[0, :, east].sum()  # deployed 0.6 + 0.05 * 0.4
    world.entry[0, east] = new[0, east]
    after = allocate(world, params).aid[0, :, east].sum()
    assert deployed(world)[0, east] == pytest.approx(0.6 + new[0, east] * 0.4, rel=1e-12)
    assert after == pytest.approx(before * deployed(world)[0, east] / 0.62, rel=1e-12)


def test_without_a_shock_nobody_enters(tmp_path, mini_raw):
    next(e for e in mini_raw["events"] if e["id"] == "clash")["enabled"] = False
    sc = _mini(tmp_path, mini_raw, enabled=False)
    attention = simulate([sc], [1], "ensemble").values["attention"][0]
    np.testing.assert_array_equal(attention, np.broadcast_to([0.9, 0.6], attention.shape))


def test_a_refused_call_for_help_is_a_shock_that_draws_the_rival_in(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, enabled=False)  # no war; the border clash stays
    run = simulate([sc], [1], "ensemble")
    clash = sc.step_of("2022-09") + 1  # record 0 is the start
    alpha, north = sc.state_ids.index("alpha"), sc.power_ids.index("north")
    assert run.values["request"][0, clash, alpha, north] == -1.0  # North refuses Alpha
    east = run.values["attention"][0, :, sc.power_ids.index("east")]
    np.testing.assert_array_equal(east[:clash], 0.6)  # nothing before the refusal
    assert np.all(np.diff(east[clash - 1 :]) > 0)  # East moves in after it


def test_a_rival_s_weakness_draws_a_power_in_and_its_recovery_lets_it_recede(tmp_path, mini_raw):
    lasting = _mini(tmp_path, mini_raw, "lasting")
    fading = _mini(tmp_path, mini_raw, "fading", persistence=1, decay=0.5)
    shy = _mini(tmp_path, mini_raw, "shy", response=0.0)
    east = lasting.power_ids.index("east")
    runs = simulate([lasting, fading, shy], [1, 1, 1], "ensemble").values["attention"][:, :, east]
    lasting_run, fading_run, shy_run = runs
    assert np.all(np.diff(lasting_run[2:]) > 0)  # rising while North stays weak
    assert lasting_run[-1] > 0.6 + 0.01
    peak = int(np.argmax(fading_run))
    assert 2 < peak < len(fading_run) - 1 and fading_run[-1] < fading_run[peak]  # recedes
    np.testing.assert_array_equal(shy_run, np.full_like(shy_run, 0.6))  # response 0: never


def test_both_engines_agree_and_the_mesa_powers_expose_their_entry(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw)
    fast = simulate([sc], [5], "ensemble")
    model = GreatGameModel(sc, rng=5)
    batch = model.run()
    for name, values in fast.values.items():
        np.testing.assert_allclose(batch.values[name], values, rtol=0, atol=1e-12)
    east = next(p for p in model.powers if p.spec.id == "east")
    assert east.entry == pytest.approx(float(model.world.entry[0, east.index]))
    assert east.entry > 0.0


def test_the_war_draws_the_other_powers_into_the_region():
    base = load_scenario(resolve_scenario("baseline_2022")).scenario
    peace = load_scenario(resolve_scenario("no_war")).scenario
    calm = peace.model_copy(  # no war, and no call for help that Russia could refuse
        update={"events": [e for e in peace.events if e.id != "kg_tj_border_war"]}
    )
    attention = np.stack(
        [simulate([sc], [1], "ensemble").values["attention"][0, -1] for sc in (base, peace, calm)]
    )  # December 2023
    for power in ("china", "usa", "turkey", "iran", "eu"):
        p = base.power_ids.index(power)
        planned = next(q.attention for q in base.powers if q.id == power)
        assert attention[0, p] > attention[1, p] + 0.01, power  # the war draws it in further
        assert attention[1, p] > planned, power  # Russia's refusal of Kyrgyzstan draws it in
        assert attention[2, p] == pytest.approx(planned, abs=1e-12), power  # neither: as planned
