"""One declaration per model parameter: everything else is derived from the schema's fields.

A model parameter is a field of ``ModelParams`` (or of ``Weights`` / ``ChannelWeights``). These
tests check that the arrays of ``Params``, the sweepable paths and the ODD's table cover every
such field, and, with a model extended by a throwaway field, that a new field is picked up
without touching any of them.
"""

import math
from dataclasses import fields
from typing import Annotated

import numpy as np
import pytest
from conftest import DATA, ROOT
from pydantic import BaseModel, Field, create_model

from sim.input.errors import ScenarioError
from sim.input.modelparams import (
    TABLE_BEGIN,
    TABLE_END,
    main,
    model_parameters,
    params_table,
)
from sim.input.params import with_values
from sim.input.scenario import (
    CHANNELS,
    ChannelWeights,
    ModelParams,
    Symbol,
    Unit,
    Weights,
    load_scenario,
)
from sim.model.compile import model_arrays, to_params
from sim.model.dynamics import Params
from sim.sweep.spec import validate_spec

BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
PARAMS = model_parameters()


@pytest.fixture(scope="module")
def mini():
    return load_scenario(DATA / "mini.yaml")


def _array_name(path: str) -> str:
    """The ``Params`` field of a model parameter, by the naming rule of ``model_arrays``."""
    parts = path.split(".")[1:]
    return parts[0] if len(parts) == 1 else f"w_{parts[1]}"


def _distinct(i: int, p) -> float:
    """A valid value of parameter ``p`` that no other parameter gets (the i-th)."""
    high = min(p.high, p.low + 1.0)
    return p.low + (i + 1) / 100 * (high - p.low)


# --- the declaration ---------------------------------------------------------------------------


def test_every_field_of_the_schema_is_a_parameter_with_its_bounds_and_symbol():
    groups = {"weights": Weights, "channel_weights": ChannelWeights}
    expected = [f"model.{name}" for name in ModelParams.model_fields if name not in groups] + [
        f"model.{g}.{name}" for g, cls in groups.items() for name in cls.model_fields
    ]
    assert sorted(p.path for p in PARAMS) == sorted(expected)
    by_path = {p.path: p for p in PARAMS}
    assert by_path["model.noise"].low == 0.0 and by_path["model.noise"].high == 0.5
    assert by_path["model.weights.affinity"].low == 0.0
    assert by_path["model.channel_weights.trade"].high == 1000.0
    assert by_path["model.drift_scale"].default == ModelParams().drift_scale
    for p in PARAMS:
        assert p.symbol and p.description, p.path
        assert p.low <= p.default <= p.high, p.path
        assert p.value_of(ModelParams()) == p.default, p.path


# --- (a) the arrays ----------------------------------------------------------------------------


def test_every_model_parameter_fills_its_array_by_name_and_nothing_else_is_a_per_run_scalar(mini):
    values = {p.path: _distinct(i, p) for i, p in enumerate(PARAMS)}
    params = to_params(with_values(mini, values))
    structural = {f.name for f in fields(Params)} - {"model"}
    assert not structural & set(params.model), "a model parameter is also a field of Params"
    assert not any(getattr(params, f).shape == (1,) for f in structural)
    vector = [p for p in PARAMS if p.group == "channel_weights"]
    assert set(params.model) == {_array_name(p.path) for p in PARAMS if p not in vector} | {
        "channel_weights"
    }
    for p in PARAMS:
        if p not in vector:
            assert getattr(params, _array_name(p.path)).tolist() == [values[p.path]], p.path
    assert [p.name for p in vector] == list(CHANNELS)
    cw = np.array([values[p.path] for p in vector])
    assert np.array_equal(params.channel_weights, (cw / cw.sum())[None])


# --- (c) the sweepable paths -------------------------------------------------------------------


def _spec(mini_path, parameters: dict) -> dict:
    return {
        "scenario": str(mini_path),
        "design": "lhs",
        "samples": 2,
        "parameters": {k: list(v) for k, v in parameters.items()},
    }


def _top(p) -> float:
    return p.high if math.isfinite(p.high) else p.low + 1e3


def test_every_model_parameter_is_a_sweep_path_over_its_whole_schema_range(mini_path):
    ranges = {p.path: (p.low, _top(p)) for p in PARAMS}
    # all five channel weights at 0 at once is no valid scenario (issue 12): hold one above 0
    ranges["model.channel_weights.investment"] = (0.5, 1000.0)
    plan = validate_spec(_spec(mini_path, ranges), mini_path.parent / "spec.yaml")
    assert plan.parameters == ranges


@pytest.mark.parametrize("p", PARAMS, ids=[p.path for p in PARAMS])
def test_a_sweep_range_beyond_the_schema_bounds_is_refused(mini_path, p):
    middle = (p.low + _top(p)) / 2
    sides = [(p.low - 1.0, middle)] + ([(middle, p.high + 1.0)] if math.isfinite(p.high) else [])
    for given in sides:
        with pytest.raises(ScenarioError, match="expected a range within the valid values"):
            validate_spec(_spec(mini_path, {p.path: given}), mini_path.parent / "spec.yaml")


# --- adding a parameter (a throwaway one) ------------------------------------------------------


def _extended() -> type[ModelParams]:
    """``ModelParams`` with a new number and a new score weight, declared as any other field."""
    new_weights = create_model(
        "NewWeights",
        __base__=Weights,
        novelty=(
            Annotated[float, Field(ge=0.0, le=10.0), Symbol("w_N")],
            Field(0.7, description="Weight of novelty, in [0, 10]."),
        ),
    )
    return create_model(
        "NewModelParams",
        __base__=ModelParams,
        weights=(new_weights, Field(new_weights(), description="Weights.")),
        extra_gain=(
            Annotated[Unit, Symbol("g_x", r"gain of $x$ per month")],
            Field(0.25, description="A new gain, in [0, 1]."),
        ),
    )


def test_an_added_field_is_a_parameter_an_array_and_a_table_row_with_no_other_change(mini):
    extended = _extended()
    by_path = {p.path: p for p in model_parameters(extended)}
    assert set(by_path) == {p.path for p in PARAMS} | {"model.extra_gain", "model.weights.novelty"}
    new = by_path["model.extra_gain"]
    assert (new.default, new.low, new.high, new.symbol) == (0.25, 0.0, 1.0, "g_x")
    assert by_path["model.weights.novelty"].high == 10.0

    arrays = model_arrays(extended(extra_gain=0.4))
    assert arrays["extra_gain"].tolist() == [0.4] and arrays["w_novelty"].tolist() == [0.7]
    assert set(arrays) == set(model_arrays(ModelParams())) | {"extra_gain", "w_novelty"}

    baseline = load_scenario(BASELINE)
    shown = baseline.model_copy(
        update={"scenario": baseline.scenario.model_copy(update={"model": extended()})}
    )
    rows = params_table(shown, list(by_path.values())).splitlines()
    row = "| `model.extra_gain` | $g_x$ | gain of $x$ per month | 0.25 | [0, 1] | 0.25 | none |"
    assert f"{row} yes |" in rows

    # the equations read the new parameters at once: nothing else is declared by hand
    sc = mini.scenario.model_copy(update={"model": extended(extra_gain=0.4)})
    params = to_params(sc)
    assert params.extra_gain.tolist() == [0.4] and params.w_novelty.tolist() == [0.7]
    assert params.noise.tolist() == [mini.scenario.model.noise]


def test_reading_a_parameter_that_the_schema_does_not_declare_names_the_closest(mini):
    params = to_params(mini.scenario)
    with pytest.raises(AttributeError, match=r"'nosie'.*did you mean 'noise'"):
        _ = params.nosie
    assert not hasattr(params, "no_such_parameter_at_all")


def test_a_field_that_is_no_number_or_a_group_without_a_rule_is_refused():
    with pytest.raises(TypeError, match=r"model\.label: expected a model parameter to be a number"):
        model_parameters(create_model("Labelled", __base__=ModelParams, label=(str, "x")))

    class Other(BaseModel):
        rate: float = Field(0.5, description="A rate.")

    grouped = create_model("Grouped", __base__=ModelParams, other=(Other, Other()))
    with pytest.raises(TypeError, match=r"no rule turns the group model\.other into arrays"):
        model_arrays(grouped())


# --- (b) the ODD's table -----------------------------------------------------------------------


def test_the_table_tool_checks_and_rewrites_the_document(tmp_path, capsys):
    odd = tmp_path / "ODD.md"
    stale = f"# Title\n\n{TABLE_BEGIN}\n\n| old |\n| --- |\n\n{TABLE_END}\n\nAfter.\n"
    odd.write_text(stale)
    assert main(["--check", "--odd", str(odd)]) == 1
    assert "--write" in capsys.readouterr().err
    assert main(["--write", "--odd", str(odd)]) == 0
    text = odd.read_text()
    assert text.startswith(f"# Title\n\n{TABLE_BEGIN}\n\n| YAML key |") and "| old |" not in text
    assert text.endswith(f" |\n\n{TABLE_END}\n\nAfter.\n")
    assert main(["--check", "--odd", str(odd)]) == 0
    assert main(["--write", "--odd", str(odd)]) == 0 and odd.read_text() == text
    odd.write_text("# No markers\n")
    assert main(["--check", "--odd", str(odd)]) == 2
