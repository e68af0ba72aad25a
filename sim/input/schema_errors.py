"""Pydantic validation errors reworded as the project's messages (one copy for every file type).

Every loader (scenarios, evidence, sweep specs) turns pydantic's errors into
``(field path, message)`` pairs here: unknown keys get a did-you-mean from the fields of the model
that owns them, choices (enums, literals) a did-you-mean from the allowed values, and every other
message reads "expected ..., found ...".
"""

from __future__ import annotations

import json
import re
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ValidationError

from sim.input.errors import did_you_mean

__all__ = ["describe", "expected", "messages", "model_at"]

_REWORDS = (
    ("Value error, ", ""),  # our own validators' messages, after pydantic's prefix
    ("Input should be ", "expected "),
)
"""Fallback rewording of pydantic's text, for error types that :data:`_BY_TYPE` does not word."""


def _bound(word: str, key: str) -> Any:
    def word_it(ctx: dict[str, Any]) -> str:
        value = ctx.get(key)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f"expected {word} {shown}"

    return word_it


_BY_TYPE: dict[str, Any] = {
    # pydantic's error *types* are its stable interface; its English messages are not, so the
    # common ones are worded here and only the rest fall back to rewording pydantic's text
    "int_type": lambda ctx: "expected a valid integer",
    "int_parsing": lambda ctx: "expected a valid integer",
    "int_from_float": lambda ctx: "expected a valid integer",
    "float_type": lambda ctx: "expected a valid number",
    "float_parsing": lambda ctx: "expected a valid number",
    "finite_number": lambda ctx: "expected a finite number",
    "string_type": lambda ctx: "expected a valid string",
    "bool_type": lambda ctx: "expected a valid boolean",
    "bool_parsing": lambda ctx: "expected a valid boolean",
    "list_type": lambda ctx: "expected a valid list",
    "dict_type": lambda ctx: "expected a valid mapping",
    "model_type": lambda ctx: "expected a mapping",
    "model_attributes_type": lambda ctx: "expected a mapping",
    "greater_than": _bound("greater than", "gt"),
    "greater_than_equal": _bound("greater than or equal to", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("less than or equal to", "le"),
    "string_pattern_mismatch": lambda ctx: (
        f"expected text matching the pattern '{ctx.get('pattern')}'"
    ),
    "string_too_short": lambda ctx: (
        f"expected text with at least {ctx.get('min_length')} character(s)"
    ),
    "string_too_long": lambda ctx: (
        f"expected text with at most {ctx.get('max_length')} character(s)"
    ),
    "too_short": lambda ctx: (
        f"expected {_container(ctx)} with at least {ctx.get('min_length')} item(s)"
    ),
    "too_long": lambda ctx: (
        f"expected {_container(ctx)} with at most {ctx.get('max_length')} item(s)"
    ),
    # choices: pydantic's context lists the allowed values ('a', 'b' or 'c')
    "literal_error": lambda ctx: f"expected {ctx.get('expected')}",
    "enum": lambda ctx: f"expected {ctx.get('expected')}",
}


def _container(ctx: dict[str, Any]) -> str:
    """'a mapping' for a dictionary's length error, 'a list' for a list's or a tuple's."""
    return "a mapping" if ctx.get("field_type") == "Dictionary" else "a list"


def _worded(err: Any) -> str:
    """Our wording of one pydantic error, from its type where we know it."""
    make = _BY_TYPE.get(err["type"])
    if make is not None:
        return str(make(err.get("ctx") or {}))
    return expected(err["msg"])


def describe(value: Any) -> str:
    """A short rendering of a value found in a file (at most 60 characters)."""
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expected(msg: str) -> str:
    """Reword a pydantic message as 'expected ...'."""
    for prefix, replacement in _REWORDS:
        if msg.startswith(prefix):
            msg = replacement + msg.removeprefix(prefix)
            break
    return msg if msg.startswith("expected") else "expected: " + msg


def _inner(ann: Any) -> tuple[Any, int]:
    """Strip Optional, Annotated, list[...] and dict[..., ...] down to the item type.

    Returns:
        The item type and how many mapping keys stand between the field and the item in a path.
    """
    keys = 0
    while True:
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        origin = typing.get_origin(ann)
        if not args or origin is Literal:
            return ann, keys
        keys += origin is dict
        ann = args[0] if origin is Annotated else args[-1]


def model_at(
    root: type[BaseModel], loc: tuple[str | int, ...], number_model: type[BaseModel] | None = None
) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (for did-you-mean on unknown keys).

    Args:
        root: The model of the whole file.
        loc: Field path; list indices and mapping keys are stepped over.
        number_model: Model to report when the path ends inside a number written as a mapping
            (a number with provenance).

    Returns:
        The owning model, or None when ``loc`` does not lead to one.
    """
    cls: Any = root
    skip = 0  # mapping keys (ids) to step over
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if skip:
            skip -= 1
            continue
        if cls is float and number_model is not None:  # inside a number with provenance
            cls = number_model
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None
        field = cls.model_fields.get(str(part))
        if field is None:
            return None
        cls, skip = _inner(field.annotation)
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return cls
    return number_model if cls is float else None


def _clean(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's internal location parts (validator functions, number kinds)."""
    return tuple(
        p
        for p in loc
        if not (
            isinstance(p, str)
            and (p.startswith("function-") or p in ("float", "constrained-float"))
        )
    )


def messages(
    exc: ValidationError, root: type[BaseModel], number_model: type[BaseModel] | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every error of ``exc`` as ``(field path, message)``.

    Args:
        exc: The validation error.
        root: The model of the whole file (to find the fields an unknown key could have been).
        number_model: See :func:`model_at`.

    Returns:
        One pair per error, in pydantic's order.
    """
    out = []
    for err in exc.errors(include_url=False):
        loc = _clean(tuple(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            model = model_at(root, loc, number_model)
            valid = list(model.model_fields) if model else []
            key = str(loc[-1]) if loc else ""
            known = f"; expected one of: {', '.join(valid)}" if valid else ""
            message = f"unknown key '{key if len(key) <= 60 else key[:57] + '...'}'"
            message += did_you_mean(key, valid, known)
        elif kind in ("enum", "literal_error"):
            options = re.findall(r"'([^']+)'", err.get("ctx", {}).get("expected", ""))
            message = _worded(err) + f", found {describe(err.get('input'))}"
            message += did_you_mean(str(err.get("input")), options)
        elif kind == "missing":
            message = "required field is missing"
        else:
            message = _worded(err)
            if "input" in err and kind != "value_error":
                message += f", found {describe(err['input'])}"
        out.append((loc, message))
    return out
