"""One network from a spec: build the module and augmentation, fit, report back."""

from __future__ import annotations

from typing import Callable, Generator

import numpy as np
from torch import nn

from tunaflow.components.augment import Augmentation, build_augmentation
from tunaflow.components.models import build_module, input_statistics, target_statistics
from tunaflow.components.seeding import derive_seed, seed_everything
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.training import FitResult, build_classifier, drain, fit_epochs


def fit_options(splits) -> dict:
    """What a fit needs to know of the data besides the arrays (``DataSplits``' outputs, kind,
    task and embedded code columns), as keyword arguments of ``train_model``/``train_steps``."""
    return {"n_classes": splits.n_outputs, "kind": splits.kind, "task": splits.task,
            "embedded": tuple(splits.embedded or ()), **text_options(splits)}


def text_options(splits) -> dict:
    """A text source's vocabulary and documents, which text augmentation reads (nothing for other sources)."""
    if splits.kind != "text":
        return {}
    return {"vocabulary": splits.encoder.vocabulary, "back_translations": splits.back_translations}


def prepare_module(spec: ExperimentSpec, X: np.ndarray, n_classes: int, kind: str, seed: int, *,
                   task: str = "classification", embedded: tuple = (), y: np.ndarray | None = None) -> nn.Module:
    """An initialized module whose input statistics come from the training data ``X``
    (and, for regression, whose target statistics come from ``y``)."""
    seed_everything(derive_seed(seed, "init"))
    mean, std = input_statistics(X, kind, len(embedded))
    target = target_statistics(y) if task == "regression" and y is not None else (0.0, 1.0)
    return build_module(spec.model, X.shape[1:], n_classes, kind, mean, std, task=task, embedded=embedded,
                        target=target)


def spec_augmentation(spec: ExperimentSpec, X: np.ndarray, n_classes: int, kind: str,
                      seed: int, embedded: tuple = (), vocabulary: list[str] | None = None,
                      back_translations=None) -> Augmentation | None:
    """The augmentation a fit with ``seed`` applies to its training batches."""
    _, std = input_statistics(X, kind, len(embedded))
    if embedded:  # noise on a category code would turn it into another category
        std[-len(embedded):] = 0.0
    return build_augmentation(spec.augment, kind, X, seed=derive_seed(seed, "augment"),
                              n_classes=n_classes, feature_std=std, vocabulary=vocabulary,
                              back_translations=back_translations)


def standardized_target(y: np.ndarray, module: nn.Module) -> np.ndarray:
    """A regression target in the module's standard units, shaped (N, 1) as the loss expects."""
    mean, std = float(module.target_mean), float(module.target_std)
    return ((np.asarray(y, dtype=np.float64) - mean) / std).astype(np.float32).reshape(-1, 1)


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
    task: str = "classification",
    embedded: tuple = (),
    vocabulary: list[str] | None = None,
    back_translations=None,
) -> Generator[tuple[int, dict], None, tuple[nn.Module, FitResult]]:
    """``train_model`` one epoch at a time: yields (epoch, metrics) after each, returns (module, fit).

    Nothing is built before the first ``next``; the fit keeps its own random state across
    pauses (``fit_epochs``), so several of these can be advanced in turns.
    """
    module = prepare_module(spec, X, n_classes, kind, seed, task=task, embedded=embedded, y=y)
    scale = {}
    if task == "regression":  # the network learns the standardized target; scores come back in its units
        y = standardized_target(y, module)
        valid = None if valid is None else (valid[0], standardized_target(valid[1], module))
        scale = {"task": task, "target_std": float(module.target_std)}
    if augmentation is None:
        augmentation = spec_augmentation(spec, X, n_classes, kind, seed, embedded, vocabulary, back_translations)
    net = build_classifier(module, spec.train, seed=derive_seed(seed, "batches"), valid=valid,
                           epochs=epochs, augmentation=augmentation, **scale)
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
