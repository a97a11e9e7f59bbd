"""Where tunaflow keeps its state: ``$TUNAFLOW_HOME``, default ``./.tunaflow`` (not created here)."""

from __future__ import annotations

import os
from pathlib import Path


def home_path() -> Path:
    """The folder ``TUNAFLOW_HOME`` names, resolved (``tasks/settings.py`` creates and checks it)."""
    return Path(os.environ.get("TUNAFLOW_HOME") or ".tunaflow").resolve()


def cache_path(name: str) -> Path:
    """A cache folder under the home, ``cache/<name>`` (what is in it can be deleted at any time)."""
    return home_path() / "cache" / name
