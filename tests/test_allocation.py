"""Powers move their spending over the states toward the states where it pays (issue 14 item 2).

``dynamics.learn_weights`` moves each power's allocation weights from its priorities toward the
states whose marginal return (one more USD million there, spent with the habitual lever mix,
one month ahead through the model's own equations) has risen against the initial state's.
Checked here: the rule by hand on given returns (the weight of a state whose return rose grows,
the weights keep their sum, a rate of 0 changes nothing); the status quo stays a fixed point
when powers learn; a power's returns on a state depend on its own spending only; on the
baseline Russia turns its spending toward Tajikistan; the Mesa power agents expose the weights.
"""

from dataclasses import replace

import numpy as np
from conftest import write_yaml

from sim.input.bundled import resolve_scenario
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import Returns, habit_returns, learn_weights
from sim.model.ensemble import prepare, simulate_ensemble
from sim.model.mesa_model import GreatGameModel


def _mini(tmp_path, mini_raw, name="weights", **model):
    mini_raw["model"] = {"noise": 0.0, **model}
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def test_learn_weights_by_hand(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, allocation_learning=0.5)
    params, state = compile_run(sc)
    r0 = np.array([[[1.0, 2.0], [2.0, 2.0], [1.0, 2.0]]])  # (B, S, P)
    params = replace(params, base_state_returns=r0)
    risen = r0.copy()
    risen[0, 1, 0] = 3.0  # North's return on beta rises by 1
    new = learn_weights(state, params, returns=Returns(params.base_returns, risen))
    pi = params.priority[0, :, 0]
    share0 = pi / pi.sum()
    rho = np.array([1.0, 1.0 + 1.0 / (share0 @ r0[0, :, 0]), 1.0])
    toward = pi * rho * pi.sum() / (pi * rho).sum()
    np.testing.assert_allclose(new[0, :, 0], 0.5 * pi + 0.5 * toward, rtol=0, atol=1e-15)
    assert new[0, 1, 0] > pi[1]  # more weight where the return rose
    assert abs(new[0, :, 0].sum() - pi.sum()) < 1e-12  # taken from the other states
    np.testing.assert_array_equal(new[0, :, 1], params.priority[0, :, 1])  # East's did not move
    still = learn_weights(
        state,
        replace(params, model={**params.model, "allocation_learning": np.zeros(1)}),
        returns=Returns(params.base_returns, risen),
    )
    np.testing.assert_array_equal(still, state.weights)


def test_the_status_quo_stays_a_fixed_point_when_powers_learn_where_to_spend(tmp_path, mini_raw):
    mini_raw["events"] = []
    sc = _mini(tmp_path, mini_raw, "quiet", allocation_learning=0.2, mix_learning=0.2)
    params, state = compile_run(sc)
    np.testing.assert_array_equal(habit_returns(state, params).states, params.base_state_returns)
    ens = prepare(sc, [0])
    simulate_ensemble(ens, keep="summary")
    np.testing.assert_allclose(ens.state.weights, params.priority, rtol=0, atol=1e-12)


def test_a_powers_return_on_a_state_depends_on_its_own_spending_only(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, "own", allocation_learning=0.2)
    params, state = compile_run(sc)
    state.capacity[:, 0] *= 0.5
    before = habit_returns(state, params).states
    east = 1
    state.weights[:, :, east] = state.weights[:, ::-1, east]  # East plans otherwise
    after = habit_returns(state, params).states
    np.testing.assert_array_equal(after[:, :, 0], before[:, :, 0])
    np.testing.assert_array_equal(
        learn_weights(state, params, powers=slice(0, 1)), learn_weights(state, params)[:, :, 0:1]
    )


def test_on_the_baseline_russia_turns_its_spending_toward_tajikistan():
    sc = load_scenario(resolve_scenario("baseline_2022")).scenario
    ens = prepare(sc, list(range(8)))
    start = ens.state.weights.copy()
    simulate_ensemble(ens, keep="summary")
    ru, tj = sc.power_ids.index("russia"), sc.state_ids.index("tajikistan")
    share = ens.state.weights / ens.state.weights.sum(axis=1, keepdims=True)
    share0 = start / start.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ens.state.weights.sum(axis=1), start.sum(axis=1), rtol=1e-12)
    assert (ens.state.weights >= 0.0).all()
    assert (share[:, tj, ru] > share0[:, tj, ru] + 0.05).all()  # its client, where money pays


def test_mesa_power_agents_expose_their_allocation_weights(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, "mesa", allocation_learning=0.2)
    model = GreatGameModel(sc, rng=0)
    for _ in range(6):
        model.step()
    north = model.powers[0]
    assert list(north.weights) == sc.state_ids
    np.testing.assert_array_equal(list(north.weights.values()), model.world.weights[0, :, 0])
    assert north.weights != {s: sc.powers[0].strategy.priorities.get(s, 1.0) for s in sc.state_ids}
