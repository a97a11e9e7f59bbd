"""YAML for specs and ``--set`` values, read within limits.

A spec is a few kilobytes written by a person. PyYAML alone will read a 50 MB file for
seconds, recurse until Python gives up on deep nesting, and hand back a billion-laughs
graph whose aliases expand only later (in validation, deep copies, MLflow params), so the
limits are checked here, before anything else sees the tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tunaflow.components.errors import SpecError

MAX_SPEC_BYTES = 1 << 20  # 1 MiB: hundreds of times a hand-written spec
MAX_DEPTH = 64  # a conditional space nests about 10 levels deep
MAX_VALUES = 100_000  # values after expanding aliases


class SpecYamlLimit(yaml.MarkedYAMLError):
    """A limit of this module, reported like PyYAML's own errors (with a line and column)."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit, an alias expansion limit and no duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise SpecYamlLimit(problem=f"nested deeper than {MAX_DEPTH} levels",
                                    problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                if (key.tag, key.value) in seen:
                    raise SpecYamlLimit(problem=f"duplicate key {key.value!r} (only one would count)",
                                        problem_mark=key.start_mark)
                seen.add((key.tag, key.value))
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: yaml.Node | None) -> None:
    """How many values the document holds once every alias is expanded, counted on the node
    graph (shared nodes once each), so a bomb is refused without being expanded."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    # post-order without recursion: the graph is at most MAX_DEPTH deep, but aliases make it wide
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            size = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_VALUES:
                raise SpecYamlLimit(problem=f"expands to more than {MAX_VALUES:,} values (YAML aliases)",
                                    problem_mark=node.start_mark)
            sizes[id(node)] = size
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_spec_yaml(text: str, where: str) -> Any:
    """The value in ``text``; SpecError naming ``where`` (and the line) when it is not YAML or
    breaks a limit."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(where, f"larger than {MAX_SPEC_BYTES >> 20} MiB; a spec is a few kilobytes")
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 (a SafeLoader subclass)
    except SpecYamlLimit as error:
        raise SpecError(where, f"{error.problem}{_at(error.problem_mark)}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "malformed YAML"
        raise SpecError(where, f"malformed YAML{_at(mark)}: {problem}") from None
    except (ValueError, OverflowError) as error:
        # a scalar PyYAML cannot convert: an integer of thousands of digits, a date out of range
        raise SpecError(where, f"a value cannot be read ({str(error).splitlines()[0]})") from None


def _at(mark) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def read_yaml_file(path: str | Path) -> Any:
    """The YAML value in the file at ``path``, read within the limits above."""
    path = Path(path)
    try:
        if path.is_dir():
            raise SpecError(str(path), "is a folder, not a spec file")
        with path.open("rb") as handle:  # bounded: a huge file (or /dev/zero) is refused before parsing
            data = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(str(path), "file not found") from None
    except OSError as error:
        raise SpecError(str(path), f"cannot be read ({error.strerror or error})") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(str(path), f"larger than {MAX_SPEC_BYTES >> 20} MiB; a spec is a few kilobytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(str(path), "cannot be read (not UTF-8 text)") from None
    return load_spec_yaml(text, str(path))
