"""Fuzz the scenario and sweep-spec loaders with broken files.

Every case is a mutant of a file of ``scenarios/`` or ``sweeps/`` (or, for a few kinds, a file
made from scratch): deleted, renamed and duplicated keys, wrong types, NaN and infinity,
negative and huge numbers, unknown and duplicated ids, events outside the period, dates in the
wrong format, empty files, binary garbage, NUL and control characters, deep nesting, alias
bombs ("billion laughs"), recursive aliases, Python object tags, files over the size limit
(up to 50 MB), truncated and shuffled text, broken ``extends`` chains and bad sweep specs.

Each case is written to a scratch copy of the repository's ``scenarios/`` and ``sweeps/`` and
loaded in a worker process with the public loaders (:func:`sim.input.evidence.load_verified` for
scenarios, :func:`sim.sweep.spec.load_spec` for specs). A case ends in one of:

- ``error``: :class:`sim.input.errors.ScenarioError` with a clear message (first line names a
  file of the case, no line longer than 500 characters), the expected outcome for a broken file;
- ``accepted``: the mutant is still a valid file (many number changes are);
- ``crash``: any other exception, or the worker process died (a traceback for the user);
- ``hang``: the load took more than ``--timeout`` seconds (default 1; the worker is killed
  after ``--kill-after`` seconds);
- ``memory``: the worker's peak resident memory passed ``--max-rss-mib`` (default 512);
- ``unclear``: a ScenarioError whose message does not name the file or is overlong.

Cases are generated deterministically from ``(seed, case number)``, so any case can be rerun
alone with ``--case N``. The script prints counts per mutation kind and exits 1 when any case is
a crash, hang, memory or unclear outcome.

Usage::

    .venv/bin/python bench/fuzz_loader.py --n 10000 --seed 1 [--jobs J] [--json out.json]
    .venv/bin/python bench/fuzz_loader.py --seed 1 --case 123 -v   # rerun one case
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUTCOMES = ("error", "accepted", "crash", "hang", "memory", "unclear")
FAILURES = ("crash", "hang", "memory", "unclear")
MAX_LINE = 500
"""Longest acceptable line of an error message."""


@dataclass
class Case:
    """One generated input.

    Attributes:
        number: Case number (with the seed, all that is needed to regenerate it).
        kind: Mutation kind.
        target: ``scenario`` or ``spec``: which loader reads it.
        source: The file it was derived from (or ``-`` when made from scratch).
        name: File name to write it under.
        data: The file's bytes (``None`` for ``size``: a sparse file of that size).
        size: Size of a sparse file to create instead of ``data``.
    """

    number: int
    kind: str
    target: str
    source: str
    name: str
    data: bytes | None
    size: int = 0


@dataclass
class Result:
    """How one case ended."""

    number: int
    kind: str
    target: str
    source: str
    outcome: str
    seconds: float
    detail: str = ""


# --- building mutants ----------------------------------------------------------------------


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).encode()


def _paths(data: Any, loc: tuple = ()) -> list[tuple]:
    """Every location in a document (keys and indices), outermost first."""
    out = [loc]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*loc, i))
    return out


def _get(data: Any, loc: tuple) -> Any:
    for part in loc:
        data = data[part]
    return data


def _leaves(data: Any, pred: Callable[[Any], bool]) -> list[tuple]:
    return [p for p in _paths(data) if p and pred(_get(data, p))]


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _set(data: Any, loc: tuple, value: Any) -> None:
    _get(data, loc[:-1])[loc[-1]] = value


WEIRD_VALUES: list[Any] = [
    "text",
    "",
    "0.5x",
    None,
    True,
    False,
    [],
    [1, 2],
    {},
    {"value": "x"},
    {"value": 0.5, "evidence": "not-a-list"},
    {"value": 0.5, "assumption": {"range": [0.9, 0.1], "note": "x"}},
    {"value": 0.5, "assumption": {"range": [0.1], "note": ""}},
    {"nested": {"deeper": [1, {"x": None}]}},
    0,
    -1,
    1,
    2**70,
    "2022-01",
    "é" * 300,
    "a\u0000b",
]
NUMBERS: list[Any] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    -1e-9,
    -1.0,
    -1e308,
    1e308,
    1e-320,
    2**63,
    -(2**63),
    10**30,
    1.0000001,
    0.0,
    -0.0,
]
BAD_MONTHS: list[Any] = [
    "2022-13",
    "2022-00",
    "2022/01",
    "Jan 2022",
    "22-01",
    "2022-1",
    "2022-01-15",
    202201,
    2022.01,
    "",
    "9999-12",
    "0000-01",
    None,
    ["2022-01"],
    "２０２２-01",
]


def _mutate_data(kind: str, data: Any, rng: random.Random) -> Any:
    """Apply a structural mutation to a parsed document (modified in place and returned)."""
    paths = [p for p in _paths(data) if p]
    if not paths:
        return data
    if kind == "delete_key":
        keyed = [p for p in paths if isinstance(p[-1], str)] or paths
        loc = rng.choice(keyed)
        parent = _get(data, loc[:-1])
        del parent[loc[-1]]
    elif kind == "rename_key":
        keyed = [p for p in paths if isinstance(p[-1], str)]
        if keyed:
            loc = rng.choice(keyed)
            parent = _get(data, loc[:-1])
            old = loc[-1]
            new = rng.choice(
                [
                    old[:-1],
                    old + "s",
                    old.upper(),
                    old[::-1],
                    f"{old} ",
                    "x" * rng.randint(1, 80),
                    "",
                    "value",
                    "id",
                    "<<",
                ]
            )
            parent[new] = parent.pop(old)
    elif kind == "wrong_type":
        _set(data, rng.choice(paths), copy.deepcopy(rng.choice(WEIRD_VALUES)))
    elif kind in ("nan_inf", "negative", "huge"):
        nums = _leaves(data, _is_num) or paths
        loc = rng.choice(nums)
        old = _get(data, loc)
        if kind == "nan_inf":
            new = rng.choice([float("nan"), float("inf"), float("-inf")])
        elif kind == "negative":
            new = -abs(old) if _is_num(old) and old else rng.choice([-1, -0.5, -1e-9, -1e9])
        else:
            new = rng.choice([1e308, 10**30, 2**64, 1e9, 12345678.9, 1.0000001, 5e-324])
        _set(data, loc, new)
        nums = _leaves(data, _is_num)
        if nums and rng.random() < 0.3:  # several at once
            for loc in rng.sample(nums, min(len(nums), 5)):
                _set(data, loc, rng.choice(NUMBERS))
    elif kind == "unknown_id":
        ids = _leaves(data, lambda v: isinstance(v, str) and v.isidentifier() and v.islower())
        if ids:
            loc = rng.choice(ids)
            _set(data, loc, rng.choice(["atlantis", "rusia", "china_", "kazakstan", "x", "Z9"]))
        keyed = [p for p in paths if isinstance(p[-1], str) and len(p) >= 3]
        if keyed and rng.random() < 0.5:  # an unknown id as a key (alignment: {atlantis: 0.5})
            loc = rng.choice(keyed)
            parent = _get(data, loc[:-1])
            parent[rng.choice(["atlantis", "rusia", "usaa"])] = parent.pop(loc[-1])
    elif kind == "duplicate_id":
        lists = [
            p
            for p in _paths(data)
            if isinstance(_get(data, p), list)
            and _get(data, p)
            and all(isinstance(x, dict) and "id" in x for x in _get(data, p))
        ]
        if lists:
            seq = _get(data, rng.choice(lists))
            item = copy.deepcopy(rng.choice(seq))
            seq.insert(rng.randint(0, len(seq)), item)
            if rng.random() < 0.3 and len(seq) > 1:  # or give two items the same id
                seq[0]["id"] = seq[-1]["id"]
    elif kind == "event_dates":
        events = data.get("events") if isinstance(data, dict) else None
        if isinstance(events, list) and events and isinstance(events[0], dict):
            ev = rng.choice(events)
            ev["date"] = rng.choice(["1900-01", "2021-12", "2024-01", "2099-12", "2022-01"])
        elif isinstance(data, dict):
            data["events"] = [
                {
                    "id": "late",
                    "date": "2099-01",
                    "type": "summit",
                    "actors": ["russia"],
                    "targets": ["kazakhstan"],
                    "magnitude": 0.5,
                }
            ]
        if isinstance(data, dict) and isinstance(data.get("meta"), dict) and rng.random() < 0.3:
            data["meta"]["start"], data["meta"]["end"] = "2030-01", "2020-01"
    elif kind == "bad_dates":
        months = _leaves(data, lambda v: isinstance(v, str) and len(v) == 7 and v[4] == "-")
        loc = rng.choice(months or paths)
        _set(data, loc, copy.deepcopy(rng.choice(BAD_MONTHS)))
    elif kind == "drop_section":
        if isinstance(data, dict) and data:
            key = rng.choice(list(data))
            if rng.random() < 0.5:
                del data[key]
            else:
                data[key] = rng.choice([None, [], {}, "x", 0])
    elif kind == "extends" and isinstance(data, dict):
        data["extends"] = rng.choice(
            [
                "missing.yaml",
                "../sweeps",
                ".",
                "/dev/null",
                "/",
                "",
                42,
                ["baseline_2022.yaml"],
                "a\u0000b.yaml",
                "x" * 5000,
                "SELF",
                "../sweeps/kazakhstan_sobol.yaml",
                "garbage.bin",
            ]
        )
    return data


def _text_mutation(kind: str, text: str, rng: random.Random) -> bytes:
    lines = text.splitlines(keepends=True)
    if kind == "truncate":
        return text[: rng.randint(0, len(text))].encode()
    if kind == "line_edit":
        if not lines:
            return b""
        i = rng.randrange(len(lines))
        op = rng.choice(["delete", "duplicate", "swap", "indent", "dedent", "tab", "colon"])
        if op == "delete":
            del lines[i]
        elif op == "duplicate":  # also duplicates mapping keys
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
        elif op == "tab":
            lines[i] = "\t" + lines[i]
        else:
            lines[i] = lines[i].replace(":", rng.choice(["", "::", ": :", " -"]), 1)
        return "".join(lines).encode()
    if kind == "byte_flip":
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 20)):
            if raw:
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if kind == "control_chars":
        pos = rng.randint(0, len(text))
        char = rng.choice(["\x00", "\x01", "\x07", "\x1b", "\x7f", "\ufeff", "\u2028", "\ud800"])
        return (text[:pos] + char * rng.randint(1, 3) + text[pos:]).encode("utf-8", "surrogatepass")
    raise ValueError(kind)


def _bomb(rng: random.Random) -> bytes:
    """A "billion laughs" document: each level aliases the previous one ``width`` times."""
    width, depth = rng.choice([(10, 9), (10, 12), (4, 20), (2, 60), (100, 5)])
    rows = ['a0: &a0 ["lol"]']
    for i in range(1, depth):
        refs = ", ".join([f"*a{i - 1}"] * width)
        rows.append(f"a{i}: &a{i} [{refs}]")
    where = rng.choice(["meta", "powers", "top", "events", "evidence"])
    last = f"*a{depth - 1}"
    if where == "meta":
        rows.append(f"meta: {{name: x, question: y, start: 2022-01, end: 2022-12, z: {last}}}")
    elif where == "powers":
        rows.append(f"powers: {last}")
    elif where == "events":
        rows.append(f"events: [{{id: e, date: 2022-01, type: summit, actors: {last}}}]")
    else:
        rows.append(f"x: {last}")
    return ("\n".join(rows) + "\n").encode()


def _merge_bomb(rng: random.Random) -> bytes:
    """Merge keys (``<<``) nested so that naive merging grows exponentially."""
    depth = rng.choice([10, 20, 30])
    rows = ["m0: &m0 {a: 1, b: 2}"]
    for i in range(1, depth):
        rows.append(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: [*m{i - 1}, *m{i - 1}]}}")
    rows.append(f"meta: *m{depth - 1}")
    return ("\n".join(rows) + "\n").encode()


def _deep(rng: random.Random) -> bytes:
    depth = rng.choice([50, 200, 1_000, 10_000, 100_000, 1_000_000])
    style = rng.choice(["flow_list", "flow_map", "block_list", "block_map"])
    if style == "flow_list":
        body = "[" * depth + "]" * depth
    elif style == "flow_map":
        body = "{a: " * depth + "1" + "}" * depth
    elif style == "block_list":
        depth = min(depth, 2_000)  # block nesting costs depth**2 bytes of indentation
        body = "\n" + "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "- 1"
    else:
        depth = min(depth, 2_000)
        body = "\n" + "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "b: 1"
    key = rng.choice(["meta", "powers", "x", "events", "parameters"])
    return f"{key}: {body}\n".encode()


PYTHON_TAGS = [
    'meta: !!python/object/apply:os.system ["echo pwned > /tmp/greatgame-fuzz-pwned"]\n',
    "meta: !!python/object:sim.input.scenario.Meta {name: x}\n",
    "meta: !!python/name:os.system\n",
    "meta: !!python/module:os\n",
    'powers: !!python/object/new:subprocess.Popen [["true"]]\n',
    "meta: !!binary aGVsbG8=\n",
    "meta: !!set {a, b}\n",
    "meta: !!omap [a: 1, b: 2]\n",
    "meta: !!timestamp 2022-01-01\n",
    "meta: !custom {a: 1}\n",
    "meta: !<tag:yaml.org,2002:python/tuple> [1, 2]\n",
    "%YAML 1.1\n%TAG ! tag:example.com,2000:\n---\nmeta: !foo 1\n",
    "%YAML 9.9\n---\nmeta: 1\n",
    "scenario: !!python/object/apply:os.getcwd []\ndesign: grid\nsamples: 2\n",
]
SCRATCH = [
    b"",
    b" \n\t\n",
    b"# only a comment\n",
    b"---\n",
    b"---\n...\n---\n",
    b"null\n",
    b"~\n",
    b"[]\n",
    b"{}\n",
    b"42\n",
    b"just text\n",
    b"- a\n- b\n",
    b"meta: {}\nmeta: {}\n",
    b"? [a, b]\n: 1\n",
    b"? {a: 1}\n: 1\n",
    b"1: 2\n3: 4\n",
    b"null: 1\n",
    b"true: 1\n",
    b"meta: &a [*a]\n",
    b"&a [*a]\n",
    b"x: *undefined\n",
    b"a: 1\n---\nb: 2\n",
    b"\xef\xbb\xbfmeta: 1\n",
    b"\xff\xfe\x00m\x00e\x00t\x00a\x00",
    b"\x00" * 100,
    "meta: \u2028\n".encode(),
    b"meta: [\n",
    b"meta: {a: 1\n",
    b"'unterminated\n",
    b"meta: |\n  text\n bad\n",
]


def build_case(seed: int, number: int, sources: dict[str, list[Path]]) -> Case:
    """Build case ``number`` of the campaign with root ``seed`` (deterministic).

    Args:
        seed: Campaign seed.
        number: Case number.
        sources: ``{"scenario": [...], "spec": [...]}`` files to mutate.

    Returns:
        The case.
    """
    rng = random.Random(f"{seed}:{number}")
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    target = "spec" if rng.random() < 0.25 else "scenario"
    source = rng.choice(sources[target])
    text = source.read_text(encoding="utf-8")
    name = f"case-{number:06d}.yaml"
    data: bytes | None = None
    size = 0
    if kind in STRUCTURAL:
        doc = yaml.safe_load(text)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            doc = _mutate_data(kind, doc, rng)
        if kind == "extends" and isinstance(doc, dict) and doc.get("extends") == "SELF":
            doc["extends"] = name
        data = _dump(doc)
    elif kind == "spec_fields":
        doc = yaml.safe_load((sources["spec"][0]).read_text(encoding="utf-8"))
        target = "spec"
        key, values = rng.choice(list(SPEC_VALUES.items()))
        doc[key] = copy.deepcopy(rng.choice(values))
        data = _dump(doc)
    elif kind in ("truncate", "line_edit", "byte_flip", "control_chars"):
        data = _text_mutation(kind, text, rng)
    elif kind == "empty_or_scratch":
        data = rng.choice(SCRATCH)
    elif kind == "garbage":
        n = rng.choice([1, 16, 1_000, 100_000, 1_000_000])
        data = rng.randbytes(n)
        if rng.random() < 0.5:  # printable garbage that decodes
            data = bytes(32 + b % 95 for b in data)
    elif kind == "alias_bomb":
        data = _bomb(rng) if rng.random() < 0.8 else _merge_bomb(rng)
    elif kind == "deep_nesting":
        data = _deep(rng)
    elif kind == "python_tag":
        data = rng.choice(PYTHON_TAGS).encode()
        if rng.random() < 0.5:  # a tag inside an otherwise valid file
            lines = text.splitlines(keepends=True)
            i = rng.randrange(len(lines))
            head, sep, _ = lines[i].partition(": ")
            if sep:
                lines[i] = head + sep + "!!python/object/apply:os.system [echo]\n"
            data = "".join(lines).encode()
    elif kind == "large_file":
        if rng.random() < 0.5:  # sparse: only the size check sees it
            size = rng.choice([5_000_001, 8_000_000, 50_000_000, 50 * 2**20])
        else:  # real text just under or over the limit (valid YAML, many events or comments)
            target_size = rng.choice([1_000_000, 4_900_000, 5_000_001, 50_000_000])
            if target_size >= 50_000_000:
                target_size = 50_000_000 if rng.random() < 0.2 else 6_000_000
            filler = rng.choice(["event", "comment", "number_list"])
            if filler == "event":
                row = "  - {id: e%d, date: 2022-01, type: summit, actors: [russia], targets: [x]}\n"
                head = text + "\n" + ("events:\n" if "\nevents:" not in text else "")
                n = max(1, (target_size - len(head)) // 80)
                body = "".join(row % i for i in range(n))
                data = (head + body).encode() if "\nevents:" not in text else None
                if data is None:
                    data = (text.replace("\nevents:\n", "\nevents:\n" + body, 1)).encode()
            elif filler == "comment":
                data = (text + "#" * (target_size - len(text))).encode()
            else:
                n = max(1, target_size // 3)
                data = (text + "\nfiller: [" + "1, " * n + "1]\n").encode()
    else:
        raise ValueError(kind)
    return Case(number, kind, target, source.name, name, data, size)


STRUCTURAL = (
    "delete_key",
    "rename_key",
    "wrong_type",
    "nan_inf",
    "negative",
    "huge",
    "unknown_id",
    "duplicate_id",
    "event_dates",
    "bad_dates",
    "drop_section",
    "extends",
)
KINDS: dict[str, float] = {
    **dict.fromkeys(STRUCTURAL, 6.0),
    "spec_fields": 6.0,
    "truncate": 4.0,
    "line_edit": 6.0,
    "byte_flip": 4.0,
    "control_chars": 3.0,
    "empty_or_scratch": 3.0,
    "garbage": 2.0,
    "alias_bomb": 2.0,
    "deep_nesting": 2.0,
    "python_tag": 2.0,
    "large_file": 0.25,
}
"""Mutation kinds and their relative frequency."""

SPEC_VALUES: dict[str, list[Any]] = {
    "scenario": [
        "missing.yaml",
        "",
        "../scenarios",
        "/dev/null",
        "../sweeps/kazakhstan_sobol.yaml",
        "a\u0000b",
        "../scenarios/garbage.bin",
        42,
    ],
    "design": ["sobel", "GRID", 1, None, ["grid"]],
    "samples": [0, -1, 3, 2**40, 2**62, 1.5, "64", float("nan"), True, 10**100],
    "replicates": [0, -5, 10**9, 2**70, "3", 1.5],
    "seed": [-1, 2**63, 2**64, 1.5, "seed", float("inf")],
    "seeds": ["shared", None, 1],
    "keep": ["all", None],
    "chunk_size": [0, -1, 10**12, "x"],
    "levels": [0, 1, 101, 10**6],
    "second_order": ["maybe", 2],
    "parameters": [
        {},
        [],
        "x",
        {"powers.russia.credibility": [0.9, 0.1]},
        {"powers.russia.credibility": [float("nan"), 1]},
        {"powers.russia.credibility": [0, float("inf")]},
        {"powers.russia.credibility": [-5, 5]},
        {"powers.russia.credibility": [1, 2, 3]},
        {"powers.russia.credibility": ["a", "b"]},
        {"powers.russia.credibility": {"low": 0}},
        {"powers.atlantis.credibility": [0, 1]},
        {"powers": [0, 1]},
        {"powers.russia": [0, 1]},
        {"powers.russia.name": [0, 1]},
        {"powers.0.credibility": [0, 1]},
        {"powers.russia.credibility.value": [0, 1]},
        {"": [0, 1]},
        {"...": [0, 1]},
        {"states.kazakhstan.alignment.atlantis": [0, 1]},
        {"events.nope.magnitude": [0, 1]},
        {"model.weights.bias": [-1e308, 1e308]},
        {"meta.start": [0, 1]},
        {"powers.russia.strategy.lever_mix.aid": [0, 1]},
        {f"model.p{i}": [0, 1] for i in range(200)},
        {"a" * 10_000: [0, 1]},
    ],
}


# --- running cases -------------------------------------------------------------------------


def make_workspace(directory: Path) -> dict[str, list[Path]]:
    """Copy ``scenarios/``, ``sweeps/`` and ``seeds/`` under ``directory``.

    Returns:
        The files to mutate, by target.
    """
    for sub in ("scenarios", "sweeps", "seeds"):
        shutil.copytree(ROOT / sub, directory / sub, dirs_exist_ok=True)
    (directory / "scenarios" / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    return {
        "scenario": sorted((directory / "scenarios").glob("*.yaml")),
        "spec": sorted((directory / "sweeps").glob("*.yaml")),
    }


def _load(case: Case, path: Path, evidence: Path) -> Any:
    from sim.input.evidence import load_verified
    from sim.sweep.spec import load_spec

    if case.target == "spec":
        return load_spec(path)
    return load_verified(path, evidence)


def _check_message(exc: Exception, workspace: Path) -> str:
    """Empty when the message is clear, else what is wrong with it."""
    text = str(exc)
    if not text.strip():
        return "empty message"
    first = text.splitlines()[0]
    if not first.startswith(str(workspace)):
        return f"first line names no file of the case: {first[:200]!r}"
    long = [line for line in text.splitlines() if len(line) > MAX_LINE]
    if long:
        return f"line of {len(long[0]):,} characters: {long[0][:200]!r}..."
    if "Traceback" in text:
        return "message holds a traceback"
    return ""


def run_case(case: Case, workspace: Path, timeout: float, max_rss_mib: float) -> Result:
    """Write ``case`` into the workspace and load it (in the calling process).

    Args:
        case: The case.
        workspace: Folder made by :func:`make_workspace`.
        timeout: Seconds above which a load counts as a hang.
        max_rss_mib: Peak resident memory (MiB) above which the case fails.

    Returns:
        The outcome.
    """
    from sim.input.errors import ScenarioError

    folder = workspace / ("sweeps" if case.target == "spec" else "scenarios")
    path = folder / case.name
    with open(path, "wb") as fh:
        if case.size:
            fh.truncate(case.size)
        else:
            fh.write(case.data or b"")
    result = Result(case.number, case.kind, case.target, case.source, "accepted", 0.0)
    started = time.perf_counter()
    try:
        _load(case, path, workspace / "seeds")
    except ScenarioError as exc:
        result.outcome = "error"
        why = _check_message(exc, workspace)
        if why:
            result.outcome, result.detail = "unclear", why
        else:
            result.detail = str(exc).splitlines()[0][len(str(workspace)) + 1 :][:200]
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        result.outcome = "crash"
        result.detail = "".join(traceback.format_exception(exc, limit=-6))[-2000:]
    result.seconds = time.perf_counter() - started
    path.unlink(missing_ok=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if peak > max_rss_mib:
        result.outcome = "memory"
        result.detail = f"peak resident memory {peak:.0f} MiB > {max_rss_mib:.0f} MiB"
    elif result.seconds > timeout and result.outcome != "crash":
        result.outcome = "hang"
        result.detail = f"took {result.seconds:.2f} s > {timeout} s; {result.detail}"
    return result


def _worker(
    conn: Connection, seed: int, workspace: str, timeout: float, max_rss_mib: float, cap: int
) -> None:
    """Worker loop: receive case numbers, send results; leave when memory passed the bound."""
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))  # a runaway case fails, not the machine
    ws = Path(workspace)
    sources = {
        "scenario": sorted((ws / "scenarios").glob("*.yaml")),
        "spec": sorted((ws / "sweeps").glob("*.yaml")),
    }
    sources = {k: [p for p in v if not p.name.startswith("case-")] for k, v in sources.items()}
    # what loading a spec imports on first use (the design library, the engine), so that a
    # case's time is its own load and not the worker's start-up
    from scipy.stats import qmc  # noqa: F401

    import sim.input.evidence
    import sim.model.ensemble
    import sim.sweep.spec

    for spec in sources["spec"][:1]:  # first uses (schemas, caches, the engine) before timing
        sim.sweep.spec.load_spec(spec)

    while True:
        number = conn.recv()
        if number is None:
            return
        case = build_case(seed, number, sources)
        result = run_case(case, ws, timeout, max_rss_mib)
        conn.send(asdict(result))
        if result.outcome == "memory":
            return  # the parent starts a fresh worker


def run_campaign(
    n: int,
    seed: int = 1,
    jobs: int | None = None,
    timeout: float = 1.0,
    kill_after: float = 20.0,
    max_rss_mib: float = 512.0,
    cases: list[int] | None = None,
    progress: bool = False,
) -> list[Result]:
    """Generate and load cases in worker processes.

    Args:
        n: Number of cases (numbers ``0 .. n-1``), unless ``cases`` is given.
        seed: Campaign seed.
        jobs: Worker processes (default: CPUs available).
        timeout: Seconds above which a load counts as a hang.
        kill_after: Seconds after which a stuck worker is killed (a hang).
        max_rss_mib: Peak resident memory bound per worker, MiB.
        cases: Explicit case numbers to run.
        progress: Print a dot every 500 cases.

    Returns:
        One result per case, in case order.
    """
    numbers = list(range(n)) if cases is None else list(cases)
    jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(numbers) or 1))
    cap = int((max_rss_mib + 3072) * 2**20)
    ctx = multiprocessing.get_context("fork")
    results: dict[int, Result] = {}
    with tempfile.TemporaryDirectory(prefix="greatgame-fuzz-") as tmp:
        workspace = Path(tmp).resolve()
        sources = make_workspace(workspace)
        todo = list(reversed(numbers))
        workers: dict[Connection, tuple[Any, int | None, float]] = {}

        def start() -> None:
            parent, child = ctx.Pipe()
            args = (child, seed, str(workspace), timeout, max_rss_mib, cap)
            proc = ctx.Process(target=_worker, args=args, daemon=True)
            proc.start()
            child.close()
            workers[parent] = (proc, None, 0.0)

        def feed(conn: Connection) -> None:
            proc, _, _ = workers[conn]
            if todo:
                number = todo.pop()
                conn.send(number)
                workers[conn] = (proc, number, time.monotonic())
            else:
                conn.send(None)
                proc.join(5)
                conn.close()
                del workers[conn]

        def lost(conn: Connection, outcome: str, detail: str) -> None:
            proc, number, _ = workers.pop(conn)
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            conn.close()
            if number is not None:
                case = build_case(seed, number, sources)
                results[number] = Result(
                    number, case.kind, case.target, case.source, outcome, kill_after, detail
                )
            if todo:
                start()
                feed(list(workers)[-1])

        for _ in range(jobs):
            start()
        for conn in list(workers):
            feed(conn)
        while workers:
            ready = wait(list(workers), timeout=0.5)
            for conn in ready:
                try:
                    res = Result(**conn.recv())
                except (EOFError, OSError):
                    proc = workers[conn][0]
                    proc.join(5)
                    lost(conn, "crash", f"worker process died (exit code {proc.exitcode})")
                    continue
                results[res.number] = res
                if progress and len(results) % 500 == 0:
                    print(".", end="", flush=True, file=sys.stderr)
                if res.outcome == "memory":
                    workers[conn] = (workers[conn][0], None, 0.0)
                    lost(conn, "memory", "")
                else:
                    feed(conn)
            now = time.monotonic()
            for conn, (_, number, since) in list(workers.items()):
                if number is not None and now - since > kill_after:
                    lost(conn, "hang", f"killed after {kill_after} s")
    if progress:
        print(file=sys.stderr)
    return [results[k] for k in numbers]


def summarize(results: list[Result], outcomes: tuple[str, ...] = OUTCOMES) -> dict[str, Any]:
    """Counts per kind and outcome, and the totals (also used by ``bench/fuzz_cli.py``)."""
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        per_kind[r.kind][r.outcome] += 1
    total = Counter(r.outcome for r in results)
    slowest = max(results, key=lambda r: r.seconds) if results else None
    return {
        "inputs": len(results),
        "totals": {o: total.get(o, 0) for o in outcomes},
        "per_kind": {k: {o: c.get(o, 0) for o in outcomes} for k, c in sorted(per_kind.items())},
        "by_target": dict(Counter(r.target for r in results)),
        "slowest_s": round(slowest.seconds, 3) if slowest else 0.0,
        "slowest_case": slowest.number if slowest else None,
    }


def print_table(summary: dict[str, Any], outcomes: tuple[str, ...] = OUTCOMES) -> None:
    """Print the counts of :func:`summarize`, a row per kind."""
    head = f"{'kind':<30}" + "".join(f"{o:>10}" for o in ("inputs", *outcomes))
    print(head)
    print("-" * len(head))
    for kind, counts in summary["per_kind"].items():
        cells = [sum(counts.values()), *(counts[o] for o in outcomes)]
        print(f"{kind:<30}" + "".join(f"{c:>10,}" for c in cells))
    print("-" * len(head))
    print(
        f"{'total':<30}"
        + "".join(f"{c:>10,}" for c in (summary["inputs"], *summary["totals"].values()))
    )


def print_report(results: list[Result], summary: dict[str, Any], limit: int = 10) -> None:
    """Print the table of counts and the first failures."""
    print_table(summary)
    print(
        f"targets: {summary['by_target']}; slowest case {summary['slowest_case']} "
        f"took {summary['slowest_s']} s"
    )
    failures = [r for r in results if r.outcome in FAILURES]
    for r in failures[:limit]:
        print(f"\n[{r.outcome}] case {r.number} ({r.kind}, {r.target} from {r.source}):")
        print("  " + r.detail.replace("\n", "\n  "))
    if len(failures) > limit:
        print(f"\n... and {len(failures) - limit} more failures")


def main(argv: list[str] | None = None) -> int:
    """Command line: run a campaign, print the counts, exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of cases")
    parser.add_argument("--seed", type=int, default=1, help="campaign seed")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes")
    parser.add_argument("--timeout", type=float, default=1.0, help="hang threshold, seconds")
    parser.add_argument("--kill-after", type=float, default=20.0, help="kill a stuck worker")
    parser.add_argument("--max-rss-mib", type=float, default=512.0, help="memory bound, MiB")
    parser.add_argument("--case", type=int, action="append", help="run only these cases")
    parser.add_argument("--json", type=Path, help="write the counts and failures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every outcome")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run_campaign(
        args.n,
        args.seed,
        args.jobs,
        args.timeout,
        args.kill_after,
        args.max_rss_mib,
        cases=args.case,
        progress=not args.verbose,
    )
    summary = summarize(results)
    summary["seed"] = args.seed
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    if args.verbose:
        for r in results:
            print(f"{r.number:>6} {r.kind:<16} {r.outcome:<8} {r.seconds:6.3f}s {r.detail[:300]}")
    print_report(results, summary)
    print(f"wall time {summary['wall_s']} s")
    if args.json:
        summary["failures"] = [asdict(r) for r in results if r.outcome in FAILURES]
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    bad = sum(summary["totals"][o] for o in FAILURES)
    return 1 if bad or not math.isfinite(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
