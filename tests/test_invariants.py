"""Invariants of the dynamics on random valid scenarios (hypothesis)."""

import copy

import numpy as np
import yaml
from conftest import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.input.modelparams import model_parameters
from sim.input.scenario import EVENT_RULES, Scenario
from sim.model.mesa_model import GreatGameModel

BASE = yaml.safe_load((DATA / "mini.yaml").read_text())
unit = st.floats(0.0, 1.0)


def _model_params(draw) -> dict:
    """Every number and score weight of the ``model:`` section, drawn within its bounds."""
    out: dict = {"weights": {}}
    for p in model_parameters():
        if p.group == "weights":
            out["weights"][p.name] = draw(st.floats(p.low, p.high))
        elif p.group is None:
            out[p.name] = draw(st.floats(max(p.low, 1e-6), min(p.high, 1.0)))
    return out


@st.composite
def scenarios(draw) -> Scenario:
    raw = copy.deepcopy(BASE)
    raw["model"] = _model_params(draw)
    for power in raw["powers"]:
        power["monthly_budget"] = draw(st.floats(0.0, 1e5))
        for key in ("military_capacity", "attention", "credibility"):
            power[key] = draw(unit)
        power["kin_minority_weight"] = draw(st.floats(0.0, 5.0))
        aid, sec = draw(unit), draw(unit)
        aid, sec = aid / 2, sec / 2
        power["strategy"]["lever_mix"] = {"aid": aid, "security": sec, "rhetoric": 1 - aid - sec}
        power["strategy"]["courting"] = draw(unit)
        power["strategy"]["threat_intensity"] = draw(unit)
        power["strategy"]["response"] = draw(st.sampled_from(["court", "punish", "ignore"]))
        power["strategy"]["responsiveness"] = draw(st.floats(0.0, 20.0))
    for state in raw["states"]:
        state["gdp"] = draw(st.floats(1e-3, 1e4))
        state["neutrality"] = draw(unit)
        state["ethnic_russian_share"] = draw(unit)
        for field in ("alignment", "trust", "threat"):
            state[field] = {p: draw(unit) for p in ("north", "east")}
        for deps in state["dependence"].values():
            for channel in deps:
                deps[channel] = draw(unit)
        state["affinity"] = {p: draw(st.floats(-1.0, 1.0)) for p in ("north", "east")}
    for event in raw["events"]:
        low, high = EVENT_RULES[event["type"]]["magnitude"]
        event["magnitude"] = draw(st.floats(low, min(high, 1e4)))
    # every event kind at least once, at random months
    raw["events"] += [
        {
            "id": "sig",
            "date": f"2022-{draw(st.integers(1, 12)):02d}",
            "type": "diplomatic_signal",
            "actors": ["beta"],
            "targets": ["east"],
            "magnitude": draw(st.floats(-1, 1)),
        },
        {
            "id": "inst",
            "date": f"2022-{draw(st.integers(1, 12)):02d}",
            "type": "institutional",
            "actors": ["alpha"],
            "targets": ["north"],
            "magnitude": draw(st.floats(-1, 1)),
        },
        {
            "id": "meet",
            "date": f"2022-{draw(st.integers(1, 12)):02d}",
            "type": "summit",
            "actors": ["east"],
            "targets": ["alpha", "gamma"],
            "magnitude": draw(st.floats(-1, 1)),
        },
        {
            "id": "arms",
            "date": f"2022-{draw(st.integers(1, 12)):02d}",
            "type": "arms_deal",
            "actors": ["north"],
            "targets": ["gamma"],
            "magnitude": draw(st.floats(0, 1e5)),
        },
        {
            "id": "cut",
            "date": f"2022-{draw(st.integers(1, 12)):02d}",
            "type": "power_shock",
            "actors": ["east"],
            "variable": "budget",
            "magnitude": draw(st.floats(-1, 5)),
        },
    ]
    return Scenario.model_validate(raw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_bounded_finite_nonnegative_and_events_once(sc, seed):
    model = GreatGameModel(sc, rng=seed)
    for _ in range(sc.n_steps):
        model.step()
        alloc = model.allocation
        for spend in (alloc.aid, alloc.security, alloc.rhetoric):
            assert np.all(np.isfinite(spend)) and np.all(spend >= 0)
        # spending of each power never exceeds its (shocked) budget plus one-off packages
        assert np.all(model.world.budget_factor >= 0)
        assert np.all((alloc.threat_level >= 0) & (alloc.threat_level <= 1))
    traj = model.record()
    for name, values in {**traj.values, **traj.derived()}.items():
        assert np.all(np.isfinite(values)), name
        if name in ("stance", "request", "offer", "sanctions", "response"):  # choices: -1, 0, +1
            assert np.all(np.isin(values, (-1.0, 0.0, 1.0))), name
        elif name == "remittances":  # the remittance dependences summed over the powers
            assert np.all((values >= 0) & (values <= len(sc.powers))), name
        elif name != "influence":
            assert np.all((values >= 0) & (values <= 1)), name
    ids = [e["id"] for e in traj.events[0] if e["type"] != "decision"]
    assert sorted(ids) == sorted(e.id for e in sc.events)


@settings(max_examples=40, deadline=None)
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1), months=st.integers(0, 11))
def test_spending_equals_budget_and_never_exceeds_it(sc, seed, months):
    """Powers spend budget x factor x attention, split over states and levers, nothing more."""
    from sim.model.dynamics import allocate

    model = GreatGameModel(sc, rng=seed)
    for _ in range(months):
        model.step()
    world, params = model.world, model.params
    world.extra_aid[:] = 0.0  # leave out one-off packages, which come on top of the budget
    world.extra_security[:] = 0.0
    alloc = allocate(world, params)
    spent = (alloc.aid + alloc.security + alloc.rhetoric).sum(axis=1)
    budget = params.budget * world.budget_factor * world.attention
    assert np.all(budget >= 0)
    assert np.allclose(spent, budget, rtol=1e-9, atol=1e-9)
