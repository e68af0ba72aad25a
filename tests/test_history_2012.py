"""The history scenario 2012-01 to 2022-02 (scenarios/history_2012.yaml, issue 15 item 4).

It loads, validates and runs for its whole span with the ensemble engine; every number has
provenance; every event cites facts whose sources are public pages with an https address or
seed documents; and nothing from a public page is dated on or after March 2022.
"""

import numpy as np
import pytest
from conftest import ROOT

from sim.input.evidence import check_citations, load_all, unsourced
from sim.input.scenario import load_scenario, month_index
from sim.model.engines import simulate

PATH = ROOT / "scenarios" / "history_2012.yaml"
CUTOFF = "2022-03"  # the out-of-sample record starts on 2 March 2022


@pytest.fixture(scope="module")
def loaded():
    return load_scenario(PATH)


@pytest.fixture(scope="module")
def evidence():
    sources, facts = load_all()
    return {s.id: s for s in sources}, {f.id: f for f in facts}


def test_loads_extends_the_baseline_and_spans_2012_to_2022(loaded):
    sc = loaded.scenario
    assert [p.name for p in loaded.files] == ["history_2012.yaml", "baseline_2022.yaml"]
    assert (sc.meta.name, sc.meta.start, sc.meta.end) == ("history_2012", "2012-01", "2022-02")
    assert sc.n_steps == 122
    assert all(sc.meta.start <= e.date <= sc.meta.end for e in sc.events)


def test_every_number_has_provenance_and_every_citation_is_a_fact(loaded, evidence):
    assert unsourced(loaded) == []
    assert check_citations(loaded, evidence[1].values()) == []


def test_every_event_cites_facts_from_public_pages_or_seed_documents(loaded, evidence):
    sources, facts = evidence
    for event in loaded.scenario.events:
        assert event.evidence, event.id
        assert event.description.strip(), event.id
        for ident in event.evidence:
            for sid in facts[ident].sources:
                source = sources[sid]
                assert source.seed_document or source.url.startswith("https://"), (event.id, sid)


def test_the_new_events_of_2012_2021_rest_on_public_pages(loaded, evidence):
    sources, facts = evidence
    early = [e for e in loaded.scenario.events if e.date < "2022-01"]
    assert len(early) >= 20
    for event in early:
        cited = {sid for ident in event.evidence for sid in facts[ident].sources}
        assert cited and not any(sources[sid].seed_document for sid in cited), event.id


def test_nothing_from_a_public_page_is_dated_after_february_2022(loaded, evidence):
    sources, facts = evidence
    public = {s.id for s in sources.values() if not s.seed_document}
    for fact in facts.values():
        if set(fact.sources) & public:
            assert fact.date < CUTOFF, fact.id
    for source in sources.values():
        if not source.seed_document:
            assert source.date < CUTOFF, source.id
    for event in loaded.scenario.events:
        assert event.date < CUTOFF, event.id


def test_the_initial_state_of_2012_cites_no_fact_of_the_2022_seed_documents(loaded, evidence):
    """The relations, sizes and standing of 2012 do not rest on what the seeds say of 2022.

    The powers' behavioural traits (strategy) are the baseline's, estimated by calibration, and
    the Tajik migrant count of the seeds describes a standing fact; both are allowed."""
    from sim.input.params import collect_numbers

    sources, facts = evidence
    allowed = {"states.tajikistan.dependence.russia.remittances"}
    for number in collect_numbers(loaded.raw):
        if not number.path.startswith(("states.", "powers.")) or ".strategy." in number.path:
            continue
        if number.path in allowed:
            continue
        for ident in number.evidence:
            seeds = [s for s in facts[ident].sources if sources[s].seed_document]
            assert not seeds, (number.path, ident)


def test_no_outcome_the_model_decides_is_scripted(loaded):
    kinds = {e.type.value for e in loaded.scenario.events}
    assert "security_request" not in kinds  # whom a state asks is its own decision
    assert "diplomatic_signal" not in kinds  # so is its public stance
    crises = {e.id for e in loaded.scenario.events if e.type.value in ("crisis", "border_conflict")}
    assert {"kyrgyz_unrest_2020", "kg_tj_border_clash_2021", "taliban_at_tajik_border"} <= crises


def test_the_2012_relations_differ_from_2022_where_the_record_says_so(loaded):
    base = load_scenario(ROOT / "scenarios" / "baseline_2022.yaml").scenario
    sc = loaded.scenario
    state = {s.id: s for s in sc.states}
    before = {s.id: s for s in base.states}
    assert "csto" not in state["uzbekistan"].memberships
    assert "ots" not in state["uzbekistan"].memberships  # joins the Turkic Council in 2019
    assert "eaeu" not in state["kyrgyzstan"].memberships  # joins in August 2015
    assert state["uzbekistan"].alignment["turkey"] < before["uzbekistan"].alignment["turkey"]
    assert state["kyrgyzstan"].alignment["usa"] > before["kyrgyzstan"].alignment["usa"]
    power = {p.id: p for p in sc.powers}
    assert power["usa"].credibility > {p.id: p for p in base.powers}["usa"].credibility


def test_runs_for_its_whole_span_with_the_ensemble_engine(loaded):
    sc = loaded.scenario
    batch = simulate([sc] * 3, [11, 12, 13], engine="ensemble")
    a = batch.values["alignment"]
    assert a.shape == (3, sc.n_steps + 1, len(sc.states), len(sc.powers))
    assert batch.dates[0] == "2011-12" and batch.dates[-1] == "2022-02"
    assert np.all(np.isfinite(a)) and np.all((a >= 0) & (a <= 1))
    for log in batch.events:
        fired = [e for e in log if e["type"] != "decision"]
        assert sorted(e["id"] for e in fired) == sorted(e.id for e in sc.events if e.enabled)
        dates = [month_index(e["date"]) for e in fired]
        assert dates == sorted(dates)  # fired in date order, whatever the file order
    assert not np.allclose(a[:, 0], a[:, -1])


def test_the_offer_cost_is_structurally_inert_only_without_offers(loaded):
    """The history holds no aid or arms offer, so the offer cost decides nothing in it."""
    from sim.sweep.screening import structural_reason

    assert "no aid_package or arms_deal" in structural_reason(loaded, "model.offer_cost")
    base = load_scenario(ROOT / "scenarios" / "baseline_2022.yaml")
    assert structural_reason(base, "model.offer_cost") == ""
