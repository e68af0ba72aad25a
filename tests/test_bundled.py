"""The data that ships with the package: where it lives, scenarios by name, the installed wheel."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import DATA, ROOT

from sim.cli import _parser, main
from sim.input import bundled
from sim.input.bundled import bundled_scenario, resolve_scenario, scenario_names
from sim.input.errors import ScenarioError
from sim.sweep.spec import load_spec, validate_spec

NAMES = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
RESULT_FILES = {
    "results.parquet",
    "events.csv",
    "answers.csv",
    "scenario.yaml",
    "alignment.png",
    "manifest.json",
}


# --- where the data lives ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "folder"),
    [(bundled.evidence_dir, "seeds"), (bundled.scenarios_dir, "scenarios")],
)
def test_bundled_folders_hold_the_repository_files(found, folder):
    repo = sorted(p for p in (ROOT / folder).glob("*.yaml"))
    assert repo, f"no YAML files in {ROOT / folder}"
    got = found()
    assert sorted(p.name for p in got.glob("*.yaml")) == [p.name for p in repo]
    for path in repo:
        assert (got / path.name).read_bytes() == path.read_bytes(), path.name


def test_bundled_sweep_spec_finds_its_scenario():
    loaded = load_spec(bundled.sweeps_dir() / "kazakhstan_sobol.yaml")
    baseline = bundled.scenarios_dir() / "baseline_2022.yaml"
    assert loaded.loaded.path.resolve() == baseline.resolve()


def test_default_evidence_dir_is_the_bundled_one():
    from sim.input.evidence import default_evidence_dir

    assert default_evidence_dir() == bundled.evidence_dir()
    assert (default_evidence_dir() / "sources.yaml").is_file()


def test_scenario_names_are_the_bundled_files():
    assert scenario_names() == NAMES
    assert "baseline_2022" in NAMES


# --- scenario arguments by name ----------------------------------------------------------------


def test_a_sweep_spec_argument_may_name_a_bundled_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = bundled.sweeps_dir() / "kazakhstan_sobol.yaml"
    assert bundled.resolve_sweep_spec("kazakhstan_sobol") == spec
    assert bundled.resolve_sweep_spec("kazakhstan_sobol.yaml") == spec
    (tmp_path / "kazakhstan_sobol.yaml").write_text("scenario: x\n")
    assert bundled.resolve_sweep_spec("kazakhstan_sobol.yaml") == Path("kazakhstan_sobol.yaml")
    assert bundled.resolve_sweep_spec("no_such_spec") == Path("no_such_spec")


@pytest.mark.parametrize("arg", ["baseline_2022", "baseline_2022.yaml"])
def test_a_bundled_name_resolves_outside_the_repository(arg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = resolve_scenario(arg)
    assert path == bundled.scenarios_dir() / "baseline_2022.yaml"
    assert bundled_scenario(arg) == path


def test_a_file_in_the_working_directory_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "mini.yaml", tmp_path / "baseline_2022.yaml")
    assert resolve_scenario("baseline_2022.yaml") == Path("baseline_2022.yaml")
    assert resolve_scenario("baseline_2022") == bundled.scenarios_dir() / "baseline_2022.yaml"


def test_an_unknown_name_lists_the_bundled_ones_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        resolve_scenario("baselin_2022")
    message = str(info.value)
    assert message.startswith("baselin_2022: ")
    assert "expected a scenario file or the name of a bundled scenario" in message
    assert "did you mean 'baseline_2022'?" in message
    assert f"bundled scenarios: {', '.join(NAMES)}" in message


@pytest.mark.parametrize("arg", ["sub/nowhere.yaml", "", "..", "x" * 300])
def test_paths_and_odd_arguments_are_left_to_the_loader(arg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario(arg) == Path(arg)
    assert bundled_scenario(arg) is None


def test_run_by_name_from_another_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(["run", "baseline_2022", "-r", "1", "--out", str(out), "-q"]) == 0
    assert {p.name for p in out.iterdir()} == RESULT_FILES
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "baseline_2022"


def test_run_with_an_unknown_name_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "no_wars", "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "no_wars: " in err and "did you mean 'no_war'?" in err
    assert not (tmp_path / "out").exists()


def test_check_without_arguments_checks_every_bundled_scenario(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines if ": ok (" in line] == NAMES


def test_check_by_name_and_by_file(tmp_path, monkeypatch, capsys, mini_path):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "no_war", str(mini_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no_war: ok (")
    assert f"{mini_path}: ok (" in out
    assert main(["check", "no_war", "nowhere"]) == 2
    captured = capsys.readouterr()
    assert "no_war: ok (" in captured.out
    assert "nowhere: " in captured.err and "bundled scenarios: " in captured.err


def test_validate_defaults_to_the_bundled_baseline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = _parser().parse_args(["validate"])
    assert resolve_scenario(args.scenario) == bundled.scenarios_dir() / "baseline_2022.yaml"


# --- greatgame scenarios -----------------------------------------------------------------------


def test_scenarios_lists_the_bundled_ones_in_an_aligned_table(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{len(NAMES)} bundled scenarios in {bundled.scenarios_dir()}")
    header, rows = lines[1], lines[2:]
    assert header.split() == ["name", "meta.name", "extends", "question"]
    assert [row.split()[0] for row in rows] == NAMES
    for column in ("meta.name", "extends", "question"):
        start = header.index(column)
        for row in rows:  # each column starts at the same place, after a gap
            assert row[start - 2 : start] == "  " and row[start] != " ", (column, row)
    baseline = next(row for row in rows if row.startswith("baseline_2030 "))
    assert baseline.split()[1:3] == ["baseline_2030", "baseline_2022"]


def test_scenarios_json(capsys):
    assert main(["scenarios", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == NAMES
    by_name = {r["name"]: r for r in records}
    assert by_name["baseline_2022"]["extends"] is None
    assert by_name["no_war"]["extends"] == "baseline_2022"
    assert by_name["no_war"]["meta_name"] == "no_war"
    for record in records:
        assert Path(record["file"]).is_file()
        assert record["question"]


# --- sweep specs -------------------------------------------------------------------------------


def _spec(scenario: str) -> dict:
    return {"scenario": scenario, "design": "lhs", "samples": 4, "replicates": 1, "seed": 1}


def test_a_sweep_spec_may_name_a_bundled_scenario(tmp_path):
    loaded = validate_spec(_spec("baseline_2022"), tmp_path / "spec.yaml")
    assert loaded.loaded.path == bundled.scenarios_dir() / "baseline_2022.yaml"


def test_a_sweep_spec_prefers_the_file_next_to_it(tmp_path):
    shutil.copy(DATA / "mini.yaml", tmp_path / "baseline_2022.yaml")
    spec = _spec("baseline_2022.yaml")
    spec["parameters"] = {"states.alpha.trust.north": [0.1, 0.9]}
    loaded = validate_spec(spec, tmp_path / "spec.yaml")
    assert loaded.loaded.path == tmp_path / "baseline_2022.yaml"


def test_a_sweep_spec_with_an_unknown_name_says_what_it_looked_for(tmp_path):
    with pytest.raises(ScenarioError) as info:
        validate_spec(_spec("baseline_2023"), tmp_path / "spec.yaml")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'spec.yaml'}: scenario: expected a scenario file")
    assert f"no file {tmp_path / 'baseline_2023'}" in message
    assert "bundled scenarios: baseline_2022" in message


# --- the wheel, installed outside the repository -----------------------------------------------


def _uv() -> str:
    local = ROOT / ".tools" / "bin" / "uv"
    if local.is_file():
        return str(local)
    found = shutil.which("uv")
    if found is None:
        pytest.skip("uv not found (.tools/bin/uv or on PATH); make test installs it")
    return found


def _sh(cmd: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path):
    uv = _uv()
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()

    # build the sdist and, from it, the wheel; only the code and the bundled data ship
    _sh([uv, "build", "--offline", "--quiet", "--out-dir", dist, ROOT], ROOT, env)
    (wheel,) = dist.glob("greatgame-*.whl")
    names = [n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n]
    # the YAML files and seeds/data/ (UN votes, SOURCES.md, vote model, resolutions)
    data = (".yaml", ".csv", ".md", ".json")
    shipped = {n for n in names if n.startswith("sim/input/bundled/") and n.endswith(data)}
    expected = {
        f"sim/input/bundled/{folder}/{p.name}"
        for folder in ("seeds", "scenarios", "sweeps", "calibrations")
        for p in (ROOT / folder).glob("*.yaml")
    } | {
        f"sim/input/bundled/seeds/data/{p.name}"
        for p in (ROOT / "seeds" / "data").iterdir()
        if p.suffix in (".csv", ".md", ".json", ".yaml")
    }
    assert shipped == expected
    assert all(n.endswith(".py") for n in set(names) - shipped), sorted(set(names) - shipped)

    # a fresh venv with the locked dependencies, then the wheel, all without the network
    lock = tmp_path / "pylock.toml"
    export = ["export", "--frozen", "--no-dev", "--no-emit-project", "--format", "pylock.toml"]
    _sh([uv, *export, "--quiet", "--output-file", lock], ROOT, env)
    _sh([uv, "venv", "--quiet", "--python", sys.executable, venv], work, env)
    python = venv / "bin" / "python"
    _sh([uv, "pip", "install", "--offline", "--quiet", "--python", python, "-r", lock], work, env)
    _sh([uv, "pip", "install", "--offline", "--quiet", "--python", python, wheel], work, env)

    code = "import sim, sim.input.bundled as b; print(sim.__file__); print(b.evidence_dir())"
    where = _sh([python, "-c", code], work, env).stdout.splitlines()
    assert all(Path(p).is_relative_to(venv) for p in where), where
    greatgame = venv / "bin" / "greatgame"
    checked = _sh([greatgame, "check"], work, env)
    assert checked.stdout.count(": ok (") == len(NAMES), checked.stdout
    listed = _sh([greatgame, "scenarios", "--json"], work, env)
    files = [Path(r["file"]) for r in json.loads(listed.stdout)]
    assert [f.stem for f in files] == NAMES
    assert all(f.is_relative_to(venv) for f in files), files

    out = tmp_path / "out"
    _sh([greatgame, "run", "baseline_2022", "--replicates", "2", "--out", out], work, env)
    assert {p.name for p in out.iterdir()} == RESULT_FILES
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replicates"] == 2
    assert Path(manifest["scenario"]["file"]).is_relative_to(venv), manifest["scenario"]
