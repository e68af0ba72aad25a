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
