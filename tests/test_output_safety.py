"""--force never destroys what greatgame did not write; meta.name never leaves results/.

Each case runs the real command on a temporary folder with sentinel files that must survive.
"""

import json

import pytest
import yaml
from conftest import DATA, write_yaml

from sim.cli import main

SPEC = {
    "design": "lhs",
    "samples": 2,
    "replicates": 1,
    "seed": 1,
    "parameters": {"powers.north.strategy.threat_intensity": [0.0, 0.9]},
}


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A working folder holding a user's files, and a parent folder holding more."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.tex").write_text("chapter 1")
    (tmp_path / "notes.txt").write_text("keep me")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".bashrc").write_text("# mine")
    return tmp_path


def sentinels_intact(root):
    assert (root / "work" / "thesis.tex").read_text() == "chapter 1"
    assert (root / "notes.txt").read_text() == "keep me"
    assert (root / "home" / ".bashrc").read_text() == "# mine"


def spec_file(root):
    return write_yaml(root / "spec.yaml", {"scenario": str(DATA / "mini.yaml"), **SPEC})


def command(name, root, out):
    """The arguments of ``name`` (run, sweep or compare) writing into ``out``."""
    if name == "run":
        return ["run", str(DATA / "mini.yaml"), "-r", "1", "-q", "--out", str(out)]
    if name == "sweep":
        return ["sweep", str(spec_file(root)), "-j", "1", "-q", "--out", str(out)]
    assert main(["run", str(DATA / "mini.yaml"), "-r", "1", "-q", "--out", "../a"]) == 0
    return ["compare", "../a", "../a", "-q", "-o", str(out)]


@pytest.mark.parametrize(
    ("out", "why"),
    [
        (".", "it is the current folder"),
        ("..", "it holds the current folder"),
        ("HOME", "it is the home folder"),
        ("/", "it is the root folder"),
    ],
)
@pytest.mark.parametrize("command_name", ["run", "sweep", "compare"])
def test_force_never_replaces_the_current_folder_its_ancestors_home_or_root(
    place, capsys, command_name, out, why
):
    target = str(place / "home") if out == "HOME" else out
    args = command(command_name, place, target)
    assert main([*args, "--force"]) == 2
    err = capsys.readouterr().err
    assert f"refusing to replace it with --force: {why}" in err
    assert "internal error" not in err
    sentinels_intact(place)


@pytest.mark.parametrize("command_name", ["run", "sweep", "compare"])
def test_force_refuses_a_folder_of_the_users_own_files(place, capsys, command_name):
    mine = place / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("chapter 2")
    args = command(command_name, place, str(mine))
    assert main([*args, "--force"]) == 2
    assert "files that greatgame did not write" in capsys.readouterr().err
    assert (mine / "thesis.tex").read_text() == "chapter 2"
    sentinels_intact(place)


@pytest.mark.parametrize("command_name", ["run", "sweep", "compare"])
def test_force_replaces_what_greatgame_wrote(place, command_name):
    out = place / "out"
    args = command(command_name, place, str(out))
    assert main(args) == 0
    tool = json.loads((out / "manifest.json").read_text())["tool"]
    assert tool == f"greatgame {command_name}"
    assert main([*args, "--force"]) == 0
    sentinels_intact(place)


@pytest.mark.parametrize(
    "name", [".", "..", "../../..", "/tmp/elsewhere", "a/b", "x" * 65, "a\x00b", "-rf", " "]
)
def test_meta_name_is_a_safe_folder_name(place, capsys, name):
    raw = yaml.safe_load((DATA / "mini.yaml").read_text())
    raw["meta"]["name"] = name
    path = write_yaml(place / "bad.yaml", raw)
    (place / "work" / "results" / "other").mkdir(parents=True)
    (place / "work" / "results" / "other" / "keep.txt").write_text("other results")
    assert main(["check", str(path)]) == 2
    assert main(["run", str(path), "-r", "1", "-q", "--force"]) == 2
    err = capsys.readouterr().err
    assert "meta.name: expected 1 to 64 letters, digits" in err
    assert (place / "work" / "results" / "other" / "keep.txt").read_text() == "other results"
    assert sorted(p.name for p in (place / "work" / "results").iterdir()) == ["other"]
    sentinels_intact(place)


def test_error_lines_are_clipped_unless_verbose(place, capsys):
    raw = yaml.safe_load((DATA / "mini.yaml").read_text())
    long_id = "e" * 5000
    raw["events"][0]["evidence"] = [long_id]
    path = write_yaml(place / "long.yaml", raw)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() and max(len(line) for line in err.splitlines()) <= 300
    assert "characters; greatgame --verbose ...]" in err and err.rstrip().endswith(
        "no fact has this id"
    )
    assert main(["--verbose", "check", str(path)]) == 2
    assert long_id in capsys.readouterr().err


@pytest.mark.parametrize("command_name", ["run", "sweep", "compare"])
def test_an_output_path_no_folder_can_have_is_refused_in_one_line(place, capsys, command_name):
    cases = [
        (place / ("x" * 256), "cannot use this path"),  # longer than a file name may be
        (place / ("x" * 250), "at most 249 are allowed"),  # fits, but its lock file would not
        (place / "out-\udcff\udcfe", "not valid UTF-8"),  # bytes that are no text
    ]
    args = command(command_name, place, "OUT")[:-1]  # the output path comes last
    for out, why in cases:
        for force in ([], ["--force"]):
            assert main([*args, str(out), *force]) == 2
            err = capsys.readouterr().err
            assert why in err and "internal error" not in err
            assert len(err.strip().splitlines()) == 1
    sentinels_intact(place)


@pytest.mark.parametrize("command_name", ["run", "sweep", "compare"])
def test_force_refuses_a_symbolic_link_and_leaves_its_target(place, capsys, command_name):
    real = place / "real"
    assert main([*command("run", place, real)]) == 0
    before = sorted(p.name for p in real.iterdir())
    link = place / "link"
    link.symlink_to(real, target_is_directory=True)
    assert main([*command(command_name, place, link), "--force"]) == 2
    err = capsys.readouterr().err
    assert "is a symbolic link" in err and "internal error" not in err
    assert link.is_symlink() and sorted(p.name for p in real.iterdir()) == before


def test_compare_never_writes_over_a_folder_it_compares(place, capsys):
    assert main(["run", str(DATA / "mini.yaml"), "-r", "1", "-q", "--out", "../a"]) == 0
    before = sorted(p.name for p in (place / "a").iterdir())
    assert main(["compare", "../a", "../a", "-q", "-o", "../a", "--force"]) == 2
    assert "is (or holds) the compared folder" in capsys.readouterr().err
    assert sorted(p.name for p in (place / "a").iterdir()) == before
    sentinels_intact(place)
