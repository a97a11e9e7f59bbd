"""The objective of one trial: train on the training split, score on validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from components.data import DataSplits
from components.models import count_parameters
from components.spec import ExperimentSpec
from components.trainer import train_model
from components.training import kept_epoch


@dataclass
class TrialOutcome:
    """A finished trial's value and what it took to get there."""

    value: float
    best_epoch: int
    history: list[dict] = field(default_factory=list)
    n_params: int = 0
    seconds: float = 0.0
    samples_per_second: float = 0.0


def evaluate_config(
    spec: ExperimentSpec,
    splits: DataSplits,
    *,
    seed: int,
    report: Callable[[int, dict], None] | None = None,
) -> TrialOutcome:
    """Train ``spec``'s network; the value is ``search.metric`` of the weights it keeps.

    ``report(epoch, metrics)`` sees every epoch and may raise (a pruner stopping it).
    """
    module, fit = train_model(
        spec, splits.X_train, splits.y_train, n_classes=splits.n_classes, kind=splits.kind,
        seed=seed, valid=(splits.X_val, splits.y_val), report=report,
    )
    epoch = kept_epoch(fit.history, spec.train, validated=True)
    return TrialOutcome(
        value=fit.history[epoch - 1][spec.search.metric], best_epoch=epoch, history=fit.history,
        n_params=count_parameters(module), seconds=fit.seconds,
        samples_per_second=fit.samples_per_second,
    )
