"""The ``greatgame`` command line: ``run``, ``check``, ``schema``.

Bad input ends with exit status 2 and one line per problem on standard error (a traceback only
with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from sim.errors import ScenarioError

__all__ = ["main"]

EXIT_BAD_INPUT = 2


def _cmd_run(args: argparse.Namespace) -> int:
    import matplotlib.pyplot as plt

    from sim import runner
    from sim.plotting import plot_alignment_grid
    from sim.scenario import load_scenario

    loaded = load_scenario(args.scenario)
    out = Path(args.out) if args.out else Path("results") / loaded.scenario.meta.name
    if out.is_dir() and any(out.iterdir()) and not args.force:  # fail before simulating
        raise runner.OutputError(
            f"{out}: folder exists and is not empty (use --force to replace it)"
        )
    res = runner.run(
        loaded,
        seed=args.seed,
        replicates=args.replicates,
        progress=None if not args.quiet else False,
    )

    def plots(results: runner.RunResults, folder: Path) -> list[str]:
        fig = plot_alignment_grid(
            results.table(), title=f"{loaded.scenario.meta.name}: alignment toward each power"
        )
        fig.savefig(folder / "alignment.png", dpi=120)
        plt.close(fig)
        return ["alignment.png"]

    runner.write_results(res, out, force=args.force, extras=plots)
    if not args.quiet:
        per_run = res.wall_time / len(res.trajectories)
        print(
            f"{loaded.scenario.meta.name}: {len(res.trajectories)} run(s) of "
            f"{loaded.scenario.n_steps} months in {res.wall_time:.2f} s ({per_run:.3f} s per run)"
        )
        print(f"wrote {out}/ (results.parquet, events.csv, alignment.png, manifest.json)")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    failed = 0
    for path in args.scenarios:
        try:
            loaded = load_scenario(path)
        except ScenarioError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        sc = loaded.scenario
        print(
            f"{path}: ok ({len(sc.powers)} powers, {len(sc.states)} states, "
            f"{len(sc.events)} events, {sc.meta.start} to {sc.meta.end})"
        )
    return EXIT_BAD_INPUT if failed else 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greatgame",
        description="Agent-based simulation of great-power influence in Central Asia.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario and write a results folder")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--seed", type=_non_negative, default=0, help="root seed (default 0)")
    p.add_argument(
        "--replicates", "-r", type=_positive, default=1, help="number of runs (default 1)"
    )
    p.add_argument("--out", "-o", help="results folder (default results/<scenario name>)")
    p.add_argument("--force", action="store_true", help="replace a non-empty results folder")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("check", help="validate scenario files without running them")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.set_defaults(func=_cmd_schema)
    return parser


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 on bad input, 1 on an unexpected failure.
    """
    args = _parser().parse_args(argv)
    from sim.runner import OutputError

    try:
        return args.func(args)
    except (ScenarioError, OutputError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}" if isinstance(exc, OutputError) else str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("interrupted; no results folder was written or changed", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: say so, keep the details for --debug
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
