"""Preferring where the search started: the study's best trial is registered only when it beats the
best of the configurations the study began with (each family's default, a warm start) by more than
one standard error, row by row on the out-of-sample predictions.

The best of a hundred trials' cross-validation scores is the maximum of noisy estimates, so it is
optimistic; on a few hundred rows a tuned configuration that leads a default by a row or two
tests below it about as often as above. Breiman's one-standard-error rule keeps the simpler
choice in that case; here the simpler choice is the configuration nobody tuned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tunaflow.components.metrics import row_losses

STANDARD_ERRORS = 1.0


@dataclass(frozen=True)
class Lead:
    """How far the best trial is ahead of a starting configuration: the mean per-row loss of the start
    minus the best's (positive: the best is ahead), its standard error, and over how many rows."""

    gain: float
    standard_error: float
    rows: int

    @property
    def clear(self) -> bool:
        return self.gain > STANDARD_ERRORS * self.standard_error


def lead_over(best_output: np.ndarray, start_output: np.ndarray, y: np.ndarray, task: str, metric: str) -> Lead:
    """The best trial's lead over a start on ``metric``'s per-row losses (paired: the same rows)."""
    difference = row_losses(start_output, y, task, metric) - row_losses(best_output, y, task, metric)
    rows = len(difference)
    error = float(np.std(difference, ddof=1) / math.sqrt(rows)) if rows > 1 else math.inf
    return Lead(float(np.mean(difference)) if rows else 0.0, error, rows)
