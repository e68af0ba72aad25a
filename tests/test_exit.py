"""States leave a power's blocs only past an explicit threshold, and answers in a war move
participation.

Issue 14 item 1: participation in a power's blocs is a reversible level that follows the state's
stance; exit is a separate decision, taken when a state that keeps its distance has cut its
participation below ``exit_threshold`` of its initial level, and it is for good. A call for help
answered or refused, and a power siding with the other side of a border war, move participation
once (Kyrgyzstan's cancelled CSTO drills after Russia backed Tajikistan). Checked by hand on
``decide`` and ``answer_requests``, on the mini scenario with both engines, and on fact (l).
"""

import numpy as np
import pytest
from conftest import write_yaml

from sim.input.bundled import resolve_scenario
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import allocate, answer_requests, decide, nudge
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel
from sim.results.validation import validate


def _collapse(tmp_path, mini_raw, name, **model):
    """North loses most of its credibility in February, for good (no other event), to 2024."""
    for event in mini_raw["events"]:
        event["enabled"] = event["id"] == "war"
    next(e for e in mini_raw["events"] if e["id"] == "war")["magnitude"] = -0.9
    mini_raw["meta"]["end"] = "2024-12"
    mini_raw["model"] = {"noise": 0.0, **model}
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def test_a_state_leaves_only_while_distancing_and_below_the_threshold(tmp_path, mini_raw):
    sc = _collapse(tmp_path, mini_raw, "rule", exit_threshold=0.5)
    params, world = compile_run(sc)
    alpha, north = sc.state_ids.index("alpha"), sc.power_ids.index("north")
    m0 = params.membership0[0, alpha, north]
    assert m0 > 0
    alloc = allocate(world, params)
    noise = np.zeros_like(world.alignment)
    cases = {}
    for stance in (0.0, -1.0):
        for share in (0.45, 0.55):  # of the initial participation, before this month's move
            state = world.copy()
            state.stance[0, alpha, north] = stance
            state.membership[0, alpha, north] = share * m0
            rows = decide(state, params, alloc, noise)
            cases[stance, share] = (rows.exited[0, alpha, north], rows.membership[0, alpha, north])
    assert cases[0.0, 0.45][0] == 0.0 and cases[0.0, 0.45][1] > 0.45 * m0  # neutral: recovers
    assert cases[-1.0, 0.55] == (0.0, pytest.approx(0.55 * m0 + 0.05 * (0.7 * m0 - 0.55 * m0)))
    assert cases[-1.0, 0.45] == (1.0, 0.0)  # distancing and hollow: it leaves, participation 0


def test_a_long_distance_ends_in_an_exit_for_good_in_both_engines(tmp_path, mini_raw):
    leaves = _collapse(tmp_path, mini_raw, "leaves", exit_threshold=0.9)
    stays = _collapse(tmp_path, mini_raw, "stays", exit_threshold=0.0)
    fast = simulate([leaves, stays], [3, 3], "ensemble")
    slow = simulate([leaves, stays], [3, 3], "mesa")
    assert fast.events == slow.events
    for name, values in fast.values.items():
        np.testing.assert_allclose(slow.values[name], values, rtol=0, atol=1e-12)
    alpha, north = leaves.state_ids.index("alpha"), leaves.power_ids.index("north")
    part = fast.values["participation"][:, :, alpha, north]
    stance = fast.values["stance"][:, :, alpha, north]
    (exit_,) = [e for e in fast.events[0] if e["id"] == "exit" and e["who"] == "alpha"]
    assert exit_["who"] == "alpha" and exit_["outcome"] == "leaves the blocs of north"
    t = exit_["step"] + 1  # the record after the month of the decision
    moved = part[0, t - 1] + 0.05 * (0.7 * part[0, 0] - part[0, t - 1])  # the month's move
    assert stance[0, t - 1] == -1.0 and moved < 0.9 * part[0, 0] <= part[0, t - 1]  # first time
    assert part[0, t] == 0.0 and not part[0, t:].any()  # for good, whatever the stance after
    assert not [e for e in fast.events[1] if e["id"] == "exit"]  # threshold 0: never
    assert 0.7 * part[1, 0] < part[1].min() < 0.8 * part[1, 0]  # the stance's cut, toward 0.7
    model = GreatGameModel(leaves, rng=3)
    model.run()
    alpha_agent = next(s for s in model.states if s.spec.id == "alpha")
    assert alpha_agent.left == ["north"] and alpha_agent.participation["north"] == 0.0
    beta_agent = next(s for s in model.states if s.spec.id == "beta")
    assert beta_agent.left == [p for p in ("north",) if beta_agent.participation[p] == 0.0]


def test_answers_in_a_border_war_move_participation(tmp_path, mini_raw):
    sc = _collapse(tmp_path, mini_raw, "war", participation_shift=0.4)
    params, world = compile_run(sc)
    alpha, beta = sc.state_ids.index("alpha"), sc.state_ids.index("beta")
    north, east = sc.power_ids.index("north"), sc.power_ids.index("east")
    m = np.array([0.5])
    cut = 0.4 * 0.5
    # both ask North, which backs one side (the one it values most) and refuses the other
    both = world.copy()
    answers = answer_requests(both, params, [alpha, beta], [np.array([north])] * 2, m)
    backed, left = (alpha, beta) if answers[0].yes[0] else (beta, alpha)
    assert answers[0].yes[0] != answers[1].yes[0]
    for s, sign in ((backed, 1.0), (left, -1.0)):
        expected = nudge(world.membership[0, s, north], sign * cut)
        assert both.membership[0, s, north] == pytest.approx(expected, rel=1e-12)
    # the other side asks East instead: North's backing is still siding against it
    split = world.copy()
    asked = {backed: np.array([north]), left: np.array([east])}
    answer_requests(split, params, [backed, left], [asked[backed], asked[left]], m)
    assert split.trust[0, left, north] == pytest.approx(nudge(world.trust[0, left, north], -0.5))
    expected = nudge(world.membership[0, left, north], -cut)
    assert split.membership[0, left, north] == pytest.approx(expected, rel=1e-12)
    assert split.request[0, left, north] == 0.0  # it did not ask North
    assert split.credibility[0, north] >= world.credibility[0, north]  # no refusal to pay for


def test_fact_l_fails_where_states_leave_as_soon_as_they_distance(tmp_path):
    path = tmp_path / "brittle.yaml"
    path.write_text(
        f"extends: {resolve_scenario('baseline_2022')}\nmodel: {{exit_threshold: 1.0}}\n"
    )
    (l_fact,) = [r for r in validate(load_scenario(path), replicates=3, seed=0) if r.key == "l"]
    assert not l_fact.passed and l_fact.measured.endswith("by Jan 2023 in 100% of runs")
    (base,) = [
        r
        for r in validate(load_scenario(resolve_scenario("baseline_2022")), replicates=3, seed=0)
        if r.key == "l"
    ]
    assert base.passed and base.measured.endswith("by Jan 2023 in 0% of runs")
