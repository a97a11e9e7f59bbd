"""Configurations of a search space: one key per set of sampled values.

A study never trains a configuration twice: a trial that proposes one already evaluated
reuses its values, and a finite space whose every configuration has been evaluated is
exhausted (more trials could only repeat one).
"""

from __future__ import annotations

import math
from typing import Any, Mapping


# Storages hand floats back through their own types (SQL REAL, JSON text, a driver's
# double) and samplers compute stepped values differently (0.1 * 3 != 0.3): 12
# significant digits are far finer than any searched value matters and coarser than any
# round-off on the way.
FLOAT_DIGITS = 12


def config_key(params: Mapping[str, Any]) -> tuple:
    """A hashable key equal for two parameter sets exactly when they are the same configuration.

    The type is part of the key: ``True`` and ``1`` are equal in Python and different choices.
    """
    return tuple(sorted((name, type(value).__name__, _canonical(value)) for name, value in params.items()))


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{FLOAT_DIGITS}g}")
    return value
