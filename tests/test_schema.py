"""The JSON Schema of scenario files (``greatgame schema``), checked with ``jsonschema``.

Every bundled scenario must validate, complete files against the full model and ``extends:``
files against the derived partial variant; both variants must still refuse wrong values; and
every property must carry a description, since the schema is the documentation editors show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from sim.input.errors import ScenarioError
from sim.input.scenario import load_scenario, scenario_json_schema, validate_document

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return scenario_json_schema()


@pytest.fixture(scope="module")
def validator(schema) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture
def baseline() -> dict:
    return yaml.safe_load(BASELINE.read_text(encoding="utf-8"))


def problems(validator: Draft202012Validator, doc) -> set[tuple[tuple, str]]:
    """(path in the document, failing schema keyword) of every error, sub-errors included."""
    out: set[tuple[tuple, str]] = set()
    stack = list(validator.iter_errors(doc))
    while stack:
        error = stack.pop()
        out.add((tuple(error.absolute_path), error.validator))
        stack.extend(error.context or ())
    return out


def paths(validator: Draft202012Validator, doc) -> set[tuple]:
    return {path for path, _ in problems(validator, doc)}


def pydantic_rejects(doc: dict) -> bool:
    try:
        validate_document(doc, "test.yaml")
    except ScenarioError:
        return True
    return False


def partial(**sections) -> dict:
    return {"extends": "baseline_2022.yaml", **sections}


# --- the schema itself -------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema_with_a_title(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"].strip()
    assert schema["description"].strip()


def test_both_kinds_of_bundled_file_are_present():
    kinds = {"extends" in yaml.safe_load(f.read_text(encoding="utf-8")) for f in SCENARIOS}
    assert kinds == {True, False}, "expected complete files and extends: files in scenarios/"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_bundled_scenario_validates(validator, path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_merged_scenario_validates_as_a_complete_file(validator, path):
    merged = load_scenario(path).raw
    assert "extends" not in merged
    assert not paths(validator, merged)


# --- complete files ----------------------------------------------------------------------------


def test_complete_file_with_a_string_budget_is_refused(validator, baseline):
    baseline["powers"][0]["monthly_budget"] = "a lot"
    assert ("powers", 0, "monthly_budget") in paths(validator, baseline)
    assert pydantic_rejects(baseline)


def test_complete_file_with_an_unknown_top_level_key_is_refused(validator, baseline):
    baseline["actors"] = []
    assert ((), "additionalProperties") in problems(validator, baseline)
    assert pydantic_rejects(baseline)


def test_complete_file_must_be_complete(validator, baseline):
    del baseline["meta"]
    del baseline["powers"][0]["credibility"]
    found = problems(validator, baseline)
    assert ((), "required") in found
    assert (("powers", 0), "required") in found
    assert pydantic_rejects(baseline)


def test_a_null_extends_makes_a_complete_file(validator):
    # the loader treats `extends: null` as no base, so the file must then be complete
    assert ((), "required") in problems(validator, {"extends": None, "model": {"noise": 0.01}})


def test_complete_file_with_a_number_out_of_bounds_is_refused(validator, baseline):
    baseline["states"][0]["alignment"]["russia"] = 1.5
    assert ("states", 0, "alignment", "russia") in paths(validator, baseline)
    assert pydantic_rejects(baseline)


# --- partial (extends:) files ------------------------------------------------------------------


def test_partial_file_may_omit_anything_and_null_removes(validator):
    doc = partial(
        meta={"name": "variant", "description": None},
        powers=[{"id": "russia", "kin_minority_weight": None, "strategy": {"courting": 0.5}}],
        states=[{"id": "kazakhstan", "alignment": {"russia": None}, "dependence": {"china": {}}}],
        model=None,
        events=[{"id": "western_sanctions", "enabled": False}],
    )
    assert not paths(validator, doc)


def test_partial_file_with_a_string_budget_is_refused(validator):
    doc = partial(powers=[{"id": "russia", "monthly_budget": "a lot"}])
    assert ("powers", 0, "monthly_budget") in paths(validator, doc)


def test_partial_file_with_a_string_parameter_is_refused(validator):
    doc = partial(model={"noise": "high", "weights": {"threat": "strong"}})
    found = paths(validator, doc)
    assert ("model", "noise") in found
    assert ("model", "weights", "threat") in found


def test_partial_file_keeps_bounds_types_and_patterns(validator):
    doc = partial(
        model={"noise": 0.9},  # above its maximum 0.5
        states=[{"id": "kazakhstan", "trust": {"russia": -0.1}}],
        events=[{"id": "new_event", "date": "2022-13", "type": "invasion"}],
        meta={"start": "January"},
    )
    found = paths(validator, doc)
    assert {
        ("model", "noise"),
        ("states", 0, "trust", "russia"),
        ("events", 0, "date"),
        ("events", 0, "type"),
        ("meta", "start"),
    } <= found


def test_partial_file_refuses_unknown_keys_at_every_level(validator):
    found = problems(validator, partial(actors=[]))
    assert ((), "additionalProperties") in found
    found = problems(validator, partial(powers=[{"id": "russia", "budget": 10}]))
    assert (("powers", 0), "additionalProperties") in found
    found = problems(validator, partial(powers=[{"id": "russia", "rivalry": {"usa": {"val": 1}}}]))
    assert ("powers", 0, "rivalry", "usa") in {path for path, _ in found}


def test_partial_list_items_need_their_id(validator):
    doc = partial(powers=[{"monthly_budget": 100}], events=[{"id": None, "enabled": False}])
    found = paths(validator, doc)
    assert ("powers", 0) in found
    assert ("events", 0, "id") in found


def test_partial_file_with_a_non_string_extends_is_not_partial(validator):
    # a number is no file name: the file is judged complete, and refused
    assert ((), "required") in problems(validator, {"extends": 3, "model": {"noise": 0.01}})


def test_partial_variant_is_derived_for_every_model(schema):
    defs = schema["$defs"]
    models = [name for name, sub in defs.items() if "properties" in sub and name[:7] != "Partial"]
    assert {"Scenario", "Meta", "Power", "State", "Event", "ModelParams"} <= set(models)
    for name in models:
        part = defs[f"Partial{name}"]
        # an item of an id list may also be {id: x, remove: true} in an extends: file
        removable = {"remove"} if name in ("Power", "State", "Event") else set()
        assert set(part["properties"]) == set(defs[name]["properties"]) | removable, name
        assert set(part.get("required", [])) <= {"id"}, name
        assert part.get("additionalProperties") == defs[name].get("additionalProperties"), name
    assert set(schema["properties"]) == set(defs["Scenario"]["properties"])
    assert schema["else"] == {"$ref": "#/$defs/Scenario"}


# --- descriptions ------------------------------------------------------------------------------


def all_properties(node, where="#"):
    """Yield (location, name, schema) of every property of every object schema in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("default", "enum", "const", "examples"):
                continue  # data, not schemas
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield where, name, sub
                    yield from all_properties(sub, f"{where}/properties/{name}")
            else:
                yield from all_properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from all_properties(item, f"{where}/{i}")


def test_every_property_has_a_description(schema):
    props = list(all_properties(schema))
    assert len(props) > 300  # the walk reaches the inline provenance objects too
    missing = [
        f"{where}: {name}"
        for where, name, sub in props
        if not (isinstance(sub.get("description"), str) and sub["description"].strip())
    ]
    assert not missing, f"{len(missing)} of {len(props)} properties lack a description: {missing}"


def test_every_definition_has_a_description(schema):
    for name, sub in schema["$defs"].items():
        assert sub.get("description", "").strip(), name


def number_branch(sub: dict) -> dict | None:
    return next((b for b in sub.get("anyOf", []) if b.get("type") == "number"), None)


def test_ranges_quoted_in_descriptions_match_the_bounds(schema):
    checked = 0
    for name, sub in schema["$defs"]["Scenario"]["properties"].items():
        assert sub["description"], name
    for _, name, sub in all_properties(schema["$defs"]):
        number = number_branch(sub)
        if number is None:
            continue
        quoted = re.findall(r"\bin \[(-?[\d.e+-]+), (-?[\d.e+-]+)\]", sub["description"])
        if len(quoted) == 1:
            low, high = map(float, quoted[0])
            assert (number.get("minimum"), number.get("maximum")) == (low, high), name
            checked += 1
        floor = re.findall(r"\bat least (-?[\d.e+-]+)\b", sub["description"])
        if floor:
            assert number.get("minimum") == float(floor[0]), name
            assert "maximum" not in number, name
            checked += 1
    assert checked > 50
