"""Use more data? Retrain one configuration on growing shares of the training data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tunaflow.components.data import DataSplits, subsample_indices
from tunaflow.components.models import predict_proba
from tunaflow.components.seeding import derive_seed
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import train_model
from tunaflow.components.training import kept_epoch

RISING = 0.005  # a gain in validation accuracy over the last doubling that still counts as rising


@dataclass
class CurvePoint:
    fraction: float
    n_samples: int
    train_acc: float
    valid_acc: float
    valid_loss: float


def learning_curve(spec: ExperimentSpec, splits: DataSplits, seed: int) -> list[CurvePoint]:
    """Validation scores of ``spec`` trained on each fraction of the training split."""
    points = []
    all_rows = np.arange(len(splits.y_train))
    for fraction in sorted(set(spec.train.learning_curve.fractions)):
        rows = all_rows if fraction >= 1 else subsample_indices(
            splits.y_train, all_rows, fraction, derive_seed(seed, "curve", fraction))
        X, y = splits.X_train[rows], splits.y_train[rows]
        module, fit = train_model(spec, X, y, n_classes=splits.n_classes, kind=splits.kind,
                                  seed=derive_seed(seed, "curve-fit"), valid=(splits.X_val, splits.y_val))
        row = fit.history[kept_epoch(fit.history, spec.train, validated=True) - 1]
        train_acc = float((predict_proba(module, X).argmax(1) == y).mean())
        points.append(CurvePoint(fraction, len(y), train_acc, row["valid_acc"], row["valid_loss"]))
    return points


def still_rising(points: list[CurvePoint], threshold: float = RISING) -> bool:
    """Whether validation accuracy still grows between the last two sizes: more data would help."""
    if len(points) < 2:
        return False
    return points[-1].valid_acc - points[-2].valid_acc > threshold


def curve_figure(points: list[CurvePoint], rising: bool):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    sizes = [p.n_samples for p in points]
    axes.plot(sizes, [p.train_acc for p in points], "o-", label="training accuracy")
    axes.plot(sizes, [p.valid_acc for p in points], "o-", label="validation accuracy")
    axes.set_xscale("log")
    axes.set_xlabel("training samples")
    axes.set_ylabel("accuracy")
    axes.set_title("still rising: more data would help" if rising else "flat at full size")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure
