"""Derive the bundled UN General Assembly vote tables from the ``unvotes`` R package data.

A one-off script, not run in CI and not a dependency of the project: it needs the ``rdata``
package (install it in a throwaway venv, never in the project's), and the project reads only
what it writes, ``seeds/data/un_votes.csv`` and ``seeds/data/un_roll_calls.csv``, with
:mod:`sim.input.unvotes`. ``seeds/data/SOURCES.md`` says where the data comes from, its licence
and what this script does; its table of rule counts is what this script prints.

What it does, deterministically:

1. Reads ``un_votes.rda``, ``un_roll_calls.rda`` and ``un_roll_call_issues.rda`` of the package
   (GitHub ``dgrtwo/unvotes``, ``data/``).
2. Keeps the roll calls dated from 1992-01-01 up to, but not including, :data:`CUTOFF`
   (2022-03-02): no real-world outcome on or after that day enters the project. Roll calls with
   fewer than :data:`MIN_RECORDED` recorded votes in all (data glitches) are dropped.
3. Keeps the twelve countries of :data:`COUNTRIES`, found by ISO code; the Russian Federation's
   seat is the USSR's (one code, 365, in the Correlates of War coding of the source), so the date
   filter alone keeps only the Russian Federation's votes.
4. Writes ``absent`` where a country has no yes/abstain/no row for a roll call: the package drops
   the source's absent (code 8) and non-member (code 9) rows, and all twelve countries were
   members for every roll call kept (the five Central Asian states joined on 1992-03-02, before
   the first vote of 1992). With ``--published`` (the package's older full file
   ``data-raw/UNVotesPublished.RData``, to 2015, which still has codes 8 and 9) the script
   checks this against the source's own codes.
5. Codes each roll call's ``target``, ``condemns`` and ``measure`` with the keyword rules of
   :data:`TARGET_RULES`, :data:`MEASURE_RULES` and :data:`NO_ACTION` over its short and long
   description.

Usage::

    python bench/derive_unvotes.py --rda DIR [--published FILE] [--out seeds/data] [--counts]

where ``DIR`` holds the three ``.rda`` files (for example from
``git --git-dir=... show HEAD:data/un_votes.rda > DIR/un_votes.rda``).
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CUTOFF = pd.Timestamp("2022-03-02")
"""The first day whose outcomes must stay out of the project (ES-11/1, 2 March 2022)."""
START = pd.Timestamp("1992-01-01")
"""The first day kept: the Central Asian states joined the UN on 2 March 1992."""
MIN_RECORDED = 10
"""A roll call with fewer recorded yes/abstain/no votes (of all members) is a glitch: dropped."""

COUNTRIES = {
    "KZ": "kazakhstan",
    "KG": "kyrgyzstan",
    "TJ": "tajikistan",
    "TM": "turkmenistan",
    "UZ": "uzbekistan",
    "RU": "russia",
    "CN": "china",
    "US": "usa",
    "TR": "turkey",
    "IR": "iran",
    "FR": "france",
    "DE": "germany",
}
"""ISO 3166 code in the source -> the project's id (France and Germany stand in for the EU)."""
COW = {
    705: "kazakhstan",
    703: "kyrgyzstan",
    702: "tajikistan",
    701: "turkmenistan",
    704: "uzbekistan",
    365: "russia",
    710: "china",
    2: "usa",
    640: "turkey",
    630: "iran",
    220: "france",
    255: "germany",
}
"""Correlates of War code -> project id, for the cross-check with the older full file."""
POWERS = ("russia", "china", "usa", "turkey", "iran", "eu")
"""The project's powers: the only values ``condemns`` may take."""
ISSUES = ("me", "nu", "di", "hr", "co", "ec")
DESCR_CHARS = 300
"""The long description is cut to this many characters in the bundled file."""


@dataclass(frozen=True)
class Rule:
    """A keyword rule: a roll call whose text matches ``pattern`` gets the coding below.

    Attributes:
        name: Short name, used in the table of counts.
        pattern: Regular expression, searched case-insensitively in ``short | descr``.
        target: The country whose conduct the text is about (for target rules), or "".
        measure: The measure, or "" to leave it to :data:`MEASURE_RULES`.
    """

    name: str
    pattern: str
    target: str = ""
    measure: str = ""


TARGET_RULES: tuple[Rule, ...] = (
    # Russia
    Rule(
        "ukraine_territorial_integrity",
        r"territorial integrity of Ukraine",
        "russia",
        "territorial",
    ),
    Rule(
        "crimea_militarization",
        r"militari[sz]ation of the Autonomous Republic of Crimea",
        "russia",
        "territorial",
    ),
    Rule(
        "crimea_human_rights",
        r"human rights in the Autonomous Republic of Crimea",
        "russia",
        "declaratory",
    ),
    Rule(
        "georgia_idps_abkhazia",
        r"displaced persons and refugees from Abkhazia",
        "russia",
        "humanitarian",
    ),
    # United States
    Rule(
        "cuba_us_embargo",
        r"embargo imposed by the Unite[ds] States|CUBA, U\.?S\.? EMBARGO|"
        r"embargo.{0,60}against Cuba",
        "usa",
        "declaratory",
    ),
    # Iran
    Rule(
        "iran_human_rights",
        r"human rights (situation )?in the Islamic Republic of Iran|HUMAN RIGHTS, IRAN|"
        r"human rights situation in the Islamic Republic of Iran",
        "iran",
        "declaratory",
    ),
    # states that are not project powers: target named, condemns empty
    Rule(
        "syria_accountability_mechanism",
        r"International, Impartial and Independent Mechanism",
        "syria",
        "accountability",
    ),
    Rule(
        "syria_human_rights",
        r"human rights (situation )?in the Syrian Arab Republic|"
        r"HUMAN RIGHTS, SYRIA",
        "syria",
        "declaratory",
    ),
    Rule(
        "dprk_human_rights",
        r"human rights in the Democratic People.{0,12}Republic of Korea",
        "north_korea",
        "declaratory",
    ),
    Rule(
        "myanmar_human_rights",
        r"human rights (situation )?in Myanmar|HUMAN RIGHTS, MYANMAR",
        "myanmar",
        "declaratory",
    ),
    Rule(
        "belarus_human_rights",
        r"human rights in Belarus|HUMAN RIGHTS, REPORTS, BELARUS",
        "belarus",
        "declaratory",
    ),
    Rule(
        "turkmenistan_human_rights", r"human rights in Turkmenistan", "turkmenistan", "declaratory"
    ),
    Rule("uzbekistan_human_rights", r"human rights in Uzbekistan", "uzbekistan", "declaratory"),
    Rule("cuba_human_rights", r"human rights in Cuba|HUMAN RIGHTS, CUBA", "cuba", "declaratory"),
    Rule("iraq_human_rights", r"human rights in Iraq|HUMAN RIGHTS, IRAQ", "iraq", "declaratory"),
    Rule(
        "azerbaijan_occupied_territories",
        r"occupied territories of Azerbaijan",
        "armenia",
        "territorial",
    ),
    Rule("chagos_advisory_opinion", r"Chagos Archipelago", "united_kingdom", "territorial"),
    Rule("mayotte", r"Mayotte", "france", "territorial"),
    Rule(
        "yugoslavia_membership",
        r"Federal Republic of Yugoslavia|ADMISSION, YUGOSLAVIA|"
        r"membership of the former Socialist Federal Republic of Yugoslavia",
        "yugoslavia",
        "membership_sanction",
    ),
    Rule("israel", r"\bIsrael", "israel", ""),
)
"""Country-specific rules, first match wins; ``condemns`` is the target when it is a power."""

MEASURE_RULES: tuple[Rule, ...] = (
    Rule("m_financing", r"financing of|programme budget|scale of assessments", measure="other"),
    Rule(
        "m_membership_sanction",
        r"credentials|rights of membership|"
        r"suspen(d|sion).{0,40}(rights|membership)|shall not participate",
        measure="membership_sanction",
    ),
    Rule(
        "m_accountability",
        r"accountab|impunity|International Criminal Court|tribunal|"
        r"investigat|reparation",
        measure="accountability",
    ),
    Rule(
        "m_territorial",
        r"territorial integrity|occupied|sovereignty over|annex|"
        r"null and void|Golan|Jerusalem",
        measure="territorial",
    ),
    Rule(
        "m_humanitarian", r"humanitarian|refugee|displaced persons|relief", measure="humanitarian"
    ),
    Rule(
        "m_declaratory",
        r"situation of human rights|human rights situation|condemn|deplor",
        measure="declaratory",
    ),
)
"""Rules for ``measure`` when the target rule gives none; first match wins, else ``other``."""
NO_ACTION = r"no action (to )?be taken|for no action"
"""A motion that no action be taken on a draft: its target is kept, but ``condemns`` is emptied
and ``measure`` is ``other``, since a yes vote is a vote against the draft."""


def read_rda(path: Path) -> pd.DataFrame:
    """The one data frame of an ``.rda``/``.RData`` file (needs the ``rdata`` package)."""
    import rdata  # a one-off dependency of this script only

    with warnings.catch_warnings():  # tibble and Date classes come back as plain frames/floats
        warnings.simplefilter("ignore")
        frames = rdata.read_rda(str(path))
    (frame,) = frames.values()
    return pd.DataFrame(frame)


def code_roll_call(text: str) -> tuple[str, str, str, str]:
    """``(target, condemns, measure, rule names)`` of one roll call's ``short | descr`` text."""
    target, measure, fired = "", "", []
    for rule in TARGET_RULES:
        if re.search(rule.pattern, text, flags=re.IGNORECASE):
            target, measure = rule.target, rule.measure
            fired.append(rule.name)
            break
    if not measure:
        measure = "other"
        for rule in MEASURE_RULES:
            if re.search(rule.pattern, text, flags=re.IGNORECASE):
                measure = rule.measure
                fired.append(rule.name)
                break
    condemns = target if target in POWERS else ""
    if re.search(NO_ACTION, text, flags=re.IGNORECASE):  # a yes is a vote against the text
        condemns, measure = "", "other"
        fired.append("no_action_motion")
    return target, condemns, measure, ";".join(fired)


def clean(text: object) -> str:
    """A description with whitespace collapsed; "" for a missing one."""
    if text is None or (isinstance(text, float) and pd.isna(text)) or text is pd.NA:
        return ""
    return re.sub(r"\s+", " ", str(text)).strip()


def derive(rda: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The roll-call and vote tables, and the per-roll-call rule record, from the three files."""
    votes = read_rda(rda / "un_votes.rda")
    calls = read_rda(rda / "un_roll_calls.rda")
    issues = read_rda(rda / "un_roll_call_issues.rda")

    calls["date"] = pd.Timestamp("1970-01-01") + pd.to_timedelta(calls["date"], unit="D")
    calls["rcid"] = calls["rcid"].astype(int)
    votes["rcid"] = votes["rcid"].astype(int)
    recorded = votes.groupby("rcid").size()
    calls["recorded"] = calls["rcid"].map(recorded).fillna(0).astype(int)
    keep = (calls["date"] >= START) & (calls["date"] < CUTOFF) & (calls["recorded"] >= MIN_RECORDED)
    dropped = calls[(calls["date"] >= START) & (calls["date"] < CUTOFF) & ~keep]
    for row in dropped.itertuples():
        print(
            f"dropped rcid {row.rcid} ({row.date.date()}): {row.recorded} recorded votes",
            file=sys.stderr,
        )
    calls = calls[keep].sort_values("rcid").reset_index(drop=True)
    assert (calls["date"] < CUTOFF).all()

    issues["rcid"] = issues["rcid"].astype(int)
    codes = issues.groupby("rcid")["short_name"].agg(
        lambda s: ";".join(c for c in ISSUES if c in set(s.astype(str)))
    )
    text = calls["short"].map(clean) + " | " + calls["descr"].map(clean)
    coded = [code_roll_call(t) for t in text]
    important = calls["importantvote"].astype("Int64")
    roll_calls = pd.DataFrame(
        {
            "rcid": calls["rcid"],
            "date": calls["date"].dt.strftime("%Y-%m-%d"),
            "session": calls["session"].astype(int),
            "unres": calls["unres"].map(clean),
            "short": calls["short"].map(clean),
            "descr": calls["descr"].map(clean).str.slice(0, DESCR_CHARS),
            "issues": calls["rcid"].map(codes).fillna(""),
            "importantvote": important,
            "target": [c[0] for c in coded],
            "condemns": [c[1] for c in coded],
            "measure": [c[2] for c in coded],
        }
    )
    rules = pd.DataFrame({"rcid": calls["rcid"], "rules": [c[3] for c in coded]})

    ours = votes[votes["country_code"].isin(list(COUNTRIES))].copy()
    ours["country"] = ours["country_code"].map(COUNTRIES)
    ours = ours[ours["rcid"].isin(calls["rcid"])]
    assert not ours.duplicated(["rcid", "country"]).any()
    grid = pd.MultiIndex.from_product(
        [calls["rcid"], list(COUNTRIES.values())], names=["rcid", "country"]
    ).to_frame(index=False)
    table = grid.merge(ours[["rcid", "country", "vote"]], on=["rcid", "country"], how="left")
    table["vote"] = table["vote"].astype(object).where(table["vote"].notna(), "absent")
    table = table.merge(calls[["rcid", "date", "session", "unres"]], on="rcid")
    un_votes = pd.DataFrame(
        {
            "rcid": table["rcid"],
            "date": table["date"].dt.strftime("%Y-%m-%d"),
            "session": table["session"].astype(int),
            "unres": table["unres"].map(clean),
            "country": table["country"],
            "vote": table["vote"].astype(str),
        }
    )
    return roll_calls, un_votes, rules


def cross_check(un_votes: pd.DataFrame, published: Path) -> pd.DataFrame:
    """Our vote codes against the source's own (1 yes, 2 abstain, 3 no, 8 absent, 9 non-member).

    Returns:
        A crosstab of our vote (rows) against the older full file's (columns), on the roll calls
        both hold.
    """
    full = read_rda(published)
    full = full[full["ccode"].isin(list(COW))].copy()
    full["country"] = full["ccode"].astype(int).map(COW)
    full["source"] = (
        full["vote"]
        .astype(int)
        .map({1: "yes", 2: "abstain", 3: "no", 8: "absent", 9: "non-member"})
    )
    both = un_votes.merge(full[["rcid", "country", "source"]], on=["rcid", "country"])
    return pd.crosstab(both["vote"], both["source"])


def counts_table(roll_calls: pd.DataFrame, rules: pd.DataFrame, votes: pd.DataFrame) -> str:
    """The Markdown tables of SOURCES.md: rule matches, measures, and votes by country."""
    fired = rules["rules"].str.split(";").explode()
    fired = fired[fired != ""].value_counts()
    lines = ["| rule | target | measure | roll calls |", "| --- | --- | --- | ---: |"]
    for rule in (*TARGET_RULES, *MEASURE_RULES):
        lines.append(
            f"| `{rule.name}` | {rule.target or '-'} | {rule.measure or '(measure rules)'} "
            f"| {int(fired.get(rule.name, 0))} |"
        )
    lines.append(
        f"| `no_action_motion` (applied last) | kept | other; condemns emptied "
        f"| {int(fired.get('no_action_motion', 0))} |"
    )
    lines.append(
        f"| (no rule: measure `other`) | - | other | {int((rules['rules'] == '').sum())} |"
    )
    lines += ["", "| measure | roll calls | of which condemn a power |", "| --- | ---: | ---: |"]
    for measure, group in roll_calls.groupby("measure"):
        lines.append(f"| {measure} | {len(group)} | {int((group['condemns'] != '').sum())} |")
    lines += ["", "| condemns | roll calls |", "| --- | ---: |"]
    for power, n in roll_calls.loc[roll_calls["condemns"] != "", "condemns"].value_counts().items():
        lines.append(f"| {power} | {n} |")
    lines += [
        "",
        "| country | yes | abstain | no | absent |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    tab = pd.crosstab(votes["country"], votes["vote"])
    for country in COUNTRIES.values():
        row = tab.loc[country]
        lines.append(
            f"| {country} | {row.get('yes', 0)} | {row.get('abstain', 0)} | {row.get('no', 0)} "
            f"| {row.get('absent', 0)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: derive the tables, write them, print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rda", type=Path, required=True, help="folder with the three .rda files")
    parser.add_argument("--published", type=Path, help="data-raw/UNVotesPublished.RData")
    parser.add_argument("--out", type=Path, default=Path("seeds/data"))
    parser.add_argument("--counts", action="store_true", help="print the tables of SOURCES.md")
    args = parser.parse_args(argv)

    roll_calls, un_votes, rules = derive(args.rda)
    if un_votes["date"].max() >= CUTOFF.strftime("%Y-%m-%d"):
        raise SystemExit("a vote on or after the cut-off: refusing to write")
    args.out.mkdir(parents=True, exist_ok=True)
    roll_calls.to_csv(args.out / "un_roll_calls.csv", index=False, lineterminator="\n")
    un_votes.to_csv(args.out / "un_votes.csv", index=False, lineterminator="\n")
    print(
        f"{len(roll_calls)} roll calls, {len(un_votes)} votes, "
        f"{roll_calls['date'].min()} to {roll_calls['date'].max()}",
        file=sys.stderr,
    )
    if args.published is not None:
        print(cross_check(un_votes, args.published).to_string(), file=sys.stderr)
    if args.counts:
        print(counts_table(roll_calls, rules, un_votes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
