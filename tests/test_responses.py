"""Powers decide how to answer a state's drift: court it, punish it or ignore it (issue 14 item 2).

``dynamics.choose_response`` compares, for each drifting state, the one-month gain of courting
(more money there, its return elsewhere counted against it) and of punishing (a harder threat)
in the power's objective in that state. Checked here, on hand-made scenarios: punishing pays
where the threatened state depends on the power and has no alternative (it bandwagons), and
not where another power is there for it (it balances); a drift below the threshold is ignored,
so the status quo stays a fixed point; a fixed disposition stays fixed; both engines take and
log the same decisions; the Mesa power agents expose them.
"""

import numpy as np
from conftest import alpha_between, write_yaml

from sim.input.scenario import load_scenario
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel

BANDWAGON = (0.9, 0.0, 0.0)
"""Alpha's ties (North, East, East's security tie): dependent on North, no alternative."""
BALANCE = (0.3, 0.8, 0.9)
"""Alpha's ties: little on North, a credible East."""


def _deciding(tmp_path, mini_raw, name, ties, **model):
    """Mini with North choosing its response; the war on North's credibility makes alpha drift."""
    mini_raw["model"] = {"noise": 0.0, "response_threshold": 0.001, "trust_loss": 0.0, **model}
    mini_raw["powers"][0]["strategy"]["response"] = "decide"
    alpha_between(mini_raw, *ties)
    mini_raw["events"] = [e for e in mini_raw["events"] if e["id"] in ("war",)]
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def _north_toward_alpha(sc):
    batch = simulate([sc], [3], "ensemble")
    north = sc.power_ids.index("north")
    drift = batch.values["alignment"][0, :, 0, north] < batch.values["alignment"][0, 0, 0, north]
    return batch.values["response"][0, :, 0, north], drift


def test_a_power_punishes_a_dependent_state_without_an_alternative(tmp_path, mini_raw):
    sc = _deciding(tmp_path, mini_raw, "bandwagon", BANDWAGON)
    response, drift = _north_toward_alpha(sc)
    assert drift[1:].any()  # the war makes alpha drift away from North
    assert (response == -1.0).any()  # and North answers with threats, which pull alpha back


def test_a_power_does_not_punish_a_state_with_a_credible_alternative(tmp_path, mini_raw):
    sc = _deciding(tmp_path, mini_raw, "balance", BALANCE)
    response, drift = _north_toward_alpha(sc)
    assert drift[1:].any()
    assert not (response == -1.0).any()  # a threat would push alpha toward East


def test_drift_below_the_threshold_is_ignored_and_the_status_quo_holds(tmp_path, mini_raw):
    sc = _deciding(tmp_path, mini_raw, "quiet", BANDWAGON, response_threshold=0.5)
    response, drift = _north_toward_alpha(sc)
    assert drift[1:].any()
    assert (response == 0.0).all()
    mini_raw["events"] = []
    mini_raw["model"]["response_threshold"] = 0.0
    calm = load_scenario(write_yaml(tmp_path / "calm.yaml", mini_raw)).scenario
    batch = simulate([calm], [3], "ensemble")
    assert (batch.values["response"][0, :, :, 0] == 0.0).all()  # nothing drifts: no response
    assert np.ptp(batch.values["alignment"][0], axis=0).max() < 1e-12


def test_a_fixed_disposition_stays_fixed(tmp_path, mini_raw):
    sc = load_scenario(write_yaml(tmp_path / "fixed.yaml", mini_raw)).scenario
    batch = simulate([sc], [3], "ensemble")
    north, east = sc.power_ids.index("north"), sc.power_ids.index("east")
    assert (batch.values["response"][0, :, :, north] == -1.0).all()  # punish, as written
    assert (batch.values["response"][0, :, :, east] == 1.0).all()  # court
    assert not any(e["id"] == "response" for e in batch.events[0])  # nothing was decided


def test_both_engines_take_log_and_expose_the_same_responses(tmp_path, mini_raw):
    sc = _deciding(tmp_path, mini_raw, "engines", BANDWAGON)
    mesa, ens = simulate([sc], [5], "mesa"), simulate([sc], [5], "ensemble")
    np.testing.assert_array_equal(mesa.values["response"], ens.values["response"])
    logged = [e for e in mesa.events[0] if e["id"] == "response"]
    assert logged and logged == [e for e in ens.events[0] if e["id"] == "response"]
    assert logged[0]["who"] == "north" and logged[0]["outcome"] == "punishes alpha"
    model = GreatGameModel(sc, rng=5)
    model.run()
    final = ens.values["response"][0, -1]
    names = {1.0: "courts", -1.0: "punishes", 0.0: "ignores"}
    for power in model.powers:
        expected = {s: names[float(final[i, power.index])] for i, s in enumerate(sc.state_ids)}
        assert power.responses == expected
