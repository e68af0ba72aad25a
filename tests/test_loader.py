"""The loader accepts valid files and rejects bad ones with file, line, path and a hint."""

import json

import pytest
from conftest import write_yaml

from sim.cli import main
from sim.input.errors import ScenarioError
from sim.input.scenario import load_scenario


def _error(path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def test_mini_loads(mini_path):
    loaded = load_scenario(mini_path)
    assert loaded.scenario.power_ids == ["north", "east"]
    assert loaded.scenario.n_steps == 12
    assert len(loaded.sha256) == 64


def test_unknown_key_names_path_line_and_suggestion(tmp_path, mini_path):
    text = mini_path.read_text().replace("    alignment: {north: 0.8", "    alignmnet: {north: 0.8")
    bad = tmp_path / "typo.yaml"
    bad.write_text(text)
    msg = _error(bad)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "alignmnet" in row)
    assert f"{bad}:{line}: states[1].alignmnet: unknown key 'alignmnet'" in msg
    assert "did you mean 'alignment'?" in msg


def test_wrong_type(tmp_path, mini_raw):
    mini_raw["powers"][0]["monthly_budget"] = "lots"
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "powers[0].monthly_budget: expected a valid number" in msg
    assert "found 'lots'" in msg


def test_out_of_range_value(tmp_path, mini_raw):
    mini_raw["states"][2]["alignment"]["north"] = 1.4
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "states[2].alignment.north: expected " in msg
    assert "less than or equal to 1" in msg and "found 1.4" in msg


def test_unknown_power_in_event_suggests_nearest(tmp_path, mini_raw):
    mini_raw["events"][3]["actors"] = ["nroth"]
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "events[3].actors[0]: unknown power id 'nroth' (did you mean 'north'?)" in msg


def test_unknown_state_without_close_match_lists_valid_ids(tmp_path, mini_raw):
    mini_raw["events"][3]["targets"] = ["zzz"]
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "unknown state id 'zzz'; known state ids: alpha, beta, gamma" in msg


def test_malformed_yaml_reports_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("meta:\n  name: x\n  start: [2022-01\npowers: []\n")
    msg = _error(bad)
    assert msg.startswith(f"{bad}:")
    assert "malformed YAML" in msg
    line = int(msg.split(":")[1])
    assert 3 <= line <= 4


def test_an_impossible_unquoted_date_names_its_line(tmp_path, capsys):
    bad = tmp_path / "date.yaml"
    bad.write_text("meta:\n  name: x\n  start: 2022-01\nevents:\n  - {id: e, date: 2022-02-30}\n")
    msg = _error(bad)
    assert msg.startswith(f"{bad}:5:") and "'2022-02-30' looks like a date" in msg
    assert main(["check", str(bad)]) == 2
    assert "2022-02-30" in capsys.readouterr().err


def test_python_tags_are_refused(tmp_path):
    bad = tmp_path / "evil.yaml"
    bad.write_text("meta: !!python/object/apply:os.system ['echo hacked']\n")
    assert "unsupported YAML tag" in _error(bad)


def test_empty_and_non_mapping_files(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert "empty file" in _error(empty)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    assert "expected a mapping of sections at top level, found list" in _error(listing)


def test_missing_file(tmp_path):
    assert "cannot read file" in _error(tmp_path / "nope.yaml")


def test_event_outside_period_and_bad_magnitude(tmp_path, mini_raw):
    mini_raw["events"][0]["date"] = "2023-05"
    mini_raw["events"][1]["magnitude"] = -3
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "events[1]: expected magnitude in [-1, 5] for power_shock" in msg


def test_event_date_outside_period(tmp_path, mini_raw):
    mini_raw["events"][0]["date"] = "2023-05"
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "events[0].date: expected a month from 2022-01 to 2022-12, found 2023-05" in msg


def test_lever_mix_must_sum_to_one(tmp_path, mini_raw):
    mini_raw["powers"][1]["strategy"]["lever_mix"]["aid"] = 0.9
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "powers[1].strategy.lever_mix: expected aid + security + rhetoric = 1, found 1.2" in msg


def test_missing_power_in_alignment(tmp_path, mini_raw):
    del mini_raw["states"][0]["trust"]["east"]
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "states[0].trust: expected a value for every power, missing ['east']" in msg


def test_provenance_forms(tmp_path, mini_raw):
    mini_raw["powers"][0]["credibility"] = {"value": 0.6, "evidence": ["seed.txt"]}
    mini_raw["powers"][1]["credibility"] = {
        "value": 0.5,
        "assumption": {"range": [0.3, 0.7], "note": "judgement"},
    }
    sc = load_scenario(write_yaml(tmp_path / "ok.yaml", mini_raw)).scenario
    assert [p.credibility for p in sc.powers] == [0.6, 0.5]
    mini_raw["powers"][1]["credibility"]["value"] = 0.9
    assert "expected a value within its assumption range [0.3, 0.7], found 0.9" in _error(
        write_yaml(tmp_path / "bad.yaml", mini_raw)
    )


def test_extends_deep_merges_and_reports_child_file(tmp_path, mini_path):
    base = tmp_path / "base.yaml"
    base.write_text(mini_path.read_text())
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: base.yaml\n"
        "meta: {name: child}\n"
        "powers:\n  - id: north\n    credibility: 0.2\n"
        "events:\n  - {id: war, enabled: false}\n"
    )
    loaded = load_scenario(child)
    sc = loaded.scenario
    assert sc.meta.name == "child" and sc.meta.start == "2022-01"
    assert sc.powers[0].credibility == 0.2 and sc.powers[0].monthly_budget == 20
    assert [e.enabled for e in sc.events if e.id == "war"] == [False]
    assert loaded.files[1] == base.resolve()
    child.write_text(child.read_text() + "stats: {}\n")
    msg = _error(child)
    assert msg.startswith(f"{child}:8: stats: unknown key 'stats' (did you mean 'states'?)")


def test_check_cli_typo_exits_2(tmp_path, mini_path, capsys):
    bad = tmp_path / "typo.yaml"
    bad.write_text(mini_path.read_text().replace("credibility: 0.6", "credibilty: 0.6"))
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "powers[1].credibilty: unknown key 'credibilty' (did you mean 'credibility'?)" in err
    assert "Traceback" not in err
    assert main(["check", str(mini_path)]) == 0


def test_schema_cli_prints_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert {"meta", "powers", "states", "events"} <= set(schema["properties"])


def test_nan_dates_and_enum_typos(tmp_path, mini_path):
    text = mini_path.read_text()
    cases = {
        ("credibility: 0.7", "credibility: .nan"): "credibility: expected a finite number",
        ("start: 2022-01", "start: 2022-01-05"): "meta.start: expected a month as YYYY-MM",
        ("type: threat", "type: thraet"): "found 'thraet' (did you mean 'threat'?)",
        ("credibility: 0.7", "credibility: {valeu: 0.7}"): "'valeu' (did you mean 'value'?)",
    }
    for (old, new), expected in cases.items():
        bad = tmp_path / "case.yaml"
        bad.write_text(text.replace(old, new, 1))
        assert expected in _error(bad), (old, new)


def test_single_actor_events_reject_several_actors(tmp_path, mini_raw):
    mini_raw["events"][3]["actors"] = ["north", "east"]  # a threat has one author
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "events[3]: expected exactly 1 power(s) in actors for threat, found 2" in msg
    mini_raw["events"][3]["actors"] = ["north"]
    mini_raw["events"][2]["actors"] = ["alpha"]
    msg = _error(write_yaml(tmp_path / "t.yaml", mini_raw))
    assert "expected exactly 2 state(s) in actors for border_conflict, found 1" in msg


def test_typo_inside_a_mapping_keyed_by_id_gets_a_suggestion(tmp_path, mini_path):
    bad = tmp_path / "typo.yaml"
    text = mini_path.read_text()
    bad.write_text(
        text.replace("north: {trade: 0.4, remittances: 0.1", "north: {trde: 0.4, remittances: 0.1")
    )
    msg = _error(bad)
    assert "states[0].dependence.north.trde: unknown key 'trde' (did you mean 'trade'?)" in msg


def test_duplicated_keys_and_ids_are_refused(tmp_path, mini_path):
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        mini_path.read_text().replace(
            "    credibility: 0.7\n", "    credibility: 0.7\n    credibility: 0.2\n", 1
        )
    )
    assert "powers[0].credibility: duplicated key 'credibility' (first at line 13)" in _error(twice)
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {mini_path}\nmeta: {{name: x}}\nevents:\n"
        "  - {id: war, enabled: false}\n  - {id: war, magnitude: -0.9}\n"
    )
    assert f"{child}:5: events[1].id: duplicated id 'war' (first at line 4)" in _error(child)


def test_extends_removes_a_power_a_state_or_an_event_by_id(tmp_path, mini_path):
    import jsonschema
    import yaml

    from sim.input.scenario import scenario_json_schema

    base = tmp_path / "base.yaml"
    base.write_text(mini_path.read_text())
    child = tmp_path / "child.yaml"
    text = (
        "extends: base.yaml\n"
        "meta: {name: smaller}\n"
        "states:\n"
        "  - {id: gamma, remove: true}\n"
        "  - {id: beta, neighbours: [alpha]}\n"
        "events:\n"
        "  - {id: menace, remove: true}\n"
    )
    child.write_text(text)
    sc = load_scenario(child).scenario
    assert sc.state_ids == ["alpha", "beta"]
    assert [e.id for e in sc.events] == ["unrest", "war", "clash", "package"]
    jsonschema.validate(yaml.safe_load(text), scenario_json_schema())  # editors accept it too
    # a removal that names nothing, or carries more than the id, is an error at its own line
    child.write_text(text + "  - {id: menance, remove: true}\n")
    msg = _error(child)
    assert msg.startswith(f"{child}:8: events[1].id: cannot remove 'menance'")
    assert "(did you mean 'menace'?)" in msg
    child.write_text(text + "  - {id: atlantis, remove: true}\n")
    assert "(it has: unrest, war, clash, menace, package)" in _error(child)
    child.write_text(
        text.replace("{id: menace, remove: true}", "{id: menace, remove: true, date: 2022-05}")
    )
    assert f"{child}:7: events[0]: a removed item takes only id and remove" in _error(child)
    child.write_text(text.replace("{id: menace, remove: true}", "{id: menace, remove: yes please}"))
    assert f"{child}:7: events[0].remove: expected remove: true" in _error(child)
    # what still names a removed item is reported as any unknown id would be
    child.write_text(text.replace("  - {id: beta, neighbours: [alpha]}\n", ""))
    assert "gamma" in _error(child)
