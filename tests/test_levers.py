"""Powers move their lever mix toward the levers that pay (issue 14 item 2).

``dynamics.lever_returns`` measures what one more USD million on each lever is worth to a power
(its priority-weighted target alignment of the states, one month ahead through the model's own
equations); ``dynamics.learn_mix`` moves the mix toward the levers whose return has risen
against the initial state's. Checked here: the status quo stays a fixed point when powers learn;
a power whose military capacity is cut shifts its mix away from security, and one with a fixed
mix (``mix_learning`` 0) does not; a power's returns depend on its own spending only, so the
order of the Mesa power agents does not matter; the mix stays a mix (non-negative shares that
sum to 1) on the baseline; and the Mesa power agents expose it.
"""

import numpy as np
from conftest import write_yaml

from sim.input.bundled import resolve_scenario
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import allocate, learn_mix, lever_returns
from sim.model.ensemble import prepare, simulate_ensemble
from sim.model.mesa_model import GreatGameModel

SECURITY = 1


def _mini(tmp_path, mini_raw, name="levers", events=(), **model):
    mini_raw["model"] = {"noise": 0.0, **model}
    mini_raw["events"] = list(events)
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def _final_mix(sc, seeds=(0,)):
    ens = prepare(sc, list(seeds))
    simulate_ensemble(ens, keep="summary")
    return ens.state.mix


CAPACITY_CUT = {
    "id": "cut",
    "date": "2022-02",
    "type": "power_shock",
    "actors": ["north"],
    "variable": "military_capacity",
    "magnitude": -0.6,
}


def test_the_status_quo_stays_a_fixed_point_when_powers_learn(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, mix_learning=0.2)
    params, state = compile_run(sc)
    np.testing.assert_array_equal(
        lever_returns(state, params, allocate(state, params)), params.base_returns
    )
    assert (params.base_returns[..., 0] > 0).all()  # aid pays every power something
    traj = GreatGameModel(sc, rng=0).run()
    for name in ("alignment", "trust", "threat", "dependence"):
        values = traj.values[name][0]
        assert np.allclose(values, values[0], atol=1e-12), name
    np.testing.assert_allclose(_final_mix(sc), state.mix, atol=1e-12)


def test_a_power_whose_capacity_is_cut_turns_from_security_to_the_other_levers(tmp_path, mini_raw):
    north = 0
    learning = _mini(tmp_path, mini_raw, "learn", [CAPACITY_CUT], mix_learning=0.2)
    start = compile_run(learning)[1].mix[0, north]
    after = _final_mix(learning)[0, north]
    assert after[SECURITY] < start[SECURITY] - 0.01  # security now buys less protection
    assert (np.delete(after, SECURITY) > np.delete(start, SECURITY)).all()
    fixed = _mini(tmp_path, mini_raw, "fixed", [CAPACITY_CUT], mix_learning=0.0)
    np.testing.assert_array_equal(_final_mix(fixed)[0, north], start)


def test_a_powers_returns_depend_on_its_own_spending_only(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, "own", [CAPACITY_CUT], mix_learning=0.2)
    params, state = compile_run(sc)
    state.capacity[:, 0] *= 0.5
    alloc = allocate(state, params)
    returns = lever_returns(state, params, alloc)
    east = 1
    for lever in ("aid", "security", "rhetoric"):
        getattr(alloc, lever)[:, :, east] *= 3.0  # the other power spends differently
    again = lever_returns(state, params, alloc)
    np.testing.assert_array_equal(again[:, 0], returns[:, 0])
    assert not np.array_equal(again[:, east], returns[:, east])
    np.testing.assert_array_equal(
        learn_mix(state, params, powers=slice(0, 1)),
        learn_mix(state, params)[:, 0:1],
    )


def test_the_learned_mix_stays_a_mix_on_the_baseline():
    sc = load_scenario(resolve_scenario("baseline_2022")).scenario
    start = compile_run(sc)[1].mix
    mix = _final_mix(sc, seeds=range(8))
    assert (mix >= 0.0).all()
    np.testing.assert_allclose(mix.sum(axis=-1), 1.0, atol=1e-12)
    assert np.abs(mix - start).max() > 0.01  # the war moves what the powers spend on
    russia = sc.power_ids.index("russia")
    assert (mix[:, russia, SECURITY] < start[0, russia, SECURITY]).all()


def test_mesa_power_agents_expose_their_lever_mix(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, "mesa", [CAPACITY_CUT], mix_learning=0.2)
    model = GreatGameModel(sc, rng=0)
    for _ in range(6):
        model.step()
    north = model.powers[0]
    assert north.spec.id == "north"
    mix = north.lever_mix
    assert list(mix) == ["aid", "security", "rhetoric"]
    assert abs(sum(mix.values()) - 1.0) < 1e-12
    np.testing.assert_array_equal(list(mix.values()), model.world.mix[0, 0])
    assert mix["security"] < sc.powers[0].strategy.lever_mix.security
