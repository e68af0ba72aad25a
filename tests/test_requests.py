"""States in a crisis decide whom to ask for help; the asked power decides whether to answer.

Issue 14 item 1: the January 2022 call on Russia is no longer written into the baseline.
``choose_request`` and ``answer_requests`` are checked against hand-computed cases (the best
protection net of the rivals' anger, nobody when no help is worth its cost, an answer from means and
stakes (the caller's alignment weighted by the power's priority for it), a power asked by both sides
of a border war backing only the one it values most); both engines agree and log the same calls, the
Mesa state agents expose the call they made, a ``crisis`` takes no targets, and on the baseline
Kazakhstan's call reaches ``events.csv``.
"""

import numpy as np
import pytest
from conftest import write_yaml

from sim.cli import main
from sim.input.errors import OutputError, ScenarioError
from sim.input.scenario import load_scenario
from sim.model.compile import compile_run
from sim.model.dynamics import (
    SECURITY,
    answer_requests,
    apply_event,
    choose_request,
    honour_value,
    nudge,
    reliability,
)
from sim.model.engines import simulate
from sim.model.mesa_model import GreatGameModel
from sim.results.folder import read_answers, read_events


def _mini(tmp_path, mini_raw, name="requests", **model):
    mini_raw["model"] = {"noise": 0.0, **model}
    for event in mini_raw["events"]:
        if event["id"] == "unrest":  # the state decides whom to ask
            event["type"] = "crisis"
            del event["targets"]
    return load_scenario(write_yaml(tmp_path / f"{name}.yaml", mini_raw)).scenario


def _world(tmp_path, mini_raw, **model):
    sc = _mini(tmp_path, mini_raw, **model)
    params, state = compile_run(sc)
    return sc, params, state


def test_choose_request_by_hand(tmp_path, mini_raw):
    sc, params, state = _world(tmp_path, mini_raw, request_cost=0.2)
    alpha, north, east = 0, 0, 1
    rel = reliability(state)[0]
    np.testing.assert_allclose(rel, [0.7 * 0.8 * 0.9, 0.6 * 0.5 * 0.6], rtol=1e-12)
    # alpha's security ties: 0.6 with north, none with east; rivals' anger at each choice,
    # R_sp = sum_q rivalry[q, p] a_sq / (P - 1): north resents east 0.8, east resents north 0.5
    resent_north, resent_east = 0.5 * 0.4, 0.8 * 0.7
    m = np.array([0.6])
    net_north = 0.6 * 0.6 * rel[north] - 0.2 * resent_north  # 0.18144 - 0.04 > 0
    net_east = 0.6 * 0.0 * rel[east] - 0.2 * resent_east  # < 0
    assert net_north > 0 > net_east
    assert choose_request(state, params, alpha, m).tolist() == [north]
    # a mild crisis is not worth the rivals' anger: nobody is asked
    mild = 0.2 * resent_north / (0.6 * rel[north]) * 0.9
    assert choose_request(state, params, alpha, np.array([mild])).tolist() == [-1]
    # give east a security tie stronger than north's: alpha turns to east instead
    state.dependence[0, alpha, east, SECURITY] = 1.0
    state.credibility[0, east] = 1.0
    state.capacity[0, east] = 1.0
    state.attention[0, east] = 1.0
    assert 0.6 * 1.0 * 1.0 - 0.2 * resent_east > net_north
    assert choose_request(state, params, alpha, m).tolist() == [east]
    del sc


def test_an_asked_power_answers_from_its_means_and_its_stakes(tmp_path, mini_raw):
    _, params, state = _world(tmp_path, mini_raw, honour_stakes=0.5, honour_threshold=0.6)
    alpha, north = 0, 0
    rel = 0.7 * 0.8 * 0.9
    h = honour_value(state, params, alpha, np.array([north]))
    np.testing.assert_allclose(h, [0.5 * rel + 0.5 * 0.7], rtol=1e-12)  # 0.602 >= 0.6
    before = state.copy()
    m = np.array([0.6])
    (call,) = answer_requests(state, params, [alpha], [np.array([north])], m)
    assert call.yes.tolist() == [True]
    assert state.trust[0, alpha, north] == pytest.approx(nudge(before.trust[0, alpha, north], 0.6))
    sec = before.dependence[0, alpha, north, SECURITY]
    assert state.dependence[0, alpha, north, SECURITY] == pytest.approx(nudge(sec, 0.3))
    cred = before.credibility[0, north]
    assert state.credibility[0, north] == pytest.approx(nudge(cred, 0.06))
    assert state.request[0, alpha].tolist() == [1.0, 0.0]
    # less at stake (alpha drifting away): the same power refuses, and pays for it
    state = before.copy()
    state.alignment[0, alpha, north] = 0.6
    (call,) = answer_requests(state, params, [alpha], [np.array([north])], m)
    assert call.yes.tolist() == [False]
    assert state.trust[0, alpha, north] == pytest.approx(nudge(before.trust[0, alpha, north], -0.6))
    assert state.credibility[0, north] == pytest.approx(
        nudge(cred, -params.credibility_penalty[0] * 0.6)
    )
    assert state.dependence[0, alpha, north, SECURITY] == sec
    assert state.request[0, alpha].tolist() == [-1.0, 0.0]


def test_a_power_stands_to_lose_more_where_it_has_more_at_stake(tmp_path, mini_raw):
    _, params, state = _world(tmp_path, mini_raw, honour_stakes=0.5)
    alpha, north = 0, 0
    rel = 0.7 * 0.8 * 0.9
    n_states = params.priority.shape[1]
    # north values alpha three times as much as each other state: alpha's alignment (0.7)
    # counts 3 / mean times, capped at 1
    params.priority[0, :, north] = 1.0
    params.priority[0, alpha, north] = 3.0
    weight = 3.0 / ((3.0 + n_states - 1) / n_states)
    h = honour_value(state, params, alpha, np.array([north]))
    np.testing.assert_allclose(h, [0.5 * rel + 0.5 * min(1.0, 0.7 * weight)], rtol=1e-12)
    # north values alpha a third as much as the others: its alignment counts for less
    params.priority[0, :, north] = 3.0
    params.priority[0, alpha, north] = 1.0
    weight = 1.0 / ((1.0 + 3.0 * (n_states - 1)) / n_states)
    low = honour_value(state, params, alpha, np.array([north]))
    np.testing.assert_allclose(low, [0.5 * rel + 0.5 * 0.7 * weight], rtol=1e-12)
    assert low < h
    # a power that values no state weighs the alignment alone
    params.priority[0, :, north] = 0.0
    zero = honour_value(state, params, alpha, np.array([north]))
    np.testing.assert_allclose(zero, [0.5 * rel + 0.5 * 0.7], rtol=1e-12)


def test_a_power_asked_by_both_sides_backs_only_one(tmp_path, mini_raw):
    _, params, state = _world(tmp_path, mini_raw, request_cost=0.0, honour_threshold=0.2)
    alpha, beta, north = 0, 1, 0
    before = state.copy()
    calls = apply_event(state, params, "border_conflict", [alpha, beta], [], np.array([0.5]))
    # both ask north (their only security tie); north values beta more (alignment 0.8 > 0.7)
    assert [c.power.tolist() for c in calls] == [[north], [north]]
    assert [c.yes.tolist() for c in calls] == [[False], [True]]
    assert state.trust[0, alpha, north] < before.trust[0, alpha, north]
    assert state.trust[0, beta, north] > before.trust[0, beta, north]
    assert state.request[0, :2, north].tolist() == [-1.0, 1.0]
    np.testing.assert_allclose(state.insecurity[0, :2], [0.5, 0.5])
    # the answers are decided before any acts: swapping the order of the sides changes nothing
    other = before.copy()
    calls = apply_event(other, params, "border_conflict", [beta, alpha], [], np.array([0.5]))
    assert [c.yes.tolist() for c in calls] == [[True], [False]]
    np.testing.assert_allclose(other.trust, state.trust, rtol=0, atol=1e-15)


def test_engines_agree_and_log_the_same_calls(tmp_path, mini_raw):
    sc = _mini(tmp_path, mini_raw, noise=0.02)
    fast = simulate([sc, sc, sc], [3, 4, 5], "ensemble")
    slow = simulate([sc, sc, sc], [3, 4, 5], "mesa")
    for name, v in fast.values.items():
        np.testing.assert_allclose(v, slow.values[name], rtol=0, atol=1e-12, err_msg=name)
    assert fast.events == slow.events
    unrest = [e for e in fast.events[0] if e["id"] == "unrest"]
    assert [e["outcome"] for e in unrest] == ["alpha asks north: honoured"]
    model = GreatGameModel(load_scenario(write_yaml(tmp_path / "m.yaml", mini_raw)), rng=3)
    model.step()
    agents = [a for a in model.agents if hasattr(a, "request")]
    assert [a.request for a in sorted(agents, key=lambda a: a.index)] == [
        {"power": "north", "answer": "honoured"},
        None,
        None,
    ]


def test_a_crisis_takes_no_targets(tmp_path, mini_raw):
    unrest = next(e for e in mini_raw["events"] if e["id"] == "unrest")
    unrest["type"] = "crisis"  # targets: [north] left in
    with pytest.raises(ScenarioError, match="targets"):
        load_scenario(write_yaml(tmp_path / "bad.yaml", mini_raw))


def test_the_baseline_call_reaches_events_csv(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "baseline_2022", "-r", "2", "--seed", "1", "--out", str(out)]) == 0
    events = read_events(out)
    calls = events[events["id"] == "kz_unrest_csto_request"]
    assert set(calls["type"]) == {"crisis"}
    # at the scenario's values Russia's security tie and reliability make it Kazakhstan's choice
    assert calls["outcome"].tolist() == ["kazakhstan asks russia: honoured"] * 2
    war = events[events["id"] == "kg_tj_border_war"]
    assert (
        war["outcome"].tolist()
        == ["kyrgyzstan asks russia: refused; tajikistan asks russia: honoured"] * 2
    )


def test_the_request_cost_decides_calls_across_the_assumption_box():
    """In one noise draw of the baseline ``model.request_cost`` can leave every call where it
    was at both ends of its range (Kyrgyzstan's call in the border war is near its threshold);
    across the box it decides calls: at most points of a 40-point Latin hypercube some call for
    help changes between the two ends of its range."""
    from sim.cli import prior_design
    from sim.input.bundled import resolve_scenario
    from sim.input.evidence import load_verified
    from sim.model.ensemble import prepare_swept, simulate_ensemble

    loaded = load_verified(resolve_scenario("baseline_2022"))
    _, base, design = prior_design(loaded, 40, 1, 10)
    calls = []
    for cost in (0.0, 0.5):
        swept = {path: np.asarray(values) for path, values in design.items()}
        swept["model.request_cost"] = np.full(40, cost)
        ens = prepare_swept(base.scenario, swept, np.arange(40))
        calls.append(simulate_ensemble(ens, "trajectories")["request"])
    changed = (calls[0] != calls[1]).any(axis=(1, 2, 3))
    assert changed.mean() > 0.5


def test_answers_csv_gives_every_answer_structured_as_events_csv_tells_it(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "baseline_2022", "-r", "2", "--seed", "1", "--out", str(out), "-q"]) == 0
    answers, events = read_answers(out), read_events(out)
    calls = answers[answers["event"] == "kg_tj_border_war"]
    assert calls[["run", "state", "power", "kind"]].values.tolist() == [
        [run, state, "russia", "call"] for run in (0, 1) for state in ("kyrgyzstan", "tajikistan")
    ]
    assert calls["yes"].tolist() == [False, True, False, True]
    for (run, event), group in answers.groupby(["run", "event"], sort=False):
        told = events[(events["run"] == run) & (events["id"] == event)]["outcome"].item()
        parts = [
            f"{a.state} {'accepts' if a.yes else 'refuses'}"
            if a.kind == "offer"
            else f"{a.state} asks "
            + (f"{a.power}: {'honoured' if a.yes else 'refused'}" if a.power else "nobody")
            for a in group.itertuples()
        ]
        assert "; ".join(parts) == told
    assert set(answers["kind"]) == {"call", "offer"}


def test_a_damaged_answers_csv_is_named_with_its_row_and_column(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "baseline_2022", "-r", "1", "--out", str(out), "-q"]) == 0
    path = out / "answers.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",maybe"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        OutputError, match=r"answers\.csv: row 3, column 'yes': expected True or False"
    ):
        read_answers(out)
    path.unlink()
    with pytest.raises(OutputError, match=r"answers\.csv: missing"):
        read_answers(out)
