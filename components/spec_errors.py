"""pydantic's validation errors as one line per field, named by its dotted path in the spec."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tunaflow.components.schedules import SCHEDULES

_UNION_TAGS = {"mlp", "cnn", "auto", "hgb", "rf", "logreg", "ridge", "svc", "float", "int", "categorical", *SCHEDULES}


def _is_union_member(part: str, last: bool) -> bool:
    """pydantic names the union member it tried inside the path (``mlp``, ``constrained-float``,
    ``list[...]``); a real field never ends a path with a tag, so only inner parts go."""
    if part in _UNION_TAGS:
        return not last
    return _is_type_name(part)


def _is_type_name(part: str) -> bool:
    return "[" in part or part.startswith(("constrained-", "function-")) or part in {"float", "int", "str", "bool"}


def _field_parts(loc: tuple, tree: Any, missing: bool) -> list[str]:
    """The parts of an error's location that are keys or indices of the input: a union member's
    tag (``float`` in ``search.space.train.lr.float``) is not, even at the end of the path."""
    parts, node = [], tree
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and (_is_type_name(part) or part in _UNION_TAGS) and not (last and missing):
            continue
        else:
            node = None
        parts.append(str(part))
    return parts


def format_validation_error(error: ValidationError, prefix: str = "", tree: Any = None) -> list[str]:
    """One line per field at fault, each naming the dotted field (``tree``: the validated input,
    which tells a field from a union member's tag)."""
    lines: dict[str, str] = {}
    for item in error.errors():
        if tree is not None:
            loc = _field_parts(item["loc"], tree, item["type"] == "missing")
        else:
            loc = [str(p) for p in item["loc"]]
            loc = [p for i, p in enumerate(loc) if not _is_union_member(p, i == len(loc) - 1)]
        field = ".".join(loc) or "spec"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "literal_error":
            message = f"{message} (got {short_repr(item.get('input'))})"
        elif item["type"] == "union_tag_invalid":
            message = message.replace("Input tag", "unknown name")
        # a value that may be one thing or a list fails both ways: the first says why
        lines.setdefault(field, f"{prefix}{field}: {' '.join(message.split())}")
    return list(lines.values())


def short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
