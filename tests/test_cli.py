"""The command line's own surface: version, help with an example per command."""

import shlex
from importlib.metadata import version

import pytest

from sim.cli import EXAMPLES, _parser, main


def test_version_is_the_installed_package_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"greatgame {version('greatgame')}"


def test_every_command_has_an_example_that_the_parser_accepts(capsys):
    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices  # the sub-commands, by name
    assert set(EXAMPLES) == set(commands)
    for name, example in EXAMPLES.items():
        words = shlex.split(example.split(">")[0])
        assert words[:2] == ["greatgame", name]
        args = parser.parse_args(words[1:])  # exits 2 (SystemExit) if the example went stale
        assert args.command == name
        with pytest.raises(SystemExit):
            main([name, "--help"])
        out = capsys.readouterr().out
        assert out.rstrip().endswith(example), name


@pytest.mark.parametrize(
    ("argv", "choices"),
    [
        (["run", "x", "--engine", "fast"], "ensemble"),
        (["validate", "--engine", "fast"], "mesa"),
        (["plot", "d", "--by", "month"], "channel"),
    ],
)
def test_a_bad_choice_exits_2_listing_the_choices(argv, choices, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and choices in capsys.readouterr().err


def test_new_writes_a_commented_counterfactual_that_checks_and_refuses_to_overwrite(
    tmp_path, monkeypatch, capsys
):
    from sim.input.scenario import load_scenario

    monkeypatch.chdir(tmp_path)
    assert main(["new", "kz_neutral", "-q"]) == 0
    written = tmp_path / "kz_neutral.yaml"
    text = written.read_text()
    assert text.startswith("# kz_neutral: a counterfactual of baseline_2022.")
    loaded = load_scenario(written)
    assert loaded.scenario.meta.name == "kz_neutral" and len(loaded.files) == 2
    assert main(["check", str(written)]) == 0
    capsys.readouterr()
    assert main(["new", "kz_neutral"]) == 2  # exists: not replaced
    assert "--force" in capsys.readouterr().err and written.read_text() == text
    assert main(["new", "../escape"]) == 2 and not (tmp_path.parent / "escape.yaml").exists()


def test_events_lists_every_event_type_with_its_magnitude_range(capsys):
    import json

    from sim.input.scenario import EVENT_RULES

    assert main(["events", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["type"] for r in rows] == list(EVENT_RULES)
    for row in rows:
        assert row["magnitude"] == list(EVENT_RULES[row["type"]]["magnitude"])
        assert row["meaning"] == EVENT_RULES[row["type"]]["meaning"]
