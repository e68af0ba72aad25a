"""Every accepted scenario and spec can run (issue 12, items 4, 5, 7 and the last of 8).

Finite numbers (schema bounds, then a compiled-and-simulated check), dates in a sane range, size
limits lifted by ``--allow-large``, memory estimated against the machine, sweep specs checked as
a whole, and errors in an ``extends:`` file's list items reported at the child's line.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import DATA, ROOT, SCENARIOS, write_yaml

import sim.model.limits as limits
from sim.cli import main
from sim.input.errors import ScenarioError
from sim.input.scenario import MAX_MONTHS, MAX_STATES, load_scenario
from sim.model.limits import check_runnable, finite_problems
from sim.sweep.spec import validate_spec

BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"


def _mini() -> dict:
    return yaml.safe_load((DATA / "mini.yaml").read_text())


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


# --- finite numbers (item 4) ---------------------------------------------------------------------


def test_huge_priority_is_refused_at_its_line(tmp_path, capsys):
    path = tmp_path / "prio.yaml"
    path.write_text(
        f"extends: {BASELINE}\npowers:\n  - id: russia\n    strategy:\n      priorities:\n"
        "        kazakhstan: 1.7e+308\n"
    )
    assert main(["check", str(path)]) == 2
    err = _err(capsys)
    assert f"{path}:6: powers[0].strategy.priorities.kazakhstan" in err
    assert main(["run", str(path), "-q", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("powers", 0, "strategy", "responsiveness"), 1e300),
        (("powers", 0, "monthly_budget"), 1e300),
        (("states", 0, "gdp"), 1e300),
        (("model", "channel_weights", "trade"), 1e300),
    ],
)
def test_unbounded_numbers_now_have_bounds(tmp_path, capsys, field, value):
    raw = _mini()
    node = raw
    for part in field[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[field[-1]] = value
    path = write_yaml(tmp_path / "s.yaml", raw)
    assert main(["check", str(path)]) == 2
    dotted = ".".join(str(p) for p in field).replace(".0.", "[0].")
    assert dotted in _err(capsys)


def test_numbers_that_overflow_the_compiled_arrays_are_refused_with_file_and_field():
    loaded = load_scenario(BASELINE)
    sc = loaded.scenario
    # bypass the schema (model_copy does not validate) to reach the post-compile check
    powers = [
        p.model_copy(
            update={
                "strategy": p.strategy.model_copy(
                    update={"priorities": dict.fromkeys(sc.state_ids, 1.7e308)}
                )
            }
        )
        for p in sc.powers
    ]
    bad = loaded.model_copy(update={"scenario": sc.model_copy(update={"powers": powers})})
    found = finite_problems(bad.scenario)
    # the priorities overflow the powers' objective, and so their levers' initial returns
    assert found and found[0][0][:3] == ("powers", 0, "strategy"), found
    assert "base_returns" in found[0][1]
    with pytest.raises(ScenarioError) as exc:
        check_runnable(bad)
    problem = exc.value.problems[0]
    assert problem.file == str(BASELINE) and problem.line is not None
    assert "expected numbers the model can compute" in problem.message


def test_a_run_that_goes_non_finite_is_refused_with_file_and_field(monkeypatch):
    """A run whose variable goes non-finite is refused, naming the state, power and month."""
    loaded = load_scenario(BASELINE)
    real = limits.run_ensemble

    def overflowing(*args, **kwargs):
        batch = real(*args, **kwargs)
        batch.values["alignment"][0, 5, 1, 2] = np.nan  # month 5, second state, third power
        return batch

    monkeypatch.setattr(limits, "run_ensemble", overflowing)
    sc = loaded.scenario
    found = finite_problems(sc)
    assert found and found[0][0] == ("states", 1), found
    assert f"alignment of {sc.state_ids[1]} toward {sc.power_ids[2]} = nan" in found[0][1]
    with pytest.raises(ScenarioError) as exc:
        check_runnable(loaded)
    problem = exc.value.problems[0]
    assert problem.file == str(BASELINE) and problem.line is not None
    assert "expected a scenario the model can compute" in problem.message


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenarios_are_runnable(path):
    check_runnable(load_scenario(path))


# --- dates and sizes (item 7) ------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), [("9999-01", "9999-12"), ("0000-01", "0000-06")])
def test_years_out_of_range_are_refused(tmp_path, capsys, start, end):
    raw = _mini()
    raw["meta"].update(start=start, end=end)
    raw["events"] = []
    path = write_yaml(tmp_path / "s.yaml", raw)
    assert main(["check", str(path)]) == 2
    err = _err(capsys)
    assert "meta.start" in err and "expected a month from 1900-01 to 2200-12" in err


def _many_states(n: int) -> dict:
    raw = _mini()
    template = raw["states"][0]
    raw["states"] = []
    for i in range(n):
        state = copy.deepcopy(template)
        state.update(id=f"s{i}", name=f"S{i}", neighbours=[])
        raw["states"].append(state)
    raw["events"] = []
    for power in raw["powers"]:
        power["strategy"].pop("priorities", None)
    return raw


def test_too_many_states_names_the_limit_and_the_flag(tmp_path, capsys):
    path = write_yaml(tmp_path / "s.yaml", _many_states(MAX_STATES + 1))
    assert main(["check", str(path)]) == 2
    err = _err(capsys)
    assert f"{path}:" in err and f"expected at most {MAX_STATES} states" in err
    assert "--allow-large" in err
    assert main(["run", str(path), "-q", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
    assert main(["check", str(path), "--allow-large"]) == 0


def test_too_many_months_names_the_limit(tmp_path, capsys):
    raw = _mini()
    raw["meta"].update(start="2000-01", end=f"{2000 + MAX_MONTHS // 12}-12")
    path = write_yaml(tmp_path / "s.yaml", raw)
    assert main(["check", str(path)]) == 2
    assert f"meta.end: expected at most {MAX_MONTHS} months" in _err(capsys)
    assert main(["check", str(path), "--allow-large"]) == 0


def test_too_many_replicates_names_the_limit(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(DATA / "mini.yaml"), "-r", "1001", "-q", "--out", str(out)]) == 2
    assert "expected at most 1,000 replicates" in _err(capsys)
    assert not out.exists()


def test_memory_estimate_is_checked_against_the_machine(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "machine_memory", lambda: 2**10)  # a 1 KiB machine
    out = tmp_path / "out"
    assert main(["run", str(DATA / "mini.yaml"), "-q", "--out", str(out)]) == 2
    err = _err(capsys)
    assert "needs an estimated" in err and "GiB of memory" in err
    assert not out.exists()


# --- sweep specs as a whole (item 5) -----------------------------------------------------------


def _spec(tmp_path: Path, **fields) -> Path:
    data = {"scenario": str(DATA / "mini.yaml"), "design": "lhs", "samples": 8, **fields}
    return write_yaml(tmp_path / "spec.yaml", data)


def _sweep_refused(tmp_path: Path, spec: Path, *extra: str) -> None:
    out = tmp_path / "sweep"
    assert main(["--verbose", "sweep", str(spec), "--out", str(out), "-q", "-j", "1", *extra]) == 2
    assert not out.exists()


def test_empty_parameters_is_refused_before_any_folder(tmp_path, capsys):
    _sweep_refused(tmp_path, _spec(tmp_path, parameters={}))
    assert "parameters: expected at least one parameter" in _err(capsys)


CHANNELS = ("trade", "remittances", "energy", "security", "investment")


def test_all_channel_weights_from_zero_are_refused(tmp_path, capsys):
    params = {f"model.channel_weights.{c}": [0.0, 1.0] for c in CHANNELS}
    _sweep_refused(tmp_path, _spec(tmp_path, parameters=params))
    err = _err(capsys)
    assert "expected ranges valid together" in err and "4 of the 5 channel weights" in err


def test_four_channel_weights_are_accepted(tmp_path):
    params = {f"model.channel_weights.{c}": [0.0, 1.0] for c in CHANNELS[:4]}
    data = yaml.safe_load(_spec(tmp_path, parameters=params).read_text())
    assert len(validate_spec(data, tmp_path / "spec.yaml").parameters) == 4


def test_ten_million_point_lhs_is_refused_with_an_estimate(tmp_path, capsys):
    params = {"powers.north.credibility": [0.1, 0.9]}
    _sweep_refused(tmp_path, _spec(tmp_path, samples=10_000_000, parameters=params))
    err = _err(capsys)
    assert "samples: expected at most 1,000,000 design points" in err and "GiB" in err


@pytest.mark.parametrize(
    ("field", "value", "phrase"),
    [
        ("chunk_size", 10**9, "chunk_size: expected at most 10,000 runs per chunk"),
        ("replicates", 5000, "replicates: expected at most 1,000 replicates"),
    ],
)
def test_chunk_size_and_replicates_have_limits(tmp_path, capsys, field, value, phrase):
    params = {"powers.north.credibility": [0.1, 0.9]}
    _sweep_refused(tmp_path, _spec(tmp_path, parameters=params, **{field: value}))
    assert phrase in _err(capsys)


def test_allow_large_lifts_the_limits_and_is_recorded_for_resume(tmp_path):
    params = {"powers.north.credibility": [0.1, 0.9]}
    data = yaml.safe_load(_spec(tmp_path, parameters=params, replicates=1001).read_text())
    with pytest.raises(ScenarioError):
        validate_spec(data, tmp_path / "spec.yaml")
    plan = validate_spec(data, tmp_path / "spec.yaml", allow_large=True)
    assert plan.resolved()["allow_large"] is True
    assert "allow_large" not in validate_spec({**data, "replicates": 2}, tmp_path / "s").resolved()


def test_sweep_memory_estimate_is_checked(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "machine_memory", lambda: 2**10)
    params = {"powers.north.credibility": [0.1, 0.9]}
    _sweep_refused(tmp_path, _spec(tmp_path, parameters=params))
    assert "GiB of memory" in _err(capsys)


# --- errors of an extends: file at the child's line (item 8) -------------------------------------


def test_overridden_event_error_points_to_the_child_line(tmp_path, capsys):
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {BASELINE}\n"
        "meta:\n  name: child\n"
        "events:\n"
        "  - id: kg_tj_border_war\n"
        "    magnitude: 7\n"
    )
    assert main(["check", str(child)]) == 2
    err = _err(capsys)
    assert f"{child}:5: events[" in err and str(BASELINE) not in err


def test_overridden_event_field_error_points_to_the_child_field(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {BASELINE}\n"
        "events:\n"
        "  - id: putin_visit_samarkand\n"
        "    date: 2022-09\n"
        "  - id: kg_tj_border_war\n"
        "    actors: [kyrgyzstan, atlantis]\n"
    )
    with pytest.raises(ScenarioError) as exc:
        load_scenario(child)
    (problem,) = exc.value.problems
    assert problem.file == str(child) and problem.line == 6
    assert "unknown state id 'atlantis'" in problem.message


def test_a_number_the_engine_cannot_vary_by_run_is_refused_before_any_folder(tmp_path, capsys):
    spec = _spec(tmp_path, parameters={"states.alpha.population": [1.0, 1e4]})
    _sweep_refused(tmp_path, spec)
    err = _err(capsys)
    assert "expected parameters that a sweep can vary" in err and "states.alpha.population" in err


def test_a_trajectory_sweep_of_a_million_runs_is_refused_unless_allowed(tmp_path, capsys):
    params = {"powers.north.credibility": [0.4, 0.9]}
    spec = _spec(tmp_path, samples=1_000_000, keep="trajectories", parameters=params)
    _sweep_refused(tmp_path, spec)
    err = _err(capsys)
    assert "expected at most 100,000 runs with keep: trajectories" in err
    assert "--allow-large" in err
    data = yaml.safe_load(spec.read_text())
    assert validate_spec(data, spec, allow_large=True).n_runs == 1_000_000
