"""Use more data? Retrain one configuration on growing shares of the training data.

Any family: a network trains with early stopping on the validation split, a scikit-learn
family fits once. Classification follows accuracy (higher is better), regression RMSE
(lower is better): more data helps while the validation score still improves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tunaflow.components.data import DataSplits, subsample_indices
from tunaflow.components.fitted import FittedNetwork, primary_score
from tunaflow.components.metrics import validation_metrics
from tunaflow.components.model_spec import SKLEARN_FAMILIES
from tunaflow.components.objective import fit_sklearn
from tunaflow.components.seeding import derive_seed
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import fit_options, train_model
from tunaflow.components.training import kept_epoch

# an improvement over the last doubling that still counts: in accuracy points for classes,
# as a share of the RMSE for regression (whose units are the target's)
RISING = 0.005


@dataclass
class CurvePoint:
    fraction: float
    n_samples: int
    train_score: float
    valid_score: float
    valid_loss: float
    metric: str = "acc"  # acc (higher is better) or rmse (lower is better)


def _fit_and_score(spec: ExperimentSpec, splits: DataSplits, X: np.ndarray, y: np.ndarray, seed: int):
    """The model fitted on (X, y) and its validation metrics (a network's kept epoch's)."""
    if spec.model.family in SKLEARN_FAMILIES:
        fitted = fit_sklearn(spec, splits, X, y, seed)
        return fitted, validation_metrics(splits.task, splits.y_val, fitted.predict_output(splits.X_val),
                                          splits.n_outputs)
    module, fit = train_model(spec, X, y, seed=seed, valid=(splits.X_val, splits.y_val), **fit_options(splits))
    row = fit.history[kept_epoch(fit.history, spec.train, validated=True) - 1]
    return FittedNetwork(module, splits.task, spec.model.family), row


def learning_curve(spec: ExperimentSpec, splits: DataSplits, seed: int) -> list[CurvePoint]:
    """Validation scores of ``spec`` trained on each fraction of the training split."""
    metric = "rmse" if splits.task == "regression" else "acc"
    points = []
    all_rows = np.arange(len(splits.y_train))
    for fraction in sorted(set(spec.train.learning_curve.fractions)):
        rows = all_rows if fraction >= 1 else subsample_indices(
            splits.y_train, all_rows, fraction, derive_seed(seed, "curve", fraction))
        X, y = splits.X_train[rows], splits.y_train[rows]
        fitted, scores = _fit_and_score(spec, splits, X, y, derive_seed(seed, "curve-fit"))
        train_score = primary_score(splits.task, y, fitted.predict_output(X))
        points.append(CurvePoint(fraction, len(y), train_score, scores[f"valid_{metric}"], scores["valid_loss"],
                                 metric))
    return points


def still_rising(points: list[CurvePoint], threshold: float = RISING) -> bool:
    """Whether the validation score still improves between the last two sizes: more data would help.

    Accuracy must rise by more than ``threshold``; an RMSE must fall by more than
    ``threshold`` of its value.
    """
    if len(points) < 2:
        return False
    before, last = points[-2].valid_score, points[-1].valid_score
    if points[-1].metric == "rmse":
        return before - last > threshold * abs(before)
    return last - before > threshold


def curve_figure(points: list[CurvePoint], rising: bool):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = "RMSE" if points and points[0].metric == "rmse" else "accuracy"
    figure, axes = plt.subplots(figsize=(6, 4))
    sizes = [p.n_samples for p in points]
    axes.plot(sizes, [p.train_score for p in points], "o-", label=f"training {name}")
    axes.plot(sizes, [p.valid_score for p in points], "o-", label=f"validation {name}")
    axes.set_xscale("log")
    axes.set_xlabel("training samples")
    axes.set_ylabel(name)
    axes.set_title("still improving: more data would help" if rising else "flat at full size")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure
