"""Fit the vote model of ``greatgame votes`` and write ``seeds/data/vote_model.json``.

The model, its features and the proxy of alignment measured from the votes are in
:mod:`sim.results.votes`; this script runs :func:`sim.results.votes.fit_vote_model` on the
bundled UN vote tables (``seeds/data/un_roll_calls.csv``, ``un_votes.csv``: roll calls from 1992
to January 2020, nothing on or after 2 March 2022) and writes the coefficients with the fit's
record: the data's checksums, sizes and dates, the ridge chosen on the validation split, the
log-likelihood, and the held-out scores (train before 2015, test 2015 to January 2020) of the
model and of three baselines (majority class, each state's majority class, persistence).

It is deterministic: two runs write byte-identical files (Newton's method from zero, no
randomness, no time stamps; numbers rounded to 6 decimals). ``tests/test_votes.py`` refits and
checks the stored coefficients.

Usage::

    python bench/fit_vote_model.py            # writes seeds/data/vote_model.json
    python bench/fit_vote_model.py --check    # exit 1 if the stored file differs from a refit
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.input.unvotes import un_votes_dir
from sim.results.votes import MODEL_FILE, fit_vote_model


def render(data: dict) -> str:
    """The JSON text written (sorted as built, two-space indent, final newline)."""
    return json.dumps(data, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Fit, print the held-out table, and write (or check) the model file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=un_votes_dir() / MODEL_FILE, help="file to write"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with --out instead of writing it"
    )
    args = parser.parse_args(argv)
    model = fit_vote_model()
    text = render(model.to_json())
    held = model.meta["held_out"]
    print(
        f"held out: train {held['train'][0]}..{held['train'][1]} (n {held['n_train']}), "
        f"test {held['test'][0]}..{held['test'][1]} (n {held['n_test']}); "
        f"ridge {model.meta['ridge']}"
    )
    print(f"{'':16} {'log-loss':>9} {'accuracy':>9}")
    for name, score in held["scores"].items():
        print(f"{name:16} {score['log_loss']:9.4f} {score['accuracy']:9.4f}")
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'matches the refit' if same else 'DIFFERS from the refit'}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
