"""One network from a spec: build the module and augmentation, fit, report back."""

from __future__ import annotations

from typing import Callable, Generator

import numpy as np
from torch import nn

from tunaflow.components.augment import Augmentation, build_augmentation
from tunaflow.components.models import build_module, input_statistics
from tunaflow.components.seeding import derive_seed, seed_everything
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.training import FitResult, build_classifier, drain, fit_epochs


def prepare_module(spec: ExperimentSpec, X: np.ndarray, n_classes: int, kind: str, seed: int) -> nn.Module:
    """An initialized module whose input statistics come from the training data ``X``."""
    seed_everything(derive_seed(seed, "init"))
    mean, std = input_statistics(X, kind)
    return build_module(spec.model, X.shape[1:], n_classes, kind, mean, std)


def spec_augmentation(spec: ExperimentSpec, X: np.ndarray, n_classes: int, kind: str,
                      seed: int) -> Augmentation | None:
    """The augmentation a fit with ``seed`` applies to its training batches."""
    _, std = input_statistics(X, kind)
    return build_augmentation(spec.augment, kind, X, seed=derive_seed(seed, "augment"),
                              n_classes=n_classes, feature_std=std)


def train_steps(
    spec: ExperimentSpec,
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    kind: str,
    seed: int,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int | None = None,
    augmentation: Augmentation | None = None,
) -> Generator[tuple[int, dict], None, tuple[nn.Module, FitResult]]:
    """``train_model`` one epoch at a time: yields (epoch, metrics) after each, returns (module, fit).

    Nothing is built before the first ``next``; the fit keeps its own random state across
    pauses (``fit_epochs``), so several of these can be advanced in turns.
    """
    module = prepare_module(spec, X, n_classes, kind, seed)
    if augmentation is None:
        augmentation = spec_augmentation(spec, X, n_classes, kind, seed)
    net = build_classifier(module, spec.train, seed=derive_seed(seed, "batches"), valid=valid,
                           epochs=epochs, augmentation=augmentation)
    try:
        result = yield from fit_epochs(net, X, y)
    finally:
        if augmentation is not None:
            augmentation.close()
    return net.module_, result


def train_model(spec: ExperimentSpec, X: np.ndarray, y: np.ndarray, *,
                report: Callable[[int, dict], None] | None = None, **options) -> tuple[nn.Module, FitResult]:
    """Fit the spec's network on (X, y); ``options`` are ``train_steps``'s (``valid``: early stopping may apply).

    ``report(epoch, metrics)`` sees every epoch and may raise to stop the fit (a pruner).
    The augmentation is the spec's unless one is given (a pipeline reloaded from a run).
    """
    return drain(train_steps(spec, X, y, **options), (lambda step: report(*step)) if report else None)
