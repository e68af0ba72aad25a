"""The ensemble engine equals the Mesa model run by run, for every scenario and seed."""

import numpy as np
import pytest
from conftest import DATA, SCENARIOS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_invariants import scenarios as random_scenarios

from sim.input.params import collect_numbers, with_values
from sim.input.scenario import load_scenario, validate_document
from sim.model.engines import ENGINES, simulate
from sim.model.ensemble import (
    iter_ensemble,
    prepare,
    prepare_swept,
    run_ensemble,
    run_swept,
    simulate_ensemble,
)
from sim.model.mesa_model import GreatGameModel
from sim.sweep.spec import strip_provenance

TOL = 1e-9
SEEDS = [0, 7, 2024, 4_294_967_295]


def assert_same_runs(mesa, ens) -> None:
    assert ens.dates == mesa.dates
    assert ens.states == mesa.states and ens.powers == mesa.powers
    np.testing.assert_array_equal(ens.seeds, mesa.seeds)
    assert set(ens.values) == set(mesa.values)
    for name, expected in mesa.values.items():
        assert ens.values[name].shape == expected.shape, name
        np.testing.assert_allclose(ens.values[name], expected, rtol=0, atol=TOL, err_msg=name)
    assert ens.events == mesa.events  # the same event log, run by run


@pytest.mark.parametrize(
    "path", [DATA / "mini.yaml", *SCENARIOS], ids=lambda p: p.name if hasattr(p, "name") else p
)
def test_every_scenario_equals_mesa_for_several_seeds(path):
    sc = load_scenario(path).scenario
    mesa = simulate([sc] * len(SEEDS), SEEDS, engine="mesa")
    ens = simulate([sc] * len(SEEDS), SEEDS, engine="ensemble")
    assert_same_runs(mesa, ens)
    # the runs differ from one another (the noise is each run's own)
    assert not np.allclose(ens.values["alignment"][0], ens.values["alignment"][1])


def test_registered_as_ensemble_engine():
    assert "ensemble" in ENGINES and "mesa" in ENGINES


def _points(loaded):
    """Parameter points of mini that change numbers everywhere, event magnitudes included."""
    return [
        loaded.scenario,
        with_values(loaded, {"events.unrest.magnitude": 0.1, "model.weights.threat": 4.0}),
        with_values(loaded, {"events.package.magnitude": 900, "powers.north.credibility": 0.2}),
        with_values(
            loaded,
            {"events.war.magnitude": 2.0, "states.beta.alignment.east": 0.9, "model.noise": 0.0},
        ),
    ]


def test_parameter_points_and_replicates_in_one_batch_equal_mesa(mini_path):
    points = _points(load_scenario(mini_path))
    # interleave points and replicates; replicates pass the same object several times
    runs = [points[i % len(points)] for i in range(10)]
    seeds = [11 * i + 3 for i in range(10)]
    mesa = simulate(runs, seeds, engine="mesa")
    ens = run_ensemble(runs, seeds, keep="trajectories", chunk_size=3)
    assert_same_runs(mesa, ens)
    # parameter points really differ: same seed, other numbers, other trajectory
    other = simulate([points[0], points[1]], [5, 5], engine="ensemble").values["alignment"]
    assert not np.allclose(other[0], other[1])


@pytest.mark.parametrize("chunk_size", [1, 4, 1000])
def test_summary_equals_mesa_summary_whatever_the_chunks(mini_path, chunk_size):
    points = _points(load_scenario(mini_path))
    runs = [points[i % 2] for i in range(9)]
    seeds = list(range(100, 109))
    expected = simulate(runs, seeds, engine="mesa").summary()
    got = run_ensemble(runs, seeds, keep="summary", chunk_size=chunk_size)
    assert list(got) == list(expected)
    for name, values in expected.items():
        assert got[name].shape == (9,)
        np.testing.assert_allclose(got[name], values, rtol=0, atol=TOL, err_msg=name)


def test_iter_ensemble_covers_every_run_once_in_bounded_chunks(mini_path):
    sc = load_scenario(mini_path)
    parts = list(iter_ensemble(sc, np.arange(10), keep="trajectories", chunk_size=4))
    assert [p for p, _ in parts] == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert [b.values["alignment"].shape[0] for _, b in parts] == [4, 4, 2]
    whole = run_ensemble(sc, np.arange(10), keep="trajectories", chunk_size=10)
    for runs, batch in parts:
        np.testing.assert_array_equal(batch.values["alignment"], whole.values["alignment"][runs])


def test_event_outcomes_match_mesa_model(mini_path):
    """A call for help honoured in one run and refused in another, as in the Mesa model."""
    loaded = load_scenario(mini_path)
    weak = with_values(loaded, {"powers.north.credibility": 0.01})
    ens = prepare([loaded.scenario, weak], [1, 1])
    assert ens.magnitudes.shape == (2, len(ens.events))
    mesa_logs = [GreatGameModel(sc, rng=1).run().events[0] for sc in (loaded.scenario, weak)]
    outcomes = [next(e["outcome"] for e in log if e["id"] == "unrest") for log in mesa_logs]
    assert outcomes == ["alpha asks north: honoured", "alpha asks north: refused"]
    got = simulate([loaded.scenario, weak], [1, 1], engine="ensemble")
    want = simulate([loaded.scenario, weak], [1, 1], engine="mesa")
    np.testing.assert_allclose(got.values["trust"], want.values["trust"], rtol=0, atol=TOL)
    assert got.events == want.events == mesa_logs  # the same event log from both engines


def test_runs_of_different_structure_are_refused(mini_path, tmp_path):
    loaded = load_scenario(mini_path)
    raw = dict(loaded.raw)
    raw["meta"] = {**raw["meta"], "end": "2023-06"}
    longer = validate_document(raw, tmp_path / "long.yaml")
    for chunk_size in (1, 2):  # within a chunk and across chunks
        with pytest.raises(ValueError, match="one structure"):
            run_ensemble([loaded.scenario, longer], [1, 2], chunk_size=chunk_size)
    no_event = loaded.scenario.model_copy(update={"events": loaded.scenario.events[1:]})
    with pytest.raises(ValueError, match="one structure"):
        prepare([loaded.scenario, no_event], [1, 2])
    with pytest.raises(ValueError, match="one seed per scenario"):
        run_ensemble([loaded.scenario], [1, 2])
    with pytest.raises(ValueError, match="keep"):
        run_ensemble(loaded.scenario, [1], keep="everything")


@st.composite
def batches(draw):
    """Two parameter points of one random structure (numbers of b, events and dates of a)."""
    a = draw(random_scenarios())
    b = draw(random_scenarios())
    events = [
        ea.model_copy(update={"magnitude": eb.magnitude})
        for ea, eb in zip(a.events, b.events, strict=True)
    ]
    mixed = a.model_copy(
        update={"model": b.model, "powers": b.powers, "states": b.states, "events": events}
    )
    seeds = draw(st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3))
    return [a, mixed, a], seeds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches())
def test_random_parameter_sets_equal_mesa(batch):
    runs, seeds = batch
    assert_same_runs(simulate(runs, seeds, engine="mesa"), simulate(runs, seeds, engine="ensemble"))


def _swept_points(loaded, rng, n_paths, n_runs):
    """Random values, within their assumption ranges, of random ranged numbers of a scenario."""
    ranged = [n for n in collect_numbers(loaded.raw) if n.range is not None]
    # shares that must sum to 1, and populations (one per batch: see the test below)
    ranged = [n for n in ranged if ".lever_mix." not in n.path and "population" not in n.path]
    pick = [ranged[i] for i in rng.choice(len(ranged), min(n_paths, len(ranged)), replace=False)]
    names = [n.path for n in pick]
    base = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, names)})
    values = np.array([[rng.uniform(*n.range) for n in pick] for _ in range(n_runs)])
    return base, names, values


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
@pytest.mark.parametrize("draw", range(3))
def test_swept_values_written_into_the_arrays_equal_validated_scenarios_bit_for_bit(path, draw):
    loaded = load_scenario(path)
    rng = np.random.default_rng(draw)
    base, names, values = _swept_points(loaded, rng, n_paths=[5, 40, 1000][draw], n_runs=4)
    seeds = np.arange(4) + 10 * draw
    fast = prepare_swept(base, {p: values[:, j] for j, p in enumerate(names)}, seeds)
    points = [with_values(base, dict(zip(names, row.tolist(), strict=True))) for row in values]
    slow = prepare(points, seeds)
    np.testing.assert_array_equal(fast.magnitudes, slow.magnitudes)
    got, want = simulate_ensemble(fast, "trajectories"), simulate_ensemble(slow, "trajectories")
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert fast.event_logs() == slow.event_logs()


def test_a_swept_number_that_no_array_reads_is_refused(mini_path):
    loaded = load_scenario(mini_path)
    with pytest.raises(ValueError, match=r"states\.alpha\.population"):
        prepare_swept(loaded, {"states.alpha.population": np.array([1.0, 2.0])}, [1, 2])
    with pytest.raises(ValueError, match="expected 2 values"):
        prepare_swept(loaded, {"powers.north.credibility": np.array([0.5])}, [1, 2])


def test_a_summary_only_batch_records_no_trajectory(mini_path):
    loaded = load_scenario(mini_path)
    swept = {"powers.north.credibility": np.array([0.4, 0.6, 0.8])}
    summary = run_swept(loaded, swept, [1, 2, 3], keep="summary")
    assert isinstance(summary, dict) and all(v.shape == (3,) for v in summary.values())
    batch = run_swept(loaded, swept, [1, 2, 3], keep="trajectories")
    assert {k: v.tolist() for k, v in batch.summary().items()} == {
        k: v.tolist() for k, v in summary.items()
    }
