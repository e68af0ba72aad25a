"""Safe YAML reading that remembers the line of every node, and deep merging."""

from __future__ import annotations

import gc
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from sim.input.errors import Problem, ScenarioError, did_you_mean

KNOWN_SHOWN = 8
"""Most ids a message about an unknown id lists (the rest are counted)."""

__all__ = ["YamlSource", "deep_merge", "read_yaml"]

_LOADER: type[yaml.CSafeLoader | yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The safe loader (the C one when libyaml is available): no Python object tags."""

MAX_BYTES = 5_000_000
"""Largest input file accepted; scenarios are a few kilobytes."""

MAX_NODES = 100_000
"""Most YAML nodes accepted, aliases counted expanded (the baseline has about 5,000): a limit
that keeps an alias bomb ("billion laughs") from exploding in validation, hashing or writing."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (scenarios need about 6)."""


_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)
"""Explicit tags of plain YAML data; any other tag (``!!python/...``, ``!custom``) is refused."""


class _EventStream(Protocol):
    """What :func:`_check_shape` reads: the event stream of a YAML parser (C or Python)."""

    def check_event(self) -> bool:
        """Whether another event follows."""
        ...

    def get_event(self) -> yaml.Event | None:
        """The next event, consumed."""
        ...


def _check_shape(loader: _EventStream, fail: Callable[[str, int | None], ScenarioError]) -> None:
    """Read the event stream once and refuse documents too deep, too big or self-referential.

    The parser is iterative, so this is safe on any input; composing (which recurses) and
    validating (which expands aliases) come only after it. Nodes are counted as the document
    would be after expanding every alias, without expanding anything.

    Args:
        loader: A fresh loader over the text (consumed).
        fail: Makes the ScenarioError to raise from a message and a line.

    Raises:
        ScenarioError: For nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_NODES`
            expanded nodes, an alias to a node that contains it, or a tag other than plain
            data's (``!!python/object``, say).
        yaml.YAMLError: For malformed YAML.
    """
    sizes: dict[str, int] = {}  # expanded size of each closed anchored node
    stack: list[list[Any]] = []  # open collections: [nodes so far, anchor]
    total, aliases = 0, 0
    while loader.check_event():
        event = loader.get_event()
        if event is None:  # not after check_event(); for the type checker
            break
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and tag not in _PLAIN_TAGS:
            shown = tag if len(tag) <= 60 else tag[:57] + "..."
            raise fail(f"unsupported YAML tag '{shown}': expected plain data (no tags)", line)
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([1, event.anchor])
            total += 1
            if len(stack) > MAX_DEPTH:
                raise fail(f"expected at most {MAX_DEPTH} levels of nesting, found more", line)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            n, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = n
        elif isinstance(event, yaml.ScalarEvent):
            n = 1
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                open_anchors = [a for _, a in stack]
                why = (
                    "refers to a node that contains it"
                    if event.anchor in open_anchors
                    else "is not defined before it"
                )
                raise fail(f"unsupported alias: *{event.anchor} {why}", line)
            n = sizes[event.anchor]
            total += n
            aliases += 1
        else:
            continue
        if stack:
            stack[-1][0] += n
        if total > MAX_NODES:
            hint = " (aliases expanded; an alias bomb?)" if aliases else ""
            raise fail(f"expected at most {MAX_NODES:,} YAML nodes, found more{hint}", line)


@dataclass
class YamlSource:
    """A parsed YAML document and where each of its nodes starts.

    Attributes:
        path: The file that was read.
        data: The document as plain Python data (``yaml.safe_load`` semantics).
        lines: Map from a location tuple to the 1-based line of that node.
    """

    path: Path
    data: Any
    lines: dict[tuple[str | int, ...], int]

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """Line of the deepest node on ``loc`` that exists in this file."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return None


def _index_lines(
    node: yaml.Node,
    loc: tuple[str | int, ...],
    out: dict[tuple[str | int, ...], int],
    dupes: list[tuple[tuple[str | int, ...], str]],
) -> None:
    """Record the line of every node; collect duplicated keys and duplicated ids in ``dupes``."""
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                continue
            line = key_node.start_mark.line + 1
            if key in first:
                dupes.append(((*loc, key), f"duplicated key '{key}' (first at line {first[key]})"))
            first.setdefault(key, line)
            out.setdefault((*loc, key), line)
            _index_lines(value_node, (*loc, key), out, dupes)
    elif isinstance(node, yaml.SequenceNode):
        seen: dict[str, int] = {}
        for i, item in enumerate(node.value):
            ident = _id_of(item)
            if ident is not None:
                if ident in seen:
                    message = f"duplicated id '{ident}' (first at line {seen[ident]})"
                    dupes.append(((*loc, i, "id"), message))
                seen.setdefault(ident, item.start_mark.line + 1)
            _index_lines(item, (*loc, i), out, dupes)


def _id_of(node: yaml.Node) -> str | None:
    """The scalar ``id`` of a mapping node, if it has one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == "id" and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)  # a scalar's value is its text
    return None


def _file_kind(mode: int) -> str:
    """``FIFO``, ``character device``... for a file that is not a regular file or a folder."""
    kinds = {
        stat.S_ISFIFO: "FIFO (named pipe)",
        stat.S_ISCHR: "character device",
        stat.S_ISBLK: "block device",
        stat.S_ISSOCK: "socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "special file")


def read_yaml(path: str | Path) -> YamlSource:
    """Read a YAML file safely, keeping line numbers for error messages.

    Args:
        path: File to read.

    Returns:
        The parsed document with its line index.

    Raises:
        ScenarioError: If the file is missing, too large, not UTF-8 text or not valid YAML, or
            if it nests deeper than :data:`MAX_DEPTH` or has more than :data:`MAX_NODES` nodes
            with its aliases expanded.
    """
    path = Path(path)
    name = str(path)

    def fail(message: str, line: int | None = None) -> ScenarioError:
        return ScenarioError([Problem(name, (), message, line)])

    try:
        info = path.stat()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise fail(f"cannot read file ({why or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail("expected a YAML file, found a directory")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise fail(f"expected a regular YAML file, found a {_file_kind(info.st_mode)}")
    size = info.st_size
    if size > MAX_BYTES:
        raise fail(f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")
    try:
        # An empty regular file has nothing to read. Files of /proc and /sys say size 0 and may
        # block or stream when read: they count as empty too. Never read past the limit.
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1) if size else b""
        if len(raw) > MAX_BYTES:
            raise fail(f"file is more than {MAX_BYTES:,} bytes; the limit is {MAX_BYTES:,}")
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"expected UTF-8 text, found undecodable bytes at offset {exc.start}") from None
    except OSError as exc:
        raise fail(f"cannot read file ({exc.strerror or exc})") from None
    scanner, loader = _LOADER(text), _LOADER(text)
    node: yaml.Node | None = None
    enabled = gc.isenabled()
    try:
        try:
            _check_shape(scanner, fail)
        except yaml.YAMLError:
            # libyaml refuses deep flow nesting itself while it scans ahead, in its own words;
            # the pure-Python parser has no such limit, so rerun the check there to name the
            # problem ourselves, and fall back to the library's error for anything else.
            _check_shape(yaml.SafeLoader(text), fail)
            raise
        gc.disable()  # composing makes many objects and no cycles: 3-4x faster without GC
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise fail(f"malformed YAML: {problem}", line) from None
    except RecursionError:
        raise fail("malformed YAML: nesting too deep") from None
    except ValueError as exc:  # a scalar typed by the resolver that cannot be built: 2022-02-30
        value, line = _unbuildable_scalar(node, loader)
        why = f"{value!r} looks like a date but is none ({exc})"
        raise fail(f"malformed YAML: {why}", line) from None
    finally:
        if enabled:
            gc.enable()
        scanner.dispose()
        loader.dispose()
    lines: dict[tuple[str | int, ...], int] = {}
    dupes: list[tuple[tuple[str | int, ...], str]] = []
    if node is not None:
        _index_lines(node, (), lines, dupes)
    if dupes:  # YAML keeps the last of two equal keys silently; a hand-written file means one
        raise ScenarioError([Problem(name, loc, msg, lines.get(loc)) for loc, msg in dupes])
    return YamlSource(path=path, data=data, lines=lines)


def _unbuildable_scalar(node: yaml.Node | None, loader: Any) -> tuple[str, int | None]:
    """The first timestamp scalar under ``node`` that the loader cannot build, and its line."""
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, yaml.ScalarNode):
            if item.tag == "tag:yaml.org,2002:timestamp":
                try:
                    loader.construct_yaml_timestamp(item)
                except ValueError:
                    return str(item.value), item.start_mark.line + 1
        elif isinstance(item, yaml.MappingNode):
            todo.extend(v for pair in reversed(item.value) for v in reversed(pair))
        elif isinstance(item, yaml.SequenceNode):
            todo.extend(reversed(item.value))
    return "a value", None


def deep_merge(base: Any, override: Any) -> Any:
    """Merge ``override`` into ``base`` recursively, returning a new object.

    Mappings merge key by key. Lists of mappings that all carry an ``id`` merge item by item on
    that id (new ids are appended), so a counterfactual can change one power; an item
    ``{id: x, remove: true}`` drops item ``x`` of the base (:func:`removals` checks such items
    first). Any other value in ``override`` replaces the one in ``base``; a ``null`` removes the
    key.

    Args:
        base: The inherited document.
        override: The document that extends it.

    Returns:
        The merged document; neither input is modified.
    """
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = deep_merge(out[key], value)
            else:
                out[key] = value
        return out
    if _is_id_list(base) and _is_id_list(override):
        items = list(base)
        position = {item["id"]: i for i, item in enumerate(items)}
        dropped = set()
        for item in override:
            if item.get(REMOVE) is True and item["id"] in position:
                dropped.add(item["id"])
            elif item["id"] in position:
                items[position[item["id"]]] = deep_merge(items[position[item["id"]]], item)
            else:
                items.append(item)
        return [item for item in items if item["id"] not in dropped]
    return override


REMOVE = "remove"
"""The key of an ``extends:`` list item that drops the base's item of that id."""


def removals(base: Any, override: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with the ``{id: x, remove: true}`` items of an ``extends:`` document.

    Args:
        base: The inherited document.
        override: The document that extends it.

    Returns:
        ``(location in override, message)`` for each removal that names no item of the base,
        carries other keys, or has a ``remove`` other than ``true``; empty when all are fine.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return problems
    for section, items in override.items():
        if not isinstance(items, list):
            continue
        have = base.get(section)
        ids = [i.get("id") for i in have if isinstance(i, dict)] if isinstance(have, list) else []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or REMOVE not in item:
                continue
            where: tuple[str | int, ...] = (section, index, REMOVE)
            if item[REMOVE] is not True:
                problems.append((where, f"expected remove: true, found {item[REMOVE]!r}"))
            elif set(item) != {"id", REMOVE}:
                extra = ", ".join(sorted(str(k) for k in set(item) - {"id", REMOVE}))
                problems.append(
                    ((section, index), f"a removed item takes only id and remove, found {extra}")
                )
            elif item.get("id") not in ids:
                names = [str(i) for i in ids]
                shown = ", ".join(names[:KNOWN_SHOWN]) or "none"
                if len(names) > KNOWN_SHOWN:
                    shown += f", ... ({len(names)} in all)"
                hint = did_you_mean(str(item.get("id")), names, f" (it has: {shown})")
                problems.append(
                    (
                        (section, index, "id"),
                        f"cannot remove {item.get('id')!r}: the base has no such item in "
                        f"{section}{hint}",
                    )
                )
    return problems


def _is_id_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in value)
    )
