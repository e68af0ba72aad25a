"""Sweep specs: defaults from assumption ranges, and clear errors for bad specs."""

import pytest

from sim.input.errors import ScenarioError
from sim.sweep.spec import load_spec, validate_spec


def write(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def assumed(tmp_path, mini_path):
    """mini.yaml with two numbers marked as assumptions."""
    text = mini_path.read_text()
    text = text.replace(
        "credibility: 0.6",
        "credibility: {value: 0.6, assumption: {range: [0.4, 0.8], note: judgement}}",
    )
    text = text.replace(
        "threat_intensity: 0.3",
        "threat_intensity: {value: 0.3, assumption: {range: [0.1, 0.7], note: judgement}}",
    )
    text = text.replace(
        "lever_mix: {aid: 0.4,",
        "lever_mix: {aid: {value: 0.4, assumption: {range: [0.3, 0.5], note: j}},",
    )
    return write(tmp_path, text, "assumed.yaml")


def test_parameters_default_to_the_assumption_ranges(tmp_path, assumed):
    spec = write(tmp_path, "scenario: assumed.yaml\ndesign: sobol\nsamples: 8\nreplicates: 3\n")
    plan = load_spec(spec)
    assert plan.parameters == {
        "powers.north.strategy.threat_intensity": (0.1, 0.7),
        "powers.east.credibility": (0.4, 0.8),
    }
    assert list(plan.excluded) == ["powers.north.strategy.lever_mix.aid"]
    assert (
        "expected aid + security + rhetoric = 1"
        in plan.excluded["powers.north.strategy.lever_mix.aid"]
    )
    assert plan.n_points == 8 * (2 + 2)
    assert plan.n_runs == 3 * plan.n_points
    assert plan.loaded.path == assumed


def test_explicit_ranges_may_exceed_the_assumption_and_null_takes_it(tmp_path, assumed):
    spec = write(
        tmp_path,
        "scenario: assumed.yaml\ndesign: lhs\nsamples: 5\nparameters:\n"
        "  powers.east.credibility: [0.1, 0.95]\n"
        "  powers.north.strategy.threat_intensity: null\n"
        "  model.weights.threat: [0.5, 2.0]\n",
    )
    plan = load_spec(spec)
    assert plan.parameters == {
        "powers.east.credibility": (0.1, 0.95),
        "powers.north.strategy.threat_intensity": (0.1, 0.7),
        "model.weights.threat": (0.5, 2.0),
    }


def messages(path):
    with pytest.raises(ScenarioError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems]


def test_unknown_key_bad_design_and_sizes_name_file_line_and_suggest(tmp_path, mini_path):
    path = write(
        tmp_path,
        f"scenario: {mini_path}\ndesign: sobl\nsamples: 0\nreplicats: 2\nreplicates: -1\n",
    )
    found = messages(path)
    assert (
        f"{path}:2: design: expected 'grid', 'lhs', 'sobol' or 'morris', found 'sobl' " in found[0]
    )
    assert "(did you mean 'sobol'?)" in found[0]
    assert found[1] == f"{path}:3: samples: expected greater than 0, found 0"
    assert found[2].startswith(
        f"{path}:4: replicats: unknown key 'replicats' (did you mean 'replicates'?)"
    )
    assert found[3] == f"{path}:5: replicates: expected greater than 0, found -1"


def test_parameter_paths_are_checked_against_the_scenario(tmp_path, mini_path):
    path = write(
        tmp_path,
        f"scenario: {mini_path}\ndesign: lhs\nsamples: 4\nparameters:\n"
        "  powers.north.strategy.threat_intesity: [0.0, 0.9]\n"
        "  powers.nort.credibility: [0.3, 0.9]\n"
        "  powers.east.credibility: [0.3, 1.9]\n"
        "  model.noise: [0.1, 0.0]\n"
        "  states.alpha.population: null\n"
        "  model.weights.thret: [0.0, 1.0]\n",
    )
    found = messages(path)
    assert found == [
        f"{path}:5: parameters.powers.north.strategy.threat_intesity: unknown parameter path: "
        "no 'threat_intesity' at powers.north.strategy (did you mean 'threat_intensity'?)",
        f"{path}:6: parameters.powers.nort.credibility: unknown parameter path: "
        "no power 'nort' (did you mean 'north'?)",
        f"{path}:7: parameters.powers.east.credibility: expected a range within the valid "
        "values of this field, found [0.3, 1.9]: at 1.9: expected less than or equal to 1, "
        "found 1.9",
        f"{path}:8: parameters.model.noise: expected a range [low, high] with low < high, "
        "found [0.1, 0.0]",
        f"{path}:9: parameters.states.alpha.population: expected a range [low, high]: the "
        "scenario gives no assumption range here",
        f"{path}:10: parameters.model.weights.thret: unknown parameter path: "
        "unknown key 'thret' (did you mean 'threat'?)",
    ]


def test_sobol_needs_a_power_of_two_and_a_scenario_without_ranges_needs_parameters(
    tmp_path, mini_path
):
    found = messages(write(tmp_path, f"scenario: {mini_path}\ndesign: sobol\nsamples: 6\n"))
    assert any("samples: expected a power of two for a sobol design, found 6" in m for m in found)
    assert any("parameters: expected parameters with ranges" in m for m in found)


def test_missing_scenario_and_not_a_mapping(tmp_path):
    found = messages(write(tmp_path, "scenario: sub/nowhere.yaml\ndesign: lhs\nsamples: 3\n"))
    assert found == [
        f"{tmp_path / 'spec.yaml'}:1: scenario: scenario file not found: "
        f"{tmp_path / 'sub' / 'nowhere.yaml'}"
    ]
    with pytest.raises(ScenarioError, match="expected a mapping of keys, found list"):
        validate_spec([1, 2], tmp_path / "x.yaml")


def test_grid_too_large_is_refused(tmp_path, mini_path):
    params = "".join(f"  states.alpha.trust.{p}: [0.1, 0.9]\n" for p in ("north", "east"))
    params += "".join(f"  states.beta.trust.{p}: [0.1, 0.9]\n" for p in ("north", "east"))
    path = write(
        tmp_path,
        f"scenario: {mini_path}\ndesign: grid\nsamples: 100\nreplicates: 2\nparameters:\n{params}",
    )
    (msg,) = messages(path)
    assert "expected at most 10,000,000 runs, found a grid design of 100,000,000 points" in msg


@pytest.mark.parametrize(
    ("samples", "keep", "engine", "expected"),
    [
        (100_000, "summary", "ensemble", 4_000),  # batches near the engine's full speed
        (8_000, "summary", "ensemble", 1_000),  # still 8 chunks to share and resume
        (24, "summary", "ensemble", 24),  # a small sweep is one chunk
        (100_000, "summary", "mesa", 1_000),  # one run at a time: fine-grained chunks
        (100_000, "trajectories", "ensemble", 50),
    ],
)
def test_chunks_are_sized_by_the_engine_unless_the_spec_says(
    tmp_path, assumed, samples, keep, engine, expected
):
    text = f"scenario: assumed.yaml\ndesign: lhs\nsamples: {samples}\nkeep: {keep}\n"
    plan = load_spec(write(tmp_path, text + "parameters: {powers.east.credibility: null}\n"))
    assert plan.chunk_size_for(engine) == expected
    fixed = plan.for_engine(engine)
    assert fixed.spec.chunk_size == expected and fixed.resolved()["chunk_size"] == expected
    given = load_spec(write(tmp_path, text + "chunk_size: 7\n", "given.yaml"))
    assert given.chunk_size_for(engine) == 7 and given.for_engine(engine) is given


@pytest.mark.parametrize(
    ("design", "given", "expected", "warned"),
    [
        ("morris", None, "common", False),  # the default that makes Morris rankings meaningful
        ("morris", "independent", "independent", True),  # allowed, with a warning
        ("sobol", None, "independent", False),
        ("lhs", "common", "common", False),
    ],
)
def test_morris_sweeps_share_noise_by_default_and_warn_otherwise(
    tmp_path, assumed, design, given, expected, warned
):
    text = f"scenario: assumed.yaml\ndesign: {design}\nsamples: 4\n"
    text += f"seeds: {given}\n" if given else ""
    plan = load_spec(write(tmp_path, text))
    assert plan.spec.seeds == expected and plan.resolved()["seeds"] == expected
    assert bool(plan.notes) == warned
    if warned:
        assert "seeds: common" in plan.notes[0]
