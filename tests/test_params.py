"""Numbers by path: provenance listing and replacement."""

import pytest

from sim.input.errors import ScenarioError
from sim.input.params import collect_numbers, with_values
from sim.input.scenario import load_scenario


def test_collect_numbers_uses_ids_and_sees_provenance(tmp_path, mini_path):
    text = mini_path.read_text().replace(
        "credibility: 0.6",
        "credibility: {value: 0.6, assumption: {range: [0.4, 0.8], note: judgement}}",
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    numbers = {n.path: n for n in collect_numbers(load_scenario(path).raw)}
    assert numbers["powers.east.credibility"].range == (0.4, 0.8)
    assert numbers["powers.east.credibility"].sourced
    assert not numbers["powers.north.credibility"].sourced
    assert numbers["states.beta.dependence.north.remittances"].value == 0.9
    assert numbers["events.package.magnitude"].value == 50


def test_with_values_replaces_and_validates(mini_path):
    loaded = load_scenario(mini_path)
    sc = with_values(loaded, {"powers.north.strategy.threat_intensity": 0.9, "model.noise": 0.2})
    assert sc.powers[0].strategy.threat_intensity == 0.9 and sc.model.noise == 0.2
    assert loaded.scenario.powers[0].strategy.threat_intensity == 0.3  # original untouched
    with pytest.raises(ScenarioError, match=r"no power 'nort' \(did you mean 'north'\?\)"):
        with_values(loaded, {"powers.nort.credibility": 0.5})
    with pytest.raises(ScenarioError, match=r"unknown key 'thret' \(did you mean 'threat'\?\)"):
        with_values(loaded, {"model.weights.thret": 1.0})
    with pytest.raises(ScenarioError, match="less than or equal to 1"):
        with_values(loaded, {"powers.north.credibility": 3.0})


def test_with_values_never_touches_the_loaded_document(mini_path):
    import copy

    loaded = load_scenario(mini_path)
    before = copy.deepcopy(loaded.raw)
    with_values(
        loaded,
        {
            "powers.east.strategy.lever_mix.aid": 0.6,
            "powers.east.strategy.lever_mix.rhetoric": 0.3,
            "states.beta.dependence.north.trade": 0.1,
            "events.war.magnitude": -0.5,
            "model.weights.threat": 2.5,
        },
    )
    assert loaded.raw == before
