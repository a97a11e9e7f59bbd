"""Ensemble selection (Caruana et al. 2004): greedy forward selection with replacement.

Each round adds the candidate whose inclusion gives the average with the lowest loss on the
out-of-sample predictions; a candidate may be added again, so the weights are integer
counts. The loss is smooth (log loss for classes, squared error for values): accuracy moves
in steps of one row and would pick members by the noise of a few rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from tunaflow.components.metrics import row_losses, validation_metrics


def selection_loss(output: np.ndarray, y: np.ndarray, task: str) -> float:
    """Mean squared error of values, or log loss of class probabilities (N, C) for integer labels."""
    return float(np.mean(row_losses(output, y, task, "valid_loss")))


Loss = Callable[[np.ndarray, np.ndarray, str], float]


def greedy_counts(predictions: Sequence[np.ndarray], y: np.ndarray, task: str, rounds: int,
                  loss: Loss = selection_loss) -> list[int]:
    """How many times each candidate is picked in ``rounds`` rounds by ``loss`` (output, y, task);
    of equal losses, the earlier candidate (the caller orders them best first)."""
    if not predictions:
        raise ValueError("no candidate predictions to select from")
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    counts = [0] * len(stack)
    total = np.zeros_like(stack[0])
    for picked in range(rounds):
        losses = [loss((total + candidate) / (picked + 1), y, task) for candidate in stack]
        best = int(np.argmin(losses))  # argmin keeps the first of equal losses
        counts[best] += 1
        total += stack[best]
    return counts


def weighted_output(predictions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The weighted average of the members' outputs (probabilities or values)."""
    weights = np.asarray(weights, dtype=np.float64)
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    return np.tensordot(weights / weights.sum(), stack, axes=1)


@dataclass(frozen=True)
class EnsembleChoice:
    """The counts per candidate, and the ensemble's out-of-sample scores beside the first candidate's
    (the trial the study chose): the selection loss and the study's metric."""

    counts: list[int]
    loss: float
    single_loss: float
    score: float
    single_score: float
    improves: bool

    @property
    def members(self) -> list[int]:
        return [i for i, count in enumerate(self.counts) if count]


def choose_ensemble(predictions: Sequence[np.ndarray], y: np.ndarray, task: str, rounds: int, metric: str,
                    n_outputs: int, loss: Loss = selection_loss) -> EnsembleChoice:
    """Greedy selection over ``predictions`` (the chosen trial's first), judged against that trial.

    The ensemble ``improves`` when it has more than one member and a lower selection loss: the
    loss it was selected by. The study's ``metric`` on the pooled out-of-sample rows is reported
    beside it, not required: accuracy moves by whole rows, and on a small table a row or two of
    it is the noise that made the single trial look best.
    """
    counts = greedy_counts(predictions, y, task, rounds, loss)
    output = weighted_output(predictions, counts)
    score = validation_metrics(task, y, output, n_outputs)[metric]
    single_score = validation_metrics(task, y, predictions[0], n_outputs)[metric]
    value, single_value = loss(output, y, task), loss(predictions[0], y, task)
    improves = sum(c > 0 for c in counts) > 1 and value < single_value
    return EnsembleChoice(counts, value, single_value, float(score), float(single_score), improves)
