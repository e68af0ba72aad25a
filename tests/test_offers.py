"""States decide whether to accept the aid and arms packages powers offer them.

Issue 14 item 1: ``accept_offer`` is checked against a hand computation (the package's worth in
the state's economy against the anger of the offering power's rivals); a refused package never
lands; on the mini scenario the answer follows ``offer_cost``, both engines agree and log it,
and the Mesa state agents expose their answers.
"""

import numpy as np
import pytest
from conftest import write_yaml

from sim.input.bundled import resolve_scenario
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import accept_offer, apply_event
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel
from sim.results.validation import validate


def _mini(tmp_path, mini_raw, cost, name="offers"):
    mini_raw["model"] = {"noise": 0.0, "offer_cost": cost}
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def test_a_package_is_taken_when_it_is_worth_more_than_the_rivals_anger(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, 1.0)
    params, world = compile_run(sc)
    beta, east, north = sc.state_ids.index("beta"), sc.power_ids.index("east"), 0
    amount = np.array([2.0])
    gain = 1.0 - np.exp(-2.0 / (params.aid_scale[0] * params.gdp_month[0, beta]))
    anger = 0.8 * world.alignment[0, beta, north] / 1  # North's rivalry toward East, P - 1 = 1
    assert accept_offer(world, params, beta, east, amount, False)[0] == (gain > anger)
    arms = world.capacity[0, east] * gain  # an arms deal counts what East's forces can back
    assert accept_offer(world, params, beta, east, amount, True)[0] == (arms > anger)
    # the state weighs the two: a cost that scales the anger above the gain turns it down
    params.model["offer_cost"] = np.array([1.01 * gain / anger])
    assert not accept_offer(world, params, beta, east, amount, False)[0]
    params.model["offer_cost"] = np.array([0.99 * gain / anger])
    assert accept_offer(world, params, beta, east, amount, False)[0]


def test_a_refused_package_never_lands(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, 5.0)
    params, world = compile_run(sc)
    beta, east = sc.state_ids.index("beta"), sc.power_ids.index("east")
    (answer,) = apply_event(world, params, "aid_package", [east], [beta], np.array([50.0]))
    assert answer.offer and answer.state == beta and answer.power[0] == east
    assert not answer.yes[0]
    assert world.extra_aid[0, beta, east] == 0.0 and world.offer[0, beta, east] == -1.0
    params.model["offer_cost"] = np.array([0.0])  # no weight on anger: any package is taken
    (answer,) = apply_event(world, params, "aid_package", [east], [beta], np.array([50.0]))
    assert answer.yes[0] and world.extra_aid[0, beta, east] == 50.0
    assert world.offer[0, beta, east] == 1.0


@pytest.mark.parametrize(("cost", "answer"), [(0.0, "accepts"), (5.0, "refuses")])
def test_both_engines_log_the_answer_and_the_mesa_state_exposes_it(
    tmp_path, mini_raw, cost, answer
):
    sc = _mini(tmp_path, mini_raw, cost)
    fast = simulate([sc], [3], "ensemble")
    model = GreatGameModel(sc, rng=3)
    batch = model.run()
    for name, values in fast.values.items():
        np.testing.assert_allclose(batch.values[name], values, rtol=0, atol=1e-12)
    (package,) = [e for e in batch.events[0] if e["id"] == "package"]
    assert package["outcome"] == f"beta {answer}"
    assert package == next(e for e in fast.events[0] if e["id"] == "package")
    beta = next(s for s in model.states if s.spec.id == "beta")
    assert beta.offers == {"east": "accepted" if cost == 0.0 else "refused"}
    alpha = next(s for s in model.states if s.spec.id == "alpha")
    assert alpha.offers == {}  # offered nothing


def test_fact_k_reads_the_answer_to_each_package_not_the_latest_one(tmp_path):
    """At offer_cost 1 Kazakhstan refuses the Anka deal and Tajikistan the small US vehicle
    gift, but not the US security package of the same month: fact (k) fails on Kazakhstan
    alone."""
    path = tmp_path / "wary.yaml"
    path.write_text(f"extends: {resolve_scenario('baseline_2022')}\nmodel: {{offer_cost: 1.0}}\n")
    wary = load_scenario(path)
    run = simulate([wary.scenario], [1], "ensemble")
    outcome = {e["id"]: e["outcome"] for e in run.events[0]}
    assert outcome["us_security_package_tajikistan"] == "tajikistan accepts"
    assert outcome["us_vehicles_tajikistan"] == "tajikistan refuses"  # the later US package
    assert outcome["turkey_kazakhstan_anka"] == "kazakhstan refuses"
    tj, usa = wary.scenario.state_ids.index("tajikistan"), wary.scenario.power_ids.index("usa")
    assert run.values["offer"][0, -1, tj, usa] == -1.0  # the latest answer to the USA
    (k,) = [r for r in validate(wary, replicates=3, seed=0) if r.key == "k"]
    assert not k.passed and k.measured == "accepted: kaz 0%; kyr 100%; taj 100%"
