"""Keeping passwords in storage and tracking URLs out of logs, params and messages."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]*)@")


def mask_url(url: str | None) -> str | None:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``."""
    if not url:
        return url
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


def mask_text(text: str, *urls: str | None) -> str:
    """``text`` with any password of ``urls`` (and any URL userinfo) masked."""
    for url in urls:
        match = _USERINFO.search(url or "")
        if match and match["password"]:
            text = text.replace(match["password"], "***")
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


def mask_tree(tree):
    """A JSON-like tree with every URL password in its strings masked (a spec saved with a model)."""
    if isinstance(tree, dict):
        return {key: mask_tree(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [mask_tree(value) for value in tree]
    return mask_url(tree) if isinstance(tree, str) else tree
