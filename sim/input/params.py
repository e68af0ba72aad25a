"""Parameters by path: where each scenario number comes from, and changing it.

A path names a number in a scenario with ids instead of list positions, e.g.
``powers.russia.strategy.threat_intensity``, ``states.kazakhstan.alignment.russia``,
``events.war_start.magnitude`` or ``model.weights.threat``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sim.input.errors import Problem, ScenarioError, did_you_mean
from sim.input.scenario import LoadedScenario, Scenario, validate_document

__all__ = ["Provenance", "collect_numbers", "resolve", "strip_provenance", "with_values"]

_ID_LISTS = ("powers", "states", "events")


@dataclass(frozen=True)
class Provenance:
    """A scenario number and where it comes from.

    Attributes:
        path: Dotted path with ids.
        value: The number.
        evidence: Cited evidence ids (may be empty).
        range: Plausible range when the number is an assumption.
        note: Why the assumption is plausible.
    """

    path: str
    value: float
    evidence: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    note: str = ""

    @property
    def sourced(self) -> bool:
        """True when the number cites evidence or is a labelled assumption."""
        return bool(self.evidence) or self.range is not None


def _walk(node: Any, path: tuple[str, ...], out: list[Provenance]) -> None:
    if isinstance(node, dict):
        if "value" in node and set(node) <= {"value", "evidence", "assumption"}:
            # the schema validated this wrapper when the document was loaded (Sourced): read it
            assumption = node.get("assumption") or {}
            low_high = assumption.get("range")
            rng = (float(low_high[0]), float(low_high[1])) if low_high else None
            evidence = tuple(str(e) for e in node.get("evidence") or ())
            note = str(assumption.get("note", ""))
            out.append(Provenance(".".join(path), float(node["value"]), evidence, rng, note))
            return
        for key, value in node.items():
            if key in ("extends", "meta"):
                continue
            if key in _ID_LISTS and not path and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and "id" in item:
                        _walk(item, (key, str(item["id"])), out)
                continue
            _walk(value, (*path, str(key)), out)
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        out.append(Provenance(".".join(path), float(node)))


def collect_numbers(raw: dict[str, Any]) -> list[Provenance]:
    """Every number in a (merged) scenario document with its provenance, in file order.

    The document must be one the schema validated (``LoadedScenario.raw``, or a results
    folder's ``scenario.yaml`` as its reader returns it): provenance wrappers are read as they
    are, not validated a second time.

    Args:
        raw: The merged document (``LoadedScenario.raw``).

    Returns:
        One entry per number (meta and ids excluded).
    """
    out: list[Provenance] = []
    _walk(raw, (), out)
    return out


def resolve(
    raw: dict[str, Any], path: str, create: bool = False, copy_path: bool = False
) -> tuple[Any, str | int]:
    """Find the container and key that hold the number at ``path``.

    Args:
        raw: A scenario document.
        path: Dotted path with ids.
        create: Create missing mappings and keys (for parameters left at their defaults); the
            result is validated afterwards, which reports unknown keys.
        copy_path: Replace every container below ``raw`` on the path by a shallow copy before
            descending, so that changing the returned container leaves any document sharing
            the old containers untouched (copy on write; ``raw`` itself is not copied).

    Returns:
        ``(container, key)`` such that ``container[key]`` is the number (bare or sourced).

    Raises:
        KeyError: With a did-you-mean message when a part of the path does not exist.
    """
    parts = path.split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if i == 1 and parts[0] in _ID_LISTS and isinstance(node, list):
            ids = [str(item.get("id")) for item in node if isinstance(item, dict)]
            if part not in ids:
                tail = did_you_mean(part, ids, f"; known: {', '.join(ids)}")
                raise KeyError(f"{path}: no {parts[0][:-1]} '{part}'{tail}")
            node = _descend(node, ids.index(part), copy_path)
            continue
        if create and isinstance(node, dict) and part not in node and parts[0] not in _ID_LISTS:
            if last:
                return node, part
            node[part] = {}
        if not isinstance(node, dict) or part not in node:
            keys = list(node) if isinstance(node, dict) else []
            tail = did_you_mean(part, keys)
            raise KeyError(f"{path}: no '{part}' at {'.'.join(parts[:i]) or 'top level'}{tail}")
        if last:
            return node, part
        node = _descend(node, part, copy_path)
    raise KeyError(f"{path}: empty path")


def _descend(node: Any, key: str | int, copy_path: bool) -> Any:
    child = node[key]
    if copy_path and isinstance(child, (dict, list)):
        child = type(child)(child)
        node[key] = child
    return child


def with_values(loaded: LoadedScenario, values: dict[str, float]) -> Scenario:
    """A copy of a scenario with some numbers replaced, validated again.

    Args:
        loaded: The base scenario.
        values: Path to new value.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: If a path does not exist or a value is invalid there.
    """
    raw = dict(loaded.raw)  # copy on write: only the containers on each path are copied
    problems = []
    for path, value in values.items():
        try:
            container, key = resolve(raw, path, create=True, copy_path=True)
        except KeyError as exc:
            problems.append(Problem(str(loaded.path), (path,), exc.args[0].split(": ", 1)[1]))
            continue
        old = container.get(key)
        container[key] = {**old, "value": float(value)} if isinstance(old, dict) else float(value)
    if problems:
        raise ScenarioError(problems)
    return validate_document(raw, loaded.path)


def strip_provenance(raw: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of a scenario document whose numbers at ``paths`` are bare values.

    A swept number may then take values outside its assumption range.

    Args:
        raw: The scenario document.
        paths: Paths of the swept numbers.

    Returns:
        The modified copy.
    """
    raw = copy.deepcopy(raw)
    for path in paths:
        container, key = resolve(raw, path, create=True)
        old = container.get(key)
        if isinstance(old, dict) and "value" in old:
            container[key] = old["value"]
    return raw
