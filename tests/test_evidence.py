import json

import pytest
import yaml
from conftest import ROOT, write_yaml

from sim.cli import main
from sim.input.errors import ScenarioError
from sim.input.evidence import (
    Fact,
    check_citations,
    default_evidence_dir,
    load_all,
    load_evidence,
    load_sources,
    search,
    unsourced,
)
from sim.input.scenario import load_scenario

SEED_DOCS = ROOT.parent / "shared" / "seeds"
DRONE_FACTS = {
    "us_puma_drones_tajikistan_2022_05",
    "turkey_tb2_drones_kyrgyzstan",
    "turkey_combat_drones_tajikistan_planned",
    "turkey_kazakhstan_anka_coproduction_2022",
    "turkish_drones_in_karabakh_2020",  # a public page (history 2012-2022)
}


@pytest.fixture(scope="module")
def bundled():
    return load_all()


@pytest.fixture(scope="module")
def facts(bundled):
    return {f.id: f for f in bundled[1]}


def test_default_dir_is_repo_seeds():
    assert default_evidence_dir() == ROOT / "seeds"
    assert (default_evidence_dir() / "sources.yaml").is_file()


def test_bundled_files_load_with_enough_facts(bundled):
    sources, facts = bundled
    assert sum(s.seed_document for s in sources) == 5
    assert len(facts) >= 45
    assert len({f.id for f in facts}) == len(facts)


def test_every_cited_source_exists_and_every_source_is_cited(bundled):
    sources, facts = bundled
    ids = {s.id for s in sources}
    cited = {s for f in facts for s in f.sources}
    assert cited <= ids
    assert cited == ids


@pytest.mark.skipif(not SEED_DOCS.is_dir(), reason="seed documents not checked out beside repo")
def test_one_source_per_seed_document(bundled):
    seeds = {s.id for s in bundled[0] if s.seed_document}
    assert seeds == {p.name for p in SEED_DOCS.glob("*.txt")}


def test_sources_have_titles_dates_and_summaries(bundled):
    by_id = {s.id: s for s in bundled[0]}
    assert by_id["004_631f34e62e8be2c6.txt"].title == (
        "Russia's Position in Central Asia Continues to Slip"
    )
    assert by_id["003_f0237684885c98e4.txt"].title == "Central Asia is coming into its own"
    assert by_id["004_631f34e62e8be2c6.txt"].outlet.startswith("Eurasia Daily Monitor")
    for source in by_id.values():
        assert source.covers and source.date_basis
        if source.seed_document:
            assert source.date_basis.startswith("inferred from")


def test_public_sources_are_https_pages_and_predate_march_2022(bundled):
    public = [s for s in bundled[0] if not s.seed_document]
    assert public, "the history scenario cites public pages"
    for source in public:
        assert source.url.startswith("https://") and not source.id.endswith(".txt")
        assert source.date < "2022-03", source.id


@pytest.mark.parametrize(
    ("fact_id", "name", "value"),
    [
        ("us_tajik_security_package_2022_05", "total", 60),
        ("us_puma_drones_tajikistan_2022_05", "puma_drones", 20),
        ("us_iveco_vehicles_tajikistan_2022_05", "worth", 2.3),
        ("us_iveco_vehicles_tajikistan_2022_05", "vehicles", 8),
        ("us_border_outpost_900_personnel_2022_05", "personnel", 900),
        ("tajik_migrants_in_russia", "tajik_citizens_in_russia", 1_000_000),
        ("csto_nine_to_six_members", "peak_members", 9),
        ("csto_nine_to_six_members", "members_now", 6),
        ("ethnic_russian_share_up_to_22pct", "ethnic_russian_share", 22),
        ("mazhilis_russian_language_status_2022", "deputies_in_favour", 36),
        ("mazhilis_russian_language_status_2022", "mazhilis_seats", 107),
        ("kyrgyz_tajik_border_war_2022_09", "deaths", 100),
        ("putin_five_trips_2022", "trips", 5),
        ("kazakhstan_population_19m", "population", 19),
        ("central_asia_population_72m", "population", 72),
        ("csto_withdrawal_within_two_weeks_2022_01", "deployment", 2),
        ("unga_vote_2022_03_abstentions", "abstaining_central_asian_states", 3),
    ],
)
def test_quantities_from_the_documents(facts, fact_id, name, value):
    assert facts[fact_id].quantities[name].value == pytest.approx(value)


@pytest.mark.parametrize(
    ("fact_id", "date", "actor"),
    [
        ("turkey_tb2_drones_kyrgyzstan", "2022-05", "kyrgyzstan"),
        ("turkey_combat_drones_tajikistan_planned", "2022-05", "tajikistan"),
        ("turkey_kazakhstan_anka_coproduction_2022", "2022-05", "kazakhstan"),
        ("caspian_summit_snub_2022_07", "2022-07", "turkmenistan"),
        ("kyrgyzstan_cancels_csto_drills_2022_10", "2022-10", "csto"),
        ("rahmon_rebukes_putin_2022_10", "2022-10", "tajikistan"),
        ("kerch_bridge_doubts_2022_10", "2022-10", "kazakhstan"),
        ("tokayev_invites_us_firms_2022_09", "2022-09", "usa"),
        ("kazakhstan_declines_military_agreement_2022_10", "2022-10", "russia"),
        ("russia_charges_kazakh_arms_to_kyiv_2022_10", "2022-10", "ukraine"),
        ("kazakhstan_troops_to_russian_border", "2023-01", "kazakhstan"),
        ("tokayev_no_recognition_lnr_dnr_2022_06", "2022-06", "kazakhstan"),
        ("us_central_asia_strategy_aims_2022", "2022-05", "usa"),
        ("matvienko_no_geopolitical_arena_2022_05", "2022-05", "russia"),
        ("kyrgyzstan_z_symbol_fines_2022_05", "2022-05", "kyrgyzstan"),
        ("kazakh_language_patrols_2021_08", "2021-08", "kazakhstan"),
        ("kazakhstan_eaeu_exit_rumour_denied_2022_05", "2022-05", "eaeu"),
        ("iran_trade_transit_push", "2022-10", "iran"),
        ("china_to_exploit_openings_2022", "2022-10", "china"),
        ("armenia_csto_appeal_denied_2020", "2020-10", "armenia"),
        ("kazakhstan_unrest_csto_intervention_2022_01", "2022-01", "csto"),
    ],
)
def test_key_events_are_recorded(facts, fact_id, date, actor):
    assert facts[fact_id].date == date
    assert actor in facts[fact_id].actors


def test_unga_vote_records_only_what_the_documents_say(facts):
    vote = facts["unga_vote_2022_03_abstentions"]
    assert {"kazakhstan", "kyrgyzstan", "tajikistan"} <= set(vote.actors)
    assert not {"uzbekistan", "turkmenistan"} & set(vote.actors)
    assert "Uzbekistan and Turkmenistan" in vote.note


def test_sanctions_disagreement_is_recorded_both_ways(facts):
    follows = facts["tokayev_commits_to_sanctions_2022_06"]
    refuses = facts["tokayev_will_not_join_sanctions"]
    assert "tokayev_will_not_join_sanctions" in follows.note
    assert "tokayev_commits_to_sanctions_2022_06" in refuses.note
    assert set(follows.sources).isdisjoint(refuses.sources)


def test_search_is_case_insensitive_over_id_claim_and_actors(bundled):
    facts = bundled[1]
    assert {f.id for f in search(facts, "DRONES")} == DRONE_FACTS
    assert {f.id for f in search(facts, "iran")} >= {"iran_trade_transit_push"}
    assert {f.id for f in search(facts, "pommersheim")} == {"us_tajik_security_package_2022_05"}
    only_actor = Fact(
        id="x", claim="Something.", date="2022-01", actors=["georgia"], sources=["a.txt"]
    )
    assert search([*facts, only_actor], "GEORGIA")[-1] is only_actor
    assert search(facts, "") == facts
    assert search(facts, "no-such-word-anywhere") == []


# --- bad files ---------------------------------------------------------------------------------

GOOD_FACT = {
    "id": "us_tajik_security_package_2022_05",
    "claim": "The USA promised money for Tajik security.",
    "date": "2022-05",
    "actors": ["usa", "tajikistan"],
    "sources": ["002_92e49eb8f47f0ea2.txt"],
    "quantities": {"total": {"value": 60, "unit": "USD million"}},
}


def _sources(bundled):
    return bundled[0]


def _write_facts(tmp_path, facts):
    return write_yaml(tmp_path / "evidence.yaml", {"facts": facts})


def test_unknown_source_id_gives_did_you_mean_with_file_line_and_path(tmp_path, bundled):
    other = {**GOOD_FACT, "id": "second", "sources": ["002_92e49eb8f47f0ea3.txt"]}
    path = _write_facts(tmp_path, [GOOD_FACT, other])
    with pytest.raises(ScenarioError) as info:
        load_evidence(path, _sources(bundled))
    (problem,) = info.value.problems
    assert problem.loc == ("facts", 1, "sources", 0)
    lines = path.read_text().splitlines()
    assert "002_92e49eb8f47f0ea3.txt" in lines[problem.line - 1]
    text = str(info.value)
    assert text.startswith(f"{path}:{problem.line}: facts[1].sources[0]: ")
    assert "unknown source id '002_92e49eb8f47f0ea3.txt'" in text
    assert "(did you mean '002_92e49eb8f47f0ea2.txt'?)" in text


def test_unknown_keys_are_rejected_with_suggestions(tmp_path, bundled):
    bad = {**GOOD_FACT, "claims": "typo"}
    bad["quantities"] = {"total": {"value": 60, "unti": "USD million"}}
    path = _write_facts(tmp_path, [bad])
    with pytest.raises(ScenarioError) as info:
        load_evidence(path, _sources(bundled))
    text = str(info.value)
    assert "facts[0].claims: unknown key 'claims' (did you mean 'claim'?)" in text
    assert "facts[0].quantities.total.unti: unknown key 'unti' (did you mean 'unit'?)" in text


def test_duplicated_fact_ids_and_bad_dates_are_rejected(tmp_path, bundled):
    path = _write_facts(tmp_path, [GOOD_FACT, GOOD_FACT])
    with pytest.raises(ScenarioError, match=r"facts\[1\]\.id: duplicated id"):
        load_evidence(path, _sources(bundled))
    path = _write_facts(tmp_path, [{**GOOD_FACT, "date": "May 2022"}])
    with pytest.raises(ScenarioError, match=r"facts\[0\]\.date: expected"):
        load_evidence(path, _sources(bundled))


def test_a_source_url_must_be_an_https_address(tmp_path):
    doc = {"id": "page", "title": "T", "date": "2014-03", "covers": "Something."}
    ok = write_yaml(tmp_path / "ok.yaml", {"sources": [{**doc, "url": "https://example.org/a"}]})
    assert not load_sources(ok)[0].seed_document
    for bad in ("http://example.org/a", "https://", "https://example.org/a b", "example.org"):
        path = write_yaml(tmp_path / "bad.yaml", {"sources": [{**doc, "url": bad}]})
        with pytest.raises(ScenarioError, match=r"sources\[0\]\.url"):
            load_sources(path)


def test_duplicated_source_ids_are_rejected(tmp_path):
    doc = {"id": "a.txt", "title": "T", "date": "2022-05", "covers": "Something."}
    path = write_yaml(tmp_path / "sources.yaml", {"sources": [doc, doc]})
    with pytest.raises(ScenarioError, match=r"sources\[1\]\.id: duplicated id 'a.txt'"):
        load_sources(path)
    assert load_sources(write_yaml(tmp_path / "one.yaml", {"sources": [doc]}))[0].id == "a.txt"


def test_empty_or_wrong_top_level_is_rejected(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ScenarioError, match="expected a mapping with 'sources:'"):
        load_sources(tmp_path / "empty.yaml")


# --- command line --------------------------------------------------------------------------------


def test_cli_search_drones_lists_the_drone_facts(capsys):
    assert main(["evidence", "--search", "drones"]) == 0
    out = capsys.readouterr().out
    *body, summary = out.splitlines()
    assert {line.split()[0] for line in body if not line.startswith(" ")} == DRONE_FACTS
    assert summary.startswith(f"{len(DRONE_FACTS)} of ")
    assert "kazakhstan_population_19m" not in out
    assert "puma_drones = 20 USD million" in out


def test_cli_json_lists_all_facts(capsys, bundled):
    assert main(["evidence", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [f.id for f in bundled[1]]
    package = next(d for d in data if d["id"] == "us_tajik_security_package_2022_05")
    assert package["quantities"]["total"] == {"value": 60.0, "unit": "USD million"}


def test_cli_bad_evidence_folder_exits_2(tmp_path, capsys):
    (tmp_path / "sources.yaml").write_text((ROOT / "seeds" / "sources.yaml").read_text())
    _write_facts(tmp_path, [{**GOOD_FACT, "sources": ["002_92e49eb8f47f0ea3.txt"]}])
    assert main(["evidence", "--dir", str(tmp_path)]) == 2
    assert "did you mean '002_92e49eb8f47f0ea2.txt'" in capsys.readouterr().err


# --- scenario citations --------------------------------------------------------------------------


def test_check_citations_reports_unknown_ids_with_file_and_line(tmp_path, mini_raw, bundled):
    facts = bundled[1]
    alpha = mini_raw["states"][0]
    alpha["population"] = {"value": 19, "evidence": ["kazakhstan_population_19m"]}
    alpha["ethnic_russian_share"] = {"value": 0.2, "evidence": ["ethnic_russian_share_22pct"]}
    mini_raw["events"][2]["evidence"] = ["kyrgyz_tajik_border_war_2022_9"]
    path = write_yaml(tmp_path / "cited.yaml", mini_raw)
    loaded = load_scenario(path)
    problems = check_citations(loaded, facts)
    assert [p.loc for p in problems] == [
        ("states", "alpha", "ethnic_russian_share", "evidence", 0),
        ("events", "clash", "evidence", 0),
    ]
    lines = path.read_text().splitlines()
    assert "ethnic_russian_share_22pct" in lines[problems[0].line - 1]
    assert "kyrgyz_tajik_border_war_2022_9" in lines[problems[1].line - 1]
    assert "(did you mean 'ethnic_russian_share_up_to_22pct'?)" in problems[0].message
    assert "(did you mean 'kyrgyz_tajik_border_war_2022_09'?)" in problems[1].message
    assert str(problems[1]).startswith(f"{path}:{problems[1].line}: events.clash.evidence[0]")

    alpha["ethnic_russian_share"]["evidence"] = ["ethnic_russian_share_up_to_22pct"]
    mini_raw["events"][2]["evidence"] = ["kyrgyz_tajik_border_war_2022_09"]
    assert check_citations(load_scenario(write_yaml(path, mini_raw)), facts) == []


def test_check_citations_points_into_the_extending_file(tmp_path, mini_raw, bundled):
    write_yaml(tmp_path / "base.yaml", mini_raw)
    child = {"extends": "base.yaml", "events": [{"id": "war", "evidence": ["kerch_bridge"]}]}
    path = write_yaml(tmp_path / "child.yaml", child)
    (problem,) = check_citations(load_scenario(path), bundled[1])
    assert problem.file == str(path)
    assert "kerch_bridge" in path.read_text().splitlines()[problem.line - 1]


def test_unsourced_lists_numbers_without_provenance(tmp_path, mini_raw):
    before = unsourced(load_scenario(write_yaml(tmp_path / "a.yaml", mini_raw)))
    assert "states.alpha.population" in before
    assert "events.package.magnitude" in before
    alpha = mini_raw["states"][0]
    alpha["population"] = {"value": 19, "evidence": ["kazakhstan_population_19m"]}
    alpha["gdp"] = {"value": 200, "assumption": {"range": [150, 250], "note": "order of size"}}
    after = unsourced(load_scenario(write_yaml(tmp_path / "b.yaml", mini_raw)))
    assert set(before) - set(after) == {"states.alpha.population", "states.alpha.gdp"}


def test_bundled_yaml_is_plain_data():
    # Dates are quoted, so plain YAML readers see text, not datetime objects.
    raw = yaml.safe_load((ROOT / "seeds" / "evidence.yaml").read_text())
    assert all(isinstance(f["date"], str) for f in raw["facts"])
