"""The vote model (sim.results.votes), the resolutions files (sim.input.resolutions) and
``greatgame votes``: the loader's errors, known answers of the probability computation and the
proxy, what the fitted model responds to, its held-out score, and the command's output."""

import copy
import json
import math
import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DATA, ROOT

from sim.cli import main
from sim.input.errors import ScenarioError
from sim.input.resolutions import (
    Resolution,
    bundled_resolutions,
    load_resolutions,
    resolve_resolutions,
)
from sim.input.unvotes import CUTOFF, UnVotes, load_un_votes
from sim.results import votes as vm

MODEL_JSON = ROOT / "seeds" / "data" / vm.MODEL_FILE
CENTRAL_ASIA = vm.STATES


def _write(tmp_path, text, name="res.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _messages(path, powers=None):
    with pytest.raises(ScenarioError) as info:
        load_resolutions(path, powers)
    return [str(p) for p in info.value.problems]


def _res(**more):
    fields = {
        "id": "r",
        "date": "2022-03-02",
        "title": "t",
        "issues": (),
        "condemns": None,
        "measure": "other",
    }
    return Resolution(**(fields | more))


# --- the resolutions loader --------------------------------------------------------------------


def test_the_bundled_file_describes_texts_only():
    assert bundled_resolutions() == ["resolutions_2022"]
    path = resolve_resolutions("resolutions_2022")
    assert path == ROOT / "seeds" / "data" / "resolutions_2022.yaml"
    (first,) = load_resolutions(path, ["russia", "china", "usa", "eu", "turkey", "iran"])
    assert (first.id, first.date, first.condemns, first.measure) == (
        "ES-11/1",
        "2022-03-02",
        "russia",
        "declaratory",
    )
    assert first.issues == () and first.importantvote is None
    assert first.lines["measure"] > first.lines["id"] > 1
    raw = yaml.safe_load(path.read_text())
    for item in raw["resolutions"]:
        assert set(item) <= {"id", "date", "title", "issues", "condemns", "measure", "note"}


def test_a_good_file_loads_with_its_optional_fields(tmp_path):
    path = _write(
        tmp_path,
        """
        resolutions:
          - id: A/1
            date: "2022-04-07"
            title: A text
            issues: [hr, co]
            condemns: null
            measure: membership_sanction
            importantvote: true
        """,
    )
    (r,) = load_resolutions(path)
    assert r.issues == ("hr", "co") and r.condemns is None and r.importantvote is True
    assert r.date == "2022-04-07" and r.file == str(path) and r.index == 0


def test_every_problem_is_reported_with_its_file_line_and_field(tmp_path):
    path = _write(
        tmp_path,
        """
        resolutions:
          - id: ES-11/1
            date: "2022-02-30"
            title: Aggression
            issues: [co, xx]
            condemns: rusia
            measure: declarative
            importantvote: maybe
          - id: 12
            date: 2022-03-02
            title: ""
            issues: co
            condemns: null
            measure: other
            sponsor: ukraine
          - date: 2022-03-02
            title: x
            issues: []
            measure: other
        """,
    )
    found = _messages(path, powers=["russia", "china", "usa", "eu"])
    expected = [
        f"{path}:3: resolutions[0].date: not a calendar day: '2022-02-30'",
        f"{path}:5: resolutions[0].issues[1]: unknown issue code 'xx'",
        f"{path}:6: resolutions[0].condemns: unknown power 'rusia' (did you mean 'russia'?)",
        f"{path}:7: resolutions[0].measure: unknown measure 'declarative' (did you mean "
        "'declaratory'?)",
        f"{path}:8: resolutions[0].importantvote: expected true, false",
        f"{path}:9: resolutions[1].id: expected text, found a number (12): quote it",
        f"{path}:11: resolutions[1].title: expected non-empty text",
        f"{path}:12: resolutions[1].issues: expected a list of issue codes",
        f"{path}:15: resolutions[1].sponsor: unknown field 'sponsor'",
        f"{path}:16: resolutions[2]: missing field 'id'",
        f"{path}:16: resolutions[2]: missing field 'condemns' (null when it condemns no power)",
    ]
    assert len(found) == len(expected), "\n".join(found)
    for message, start in zip(found, expected, strict=True):
        assert message.startswith(start), (message, start)


def test_an_unquoted_day_that_is_not_a_calendar_day_is_named(tmp_path):
    path = _write(tmp_path, "resolutions:\n  - {id: a, date: 2022-02-30, title: t}\n")
    (message,) = _messages(path)
    assert message.startswith(f"{path}:2: ") and "'2022-02-30' looks like a date" in message


def test_a_vote_cast_is_refused_with_the_date_rule(tmp_path):
    path = _write(
        tmp_path,
        """
        resolutions:
          - id: ES-11/1
            date: 2022-03-02
            title: Aggression against Ukraine
            issues: []
            condemns: russia
            measure: declaratory
            votes: {kazakhstan: abstain}
        """,
    )
    (message,) = _messages(path)
    assert message.startswith(f"{path}:8: resolutions[0].votes: 'votes': a resolutions file")
    assert CUTOFF in message


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("", "expected a mapping with 'resolutions:'"),
        (
            "resolution: []\n",
            "expected a mapping with 'resolutions:' (a list of resolutions), "
            "found a mapping with keys resolution",
        ),
        ("resolutions: []\n", "resolutions: expected a list of resolutions, found an empty list"),
        ("resolutions: [3]\n", "resolutions[0]: expected a mapping of fields"),
        (
            "resolutions:\n  - {id: a, date: 2022-01-01, title: t, issues: [], condemns: null,"
            " measure: other}\n  - {id: a, date: 2022-01-02, title: t, issues: [], condemns: "
            "null, measure: other}\n",
            "resolutions[1].id: duplicated id 'a' (first at line 2)",
        ),
    ],
)
def test_a_malformed_file_is_named(tmp_path, text, start):
    path = tmp_path / "res.yaml"
    path.write_text(text)
    found = _messages(path)
    assert any(start in m for m in found), found
    assert all(m.startswith(str(path)) for m in found)


def test_a_missing_file_lists_the_bundled_names(tmp_path):
    (message,) = _messages(resolve_resolutions(str(tmp_path / "nope.yaml")))
    assert "no such file" in message and "resolutions_2022" in message


# --- the model's arithmetic --------------------------------------------------------------------


def test_features_are_computed_from_the_profile_and_the_resolution():
    profile = {"russia": 0.8, "china": 0.6, "usa": 0.2, "eu": 0.4, "iran": 0.9}
    res = _res(issues=("hr", "co"), condemns="iran", measure="declaratory", importantvote=True)
    x = dict(zip(vm.FEATURES, vm.features(profile, 0.5, res), strict=True))
    west, east = 0.3, 0.7
    assert x["const"] == 1 and x["neutrality"] == 0.5
    assert math.isclose(x["west"], west) and math.isclose(x["east"], east)
    assert math.isclose(x["cross"], west)
    assert x["issue_hr"] == x["issue_co"] == 1 and x["issue_me"] == 0
    assert x["measure_declaratory"] == 1 and x["measure_territorial"] == 0
    assert x["important"] == 1 and x["condemns"] == 1
    assert math.isclose(x["condemns*aligned"], 0.9)
    assert math.isclose(x["condemns*west"], west)
    assert math.isclose(x["condemns*cross"], min(0.9, west))
    assert math.isclose(x["position*issue_hr"], west - east)
    assert x["position*issue_me"] == 0
    assert math.isclose(x["position*measure_declaratory"], west - east)
    assert math.isclose(x["neutrality*important"], 0.5)
    assert math.isclose(x["neutrality*condemns"], 0.5)
    bare = dict(zip(vm.FEATURES, vm.features(profile, 0.0, _res()), strict=True))
    assert bare["condemns"] == bare["condemns*aligned"] == bare["condemns*cross"] == 0
    with pytest.raises(KeyError, match="turkey"):
        vm.features(profile, 0.0, _res(condemns="turkey"))


def test_probabilities_on_hand_set_coefficients():
    k = len(vm.FEATURES)
    coef = np.zeros((3, k))
    coef[:, 0] = [math.log(2), 0.0, math.log(0.5)]  # intercepts of abstain, no, absent
    coef[1, vm.FEATURES.index("condemns*aligned")] = 2.0
    model = vm.VoteModel(coef=coef)
    profile = {"russia": 0.5, "china": 0.5, "usa": 0.5, "eu": 0.5}
    p = model.probabilities(profile, 0.0, _res())
    np.testing.assert_allclose(p, [1 / 4.5, 2 / 4.5, 1 / 4.5, 0.5 / 4.5])
    # condemning russia adds 2 * 0.5 to the logit of no: exp(1) instead of 1
    p = model.probabilities(profile, 0.0, _res(condemns="russia"))
    total = 1 + 2 + math.e + 0.5
    np.testing.assert_allclose(p, [1 / total, 2 / total, math.e / total, 0.5 / total])
    # broadcasting: runs x states, each row a distribution
    grid = {q: np.full((4, 3), 0.5) for q in profile}
    many = model.probabilities(grid, np.zeros(3), _res(condemns="russia"))
    assert many.shape == (4, 3, 4)
    np.testing.assert_allclose(many[2, 1], p)


def test_the_fit_recovers_known_coefficients_from_synthetic_votes():
    """Known answer: votes drawn from a multinomial logit with set coefficients are fitted back."""
    rng = np.random.default_rng(11)
    n, k = 20_000, 3
    x = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])  # const + two features
    truth = np.array(
        [[-0.5, 1.0, 0.0], [-1.0, -1.5, 0.8], [-2.0, 0.0, -1.0]]
    )  # abstain, no, absent
    p = vm.probabilities(truth, x)
    y = np.array([rng.choice(4, p=row) for row in p])
    coef, loglik = vm.fit_multinomial(x, y, ridge=1e-3)
    np.testing.assert_allclose(coef, truth, atol=0.08)
    assert loglik == pytest.approx(-vm.log_loss(vm.probabilities(coef, x), y) * n)
    slack = 0.5e-3 * float(np.sum(truth[:, 1:] ** 2))  # what the ridge may cost the fit
    assert loglik >= -vm.log_loss(p, y) * n - slack  # the optimum fits about as well as the truth
    with pytest.raises(ValueError, match="positive ridge"):
        vm.fit_multinomial(x, y, ridge=0.0)


def test_month_for_reads_the_record_before_the_day():
    assert vm.month_for("2022-03-02") == "2022-02"
    assert vm.month_for("2022-03-31") == "2022-03"
    assert vm.month_for("2022-01-15") == "2021-12"
    assert vm.month_for("2024-02-29") == "2024-02"


def _synthetic(n=30, every=10, step=2):
    """Roll calls ``every`` days apart; every power votes yes; the states vote yes on each
    ``step``-th one (else they are absent); the last day has a second roll call."""
    days = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(n) * every, unit="D")
    days = days.insert(n, days[-1])  # a second roll call on the last day
    calls = pd.DataFrame(
        {"rcid": np.arange(n + 1), "date": days, "issues": "", "measure": "other", "condemns": ""}
    )
    rows = []
    for rc, date in zip(calls.rcid, calls.date, strict=True):
        for country in ("russia", "china", "usa", "turkey", "iran", "france", "germany"):
            rows.append((rc, date, country, "yes"))
        for s in CENTRAL_ASIA:
            rows.append((rc, date, s, "yes" if rc % step == 0 else "absent"))
    votes = pd.DataFrame(rows, columns=["rcid", "date", "country", "vote"])
    return UnVotes(votes=votes, roll_calls=calls)


def test_the_proxy_is_the_agreement_share_over_earlier_days():
    proxy = vm.agreement_proxy(_synthetic(), ["kazakhstan"])
    russia, eu, usa = (proxy[p].to_numpy() for p in ("russia", "eu", "usa"))
    assert np.isnan(russia[: vm.MIN_VOTES]).all()  # fewer than 10 earlier votes
    assert list(proxy["rcid"]) == list(range(31))
    for rc in (10, 11, 25):
        evens = len([j for j in range(rc) if j % 2 == 0])
        assert math.isclose(russia[rc], evens / rc), rc
        assert math.isclose(eu[rc], evens / rc)
    # the two roll calls of the last day read the same window: neither sees the other
    assert usa[29] == usa[30] == 15 / 29


def test_a_thin_window_is_widened_to_the_last_votes():
    # 100 days apart: 12 months hold 3 earlier roll calls, so the proxy reads the last 10
    proxy = vm.agreement_proxy(_synthetic(every=100, step=3), ["uzbekistan"])
    china = proxy["china"].to_numpy()
    assert np.isnan(china[: vm.MIN_VOTES]).all()
    assert china[25] == 4 / 10  # roll calls 15 to 24: 15, 18, 21 and 24 agree
    assert china[10] == 4 / 10  # 0 to 9: 0, 3, 6 and 9


# --- the fitted model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return vm.load_vote_model()


def test_the_bundled_model_loads_and_records_its_fit(model):
    meta = model.meta
    assert model.coef.shape == (3, len(vm.FEATURES))
    assert meta["dates"][1] < CUTOFF and meta["held_out"]["test"][0] >= vm.TEST_START
    assert meta["held_out"]["train"][1] < vm.TEST_START
    assert meta["n_observations"] == sum(meta["votes"].values())
    assert set(meta["held_out"]["scores"]) == {
        "model",
        "majority",
        "state_majority",
        "persistence",
    }


def test_a_damaged_model_file_is_named(tmp_path):
    bad = tmp_path / "vote_model.json"
    data = json.loads(MODEL_JSON.read_text())
    data["features"] = data["features"][:-1]
    bad.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match=r"vote_model.json: features: .*bench/fit_vote_model"):
        vm.load_vote_model(bad)
    bad.write_text("{")
    with pytest.raises(ScenarioError, match="not a JSON file"):
        vm.load_vote_model(bad)


KAZAKHSTAN = {"russia": 0.66, "china": 0.77, "usa": 0.18, "turkey": 0.63, "iran": 0.8, "eu": 0.56}
"""About Kazakhstan's agreement shares of 2019 (the proxy's scale)."""


def test_the_model_is_resolution_aware(model):
    same_day = [
        _res(condemns="russia", measure="declaratory", issues=("hr",)),
        _res(condemns="russia", measure="territorial"),
        _res(condemns="usa", measure="declaratory", issues=("ec",)),
        _res(condemns=None, measure="humanitarian"),
    ]
    p = np.array([model.probabilities(KAZAKHSTAN, 0.0, r) for r in same_day])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    for i, j in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3)):  # 2 and 3 are both a plain yes
        assert np.abs(p[i] - p[j]).max() > 0.1, (same_day[i], same_day[j], p[i], p[j])
    # the condemned power's alignment matters: closer to Russia, less yes on a text against it
    text = same_day[1]
    near = model.probabilities(KAZAKHSTAN | {"russia": 0.9}, 0.0, text)
    far = model.probabilities(KAZAKHSTAN | {"russia": 0.3}, 0.0, text)
    assert near[0] < far[0]


def test_absence_varies_with_the_state_profile(model):
    text = _res(issues=("me",), measure="territorial")
    engaged = model.probabilities(KAZAKHSTAN, 0.0, text)
    detached = model.probabilities({p: v * 0.6 for p, v in KAZAKHSTAN.items()}, 0.0, text)
    neutral = model.probabilities(KAZAKHSTAN, 0.8, text)
    absent = vm.VOTES.index("absent")
    assert detached[absent] - engaged[absent] > 0.05
    assert neutral[absent] - engaged[absent] > 0.05


def test_the_fit_neutrality_is_the_baseline_scenarios():
    from sim.input.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "baseline_2022.yaml").scenario
    assert {s.id: s.neutrality for s in scenario.states} == vm.FIT_NEUTRALITY


@pytest.fixture(scope="module")
def history():
    un = load_un_votes()
    table, x = vm.training_table(un)
    return table, x


def test_the_held_out_log_loss_beats_the_majority_baseline(history, model):
    table, x = history
    y = table["y"].to_numpy()
    train = (table["date"] < pd.Timestamp(vm.TEST_START)).to_numpy()
    assert table.loc[train, "date"].max() < pd.Timestamp(vm.TEST_START)
    coef, _ = vm.fit_multinomial(x[train], y[train], model.meta["ridge"])
    p = vm.probabilities(coef, x[~train])
    loss = vm.log_loss(p, y[~train])
    base = vm.baseline_scores(table[train], table[~train])
    assert loss < base["majority"]["log_loss"] - 0.05
    assert loss < base["state_majority"]["log_loss"]
    assert loss < base["persistence"]["log_loss"]
    stored = model.meta["held_out"]["scores"]
    assert math.isclose(loss, stored["model"]["log_loss"], abs_tol=1e-4)
    assert math.isclose(base["majority"]["log_loss"], stored["majority"]["log_loss"], abs_tol=1e-6)


@pytest.mark.slow
def test_the_stored_coefficients_are_those_of_a_refit(model):
    refit = vm.fit_vote_model()
    np.testing.assert_allclose(refit.coef, model.coef, atol=1e-4)
    stored = json.loads(MODEL_JSON.read_text())["fit"]
    fresh = json.loads(json.dumps(refit.to_json()))["fit"]
    assert fresh["data"] == stored["data"] and fresh["ridge"] == stored["ridge"]
    assert fresh["n_observations"] == stored["n_observations"]
    assert fresh["dates"] == stored["dates"]
    assert math.isclose(fresh["log_likelihood"], stored["log_likelihood"], abs_tol=1e-2)
    for name, score in stored["held_out"]["scores"].items():
        for key, value in score.items():
            assert math.isclose(fresh["held_out"]["scores"][name][key], value, abs_tol=1e-4)


# --- greatgame votes ---------------------------------------------------------------------------


def _mini_with_powers(path):
    """mini.yaml with its powers renamed russia and china, and usa and eu added (like china)."""
    raw = yaml.safe_load((DATA / "mini.yaml").read_text())
    doc = yaml.safe_load(yaml.safe_dump(raw).replace("north", "russia").replace("east", "china"))
    doc["meta"]["name"] = "mini_votes"
    china = next(p for p in doc["powers"] if p["id"] == "china")
    for new in ("usa", "eu"):
        doc["powers"].append(copy.deepcopy(china) | {"id": new, "name": new.upper()})
        for state in doc["states"]:
            for key in ("alignment", "trust", "threat", "dependence", "border"):
                if "china" in state.get(key, {}):
                    state[key][new] = copy.deepcopy(state[key]["china"])
    for power in doc["powers"]:
        power.pop("rivalry", None)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("votes")
    scenario = _mini_with_powers(folder / "mini_votes.yaml")
    out = folder / "results"
    assert main(["run", str(scenario), "-r", "2", "--seed", "3", "-o", str(out), "-q"]) == 0
    return out


def _resolutions(tmp_path, *items):
    body = "".join(
        "  - {" + ", ".join(f"{k}: {v}" for k, v in item.items()) + "}\n" for item in items
    )
    return _write(tmp_path, "resolutions:\n" + body)


GOOD = {
    "id": "A",
    "date": "2022-03-02",
    "title": "t",
    "issues": "[]",
    "condemns": "russia",
    "measure": "declaratory",
}


def test_votes_prints_json_per_resolution_and_state(results, tmp_path, capsys):
    other = GOOD | {"id": "B", "date": "2022-06-30", "condemns": "null", "measure": "other"}
    file = _resolutions(tmp_path, GOOD, other)
    assert main(["votes", str(results), "--resolutions", str(file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"] == 2 and report["results"] == str(results)
    first, second = report["resolutions"]
    assert (first["id"], first["date"], first["month"], first["runs"]) == (
        "A",
        "2022-03-02",
        "2022-02",
        2,
    )
    assert second["month"] == "2022-06"
    assert list(first["states"]) == ["alpha", "beta", "gamma"]
    for r in (first, second):
        for cell in r["states"].values():
            assert list(cell["p"]) == list(vm.VOTES)
            assert math.isclose(sum(cell["p"].values()), 1.0)
            assert cell["vote"] == max(cell["p"], key=cell["p"].get)
    assert first["states"]["alpha"]["p"] != second["states"]["alpha"]["p"]


def test_votes_averages_the_runs_at_the_month_used(results, tmp_path):
    from sim.results.folder import read_run_folder

    run = read_run_folder(results)
    (res,) = load_resolutions(_resolutions(tmp_path, GOOD))
    report = vm.predict_folder(run, [res])
    at = run.table[(run.table["variable"] == "alignment") & (run.table["date"] == "2022-02")]
    model = vm.load_vote_model()
    neutrality = np.array([s.neutrality for s in run.scenario.states])
    each = []
    for r in (0, 1):
        rows = at[at["run"] == r].pivot(index="state", columns="power", values="value")
        profile = {p: rows.loc[["alpha", "beta", "gamma"], p].to_numpy() for p in rows.columns}
        each.append(model.probabilities(profile, neutrality, res))
    mean = np.mean(each, axis=0)
    got = [list(cell["p"].values()) for cell in report["resolutions"][0]["states"].values()]
    np.testing.assert_allclose(got, mean)


def test_votes_prints_a_table(results, capsys):
    assert main(["votes", str(results), "--resolutions", "resolutions_2022"]) == 0
    out = capsys.readouterr().out
    assert "ES-11/1 (2022-03-02) Aggression against Ukraine" in out
    assert "alignment at the end of 2022-02" in out
    assert out.count("\n  alpha ") == 1


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"date": "2023-01-15"}, "resolutions[0].date", "outside the results' period"),
        ({"date": "2021-12-30"}, "resolutions[0].date", "2021-12-31 to 2022-12-31"),
        ({"condemns": "turkey"}, "resolutions[0].condemns", "unknown power 'turkey'"),
        ({"issues": "[hr, human]"}, "resolutions[0].issues[1]", "unknown issue code 'human'"),
    ],
)
def test_votes_refuses_bad_resolutions_with_exit_2(results, tmp_path, capsys, change, where, says):
    file = _resolutions(tmp_path, GOOD | change)
    assert main(["votes", str(results), "--resolutions", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{file}:2: {where}: "), err
    assert says in err


def test_votes_needs_the_powers_of_the_model(tmp_path, capsys):
    from conftest import mini_results

    folder = mini_results(tmp_path / "mini")
    file = _resolutions(tmp_path, GOOD | {"condemns": "north"})
    assert main(["votes", str(folder), "--resolutions", str(file)]) == 2
    err = capsys.readouterr().err
    assert "scenario.yaml: powers: the vote model needs the powers russia, china, usa, eu" in err
