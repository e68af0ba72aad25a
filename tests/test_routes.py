"""New routes move the energy and transit channel away from the incumbent powers.

Issue 14 item 3: a ``route`` event through a power carries a share of what a state ships
through the other powers; ``rerouted_energy`` is checked by hand (what leaves the incumbents
arrives at the route, nothing moves without routes), the route follows its time profile in both
engines, and the energy channel moves in every bundled scenario that holds a route.
"""

import numpy as np
import pytest
from conftest import write_yaml

from sim.input.bundled import resolve_scenario, scenario_names
from sim.input.scenario import load_scenario
from sim.model.dynamics import ENERGY, rerouted_energy
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel


def test_rerouted_energy_by_hand():
    d0 = np.array([[[0.6, 0.2, 0.0]]])
    none = np.zeros_like(d0)
    np.testing.assert_array_equal(rerouted_energy(d0, none), d0)
    routes = np.array([[[0.0, 0.0, 0.25]]])  # a route through the third power
    level = rerouted_energy(d0, routes)
    np.testing.assert_allclose(level, [[[0.45, 0.15, 0.2]]], rtol=1e-12)
    assert level.sum() == pytest.approx(d0.sum(), rel=1e-12)  # moved, not made
    full = rerouted_energy(np.array([[[0.9, 0.9, 0.0]]]), np.array([[[0.0, 0.0, 1.0]]]))
    np.testing.assert_allclose(full, [[[0.0, 0.0, 1.0]]])  # clipped to [0, 1]


def test_a_route_shifts_energy_dependence_in_both_engines(tmp_path, mini_raw):
    mini_raw["events"] = [
        {
            "id": "pipeline",
            "date": "2022-02",
            "type": "route",
            "actors": ["east"],
            "targets": ["alpha"],
            "magnitude": 0.4,
            "onset": 3,
        }
    ]
    mini_raw["model"] = {"noise": 0.0}
    sc = load_scenario(write_yaml(tmp_path / "route.yaml", mini_raw)).scenario
    fast = simulate([sc], [4], "ensemble")
    slow = simulate([sc], [4], "mesa")
    for name, values in fast.values.items():
        np.testing.assert_allclose(slow.values[name], values, rtol=0, atol=1e-12)
    assert fast.events == slow.events
    model = GreatGameModel(sc, rng=4)
    start = model.world.dependence[0, :, :, ENERGY].copy()
    model.run()
    end = model.world.dependence[0, :, :, ENERGY]
    alpha, north, east = 0, sc.power_ids.index("north"), sc.power_ids.index("east")
    assert model.world.routes[0, alpha, east] == pytest.approx(0.4)  # whole after the onset
    assert end[alpha, east] > start[alpha, east] + 0.01
    assert end[alpha, north] < start[alpha, north] - 0.01
    np.testing.assert_array_equal(end[1:], start[1:])  # the other states keep their routes


@pytest.mark.parametrize("name", scenario_names())
def test_energy_moves_in_every_bundled_scenario_with_a_route(name):
    sc = load_scenario(resolve_scenario(name)).scenario
    model = GreatGameModel(sc, rng=0)
    start = model.world.dependence[0, :, :, ENERGY].copy()
    model.run()
    moved = np.abs(model.world.dependence[0, :, :, ENERGY] - start).max()
    if any(e.enabled and e.type.value == "route" for e in sc.events):
        assert moved > 0.005, name
    else:
        assert moved == 0.0, name
