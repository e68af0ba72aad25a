"""Invariants on random valid scenarios derived from the real ones (hypothesis), both engines.

tests/test_invariants.py checks the Mesa model on random versions of the small test scenario;
here every number of a bundled scenario that carries an assumption range is redrawn within it
(the shares of a lever mix excepted: they must sum to one), and the model parameters are
redrawn within their schema bounds, and both engines are checked.
"""

import numpy as np
from conftest import SCENARIOS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_invariants import _model_params

from sim.input.params import collect_numbers, with_values
from sim.input.scenario import load_scenario
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel
from sim.sweep.spec import strip_provenance

LOADED = {p.name: load_scenario(p) for p in SCENARIOS}
RANGED = {
    name: [n for n in collect_numbers(loaded.raw) if n.range and ".lever_mix." not in n.path]
    for name, loaded in LOADED.items()
}


@st.composite
def derived(draw):
    name = draw(st.sampled_from(sorted(LOADED)))
    loaded = LOADED[name]
    values = {n.path: draw(st.floats(*n.range)) for n in RANGED[name]}
    model = _model_params(draw)
    values |= {f"model.{k}": v for k, v in model.items() if k != "weights"}
    values |= {f"model.weights.{k}": v for k, v in model["weights"].items()}
    stripped = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, list(values))})
    return with_values(stripped, values)  # model parameters may leave their assumption ranges


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(sc=derived(), seeds=st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2))
def test_bounded_finite_and_events_once_on_derived_scenarios(sc, seeds):
    batch = simulate([sc, sc], seeds, engine="ensemble")
    model = GreatGameModel(sc, rng=seeds[0])
    traj = model.run()
    for name, values in [*batch.values.items(), *traj.derived().items()]:
        assert np.all(np.isfinite(values)), name
        if name in ("stance", "request", "offer", "sanctions", "response"):  # choices: -1, 0, +1
            assert np.all(np.isin(values, (-1.0, 0.0, 1.0))), name
        elif name == "remittances":  # the remittance dependences summed over the powers
            assert np.all((values >= 0) & (values <= len(sc.powers))), name
        elif name != "influence":
            assert np.all((values >= 0) & (values <= 1)), name
    np.testing.assert_allclose(traj.values["alignment"], batch.values["alignment"][:1], atol=1e-9)
    assert np.all(model.world.budget_factor >= 0)
    ids = [e["id"] for e in traj.events[0] if e["type"] != "decision"]
    assert sorted(ids) == sorted(e.id for e in sc.events if e.enabled)
