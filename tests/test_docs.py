"""Keep docs/ODD.md honest: its tables must match the code and the baseline scenario.

The ODD's parameter table is generated from the schema (``python -m sim.input.modelparams
--write``) and must equal what the schema and the baseline generate now. It, the event and
vote-rule tables and the summary of the baseline's numbers are also parsed here and compared
with ``sim.input.scenario.ModelParams``,
``sim.input.scenario.EVENT_RULES``, ``sim.model.metrics.VoteRule`` and
``scenarios/baseline_2022.yaml``. When a test fails, update the document (its section "Keeping this
document in step with the code" says how); for the baseline
tables the failure message prints the rows to paste.
"""

import difflib
import math
import re
from collections import defaultdict

import pytest
import yaml
from conftest import ROOT

from sim.input.modelparams import REGENERATE, generated_table, params_table
from sim.input.params import collect_numbers
from sim.input.scenario import CHANNELS, EVENT_RULES, ModelParams, load_scenario
from sim.model.metrics import RECORDED, VoteRule
from sim.results.validation import FACT_KEYS, FACTS

ODD = ROOT / "docs" / "ODD.md"
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
EVIDENCE = ROOT / "seeds" / "evidence.yaml"


# --- reading the document ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def text() -> str:
    return ODD.read_text(encoding="utf-8")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every markdown table of the text, as a list of rows keyed by lower-case header."""
    out, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2:
            header = [h.lower() for h in _cells(block[0])]
            rows = [dict(zip(header, _cells(r), strict=False)) for r in block[2:]]
            out.append(rows)
        block = []
    return out


def table_with(text: str, *columns: str) -> list[dict[str, str]]:
    """Rows of every table whose header has all ``columns``."""
    rows = [r for t in tables(text) if t and all(c in t[0] for c in columns) for r in t]
    assert rows, f"docs/ODD.md has no table with columns {columns}"
    return rows


def code(cell: str) -> str:
    """The text inside the first pair of backticks of a cell."""
    m = re.search(r"`([^`]+)`", cell)
    assert m, f"expected a `name` in table cell {cell!r}"
    return m.group(1)


def number(cell: str) -> float:
    """A number of a table cell; ``∞`` is infinity."""
    cell = cell.strip().strip("`").replace("−", "-")
    if cell in ("∞", "inf", "-∞", "-inf"):
        return -math.inf if cell.startswith("-") else math.inf
    return float(cell)


def interval(cell: str) -> tuple[float, float]:
    """``[low, high]`` or ``[low, ∞)``."""
    m = re.fullmatch(r"[\[(]\s*([^,]+?)\s*,\s*([^\])]+?)\s*[\])]", cell.strip().strip("`"))
    assert m, f"expected an interval like [0, 1] in {cell!r}"
    return number(m.group(1)), number(m.group(2))


# --- the parameter table -----------------------------------------------------------------------


def _defaults() -> dict[str, float]:
    """Every model parameter by YAML key with its default."""
    mp = ModelParams()
    out = {}
    for name, value in mp.model_dump().items():
        if isinstance(value, dict):
            for sub, v in value.items():
                out[f"model.{name}.{sub}"] = float(v)
        else:
            out[f"model.{name}"] = float(value)
    return out


def _bounds() -> dict[str, tuple[float, float]]:
    """Valid range of every model parameter, from the schema's constraints."""
    mp = ModelParams()
    out = {}

    def bounds(field) -> tuple[float, float]:
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), -math.inf)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), math.inf)
        return low, high

    for name, field in ModelParams.model_fields.items():
        sub_model = type(getattr(mp, name))
        if hasattr(sub_model, "model_fields"):
            for sub, sub_field in sub_model.model_fields.items():
                out[f"model.{name}.{sub}"] = bounds(sub_field)
        else:
            out[f"model.{name}"] = bounds(field)
    return out


@pytest.fixture(scope="module")
def param_rows(text) -> dict[str, dict[str, str]]:
    rows = table_with(text, "yaml key", "default", "valid range")
    keyed = {code(r["yaml key"]): r for r in rows if code(r["yaml key"]).startswith("model.")}
    assert len(keyed) == len([r for r in rows if "`model." in r["yaml key"]]), "duplicated rows"
    return keyed


def test_parameter_table_is_generated_from_the_schema(text):
    expected = params_table(load_scenario(BASELINE))
    written = generated_table(text)
    diff = "\n".join(
        difflib.unified_diff(
            written.splitlines(), expected.splitlines(), "ODD", "schema", n=0, lineterm=""
        )
    )
    assert written == expected, (
        f"docs/ODD.md's parameter table (Section 7.14) is not the one that the schema and the "
        f"baseline generate; {REGENERATE}:\n{diff}"
    )


def test_every_model_parameter_and_weight_is_named_in_the_doc(text):
    for name in ModelParams.model_fields:
        assert name in text, f"ModelParams.{name} is not mentioned in docs/ODD.md"
    for key in _defaults():
        assert key.rsplit(".", 1)[1] in text


def test_parameter_table_lists_exactly_the_model_parameters(param_rows):
    assert set(param_rows) == set(_defaults()), (
        f"missing from the table: {sorted(set(_defaults()) - set(param_rows))}; "
        f"not in the code: {sorted(set(param_rows) - set(_defaults()))}"
    )


def test_parameter_table_defaults_equal_the_code(param_rows):
    defaults = _defaults()
    for key, row in param_rows.items():
        assert number(row["default"]) == pytest.approx(defaults[key]), key


def test_parameter_table_ranges_equal_the_schema(param_rows):
    bounds = _bounds()
    for key, row in param_rows.items():
        assert interval(row["valid range"]) == bounds[key], key


def test_parameter_table_says_whether_each_is_an_assumption(param_rows):
    for key, row in param_rows.items():
        assert row.get("assumption", "").lower().startswith(("yes", "no")), key


# --- events, vote rule, recorded variables, facts ----------------------------------------------


def test_every_event_type_is_documented_with_its_rule(text):
    rows = {code(r["type"]): r for r in table_with(text, "type", "actors", "targets", "magnitude")}
    assert set(rows) == set(EVENT_RULES), sorted(set(rows) ^ set(EVENT_RULES))
    for kind, rule in EVENT_RULES.items():
        row = rows[kind]
        assert row["actors"].startswith(rule["actors"]), kind
        targets = row["targets"].lower()
        assert targets.startswith(rule["targets"] or "none"), kind
        bounds = re.search(r"\[[^\]]*\]", row["magnitude"])
        assert bounds, f"{kind}: no magnitude bounds in the table"
        assert interval(bounds.group(0)) == tuple(rule["magnitude"]), kind


def test_vote_rule_thresholds_equal_the_code(text):
    rows = {code(r["field"]): r for r in table_with(text, "field", "default")}
    rule = VoteRule()
    for name in ("yes_margin", "no_margin", "absent_neutrality"):
        assert number(rows[name]["default"]) == getattr(rule, name), name
    assert code(rows["target"]["default"]) == rule.target
    assert re.findall(r"`(\w+)`", rows["west"]["default"]) == list(rule.west)


def test_recorded_variables_and_facts_are_documented(text):
    for name in RECORDED:
        assert f"`{name}`" in text, name
    for key in FACT_KEYS[: len(FACTS)]:
        assert f"**({key})**" in text, f"stylized fact ({key}) is not described"
    for channel in CHANNELS:
        assert channel in text


def test_cited_seed_facts_exist(text):
    facts = {f["id"] for f in yaml.safe_load(EVIDENCE.read_text())["facts"]}
    cited = set(re.findall(r"`fact:([a-z0-9_]+)`", text))
    assert cited, "the ODD cites no seed facts"
    assert cited <= facts, f"unknown fact ids: {sorted(cited - facts)}"


def test_odd_elements_are_present(text):
    headings = [line.lower() for line in text.splitlines() if line.startswith("#")]
    for element in (
        "purpose and patterns",
        "entities, state variables and scales",
        "process overview and scheduling",
        "design concepts",
        "initialisation",
        "input data",
        "submodels",
        "assumptions",
        "keeping this document in step with the code",
    ):
        assert any(element in h for h in headings), element


# --- the baseline ------------------------------------------------------------------------------


def test_parameter_table_baseline_columns_equal_the_baseline(param_rows):
    loaded = load_scenario(BASELINE)
    ranges = {n.path: n.range for n in collect_numbers(loaded.raw)}
    values = loaded.scenario.model.model_dump()
    for key, row in param_rows.items():
        value = values
        for part in key.split(".")[1:]:
            value = value[part]
        assert number(row["baseline"]) == pytest.approx(value), key
        given = ranges.get(key)
        if given is None:
            assert row["baseline range"] == "none", key
        else:
            assert interval(row["baseline range"]) == pytest.approx(given), key


def _pattern(path: str, raw: dict) -> str:
    """The path of a number with ids replaced by ``*`` (events by their type)."""
    parts = path.split(".")
    if parts[0] == "events":
        kind = next(e["type"] for e in raw["events"] if e["id"] == parts[1])
        return f"events.{kind}.{'.'.join(parts[2:])}"
    if parts[0] in ("powers", "states"):
        rest = parts[2:]
        if rest and rest[0] in ("alignment", "trust", "threat", "border", "affinity", "rivalry"):
            rest = [rest[0], "*", *rest[2:]]
        elif rest[:1] == ["dependence"] or rest[:2] == ["strategy", "priorities"]:
            depth = 1 if rest[0] == "dependence" else 2
            rest = [*rest[:depth], "*", *rest[depth + 1 :]]
        return ".".join([parts[0], "*", *rest])
    return path


def _fmt(x: float) -> str:
    return f"{x:g}"


def baseline_rows() -> dict[str, list[str]]:
    """The baseline's numbers but ``model.*``: pattern -> [n, evidence, values, ranges]."""
    loaded = load_scenario(BASELINE)
    groups = defaultdict(list)
    for n in collect_numbers(loaded.raw):
        if not n.path.startswith("model."):  # in the parameter table instead
            groups[_pattern(n.path, loaded.raw)].append(n)
    out = {}
    for pattern, numbers in groups.items():
        values = [n.value for n in numbers]
        ranges = [n.range for n in numbers if n.range]
        span = f"{_fmt(min(r[0] for r in ranges))} – {_fmt(max(r[1] for r in ranges))}"
        out[pattern] = [
            str(len(numbers)),
            str(sum(1 for n in numbers if n.evidence)),
            f"{_fmt(min(values))} – {_fmt(max(values))}",
            span if ranges else "none",
        ]
    return out


def test_baseline_summary_tables_match_the_scenario(text):
    rows = table_with(text, "numbers", "n", "with evidence", "values", "assumption ranges")
    documented = {
        code(r["numbers"]): [r["n"], r["with evidence"], r["values"], r["assumption ranges"]]
        for r in rows
    }
    expected = baseline_rows()
    paste = "\n".join(f"| `{k}` | {' | '.join(v)} |" for k, v in expected.items())
    assert documented == expected, f"update the baseline tables of docs/ODD.md:\n{paste}"


def test_baseline_totals_match_the_scenario(text):
    numbers = collect_numbers(load_scenario(BASELINE).raw)
    total = len(numbers)
    with_range = sum(1 for n in numbers if n.range)
    with_evidence = sum(1 for n in numbers if n.evidence)
    bare = sum(1 for n in numbers if not n.sourced)
    claim = (
        f"{total} numbers: {with_range} carry an assumption range, {with_evidence} cite "
        f"evidence, {bare} carry no provenance"
    )
    assert claim in text, f"expected the sentence '{claim}' in docs/ODD.md"


def test_baseline_event_count_matches_the_scenario(text):
    events = load_scenario(BASELINE).scenario.events
    dates = sorted(e.date for e in events)
    claim = f"{len(events)} events from {dates[0]} to {dates[-1]}"
    assert claim in text, f"expected '{claim}' in docs/ODD.md"
