"""Choosing one trial from a Pareto front by the rule the spec states."""

from __future__ import annotations

import math
from typing import Sequence


def select_trial(values: Sequence[Sequence[float]], directions: Sequence[str], rule: str) -> int:
    """The index of the chosen point among ``values`` (one row of objective values per trial).

    ``primary``: the best on the first objective (ties broken by the next ones).
    ``knee``: the point closest to the ideal corner once each objective is scaled to [0, 1]
    over the front, so no objective's units dominate.
    """
    if not values:
        raise ValueError("no trial to choose from")
    signs = [1.0 if d == "minimize" else -1.0 for d in directions]
    costs = [[s * v for s, v in zip(signs, row)] for row in values]  # lower is better everywhere
    if rule == "primary":
        return min(range(len(costs)), key=lambda i: costs[i])
    lows = [min(col) for col in zip(*costs)]
    spans = [(max(col) - lo) or 1.0 for col, lo in zip(zip(*costs), lows)]
    distance = [math.hypot(*[(c - lo) / span for c, lo, span in zip(row, lows, spans)]) for row in costs]
    return min(range(len(costs)), key=lambda i: (distance[i], costs[i]))
