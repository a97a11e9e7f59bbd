"""Dotted paths into nested dicts and lists: ``train.lr``, ``model.units.2``."""

from __future__ import annotations

import copy
from typing import Any

_MISSING = object()
# A list in a spec is a handful of layers or values; setting item 2,000,000,000 would grow one
# for minutes, copying its last item each time.
MAX_LIST_INDEX = 1024
MAX_PARTS = 64


class PathError(KeyError):
    """A path that cannot name a field; ``problem`` says why in one line."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def _parts(path: str) -> list[str]:
    parts = path.split(".")
    if len(parts) > MAX_PARTS:
        raise PathError(f"more than {MAX_PARTS} dotted parts")
    return parts


def _key(container: Any, part: str) -> Any:
    if isinstance(container, list):
        if not (part.isascii() and part.isdigit()):
            raise KeyError(f"'{part}' is not a list index")
        if len(part) > len(str(MAX_LIST_INDEX)) or int(part) > MAX_LIST_INDEX:
            raise PathError(f"list index {part[:12]}{'...' if len(part) > 12 else ''} is beyond the "
                            f"limit of {MAX_LIST_INDEX}")
        return int(part)
    if isinstance(container, dict):
        return part
    raise KeyError(f"'{part}' goes below a value that has no fields")


def get_path(tree: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at ``path``; KeyError (or ``default``) when it does not exist."""
    node = tree
    for part in path.split("."):
        try:
            key = _key(node, part)
            node = node[key]
        except (KeyError, IndexError):
            if default is _MISSING:
                raise KeyError(path) from None
            return default
    return node


def has_path(tree: Any, path: str, *, allow_append: bool = True) -> bool:
    """Whether ``path`` names a field (a list index may point one past the end)."""
    node = tree
    try:
        parts = _parts(path)
    except PathError:
        return False
    for i, part in enumerate(parts):
        try:
            key = _key(node, part)
        except KeyError:
            return False
        last = i == len(parts) - 1
        if isinstance(node, list):
            if key < len(node):
                node = node[key]
                continue
            return allow_append and last
        if key not in node:
            return False
        node = node[key]
    return True


def set_path(tree: Any, path: str, value: Any) -> Any:
    """A copy of ``tree`` with ``value`` at ``path``.

    Setting a list index past the end grows the list by repeating its last item,
    so a searched ``model.units.2`` can add a third layer's width.
    """
    parts = _parts(path)
    tree = copy.deepcopy(tree)
    node = tree
    for i, part in enumerate(parts):
        key = _key(node, part)
        last = i == len(parts) - 1
        if isinstance(node, list):
            while key >= len(node):
                node.append(copy.deepcopy(node[-1]) if node else None)
        elif key not in node:
            if not last:
                node[key] = {}
            elif not isinstance(node, dict):
                raise KeyError(path)
        if last:
            node[key] = value
        else:
            if node[key] is None or not isinstance(node[key], (dict, list)):
                raise KeyError(f"{path}: '{part}' has no fields below it")
            node = node[key]
    return tree
