"""The model parameters as the schema declares them, and the ODD's table derived from them.

A model parameter is declared once: as a field of :class:`~sim.input.scenario.ModelParams`, or of
one of its groups (:class:`~sim.input.scenario.Weights`,
:class:`~sim.input.scenario.ChannelWeights`). The field's type gives its bounds and its
:class:`~sim.input.scenario.Symbol`, the field itself its default and description. Everything
else follows from that declaration:

- :func:`model_parameters` lists the parameters flat, by YAML path (``model.noise``,
  ``model.weights.threat``), in declaration order;
- :func:`sim.model.compile.model_arrays` turns a scenario's values into the arrays of
  :class:`sim.model.dynamics.Params`, by name;
- a sweep spec may vary any parameter by its path, within the schema's bounds
  (:mod:`sim.sweep.spec` checks each range by validating its ends);
- :func:`params_table` renders the parameter table of ``docs/ODD.md`` (Section 7.14), with the
  baseline scenario's values and assumption ranges; ``python -m sim.input.modelparams --write``
  rewrites that table in place, ``--check`` says whether it is up to date, and
  ``tests/test_docs.py`` fails when it is not.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.input.bundled import resolve_scenario
from sim.input.params import collect_numbers
from sim.input.scenario import LoadedScenario, ModelParams, Symbol, load_scenario

__all__ = [
    "REGENERATE",
    "TABLE_BEGIN",
    "TABLE_END",
    "ModelParameter",
    "generated_table",
    "main",
    "model_parameters",
    "params_table",
    "replace_table",
]

TABLE_BEGIN = (
    "<!-- BEGIN model-parameter table: generated from ModelParams by "
    "`python -m sim.input.modelparams --write`; edit the schema, not this table -->"
)
"""The line before the generated table in ``docs/ODD.md``."""
TABLE_END = "<!-- END model-parameter table -->"
"""The line after it."""
REGENERATE = "regenerate it with `.venv/bin/python -m sim.input.modelparams --write`"
"""How to bring the ODD's table in step with the schema, for messages."""

_HEADER = (
    "YAML key",
    "symbol",
    "meaning",
    "default",
    "valid range",
    "baseline",
    "baseline range",
    "assumption",
)
_ODD = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
"""``docs/ODD.md`` of the checkout."""


@dataclass(frozen=True)
class ModelParameter:
    """One number of the ``model:`` section, as the schema declares it.

    Attributes:
        path: YAML path, ``model.<name>`` or ``model.<group>.<name>``; also its sweep path.
        group: The field of ``ModelParams`` holding the group (``weights``...), or None.
        name: The field's name (in its group).
        default: The value used when a scenario does not set it.
        low: The lowest valid value (``-inf`` when unbounded).
        high: The highest valid value (``inf`` when unbounded).
        symbol: Its math symbol in TeX (:class:`~sim.input.scenario.Symbol`), or None.
        description: The field's description.
        meaning: What it means in the ODD's terms (``Symbol.odd``), else the description.
    """

    path: str
    group: str | None
    name: str
    default: float
    low: float
    high: float
    symbol: str | None
    description: str
    meaning: str = ""

    def value_of(self, model: BaseModel) -> float:
        """The parameter's value in a ``model:`` section.

        Args:
            model: A ``ModelParams`` (or a model declared like it).

        Returns:
            The number.
        """
        owner = getattr(model, self.group) if self.group is not None else model
        return float(getattr(owner, self.name))


def _leaf(path: str, group: str | None, name: str, field: FieldInfo) -> ModelParameter:
    """The parameter declared by a number field."""
    if field.annotation is not float:
        raise TypeError(
            f"{path}: expected a model parameter to be a number (float) or a group of numbers, "
            f"found {field.annotation}"
        )
    if not isinstance(field.default, (int, float)):
        raise TypeError(f"{path}: expected a model parameter to have a default number")
    low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), -math.inf)
    high = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), math.inf)
    declared = next((m for m in field.metadata if isinstance(m, Symbol)), None)
    return ModelParameter(
        path=path,
        group=group,
        name=name,
        default=float(field.default),
        low=float(low),
        high=float(high),
        symbol=declared.tex if declared else None,
        description=field.description or "",
        meaning=(declared.odd if declared else "") or field.description or "",
    )


@functools.cache
def model_parameters(model: type[BaseModel] = ModelParams) -> tuple[ModelParameter, ...]:
    """Every model parameter, flat, in declaration order.

    Worked out once per declaration (cached): :func:`sim.model.compile.to_params` asks for it on
    every run.

    Args:
        model: The declaration, ``ModelParams`` by default (a test may pass a model extended
            with a field).

    Returns:
        One entry per number: a number field of ``model``, or a number field of a group (a
        field of ``model`` that is itself a model, such as ``weights``).

    Raises:
        TypeError: When a field is neither a number nor a group of numbers, or has no default.
    """
    out = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            for sub, sub_field in kind.model_fields.items():
                out.append(_leaf(f"model.{name}.{sub}", name, sub, sub_field))
        else:
            out.append(_leaf(f"model.{name}", None, name, field))
    return tuple(out)


# --- the ODD's table ---------------------------------------------------------------------------


def _number(x: float) -> str:
    """A number as the table writes it: ``0.15``, ``-1``, ``1e-6``, ``∞``."""
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    text = f"{x:g}"
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


def _interval(low: float, high: float) -> str:
    """``[low, high]``, with an open end at infinity: ``[0, ∞)``."""
    left = "(" if math.isinf(low) else "["
    right = ")" if math.isinf(high) else "]"
    return f"{left}{_number(low)}, {_number(high)}{right}"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def params_table(
    baseline: LoadedScenario, parameters: Sequence[ModelParameter] | None = None
) -> str:
    """The ODD's model-parameter table (markdown), one row per parameter.

    The first five columns come from the declaration: path, symbol, meaning (the symbol's
    ``odd`` text in the terms of the equations, else the description), default, bounds. The
    last three from the baseline scenario: its value, its assumption range (``none`` when it
    gives none), and whether the number is an assumption (``no`` only when it cites evidence
    and carries no assumption range).

    Args:
        baseline: The baseline scenario.
        parameters: The parameters, :func:`model_parameters` by default.

    Returns:
        The table, lines joined by newlines, without a final newline.

    Raises:
        ValueError: When a parameter lacks a symbol or a description.
    """
    params = model_parameters() if parameters is None else list(parameters)
    missing = [p.path for p in params if not p.symbol or not p.description.strip()]
    if missing:
        raise ValueError(
            "expected every model parameter to declare a description and a "
            f'Symbol (Annotated[<type>, Symbol(r"...")]), missing for: {", ".join(missing)}'
        )
    given = {n.path: n for n in collect_numbers(baseline.raw)}
    lines = [
        "| " + " | ".join(_HEADER) + " |",
        "| " + " | ".join("---" for _ in _HEADER) + " |",
    ]
    for p in params:
        number = given.get(p.path)
        assumed = number is None or number.range is not None or not number.evidence
        cells = (
            f"`{p.path}`",
            f"${p.symbol}$",
            _cell(p.meaning or p.description),
            _number(p.default),
            _interval(p.low, p.high),
            _number(p.value_of(baseline.scenario.model)),
            _interval(*number.range) if number is not None and number.range else "none",
            "yes" if assumed else "no",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markers(text: str) -> tuple[int, int]:
    """Where the generated table starts and ends in ``text`` (after and before the markers)."""
    begin, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if begin < 0 or end < begin or text.count(TABLE_BEGIN) != 1 or text.count(TABLE_END) != 1:
        raise ValueError(
            f"expected the markers {TABLE_BEGIN!r} and {TABLE_END!r} once each, in this order"
        )
    return begin + len(TABLE_BEGIN), end


def generated_table(text: str) -> str:
    """The table between the markers of a document, without the blank lines around it.

    Args:
        text: The document (``docs/ODD.md``).

    Returns:
        The table as written.

    Raises:
        ValueError: When the markers are missing, repeated or out of order.
    """
    begin, end = _markers(text)
    return text[begin:end].strip("\n")


def replace_table(text: str, table: str) -> str:
    """The document with the table between its markers replaced.

    Args:
        text: The document.
        table: The new table (:func:`params_table`).

    Returns:
        The new document.

    Raises:
        ValueError: When the markers are missing, repeated or out of order.
    """
    begin, end = _markers(text)
    return f"{text[:begin]}\n\n{table}\n\n{text[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print, check or rewrite the ODD's model-parameter table.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status: 0; 1 when ``--check`` finds the table out of date; 2 when the document
        lacks the markers.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sim.input.modelparams",
        description="Render docs/ODD.md's model-parameter table from the schema (ModelParams).",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the table in the document")
    action.add_argument(
        "--check", action="store_true", help="exit 1 when the document's table is out of date"
    )
    parser.add_argument("--odd", type=Path, default=_ODD, help="the document (docs/ODD.md)")
    parser.add_argument(
        "--baseline", default="baseline_2022", help="the baseline scenario, a file or a name"
    )
    args = parser.parse_args(argv)
    table = params_table(load_scenario(resolve_scenario(args.baseline)))
    if not (args.write or args.check):
        print(table)
        return 0
    text = args.odd.read_text(encoding="utf-8")
    try:
        if args.check:
            if generated_table(text) == table:
                return 0
            print(
                f"{args.odd}: the model-parameter table is out of date; {REGENERATE}",
                file=sys.stderr,
            )
            return 1
        new = replace_table(text, table)
    except ValueError as exc:
        print(f"{args.odd}: {exc}", file=sys.stderr)
        return 2
    if new != text:
        args.odd.write_text(new, encoding="utf-8")
        print(f"{args.odd}: model-parameter table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
