"""Choosing the trial to register: the best value (ties broken), or a Pareto point by the spec's rule."""

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


# Accuracy on a small validation split ties often (every family at 1.0 on penguins): the
# trial with the lower log loss is the surer model. Regression metrics rarely tie.
TIE_BREAKERS = {"valid_acc": ("valid_loss", "minimize")}


def best_trial_index(values: Sequence[float], metrics: Sequence[dict], metric: str, direction: str) -> int:
    """The index of the best value; among equal ones the best on ``metric``'s tie-breaker, then the first."""
    if not values:
        raise ValueError("no trial to choose from")
    sign = 1.0 if direction == "minimize" else -1.0
    breaker, breaker_direction = TIE_BREAKERS.get(metric, (None, "minimize"))
    breaker_sign = 1.0 if breaker_direction == "minimize" else -1.0

    def key(i: int) -> tuple:
        tie = metrics[i].get(breaker) if breaker else None
        tie = breaker_sign * tie if isinstance(tie, (int, float)) and math.isfinite(tie) else math.inf
        return sign * values[i], tie, i

    return min(range(len(values)), key=key)
