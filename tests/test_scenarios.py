"""Smoke test: every bundled scenario loads and runs, with sane output."""

import numpy as np
import pytest
from conftest import SCENARIOS

from sim.input.scenario import load_scenario
from sim.model.mesa_model import GreatGameModel


def test_there_are_scenarios():
    assert any(p.name == "baseline_2022.yaml" for p in SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs(path):
    loaded = load_scenario(path)
    sc = loaded.scenario
    assert sc.meta.question
    traj = GreatGameModel(loaded, rng=2022).run()
    a = traj.values["alignment"][0]  # the batch of one run
    assert a.shape == (sc.n_steps + 1, len(sc.states), len(sc.powers))
    assert np.all(np.isfinite(a)) and np.all((a >= 0) & (a <= 1))
    fired = [e for e in traj.events[0] if e["type"] != "decision"]  # decisions: the states'
    assert len(fired) == sum(e.enabled for e in sc.events)
    assert not np.allclose(a[0], a[-1])  # something happens over the period
