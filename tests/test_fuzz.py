"""Broken input ends in ScenarioError with a clear message, fast: a fixed fuzz sample and the
regressions the full campaign (``bench/fuzz_loader.py``, see docs/robustness.md) found; and a
sample of the command-line campaign (``bench/fuzz_cli.py``: folders, spec-joint, filesystem)."""

import gc
import importlib.util
import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT, write_yaml

from sim.input.errors import ScenarioError
from sim.input.scenario import load_scenario
from sim.input.yamlsource import MAX_DEPTH, MAX_NODES, read_yaml
from sim.sweep.spec import load_spec

_spec = importlib.util.spec_from_file_location("fuzz_loader", ROOT / "bench" / "fuzz_loader.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_loader"] = fuzz
_spec.loader.exec_module(fuzz)
_cli_spec = importlib.util.spec_from_file_location("fuzz_cli", ROOT / "bench" / "fuzz_cli.py")
fuzz_cli = importlib.util.module_from_spec(_cli_spec)
sys.modules["fuzz_cli"] = fuzz_cli
_cli_spec.loader.exec_module(fuzz_cli)


def _error(path, loader=load_scenario) -> str:
    # how fast each case fails is measured by bench/fuzz_loader.py (--timeout, default 1 s)
    with pytest.raises(ScenarioError) as info:
        loader(path)
    return str(info.value)


def test_fixed_sample_has_no_crash_hang_or_unclear_message():
    # a generous hang threshold: only a real hang may fail this test on a loaded machine (the
    # 1 s budget per case is the benchmark's: bench/fuzz_loader.py --timeout)
    results = fuzz.run_campaign(400, seed=2026, jobs=2, timeout=30.0, kill_after=60.0)
    summary = fuzz.summarize(results)
    failures = [r for r in results if r.outcome in fuzz.FAILURES]
    assert not failures, "\n".join(f"case {r.number} {r.kind}: {r.detail}" for r in failures[:5])
    assert summary["inputs"] == 400
    assert summary["totals"]["error"] > 300  # most mutants are really broken
    assert set(summary["per_kind"]) >= set(fuzz.KINDS) - {"large_file"}
    assert summary["by_target"]["spec"] > 50


def test_cases_are_deterministic(tmp_path):
    sources = fuzz.make_workspace(tmp_path)
    for number in (0, 17, 333):
        a, b = (fuzz.build_case(5, number, sources) for _ in range(2))
        assert a == b
    assert fuzz.build_case(5, 1, sources) != fuzz.build_case(6, 1, sources)


def test_harness_reports_a_crash_and_a_hang(monkeypatch, tmp_path):
    """The classifier itself: a non-ScenarioError is a crash, a slow load a hang."""
    fuzz.make_workspace(tmp_path)
    case = fuzz.Case(0, "wrong_type", "scenario", "-", "c.yaml", b"a: 1\n")
    assert fuzz.run_case(case, tmp_path, 1.0, 4096).outcome == "error"
    monkeypatch.setattr(fuzz, "_load", lambda case, path, ev: 1 / 0)
    assert fuzz.run_case(case, tmp_path, 1.0, 4096).outcome == "crash"
    monkeypatch.setattr(fuzz, "_load", lambda case, path, ev: time.sleep(0.3))
    assert fuzz.run_case(case, tmp_path, 0.1, 4096).outcome == "hang"


# --- the command-line campaign: folder, spec-joint and filesystem surfaces ---------------------


def _first(surface: str, k: int) -> list[int]:
    return fuzz_cli.case_numbers(k, (surface,))


@pytest.mark.slow
def test_cli_campaign_sample_has_no_bad_outcome():
    """A few cases of each surface of bench/fuzz_cli.py, on bases of the mini scenario."""
    cases = _first("folder", 2) + _first("spec", 2) + _first("filesystem", 2)
    results, surface = fuzz_cli.run_campaign(0, seed=2026, jobs=2, cases=cases, small=True)
    assert {surface[r.number] for r in results} == set(fuzz_cli.SURFACES)
    bad = [r for r in results if r.outcome not in ("error", "accepted")]
    assert not bad, "\n".join(
        f"case {r.number} {r.kind} {r.target} ({r.source}): {r.outcome}: {r.detail[:300]}"
        for r in bad
    )


def test_cli_cases_are_deterministic_and_cover_the_matrices(tmp_path):
    bases = {k: tmp_path / k for k in ("run", "sweep", "compare", "analysis", "mini_run")}

    def key(case):
        return (case.surface, case.kind, case.command, case.label)

    for number in range(60):
        a, b = (fuzz_cli.build_case(7, number, bases) for _ in range(2))
        assert key(a) == key(b)
    assert {fuzz_cli.build_case(7, k, bases).surface for k in range(20)} == set(fuzz_cli.SURFACES)
    rows = fuzz_cli.fs_matrix()
    assert {t for t, _, _ in rows} == set(fuzz_cli.FS_TARGETS)
    assert {(c, f) for _, c, f in rows} == {
        (c, f) for c in fuzz_cli.FS_COMMANDS for f in (True, False)
    }
    first = rows[: 2 * len(fuzz_cli.FS_TARGETS)]  # every target with and without --force first
    assert {(t, f) for t, _, f in first} == {
        (t, f) for t in fuzz_cli.FS_TARGETS for f in (True, False)
    }
    kinds = [kind for kind, _, _ in fuzz_cli.spec_matrix()]
    assert len(set(kinds[:7])) == 7  # the kinds take turns


def test_cli_classifier(tmp_path):
    """Exit 2 naming the case is an error; 1, a traceback, a kill, memory, a lost sentinel not."""
    sentinel = tmp_path / "keep.txt"
    sentinel.write_text("x")
    plan = fuzz_cli.Plan(["run"], [str(tmp_path)], {str(sentinel): b"x"})

    def outcome(status=2, err="", timed_out=False, peak=100.0, guard="", **plan_fields):
        ran = fuzz_cli.Ran(status, "", err, 1.0, peak, timed_out, guard)
        for k, v in plan_fields.items():
            setattr(plan, k, v)
        return fuzz_cli.classify(ran, plan, 2048.0)[0]

    assert outcome(err=f"error: {tmp_path}/x: not a folder\n") == "error"
    assert outcome(err="error: something is wrong\n") == "unclear"
    assert outcome(err=f"{tmp_path}: " + "x" * 600) == "unclear"
    assert outcome(status=0) == "accepted"
    assert outcome(status=1, err="internal error: KeyError: 'x'") == "crash"
    assert outcome(err=f"{tmp_path}\nTraceback (most recent call last):") == "crash"
    assert outcome(status=-11) == "crash"
    assert outcome(status=None, timed_out=True) == "hang"
    assert outcome(status=1, err="MemoryError") == "memory"
    assert outcome(status=0, peak=4096.0) == "memory"
    assert outcome(status=0, guard="shutil.rmtree /\n") == "deleted"
    (tmp_path / "left").mkdir()
    assert outcome(err=f"{tmp_path}: no", no_leftover=str(tmp_path / "left")) == "leftover"
    plan.no_leftover = None
    sentinel.write_text("changed")
    assert outcome(status=0) == "deleted"


def test_cli_guard_refuses_writes_outside_the_scratch_folder(tmp_path, mini_path):
    """The campaign's safety net: a command writing outside its scratch folder is stopped."""
    runner = fuzz_cli.Runner(tmp_path / "campaign", 120.0, 2048.0)
    scratch = tmp_path / "campaign" / "scratch"
    fuzz_cli._layout(scratch)
    outside = tmp_path / "outside"
    argv = ["run", str(mini_path), "-r", "1", "-q", "--out", str(outside)]
    ran = runner.run(argv, scratch, scratch / "work")
    assert ran.guard and str(tmp_path) in ran.guard, ran.err
    assert not outside.exists()
    assert fuzz_cli.classify(ran, fuzz_cli.Plan(argv, [str(scratch)]), 2048.0)[0] == "deleted"


# --- regressions found by the campaign -------------------------------------------------------


def _bomb(width: int = 10, depth: int = 12) -> str:
    rows = ['a0: &a0 ["lol"]']
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
    return "\n".join(rows) + f"\nmeta: *a{depth - 1}\n"


def test_alias_bomb_is_refused_at_once(tmp_path):
    """Was a hang: 10**11 nodes after expansion in line indexing and validation."""
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())
    msg = _error(path)
    assert msg.startswith(f"{path}:")
    assert f"expected at most {MAX_NODES:,} YAML nodes, found more (aliases expanded" in msg


def test_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("meta: &a [1, *a]\n")
    assert "unsupported alias: *a refers to a node that contains it" in _error(path)


def test_benign_aliases_still_load(tmp_path, mini_path):
    text = mini_path.read_text().replace("    credibility: 0.7\n", "    credibility: &c 0.7\n", 1)
    text = text.replace("    credibility: 0.6\n", "    credibility: *c\n", 1)
    assert "&c" in text and "*c" in text
    path = tmp_path / "aliased.yaml"
    path.write_text(text)
    assert [p.credibility for p in load_scenario(path).scenario.powers] == [0.7, 0.7]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 10_000])
def test_deep_nesting_is_refused(tmp_path, depth):
    """Was a RecursionError traceback from the line index."""
    path = tmp_path / "deep.yaml"
    path.write_text("meta: " + "[" * depth + "]" * depth + "\n")
    assert f"expected at most {MAX_DEPTH} levels of nesting" in _error(path)


def test_very_deep_nesting_does_not_kill_the_process(tmp_path):
    """Was a segmentation fault in the C composer (a million nested lists)."""
    path = tmp_path / "deeper.yaml"
    path.write_text("[" * 1_000_000 + "]" * 1_000_000)
    code = (
        "import sys; from sim.input.yamlsource import read_yaml\n"
        "from sim.input.errors import ScenarioError\n"
        f"try: read_yaml({str(path)!r})\nexcept ScenarioError as e: print(e); sys.exit(3)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 3, done.stderr[-500:]
    assert "levels of nesting" in done.stdout


def test_gc_is_enabled_again_after_reading(tmp_path, mini_path):
    read_yaml(mini_path)
    assert gc.isenabled()
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta: [\n")
    with pytest.raises(ScenarioError):
        read_yaml(bad)
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("extends", "expected"),
    [
        ("a\0b.yaml", "extends: expected a file name, found 'a\\x00b.yaml'"),
        ("x" * 5000, "extends: cannot use base file 'xxxx"),
        ("/", "extends: expected the base to be a YAML file, found a folder or device: /"),
        ("/dev/null", "found a folder or device: /dev/null"),
        ("", "extends: expected a file name, found ''"),
    ],
)
def test_bad_extends_names_the_extending_file(tmp_path, mini_raw, extends, expected):
    """Was a ValueError (NUL) or OSError (name too long) traceback, or a message naming /."""
    path = write_yaml(tmp_path / "child.yaml", {"extends": extends, **mini_raw})
    msg = _error(path)
    assert msg.startswith(f"{path}:1: ")
    assert expected in msg
    assert max(len(line) for line in msg.splitlines()) < 300


def test_runaway_parameter_path_is_clipped_in_the_message(tmp_path, mini_path):
    key = "a" * 10_000
    spec = {"scenario": str(mini_path), "design": "grid", "samples": 2, "parameters": {key: [0, 1]}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    msg = _error(path, load_spec)
    assert "unknown parameter path" in msg
    assert max(len(line) for line in msg.splitlines()) < 500


def test_runaway_value_is_clipped_in_a_spec_message(tmp_path, mini_path):
    spec = {"scenario": str(mini_path), "design": "grid", "samples": list(range(10_000))}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    msg = _error(path, load_spec)
    assert "samples: expected a valid integer, found [0, 1, 2" in msg
    assert max(len(line) for line in msg.splitlines()) < 500


def test_fifty_megabyte_file_is_refused_by_size(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.truncate(50_000_000)
    assert "file is 50,000,000 bytes; the limit is 5,000,000" in _error(path)


def test_python_tags_are_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "tag.yaml"
    path.write_text(f'meta: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'" in _error(path)
    assert not marker.exists()


def test_extends_cycle_is_refused_at_once(tmp_path, mini_raw):
    """Was 10 reads of the chain (over a second for the baseline) before giving up."""
    path = write_yaml(tmp_path / "self.yaml", {"extends": "self.yaml", **mini_raw})
    assert f"extends: extends cycle: {path}" in _error(path)


@pytest.mark.parametrize("bad_id", [{"a": 1}, ["x", "y"]])
def test_unhashable_id_in_an_extending_file(tmp_path, mini_path, bad_id):
    """Was a TypeError traceback from merging lists by id."""
    path = write_yaml(tmp_path / "c.yaml", {"extends": str(mini_path), "events": [{"id": bad_id}]})
    assert "events[0].id: expected a valid string" in _error(path)


def test_runaway_unknown_key_is_clipped(tmp_path, mini_raw):
    mini_raw["meta"]["k" * 2000] = 1
    msg = _error(write_yaml(tmp_path / "k.yaml", mini_raw))
    assert "unknown key 'kkkk" in msg and max(len(line) for line in msg.splitlines()) < 500


def test_many_unknown_parameters_are_reported_fast(tmp_path):
    """Was about a second: every unknown path validated the whole scenario twice."""
    spec = {
        "scenario": str(ROOT / "scenarios" / "baseline_2022.yaml"),
        "design": "grid",
        "samples": 2,
        "parameters": {f"model.p{i}": [0, 1] for i in range(200)},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    msg = _error(path, load_spec)  # (_error also checks the second)
    assert "parameters.model.p0: unknown parameter path: unknown key 'p0'" in msg


def test_extends_refuses_fifos_symlink_loops_and_files_that_are_no_scenarios(tmp_path, mini_raw):
    """Were a hang (a FIFO, /proc/kmsg), an internal RuntimeError (a symlink loop), and the
    content of /etc/shadow quoted back in error messages."""
    import os

    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "loop1.yaml").symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(tmp_path / "loop1.yaml")
    (tmp_path / "secret.txt").write_text("root:$6$abcdef:19000:0:99999:7:::\n")
    cases = {
        "pipe.yaml": "found a folder or device",
        "loop1.yaml": "cannot use base file 'loop1.yaml'",
        "secret.txt": "expected a .yaml or .yml scenario file, found 'secret.txt'",
        "/proc/self/status": "expected a .yaml or .yml scenario file",
    }
    for base, expected in cases.items():
        child = write_yaml(tmp_path / "child.yaml", {"extends": base, "meta": {"name": "x"}})
        message = _error(child)
        assert expected in message, message
        assert "abcdef" not in message and "root:" not in message


def test_a_fifo_or_a_proc_file_is_read_without_hanging(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(ScenarioError, match="expected a regular YAML file, found a FIFO"):
        read_yaml(tmp_path / "pipe.yaml")
    if os.path.exists("/proc/self/status"):  # size 0, yet it has content: read as empty
        assert read_yaml("/proc/self/status").data is None
