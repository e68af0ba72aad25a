"""The ``greatgame`` command line.

Commands: ``run``, ``check``, ``scenarios``, ``schema``, ``evidence``, ``observe``, ``votes``,
``validate``, ``sweep``, ``analyze``, ``screen``, ``plot``, ``compare``, ``report``,
``dashboard``. A scenario argument is a file or the name of a bundled scenario
(:func:`sim.input.bundled.resolve_scenario`).

Bad input ends with exit status 2 and one line per problem on standard error (a traceback only
with ``--debug``; each line cut at :data:`MAX_LINE` characters unless ``--verbose``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.input.errors import Interrupted, ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from sim.input.scenario import LoadedScenario
    from sim.model.dynamics import FloatArray
    from sim.sweep.spec import LoadedSpec

__all__ = ["main"]

EXIT_BAD_INPUT = 2
_BUNDLED_HELP = "or the name of a bundled scenario such as baseline_2022 (greatgame scenarios)"
_EVIDENCE_HELP = "evidence folder (default: the bundled evidence base, seeds/ in a checkout)"


ENGINE_NAMES = ("ensemble", "mesa")
"""The engines of :data:`sim.model.engines.ENGINES`, named here so that building the parser
imports no model code (a test checks that the two agree)."""


def _engine_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="ensemble",
        help="simulation engine: ensemble (all runs at once, the default) or mesa (the Mesa "
        "model, run by run: the same numbers, far slower)",
    )


def _cmd_run(args: argparse.Namespace) -> int:
    import matplotlib.pyplot as plt

    from sim.input.bundled import resolve_scenario
    from sim.input.evidence import load_verified
    from sim.results import runner
    from sim.results.atomic import check_free
    from sim.viz.plotting import plot_alignment_grid

    loaded = load_verified(resolve_scenario(args.scenario), args.evidence)
    _check_runnable(loaded, args.replicates, args.allow_large)
    out = Path(args.out) if args.out else Path("results") / loaded.scenario.meta.name
    check_free(out, args.force)  # fail before simulating
    values, values_from = _run_values(args, loaded)
    res = runner.run(
        loaded,
        seed=args.seed,
        replicates=args.replicates,
        progress=None if not args.quiet else False,
        engine=args.engine,
        values=values,
        values_from=values_from,
    )

    def plots(results: runner.RunResults, folder: Path) -> list[str]:
        fig = plot_alignment_grid(
            results.table(), title=f"{loaded.scenario.meta.name}: alignment toward each power"
        )
        fig.savefig(folder / "alignment.png", dpi=120)
        plt.close(fig)
        return ["alignment.png"]

    folder = runner.write_run_folder(res, out, force=args.force, extras=plots)
    if not args.quiet:
        per_run = res.wall_time / res.batch.n_runs
        print(
            f"{loaded.scenario.meta.name}: {res.batch.n_runs} run(s) of "
            f"{loaded.scenario.n_steps} months in {res.wall_time:.2f} s "
            f"({per_run * 1e3:.2f} ms per run, {res.engine} engine)"
            + (
                f"; each run sets {values.shape[1]} numbers (parameters.csv)"
                if values is not None
                else ""
            )
        )
        files = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
        print(f"wrote {out}/ ({', '.join(files)})")
    return 0


def _run_values(
    args: argparse.Namespace, loaded: LoadedScenario
) -> tuple[pd.DataFrame | None, dict[str, Any] | None]:
    """Each replicate's own numbers for ``run``: posterior draws and a carried initial state."""
    import pandas as pd

    from sim.input.errors import OutputError

    parts: list[pd.DataFrame] = []
    info: dict[str, Any] = {}
    if args.posterior:
        from sim.calibration.run import posterior_for

        name = loaded.scenario.meta.name
        drawn, info["posterior"] = posterior_for(args.posterior, name, args.replicates, args.seed)
        left = info["posterior"]["left_out"]
        if left and not args.quiet:
            _say_error(
                args,
                f"note: {args.posterior} calibrated {info['posterior']['calibrated_scenario']}; "
                f"{name} draws its {drawn.shape[1]} model parameters and leaves out the "
                f"{len(left)} numbers of that scenario's own starting point and events",
            )
        if drawn.shape[1]:
            parts.append(drawn)
    if args.initial_from:
        from sim.results.carry import carried_values

        carried, info["initial_from"] = carried_values(
            args.initial_from, loaded.scenario, args.replicates, args.initial_month
        )
        if parts:  # the carried state replaces what the posterior says of the same numbers
            parts[0] = parts[0].drop(columns=[c for c in parts[0] if c in carried.columns])
        parts.append(carried)
    elif args.initial_month:
        raise OutputError("--initial-month needs --initial-from RESULTS_DIR")
    if not parts:
        return None, None
    return pd.concat(parts, axis=1), info


def _cmd_check(args: argparse.Namespace) -> int:
    from sim.input.bundled import resolve_scenario, scenario_names
    from sim.input.evidence import load_verified, unsourced

    failed = 0
    for path in args.scenarios or scenario_names():
        try:
            loaded = load_verified(resolve_scenario(path), args.evidence)
            _check_runnable(loaded, 1, args.allow_large)
        except ScenarioError as exc:
            _say_error(args, str(exc))
            failed += 1
            continue
        sc = loaded.scenario
        bare = unsourced(loaded)
        print(
            f"{path}: ok ({len(sc.powers)} powers, {len(sc.states)} states, "
            f"{len(sc.events)} events, {sc.meta.start} to {sc.meta.end}); "
            f"{len(bare)} numbers without provenance"
        )
        for number in bare[: None if args.all else 20]:
            print(f"  no provenance: {number}")
        if len(bare) > 20 and not args.all:
            print(f"  ... and {len(bare) - 20} more (--all lists them)")
        if bare and args.strict:
            failed += 1
    return EXIT_BAD_INPUT if failed else 0


def _check_runnable(loaded: LoadedScenario, replicates: int, allow_large: bool) -> None:
    """Refuse what a run cannot compute or what would exhaust the machine, before running.

    Args:
        loaded: The loaded scenario.
        replicates: Runs asked for (``--replicates``).
        allow_large: ``--allow-large``: lift the size limits (states, powers, months,
            replicates) and allow a larger share of the memory.

    Raises:
        OutputError: For more replicates than :data:`sim.input.scenario.MAX_REPLICATES`.
        ScenarioError: From :func:`sim.model.limits.check_runnable`.
    """
    from sim.input.errors import OutputError
    from sim.input.scenario import ALLOW_LARGE, MAX_REPLICATES
    from sim.model.limits import check_runnable

    if replicates > MAX_REPLICATES and not allow_large:
        raise OutputError(
            f"--replicates {replicates}: expected at most {MAX_REPLICATES:,} replicates; pass "
            f"{ALLOW_LARGE} to run more"
        )
    check_runnable(loaded, replicates, allow_large)


_ALLOW_LARGE_HELP = (
    "lift the size limits (20 states, 20 powers, 600 months, 1,000 replicates; for sweeps also "
    "design points and chunk size) for a run known to be large"
)


def _cmd_observe(args: argparse.Namespace) -> int:
    from sim.results.observe import observe

    table = observe(args.results, args.date)
    band = ["remittances_gdp", "remittances_gdp_p5", "remittances_gdp_p95"]
    if args.json:
        records = json.loads(table.drop(columns=band).to_json(orient="records"))
        for rec, (median, p5, p95) in zip(records, table[band].to_numpy(), strict=True):
            known = median == median  # NaN: no record for the state
            rec["remittances_gdp"] = {"median": median, "p5": p5, "p95": p95} if known else None
        print(json.dumps(records, indent=2))
        return 0
    powers = [c for c in table.columns[6:] if c not in band]
    print(f"{args.results} at the end of {args.date} (medians across runs)")
    head = f"{'state':14} {'UN vote':>10} {'patron':>14} {'hedging':>8} " + " ".join(
        f"{p[:7]:>7}" for p in powers
    )
    print(head + "  remittances % of GDP (5-95%)")
    for r in table.to_dict(orient="records"):
        vote = f"{r['vote']} {r['vote_share']:.0%}" if r["vote"] != "n/a" else "n/a"
        patron = f"{r['primary_patron']} {r['patron_share']:.0%}"
        cells = " ".join(f"{r[p]:7.3f}" for p in powers)
        median, p5, p95 = (r[c] for c in band)
        money = f"{median:5.1f} ({p5:.1f}-{p95:.1f})" if median == median else "n/a"
        print(f"{r['state']:14} {vote:>10} {patron:>14} {r['hedging']:8.3f} {cells}  {money}")
    return 0


def _cmd_votes(args: argparse.Namespace) -> int:
    from sim.input.resolutions import load_resolutions, resolve_resolutions
    from sim.results.folder import read_run_folder
    from sim.results.votes import VOTES, predict_folder

    run = read_run_folder(args.results)
    resolutions = load_resolutions(resolve_resolutions(args.resolutions), run.scenario.power_ids)
    report = predict_folder(run, resolutions)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{args.results}: UN General Assembly votes of the vote model ({report['model']}), "
        f"probabilities averaged over {report['runs']} run(s)"
    )
    for r in report["resolutions"]:
        about = ", ".join(
            [
                f"condemns {r['condemns']}" if r["condemns"] else "condemns no power",
                r["measure"],
                f"issues {' '.join(r['issues'])}" if r["issues"] else "no issue codes",
            ]
        )
        month = r["month"]
        print(f"\n{r['id']} ({r['date']}) {r['title']}: {about}; alignment at the end of {month}")
        print(f"  {'state':14} {'vote':8} " + " ".join(f"{v:>7}" for v in VOTES))
        for state, cell in r["states"].items():
            cells = " ".join(f"{cell['p'][v]:7.2f}" for v in VOTES)
            print(f"  {state:14} {cell['vote']:8} {cells}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.input.bundled import resolve_scenario
    from sim.input.evidence import load_verified
    from sim.results.validation import validate

    loaded = load_verified(resolve_scenario(args.scenario), args.evidence)
    if args.prior is not None:
        return _validate_prior(args, loaded)
    replicates = args.replicates or VALIDATE_REPLICATES
    _check_runnable(loaded, replicates, args.allow_large)
    results = validate(loaded, replicates=replicates, seed=args.seed, engine=args.engine)
    passed = sum(r.passed for r in results)
    if args.json:
        record = {"scenario": loaded.scenario.meta.name, "seed": args.seed}
        facts = [dataclasses.asdict(r) for r in results]
        print(json.dumps(record | {"replicates": replicates, "facts": facts}, indent=2))
        return 0 if passed == len(results) else 1
    print(f"{args.scenario}: stylized facts over {replicates} runs (seed {args.seed})")
    for r in results:
        print(f"({r.key}) {'PASS' if r.passed else 'FAIL'}  {r.claim}")
        print(f"      measured: {r.measured}")
        print(f"      required: {r.threshold}")
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


VALIDATE_REPLICATES = 30
"""Runs per variant of ``greatgame validate`` without ``--prior``."""
PRIOR_REPLICATES = 10
"""Runs per point and variant of ``greatgame validate --prior N``."""
_PRIOR_SPEC = "greatgame validate --prior"
"""The file that problems of the prior's design name until they are put in the user's terms."""
_PRIOR_OPTIONS: dict[str | int, tuple[str, ...]] = {
    "samples": ("--prior",),
    "replicates": ("--replicates",),
    "parameters": ("assumption ranges",),
}
"""The option or part of the scenario that a field of the prior's sweep spec stands for."""


def prior_design(
    loaded: LoadedScenario, samples: int, seed: int, replicates: int, allow_large: bool = False
) -> tuple[LoadedSpec, LoadedScenario, dict[str, FloatArray]]:
    """The design of ``greatgame validate --prior``: its plan, its scenario and its points.

    The box is the default parameter set of a sweep (every number with an assumption range
    that can vary on its own, :func:`sim.sweep.spec.validate_spec`), sampled by its Latin
    hypercube of ``samples`` points (:func:`sim.sweep.designs.build_design`, seeded from
    ``seed``). Scripts that break the rates down (``bench/prior_breakdown.py``) draw the same
    points.

    Returns:
        The validated sweep plan, the scenario with the varied numbers' provenance stripped,
        and scenario path to one value per point.

    Raises:
        ScenarioError: Naming the option or the scenario where the design cannot be drawn.
    """
    from sim.input.errors import Problem
    from sim.input.params import collect_numbers
    from sim.sweep.designs import build_design
    from sim.sweep.spec import strip_provenance, validate_spec

    if not any(n.range and n.range[0] < n.range[1] for n in collect_numbers(loaded.raw)):
        raise ScenarioError(
            [
                Problem(
                    str(loaded.path),
                    (),
                    "expected numbers with an assumption range (assumption: {range: [low, "
                    "high]}) for --prior to sample, found none: every number of the scenario "
                    "is fixed",
                )
            ]
        )
    spec = {
        "scenario": str(loaded.path.resolve()),
        "design": "lhs",
        "samples": samples,
        "replicates": replicates,
        "seed": seed,
    }
    try:
        plan = validate_spec(spec, _PRIOR_SPEC, allow_large=allow_large)
    except ScenarioError as exc:  # the spec is ours: name the option or the ranges instead
        raise ScenarioError(
            [
                Problem(str(loaded.path), _PRIOR_OPTIONS.get(p.loc[0], p.loc), p.message)
                if p.file == _PRIOR_SPEC and p.loc
                else p
                for p in exc.problems
            ]
        ) from None
    names = list(plan.parameters)
    values = build_design("lhs", plan.parameters, samples, seed)
    base = loaded.model_copy(update={"raw": strip_provenance(loaded.raw, names)})
    return plan, base, {path: values[:, j] for j, path in enumerate(names)}


def _validate_prior(args: argparse.Namespace, loaded: LoadedScenario) -> int:
    """``greatgame validate --prior N``: the facts' pass rates over the assumption box.

    The design is :func:`prior_design`'s; :func:`sim.results.validation.prior_pass_rates`
    measures the facts at each point.
    """
    import textwrap

    from sim.results.validation import VARIANTS, prior_pass_rates
    from sim.sweep.designs import design_seed

    replicates = args.replicates or PRIOR_REPLICATES
    _check_runnable(loaded, replicates, args.allow_large)
    plan, base, design = prior_design(loaded, args.prior, args.seed, replicates, args.allow_large)
    names = list(design)
    started = time.perf_counter()
    rates = prior_pass_rates(
        base,
        design,
        seed=args.seed,
        replicates=replicates,
        engine=args.engine,
    )
    took = time.perf_counter() - started
    name, n = loaded.scenario.meta.name, args.prior
    if args.json:
        record = rates.to_dict() | {
            "scenario": name,
            "design": "lhs",
            "design_seed": design_seed(args.seed),
            "parameters": len(names),
            "fixed": len(plan.excluded),
        }
        print(json.dumps(record, indent=2))
        return 0
    print(
        f"{name}: stylized facts over a {n}-point Latin hypercube of its {len(names)} "
        f"assumption ranges,\n{replicates} runs per point and variant ({args.engine} engine)"
    )
    print(
        f"seed {args.seed}: design seed {design_seed(args.seed)}, run seeds "
        f"SeedSequence({args.seed}).spawn({n * replicates}) "
        f"(run r of point i: i * {replicates} + r)"
    )
    if plan.excluded:
        print(
            f"{len(plan.excluded)} ranged numbers held at their values (they cannot vary on "
            "their own: lever-mix shares, populations)"
        )
    print(f"{'fact':5} {'claim':60} {'pass rate':>9} {'passed':>11}")
    for f in rates.facts:
        claim = textwrap.shorten(f.claim, 60, placeholder="...")
        print(f"({f.key}){'':2} {claim:60} {f.rate:9.1%} {f'{f.passed}/{f.n}':>11}")
    print(
        f"all facts pass at {rates.all_pass_rate:.1%} of the points ({rates.all_pass}/{n}); "
        f"{n * replicates * len(VARIANTS):,} runs in {took:.1f} s"
    )
    return 0


def _cmd_events(args: argparse.Namespace) -> int:
    from sim.input.scenario import EVENT_RULES

    rows = [
        {
            "type": kind,
            "actors": (f"{rule['n_actors']} " if rule.get("n_actors") else "") + rule["actors"],
            "targets": rule["targets"] or "none",
            "magnitude": list(rule["magnitude"]),
            "meaning": rule["meaning"],
        }
        for kind, rule in EVENT_RULES.items()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        low, high = r["magnitude"]
        print(f"{r['type']}: actors {r['actors']}(s), targets {r['targets']}")
        print(f"    magnitude in [{low:g}, {high:g}]: {r['meaning']}")
    return 0


NEW_SCENARIO = """\
# {name}: a counterfactual of {base_name}. It states only what differs from its base: every
# other number, power, state and event is inherited (greatgame check {file} merges and checks it).
extends: {extends}

meta:
  name: {name}
  description: >-
    What this scenario changes, and why (one or two sentences).
  question: >-
    The question it answers, e.g. how far each state drifts from Russia if ...?

# Change a power, a state or an event by its id; give only the fields that change:
# powers:
#   - id: russia
#     monthly_budget: {{value: 60.0, assumption: {{range: [40.0, 80.0], note: why this range}}}}
# states:
#   - id: kazakhstan
#     neutrality: 0.2
# events:
#   - {{id: ukraine_invasion_credibility, enabled: false}}   # switch an event off
#   - {{id: kerch_bridge_blast, remove: true}}               # or drop it
#   - id: my_new_event                                      # or add one (greatgame events
#     date: 2022-06                                         # lists the types)
#     type: summit
#     actors: [china]
#     targets: [kazakhstan]
#     magnitude: 0.1
#     description: What happened.
#     evidence: [a_fact_id]                                 # greatgame evidence --search WORD
"""
"""The commented file that ``greatgame new`` writes."""


def _cmd_new(args: argparse.Namespace) -> int:
    import os
    import re

    from sim.input.bundled import resolve_scenario
    from sim.input.errors import OutputError
    from sim.input.scenario import SAFE_NAME, load_scenario

    if not re.match(SAFE_NAME, args.name) or len(args.name) > 64:
        raise OutputError(
            f"{args.name!r}: expected a name of letters, digits, '.', '_' or '-' (at most 64), "
            "starting with a letter or digit"
        )
    out = Path(args.out or f"{args.name}.yaml")
    if out.exists() and not args.force:
        raise OutputError(f"{out}: exists (use --force to replace it)")
    base = resolve_scenario(args.extends).resolve()
    load_scenario(base)  # the base must be a valid scenario
    try:  # relative when the base is beside or below the new file, else absolute
        extends = os.path.relpath(base, out.resolve().parent)
    except ValueError:  # another drive
        extends = str(base)
    if extends.startswith(".."):
        extends = str(base)
    text = NEW_SCENARIO.format(name=args.name, base_name=base.stem, file=out, extends=extends)
    from sim.results.atomic import write_file

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_file(out, text.encode())
    except OSError as exc:
        raise OutputError(f"{out}: cannot write it ({exc.strerror or exc})") from None
    load_scenario(out)  # what was written is a valid scenario
    if not args.quiet:
        print(f"wrote {out} (extends {base.name}); edit it, then: greatgame check {out}")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sim.input.bundled import scenario_names, scenarios_dir
    from sim.input.scenario import load_scenario

    folder = scenarios_dir()
    rows = []
    for name in scenario_names():
        loaded = load_scenario(folder / f"{name}.yaml")
        meta = loaded.scenario.meta
        rows.append(
            {
                "name": name,
                "file": str(loaded.path),
                "meta_name": meta.name,
                "extends": loaded.files[1].stem if len(loaded.files) > 1 else None,
                "question": meta.question,
                "description": meta.description,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{len(rows)} bundled scenarios in {folder} (run one by name: greatgame run NAME)")
    head = {"name": "name", "meta_name": "meta.name", "extends": "extends"}
    cells = [head] + [{k: str(r[k] or "-") for k in head} for r in rows]
    widths = {k: max(len(c[k]) for c in cells) for k in head}
    columns = max(100, shutil.get_terminal_size((100, 24)).columns)
    room = max(30, columns - 1 - sum(widths.values()) - 2 * len(widths))
    about = ["question"] + [_first_line(r["question"] or r["description"]) for r in rows]
    for cell, text in zip(cells, about, strict=True):
        text = text if len(text) <= room else text[: room - 3].rstrip() + "..."
        print("  ".join(cell[k].ljust(widths[k]) for k in head) + "  " + text)
    return 0


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.input.scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0


def _cmd_evidence(args: argparse.Namespace) -> int:
    from sim.input.evidence import load_all, search

    _, facts = load_all(args.dir)
    found = search(facts, args.search or "")
    if args.json:
        print(json.dumps([f.model_dump(exclude_defaults=True) for f in found], indent=2))
        return 0
    for fact in found:
        print(f"{fact.id}  {fact.date}  [{', '.join(fact.sources)}]")
        print(f"    {fact.claim}")
        for name, q in fact.quantities.items():
            print(f"    {name} = {q.qualifier + ' ' if q.qualifier else ''}{q.value:g} {q.unit}")
    what = f" matching '{args.search}'" if args.search else ""
    print(f"{len(found)} of {len(facts)} facts{what}")
    return 0


# --- sweep and analyze (issue 5) ---------------------------------------------------------------


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.input.bundled import resolve_sweep_spec
    from sim.input.errors import OutputError
    from sim.sweep.run import ChunkFailed, SweepInterrupted, run_sweep
    from sim.sweep.spec import check_room, load_spec

    if bool(args.spec) == bool(args.resume):
        raise OutputError("give either a spec file or --resume DIR (not both)")
    if args.dask_local and args.scheduler:
        raise OutputError("give either --dask-local N or --scheduler ADDRESS (not both)")
    if args.scheduler:  # a malformed address fails before any folder is written
        from sim.sweep.executors import parse_scheduler_address

        parse_scheduler_address(args.scheduler)
    spec: Path | LoadedSpec | None = resolve_sweep_spec(args.spec) if args.spec else None
    if isinstance(spec, Path):  # checked here, to lift the size limits with --allow-large
        spec = load_spec(spec, allow_large=args.allow_large)
        check_room(spec, Path(args.out or Path("results") / "sweeps" / Path(args.spec).stem))
        for note in spec.notes:
            _say_error(args, f"warning: {note}")
    out = Path(args.resume or args.out or Path("results") / "sweeps" / Path(args.spec).stem)
    if args.dask_local or args.scheduler:
        executor, workers = "dask", args.dask_local
    else:
        executor, workers = ("serial" if args.jobs == 1 else "process"), args.jobs
    started = time.perf_counter()
    try:
        folder = run_sweep(
            spec,
            out,
            executor=executor,
            workers=workers,
            engine=args.engine,
            resume=bool(args.resume),
            force=args.force,
            progress=not args.quiet,
            scheduler=args.scheduler,
            scheduler_timeout=args.scheduler_timeout,
        )
    except SweepInterrupted as exc:
        _say_error(args, str(exc))
        return exc.exit_status
    except ChunkFailed as exc:  # a run failed repeatedly: say which and how to resume
        _say_error(args, f"error: {exc}")
        return 1
    if not args.quiet:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        took = time.perf_counter() - started
        print(
            f"{manifest['n_runs']} runs ({manifest['n_points']} points x "
            f"{manifest['replicates']} replicates, {manifest['design']} design over "
            f"{len(manifest['parameters'])} parameters, engine {manifest['engine']}) complete; "
            f"this session {took:.1f} s"
        )
        if manifest.get("excluded_parameters"):
            print(
                f"left out {len(manifest['excluded_parameters'])} assumption ranges that cannot "
                "vary on their own (listed in manifest.json)"
            )
        print(f"wrote {folder}/results.parquet; analyse with: greatgame analyze {folder}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from sim.viz.render import write_analysis

    rank, files = write_analysis(args.folder, out=args.out, metrics=args.metric)
    if not args.quiet:
        over = ", ".join(args.metric) if args.metric else "all output metrics"
        print(f"parameters ranked by influence on {over}:")
        for row in rank.head(args.top).itertuples():
            print(f"{row.rank:4d}  {row.score:8.4f}  {row.parameter}")
        print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def _cmd_screen(args: argparse.Namespace) -> int:
    from sim.input.bundled import resolve_scenario
    from sim.input.scenario import load_scenario
    from sim.sweep.screening import ROUNDING, screen

    loaded = load_scenario(resolve_scenario(args.scenario))
    _check_runnable(loaded, 1, False)
    result = screen(loaded, seed=args.seed, replicates=args.replicates)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(
        f"{result.scenario}: each ranged number at the low and the high end of its range, the "
        f"rest at their values;\nnoise: {len(result.run_seeds)} draw(s) (seeds "
        f"{', '.join(map(str, result.run_seeds))}, from --seed {result.seed}), {result.runs:,} "
        "runs; effect = largest |run - baseline| over every output and draw"
    )
    print(f"{'effect':>9}  {'end':4}  {'path':52}  {'range':>17}  output")
    for e in result.ranked():
        effect = "0 inert" if e.inert else f"{e.effect:9.3g}"
        what = e.output or (f"structural: {e.structural}" if e.structural else "")
        span = f"[{e.low:g}, {e.high:g}]"
        print(f"{effect:>9}  {e.end:4}  {e.path:52}  {span:>17}  {what}")
    for path, why in result.not_screened.items():
        print(f"not screened: {path}: {why}")
    inert, unexplained = len(result.inert), len(result.unexplained)
    print(
        f"{inert} of {len(result.effects)} ranged numbers inert (effect exactly 0 on every "
        f"output): {inert - unexplained} structural, {unexplained} not explained; "
        f"{len(result.negligible)} more below {ROUNDING:g} (rounding error); "
        f"{len(result.not_screened)} not screened; {result.wall_time:.1f} s"
    )
    return 0


# --- calibrate (issue 15) ----------------------------------------------------------------------


def _cmd_calibrate(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from sim.calibration.abc import Generation
    from sim.calibration.run import CalibrationInterrupted, calibrate
    from sim.calibration.spec import load_calibration
    from sim.input.bundled import calibrations_dir, resolve_sweep_spec
    from sim.input.errors import OutputError

    if bool(args.spec) == bool(args.resume):
        raise OutputError("give either a spec file or --resume DIR (not both)")
    plan = None
    if args.spec:
        plan = load_calibration(resolve_sweep_spec(args.spec, calibrations_dir()))
    out = Path(args.resume or args.out or Path("results") / "calibrations" / Path(args.spec).stem)
    started = time.perf_counter()

    def progress(g: Generation) -> None:
        if not args.quiet:
            tol = "prior sample" if g.index == 0 else f"tolerance {g.epsilon:.4g}"
            print(
                f"generation {g.index}: {tol}, {g.simulated:,} runs, acceptance "
                f"{g.acceptance:.3f}, effective sample size {g.ess:.0f}, median distance "
                f"{np.median(g.distances):.4g} ({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
            )

    if plan is not None and not args.quiet:
        s = plan.spec
        print(
            f"calibrating {plan.box.dim} parameters of {plan.loaded.scenario.meta.name} against "
            f"the {' and '.join(s.records)} record of {s.years[0]}-{s.years[1]}: up to "
            f"{s.generations} "
            f"generations of {s.particles} particles, seed {s.seed}",
            file=sys.stderr,
        )
    try:
        folder = calibrate(plan, out, resume=bool(args.resume), force=args.force, progress=progress)
    except CalibrationInterrupted as exc:
        _say_error(args, str(exc))
        return exc.exit_status
    if not args.quiet:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        print(f"stopped: {manifest['stop_reason']}")
        summary = pd.read_csv(folder / "summary.csv")
        print(f"{'parameter':48}  {'prior':>15}  {'mean':>9}  {'5%':>9}  {'95%':>9}  sd/prior")
        for row in summary.itertuples():
            prior = f"[{row.prior_low:.3g}, {row.prior_high:.3g}]"
            print(
                f"{row.parameter:48}  {prior:>15}  {row.mean:9.4g}  {row.p5:9.4g}  "
                f"{row.p95:9.4g}  {row.sd_over_prior_sd:8.2f}"
            )
        print(f"wrote {folder}/posterior.csv, summary.csv and prior_posterior.png")
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from sim.calibration.abc import Generation
    from sim.calibration.backtest import backtest
    from sim.calibration.spec import load_calibration
    from sim.input.bundled import calibrations_dir, resolve_sweep_spec

    plan = load_calibration(resolve_sweep_spec(args.spec, calibrations_dir()))
    out = Path(args.out or Path("results") / "backtests" / Path(args.spec).stem)
    started = time.perf_counter()

    def progress(g: Generation) -> None:
        if not args.quiet and not args.json:
            tol = "prior sample" if g.index == 0 else f"tolerance {g.epsilon:.4g}"
            print(
                f"calibration generation {g.index}: {tol}, {g.simulated:,} runs "
                f"({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
            )

    result = backtest(plan, out, draws=args.draws, force=args.force, progress=progress)
    if args.json:
        print(
            json.dumps(
                {
                    "fit_years": list(result.fit_years),
                    "forecast_years": list(result.forecast_years),
                    "draws": result.draws,
                    "scores": result.scores.to_dict(orient="records"),
                    "crps_skill_vs_persistence": result.skill("persistence"),
                    "votes": None
                    if result.votes is None
                    else result.votes.to_dict(orient="records"),
                    "remittances": None
                    if result.remittances is None
                    else result.remittances.to_dict(orient="records"),
                },
                indent=2,
            )
        )
        return 0
    if not args.quiet:
        first, last = result.fit_years
        ahead = ", ".join(map(str, result.forecast_years))
        print(
            f"calibrated on {first}-{last}, forecast {ahead} ({result.draws} posterior draws); "
            "agreement share less the states' mean, percentage points:"
        )
        print(f"{'method':16}  {'RMSE':>6}  {'MAE':>6}  {'CRPS':>6}  {'90% cover':>9}")
        for row in result.scores.itertuples():
            print(
                f"{row.method:16}  {row.rmse:6.2f}  {row.mae:6.2f}  {row.crps:6.2f}  "
                f"{row.coverage90:9.2f}"
            )
        print(f"CRPS skill against persistence: {result.skill('persistence'):+.3f}")
        if result.remittances is not None:
            print("remittances received, per cent of GDP:")
            print(f"{'method':16}  {'RMSE':>6}  {'MAE':>6}  {'CRPS':>6}  {'90% cover':>9}")
            for row in result.remittances.itertuples():
                print(
                    f"{row.method:16}  {row.rmse:6.2f}  {row.mae:6.2f}  {row.crps:6.2f}  "
                    f"{row.coverage90:9.2f}"
                )
        if result.votes is not None:
            n = int(result.votes["n"].iloc[0])
            print(f"single votes of the five states in {ahead} ({n:,} votes):")
            print(f"{'method':38}  {'log loss':>8}  {'Brier':>6}  {'accuracy':>8}")
            for row in result.votes.itertuples():
                print(
                    f"{row.method:38}  {row.log_loss:8.3f}  {row.brier:6.3f}  {row.accuracy:8.3f}"
                )
        more = "votes.csv, " if result.votes is not None else ""
        more += "remittances.csv, " if result.remittances is not None else ""
        print(
            f"wrote {out}/scores.csv, forecasts.csv, {more}backtest.png, manifest.json and "
            "calibration/"
        )
    return 0


def _add_calibrate_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="ABC-SMC calibration of a scenario's parameters against the pre-2022 record",
    )
    p.add_argument(
        "spec",
        nargs="?",
        help="calibration spec YAML file, or the name of a bundled spec such as history_2012",
    )
    p.add_argument("--out", "-o", help="calibration folder (default results/calibrations/<spec>)")
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted calibration in DIR")
    p.add_argument("--force", action="store_true", help="replace a non-empty calibration folder")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress, no summary")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser(
        "backtest",
        help="calibrate on the spec's years, forecast the record's later years, score the "
        "forecast against persistence, climatology and trend baselines",
    )
    p.add_argument("spec", help="calibration spec YAML file or bundled name (its years: the fit)")
    p.add_argument("--out", "-o", help="backtest folder (default results/backtests/<spec>)")
    p.add_argument(
        "--draws", type=_positive, default=200, help="posterior draws forecast (default 200)"
    )
    p.add_argument("--force", action="store_true", help="calibrate afresh in a backtest folder")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress, no table")
    p.set_defaults(func=_cmd_backtest)


def _add_sweep_commands(sub: argparse._SubParsersAction) -> None:
    from sim.sweep.executors import SCHEDULER_TIMEOUT

    p = sub.add_parser("sweep", help="run a parameter sweep (grid, lhs, sobol, morris)")
    p.add_argument(
        "spec",
        nargs="?",
        help="sweep spec YAML file, or the name of a bundled spec such as kazakhstan_sobol",
    )
    p.add_argument("--out", "-o", help="sweep folder (default results/sweeps/<spec name>)")
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted sweep in DIR")
    p.add_argument(
        "-j", "--jobs", type=_positive, help="worker processes (default: all CPUs; 1: serial)"
    )
    p.add_argument(
        "--dask-local", type=_positive, metavar="N", help="run on a Dask LocalCluster of N workers"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786",
    )
    p.add_argument(
        "--scheduler-timeout",
        type=_positive_seconds,
        default=SCHEDULER_TIMEOUT,
        metavar="SECONDS",
        help="give up joining --scheduler after SECONDS, exit 2 (default %(default)g)",
    )
    p.add_argument(
        "--engine",
        help="simulation engine: ensemble or mesa (default: ensemble, or that of a resumed sweep)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty sweep folder")
    p.add_argument("--allow-large", action="store_true", help=_ALLOW_LARGE_HELP)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("analyze", help="Sobol or Morris indices of a sweep: table and bar plot")
    p.add_argument("folder", metavar="SWEEP_DIR", help="a complete sobol or morris sweep folder")
    p.add_argument(
        "--metric",
        "-m",
        action="append",
        help="metric to plot (repeatable; default: the influence of each power)",
    )
    p.add_argument("--out", "-o", help="output folder (default SWEEP_DIR/analysis)")
    p.add_argument("--top", type=_positive, default=15, help="parameters to print (default 15)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser(
        "screen",
        help="each ranged number at both ends of its range, one at a time: its largest effect "
        "on any output, and the inert ones",
    )
    p.add_argument("scenario", help=f"scenario YAML file, {_BUNDLED_HELP}")
    p.add_argument(
        "--seed", type=_non_negative, default=0, help="root seed of the run seeds (default 0)"
    )
    p.add_argument(
        "-r",
        "--replicates",
        type=_positive,
        default=3,
        help="noise draws; a number is inert only where it moves nothing in any (default 3)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_screen)


# --- plot, compare and report (issue 7) --------------------------------------------------------


def _cmd_plot(args: argparse.Namespace) -> int:
    from sim.input.errors import OutputError
    from sim.viz.report import folder_kind, render, write_figure

    folder = Path(args.folder)
    what = folder_kind(folder)
    if args.out and Path(args.out).exists() and not args.force:  # before drawing anything
        raise OutputError(f"{args.out}: exists (use --force to replace it)")
    drawn = render(
        folder,
        args.kind,
        date=args.date,
        state=args.state,
        power=args.power,
        start=args.start,
        end=args.end,
        by=args.by,
        metric=args.metric,
        parameter=args.parameter,
        events=args.events,
    )
    out = Path(args.out) if args.out else folder / "plots" / f"{drawn.name}.png"
    write_figure(drawn.figure, out, force=args.force)
    if not args.quiet:
        print(f"wrote {out} ({args.kind} of {what} folder {folder})")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.viz.render import write_compare

    out, files, notes = write_compare(args.folders, args.out, args.variable, force=args.force)
    for note in notes:  # what the comparison leaves out or cannot pair: said even with -q
        _say_error(args, f"note: {note}")
    if not args.quiet:
        print(f"wrote {out}/ ({', '.join(files)})")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.viz.report import write_report

    out = write_report(
        args.folder, args.out, force=args.force, attribution=args.attribution, compare=args.compare
    )
    if not args.quiet:
        print(f"wrote {out}")
    return 0


DASHBOARD_EXTRA = "install the dashboard extra: pip install 'greatgame[dashboard]'"
"""What ``greatgame dashboard`` says when Solara (the ``dashboard`` extra) is not installed."""


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from importlib.util import find_spec

    missing = [name for name in ("solara", "altair") if find_spec(name) is None]
    if missing:
        _say_error(args, f"error: {DASHBOARD_EXTRA} (missing: {', '.join(missing)})")
        return EXIT_BAD_INPUT
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # nothing leaves the host
    from sim.viz.dashboard import serve

    return serve(args.source, args.port, open_browser=not args.no_browser)


def _port(text: str) -> int:
    value = _non_negative(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 1..65535, found {text!r}")
    return value


def _add_dashboard_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="watch a run month by month and turn its knobs in the browser (Mesa's SolaraViz)",
    )
    p.add_argument(
        "source",
        nargs="?",
        metavar="SCENARIO | RESULTS_DIR | SWEEP_DIR",
        help=f"scenario YAML file, {_BUNDLED_HELP}, a results folder or a sweep folder "
        "(default: baseline_2022)",
    )
    p.add_argument("--port", type=_port, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=_cmd_dashboard)


def _add_plot_commands(sub: argparse._SubParsersAction) -> None:
    from sim.viz.kinds import RESULT_KINDS, SWEEP_KINDS

    p = sub.add_parser("plot", help="draw a figure of a results or sweep folder")
    p.add_argument("folder", metavar="DIR", help="a results folder or a sweep folder")
    p.add_argument(
        "--kind",
        "-k",
        default="alignment",
        help=f"results: {', '.join(RESULT_KINDS)}; sweeps: {', '.join(SWEEP_KINDS)} "
        "(default alignment)",
    )
    p.add_argument("--out", "-o", help="image file, .png/.svg/.pdf (default DIR/plots/KIND.png)")
    p.add_argument("--date", metavar="YYYY-MM", help="heatmap month (default: the last)")
    p.add_argument("--state", help="attribution: state id")
    p.add_argument("--power", help="attribution: power id")
    p.add_argument("--from", dest="start", metavar="YYYY-MM", help="attribution: first month")
    p.add_argument("--to", dest="end", metavar="YYYY-MM", help="attribution: last month")
    p.add_argument(
        "--by", choices=("channel", "event"), default="channel", help="attribution by (channel)"
    )
    p.add_argument("--metric", "-m", help="sweeps: output metric")
    p.add_argument("--parameter", help="scatter: parameter path (default: the first)")
    p.add_argument(
        "--events",
        action="store_true",
        help="alignment: dotted lines at the months of the events that involve each state",
    )
    p.add_argument("--force", action="store_true", help="replace an existing image file")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser(
        "compare",
        help="differences of results folders from the first one (runs paired by seed when the "
        "scenarios have the same structure; notes on stderr say what differs)",
    )
    p.add_argument("folders", nargs="+", metavar="RESULTS_DIR", help="baseline first")
    p.add_argument("--out", "-o", help="output folder (default results/compare_<names>)")
    p.add_argument(
        "--variable",
        "-v",
        action="append",
        help="variable to compare (repeatable; default alignment, influence, hedging)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("report", help="one self-contained HTML report of a results folder")
    p.add_argument("folder", metavar="RESULTS_DIR")
    p.add_argument("--out", "-o", help="HTML file (default RESULTS_DIR/report.html)")
    p.add_argument(
        "--attribution",
        action="store_true",
        help="add why the largest mover moved, by channel and by event (reruns per event)",
    )
    p.add_argument(
        "--compare",
        action="append",
        metavar="DIR",
        help="add a counterfactual section for this results folder (repeatable)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(func=_cmd_report)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greatgame",
        description="Agent-based simulation of great-power influence in Central Asia.",
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"print error lines in full (by default each is cut at {MAX_LINE} characters)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario and write a results folder")
    p.add_argument("scenario", help=f"scenario YAML file, {_BUNDLED_HELP}")
    p.add_argument("--seed", type=_non_negative, default=0, help="root seed (default 0)")
    p.add_argument(
        "--replicates", "-r", type=_positive, default=1, help="number of runs (default 1)"
    )
    p.add_argument("--out", "-o", help="results folder (default results/<scenario name>)")
    p.add_argument("--force", action="store_true", help="replace a non-empty results folder")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.add_argument("--evidence", metavar="DIR", help=_EVIDENCE_HELP)
    p.add_argument("--allow-large", action="store_true", help=_ALLOW_LARGE_HELP)
    p.add_argument(
        "--posterior",
        metavar="CALIBRATION_DIR",
        help="each replicate draws the calibrated numbers from this calibration's posterior "
        "(by weight, seeded by --seed), so the runs carry parameter as well as run-to-run "
        "uncertainty",
    )
    p.add_argument(
        "--initial-from",
        metavar="RESULTS_DIR",
        help="start each replicate from the state a run of this results folder reached (its "
        "alignment, trust, threat, credibility and attention) at the end of the month before "
        "the scenario's start, e.g. a run of history_2012 for baseline_2022",
    )
    p.add_argument(
        "--initial-month",
        metavar="YYYY-MM",
        help="with --initial-from: carry the state at the end of this month instead",
    )
    _engine_argument(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("check", help="validate scenario files without running them")
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"scenario YAML file, {_BUNDLED_HELP} (default: every bundled scenario)",
    )
    p.add_argument("--evidence", metavar="DIR", help=_EVIDENCE_HELP)
    p.add_argument("--strict", action="store_true", help="fail on numbers without provenance")
    p.add_argument("--all", action="store_true", help="list every number without provenance")
    p.add_argument("--allow-large", action="store_true", help=_ALLOW_LARGE_HELP)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("observe", help="UN vote, patron, hedging, alignment at a month")
    p.add_argument("results", metavar="RESULTS_DIR")
    p.add_argument("--date", required=True, metavar="YYYY-MM", help="month (state at its end)")
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.set_defaults(func=_cmd_observe)

    p = sub.add_parser(
        "votes",
        help="probabilities of each state's UN vote (yes, abstain, no, absent) on described "
        "resolutions, by the fitted vote model",
    )
    p.add_argument("results", metavar="RESULTS_DIR")
    p.add_argument(
        "--resolutions",
        required=True,
        metavar="FILE",
        help="resolutions YAML file (id, date, title, issues, condemns, measure), or the name "
        "of a bundled one such as resolutions_2022",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_votes)

    p = sub.add_parser("validate", help="measure the stylized facts of the seeds on runs")
    p.add_argument(
        "scenario",
        nargs="?",
        default="baseline_2022",
        help=f"scenario YAML file, {_BUNDLED_HELP} (default: baseline_2022)",
    )
    p.add_argument(
        "--replicates",
        "-r",
        type=_positive,
        help=f"runs per variant (default {VALIDATE_REPLICATES}; with --prior, per point and "
        f"variant, default {PRIOR_REPLICATES})",
    )
    p.add_argument(
        "--seed",
        type=_non_negative,
        default=0,
        help="root seed of the runs and the design (default 0)",
    )
    p.add_argument(
        "--prior",
        type=_positive,
        metavar="N",
        help="instead, each fact's pass rate over an N-point Latin hypercube of every "
        "assumption range of the scenario (its whole assumption box)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _engine_argument(p)
    p.add_argument("--evidence", metavar="DIR", help=_EVIDENCE_HELP)
    p.add_argument("--allow-large", action="store_true", help=_ALLOW_LARGE_HELP)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("events", help="list the event types and what their magnitude means")
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.set_defaults(func=_cmd_events)

    p = sub.add_parser("new", help="write a commented scenario that extends a bundled one")
    p.add_argument("name", help="the scenario's name (meta.name; the file is NAME.yaml)")
    p.add_argument(
        "--extends", default="baseline_2022", help="scenario to extend (default baseline_2022)"
    )
    p.add_argument("--out", "-o", help="file to write (default NAME.yaml)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(func=_cmd_new)

    p = sub.add_parser("scenarios", help="list the bundled scenarios (run them by name)")
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema (draft 2020-12) of scenario files, complete or extends:",
    )
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("evidence", help="list the facts of the evidence base (seeds/)")
    p.add_argument(
        "--search", "-s", metavar="WORD", help="only facts whose id, claim or actors contain WORD"
    )
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    p.add_argument("--dir", help="folder with sources.yaml and evidence.yaml (default seeds/)")
    p.set_defaults(func=_cmd_evidence)

    _add_sweep_commands(sub)
    _add_calibrate_command(sub)
    _add_plot_commands(sub)
    _add_dashboard_command(sub)
    for name, command in sub.choices.items():
        command.epilog = "example:\n  " + EXAMPLES[name]
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


EXAMPLES = {
    "run": "greatgame run baseline_2022 --seed 7 --replicates 30 --out results/b30",
    "check": "greatgame check scenarios/no_war.yaml --strict",
    "observe": "greatgame observe results/b30 --date 2022-03 --json",
    "votes": "greatgame votes results/b30 --resolutions resolutions_2022 --json",
    "validate": "greatgame validate baseline_2022 --prior 200 --replicates 10 --seed 1",
    "scenarios": "greatgame scenarios --json",
    "events": "greatgame events --json",
    "new": "greatgame new kz_neutral --extends baseline_2022",
    "schema": "greatgame schema > scenario.schema.json",
    "evidence": "greatgame evidence --search drones",
    "sweep": "greatgame sweep kazakhstan_sobol --out results/sweeps/kz -j 2",
    "calibrate": "greatgame calibrate history_2012 --out results/calibrations/h12",
    "backtest": "greatgame backtest history_2012 --out results/backtests/h12 --draws 200",
    "analyze": "greatgame analyze results/sweeps/kz -m alignment_change.kazakhstan.russia",
    "screen": "greatgame screen baseline_2022 --seed 1 --json",
    "plot": "greatgame plot results/b30 --kind heatmap --date 2022-12",
    "compare": "greatgame compare results/b30 results/no_war --out results/cmp",
    "report": "greatgame report results/b30 --out results/b30.html",
    "dashboard": "greatgame dashboard results/b30 --port 8765",
}
"""One example per command, shown at the end of its ``--help``."""


def _version() -> str:
    """``greatgame X.Y.Z`` from the installed package's metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"greatgame {version('greatgame')}"
    except PackageNotFoundError:
        return "greatgame (not installed: run from a checkout without its package metadata)"


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {text!r}") from None
    if not 0 < value < 1e6:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 1e6), found {text!r}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {text!r}")
    return value


MAX_LINE = 300
"""Longest error line printed without ``--verbose``: a runaway value, path or id is cut."""


def clip_lines(text: str, limit: int = MAX_LINE) -> str:
    """``text`` with every line longer than ``limit`` cut in the middle, saying how much.

    The start (file, line and field path) and the end are kept, and a command to run next (the
    resume command) is kept whole however long; a runaway value, path or id in between is left
    out.

    Args:
        text: One or more lines.
        limit: The longest line kept whole.

    Returns:
        The lines, each at most ``limit`` characters plus any command they end with.
    """
    out = []
    for line in text.splitlines():
        if len(line) > limit:
            head, tail = (limit - 70) * 2 // 3, (limit - 70) // 3
            command = line.rfind("greatgame ")  # a command to run next is kept whole
            if command > head:
                tail = max(tail, len(line) - command)
            cut = len(line) - head - tail
            if cut > 0:
                mark = f" [... {cut:,} characters; greatgame --verbose ...] "
                line = line[:head] + mark + line[len(line) - tail :]
        out.append(line)
    return "\n".join(out)


def _say_error(args: argparse.Namespace, text: str) -> None:
    """Print an error to standard error, each line clipped unless ``--verbose``."""
    print(text if getattr(args, "verbose", False) else clip_lines(text), file=sys.stderr)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals handled as Ctrl-C is (``timeout``, Slurm and ``docker stop`` send SIGTERM)."""


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(f"stopped by {signal.Signals(signum).name}", signum)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Interrupted` as Ctrl-C raises its own.

    The previous handlers come back on exit (``main`` is also called in-process, by tests).
    Outside the main thread signals cannot be handled, and nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {signum: signal.signal(signum, _raise_interrupted) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 on bad input, 1 on an unexpected failure, 128 plus the
        signal number when a signal stopped it (130 for Ctrl-C, 143 for SIGTERM).
    """
    args = _parser().parse_args(argv)
    from sim.input.errors import OutputError

    try:
        with _signals_interrupt():
            return args.func(args)
    except (ScenarioError, OutputError) as exc:
        if args.debug:
            traceback.print_exc()
        _say_error(args, f"error: {exc}" if isinstance(exc, OutputError) else str(exc))
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt as exc:
        stopped = exc if isinstance(exc, Interrupted) else Interrupted()
        by = "" if stopped.signum == signal.SIGINT else f" by {stopped.signal_name}"
        print(f"interrupted{by}; no results folder was written or changed", file=sys.stderr)
        return stopped.exit_status
    except Exception as exc:  # a bug, not bad input: say so, keep the details for --debug
        if args.debug:
            traceback.print_exc()
        _say_error(args, f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
