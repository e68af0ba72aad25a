"""The bundled UN General Assembly votes (seeds/data/): the loader's checks, the date cut, the
coverage of the twelve countries and a few well-known votes, as the data records them."""

import shutil

import pandas as pd
import pytest
from conftest import ROOT

from sim.input.errors import ScenarioError
from sim.input.unvotes import (
    COUNTRIES,
    CUTOFF,
    ROLL_CALLS_FILE,
    VOTES_FILE,
    load_un_votes,
    un_votes_dir,
)

DATA = ROOT / "seeds" / "data"
CENTRAL_ASIA = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan")


@pytest.fixture(scope="module")
def un():
    return load_un_votes()


@pytest.fixture
def copy(tmp_path):
    for name in (VOTES_FILE, ROLL_CALLS_FILE):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def _edit(path, line, old, new):
    """Replace ``old`` by ``new`` in 1-based ``line`` of a CSV file."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def _vote(un, unres, country):
    rows = un.votes[(un.votes.unres == unres) & (un.votes.country == country)]
    assert len(rows) == 1, (unres, country, rows)
    return rows.vote.iloc[0]


# --- the bundled files -------------------------------------------------------------------------


def test_the_bundled_folder_is_seeds_data():
    assert un_votes_dir().resolve() == DATA.resolve()


def test_the_bundled_files_load_and_are_small(un):
    assert len(un.roll_calls) == 2489
    assert len(un.votes) == 12 * len(un.roll_calls)
    assert set(un.votes.country) == set(COUNTRIES)
    for name in (VOTES_FILE, ROLL_CALLS_FILE):
        assert (DATA / name).stat().st_size < 3 * 2**20


def test_no_date_on_or_after_the_cut(un):
    cut = pd.Timestamp(CUTOFF)
    assert CUTOFF == "2022-03-02"
    assert un.votes.date.max() < cut and un.roll_calls.date.max() < cut
    assert un.roll_calls.date.min() >= pd.Timestamp("1992-01-01")
    # and in the raw text, whatever the loader does
    for name in (VOTES_FILE, ROLL_CALLS_FILE):
        raw = pd.read_csv(DATA / name, dtype=str, keep_default_na=False)
        assert (raw.date < CUTOFF).all(), name
        assert not raw.date.str.match(r"^(2022|2023|2024|2025)").any(), name


def test_every_country_votes_in_most_sessions(un):
    cast = un.votes[un.votes.vote != "absent"]
    sessions = un.votes.session.nunique()
    per_country = cast.groupby("country").session.nunique()
    for country in COUNTRIES:
        assert per_country[country] >= 0.85 * sessions, (country, per_country[country])
    # the powers are rarely absent, Turkmenistan often: as the source records it
    absent = (un.votes.vote == "absent").groupby(un.votes.country).mean()
    assert absent["usa"] < 0.01 and absent["germany"] < 0.01
    assert absent["turkmenistan"] > 0.3
    assert absent["turkmenistan"] == absent.max()


def test_only_the_russian_federation_from_1992(un):
    first = un.votes[un.votes.country == "russia"].date.min()
    assert first >= pd.Timestamp("1992-01-01")


def test_territorial_integrity_of_ukraine_2014(un):
    calls = un.roll_calls[un.roll_calls.unres == "R/68/262"]
    assert len(calls) == 1
    call = calls.iloc[0]
    assert call.date == pd.Timestamp("2014-03-27")
    assert call.condemns == "russia" and call.measure == "territorial"
    got = {c: _vote(un, "R/68/262", c) for c in COUNTRIES}
    assert got == {
        "usa": "yes",
        "france": "yes",
        "germany": "yes",
        "turkey": "yes",
        "russia": "no",
        "china": "abstain",
        "iran": "absent",
        "kazakhstan": "abstain",
        "uzbekistan": "abstain",
        "kyrgyzstan": "absent",
        "tajikistan": "absent",
        "turkmenistan": "absent",
    }


def test_the_cuba_embargo_votes_condemn_the_usa(un):
    embargo = un.roll_calls[un.roll_calls.short.str.contains("CUBA, U.S. EMBARGO", regex=False)]
    assert (embargo.condemns == "usa").all() and len(embargo) >= 10
    assert (
        un.roll_calls.condemns == "usa"
    ).sum() == 27  # one a year, 1992-2019 (2018: none in the source)
    votes = un.votes.merge(un.roll_calls[["rcid", "condemns"]], on="rcid")
    usa = votes[(votes.condemns == "usa") & (votes.country == "usa")]
    assert (usa.vote == "no").sum() == len(usa) - 1 == 26
    # 2016 (resolution 71/5): the one abstention of the United States
    assert usa[usa.vote != "no"].date.dt.year.tolist() == [2016]
    assert usa[usa.vote != "no"].vote.tolist() == ["abstain"]


def test_the_condemns_coding(un):
    rc = un.roll_calls
    assert set(rc.condemns) <= {"", "russia", "usa", "iran"}
    russia = rc[rc.condemns == "russia"]
    assert set(russia.measure) == {"territorial", "declaratory", "humanitarian"}
    assert (russia.date >= pd.Timestamp("2008-01-01")).all()
    iran = rc[rc.condemns == "iran"]
    assert len(iran) >= 20 and set(iran.measure) == {"declaratory"}
    votes = un.votes.merge(rc[["rcid", "condemns"]], on="rcid")
    on_iran = votes[(votes.condemns == "iran") & (votes.country == "iran")]
    assert (on_iran.vote == "no").all()  # no-action motions are not coded as condemning
    # Syria is not a project power: named as the target, condemns nobody
    syria = rc[rc.target == "syria"]
    assert len(syria) > 0 and (syria.condemns == "").all()


def test_issue_codes(un):
    codes = un.roll_calls.issues.str.split(";").explode()
    assert set(codes) - {""} == {"me", "nu", "di", "hr", "co", "ec"}


# --- damaged copies ----------------------------------------------------------------------------


def test_a_copy_loads(copy):
    assert len(load_un_votes(copy).roll_calls) == 2489


def test_a_missing_file_is_named(copy):
    (copy / VOTES_FILE).unlink()
    with pytest.raises(ScenarioError, match=r"un_votes\.csv: .*cannot read the file"):
        load_un_votes(copy)


def test_a_missing_column_is_named(copy):
    _edit(copy / VOTES_FILE, 1, "country", "countri")
    with pytest.raises(ScenarioError) as err:
        load_un_votes(copy)
    text = str(err.value)
    assert "un_votes.csv:1: country: missing column 'country' (did you mean 'countri'?)" in text


@pytest.mark.parametrize(
    ("name", "line", "old", "new", "message"),
    [
        (VOTES_FILE, 2, ",absent", ",absnet", r"un_votes\.csv:2: vote: unknown vote 'absnet'"),
        (VOTES_FILE, 3, "kyrgyzstan", "kirgizia", r"un_votes\.csv:3: country: unknown country"),
        (VOTES_FILE, 2, "3662,", "99999,", r"un_votes\.csv:2: rcid: roll call 99999 is not in"),
        (VOTES_FILE, 2, "1992-08-03", "1992-08-04", r"un_votes\.csv:2: date: .* differs"),
        (VOTES_FILE, 2, "1992-08-03", "1992-13-03", r"un_votes\.csv:2: date: not a calendar"),
        (VOTES_FILE, 2, ",46,", ",x,", r"un_votes\.csv:2: session: expected a whole number"),
        (
            ROLL_CALLS_FILE,
            2,
            "1992-08-03",
            "2022-03-02",
            r"un_roll_calls\.csv:2: date: date 2022-03-02 is on or after 2022-03-02",
        ),
        (ROLL_CALLS_FILE, 2, ",other", ",sanction", r"un_roll_calls\.csv:2: measure: unknown"),
        (ROLL_CALLS_FILE, 3, ",1,yugoslavia", ",2,yugoslavia", r":3: importantvote: expected 0"),
        (ROLL_CALLS_FILE, 3, "3663,", "3662,", r"un_roll_calls\.csv:3: rcid: duplicated roll"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(copy, name, line, old, new, message):
    _edit(copy / name, line, old, new)
    with pytest.raises(ScenarioError, match=message):
        load_un_votes(copy)


def test_a_bad_issue_code_and_a_bad_power(copy):
    path = copy / ROLL_CALLS_FILE
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int(frame.index[frame.unres == "R/68/262"][0])
    frame.loc[row, "condemns"] = "rusia"
    frame.loc[frame.index[frame.issues != ""][0], "issues"] = "me;xx"
    frame.to_csv(path, index=False)
    with pytest.raises(ScenarioError) as err:
        load_un_votes(copy)
    text = str(err.value)
    assert f"un_roll_calls.csv:{row + 2}: condemns: unknown power 'rusia'" in text
    assert "(did you mean 'russia'?)" in text
    assert "issues: unknown issue code 'xx'" in text


def test_a_late_vote_is_refused(copy):
    path = copy / VOTES_FILE
    with path.open("a", encoding="utf-8") as out:
        out.write("3662,2022-03-02,46,R/46/242,kazakhstan,abstain\n")
    with pytest.raises(ScenarioError, match=r"un_votes\.csv:\d+: date: date 2022-03-02 is on"):
        load_un_votes(copy)


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage", b'a,b\n"1,2\n'])
def test_an_unreadable_file_is_an_error_not_a_traceback(copy, content):
    (copy / ROLL_CALLS_FILE).write_bytes(content)
    with pytest.raises(ScenarioError, match=r"un_roll_calls\.csv: "):
        load_un_votes(copy)
