"""Metrics of a model's outputs: a classifier's probabilities (and its confusion matrix), a
regressor's predictions (and their scatter against the truth)."""

from __future__ import annotations

import numpy as np

PROBABILITY_FLOOR = 1e-7  # a confident wrong prediction costs much, never infinitely


def _bounded(proba: np.ndarray) -> np.ndarray:
    """Probabilities kept off 0 (a forest's certain 0 would make the log-loss infinite), rows summing to 1."""
    proba = np.clip(np.asarray(proba, dtype=np.float64), PROBABILITY_FLOOR, 1)
    return proba / proba.sum(axis=1, keepdims=True)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> tuple[dict, np.ndarray]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss

    y_pred = proba.argmax(axis=1)
    labels = list(range(n_classes))
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0)),
        "log_loss": float(log_loss(y_true, _bounded(proba), labels=labels)),
    }
    return metrics, confusion_matrix(y_true, y_pred, labels=labels)


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """RMSE, MAE and R² in the target's units (R² 0 for a constant target)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    error = np.asarray(y_pred, dtype=np.float64) - y_true
    spread = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "rmse": float(np.sqrt(np.mean(error ** 2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(1 - np.sum(error ** 2) / spread) if spread > 0 else 0.0,
    }


def validation_metrics(task: str, y_true: np.ndarray, output: np.ndarray, n_classes: int = 0) -> dict:
    """A trial's ``valid_*`` metrics from a model's output on the validation rows.

    Classification: valid_acc and valid_loss (the log-loss); regression: valid_rmse,
    valid_mae, valid_r2 and valid_loss (the MSE), all in the target's units.
    """
    if task == "regression":
        scores = regression_metrics(y_true, output)
        return {**{f"valid_{k}": v for k, v in scores.items()}, "valid_loss": scores["rmse"] ** 2}
    scores, _ = classification_metrics(y_true, output, n_classes)
    return {"valid_acc": scores["accuracy"], "valid_loss": scores["log_loss"]}


def scatter_figure(y_true: np.ndarray, y_pred: np.ndarray):
    """Predicted against true values, with the diagonal a perfect model would sit on."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(y_true, y_pred, s=8, alpha=0.5)
    low = float(min(np.min(y_true), np.min(y_pred)))
    high = float(max(np.max(y_true), np.max(y_pred)))
    axes.plot([low, high], [low, high], color="gray", linewidth=1)
    axes.set_xlabel("true")
    axes.set_ylabel("predicted")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def confusion_figure(matrix: np.ndarray, classes: list):
    """A matplotlib figure of the confusion matrix, counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(4, 0.5 * len(classes) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(classes))
    axes.set_xticks(ticks, [str(c) for c in classes], rotation=45, ha="right")
    axes.set_yticks(ticks, [str(c) for c in classes])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(j, i, str(count), ha="center", va="center", color="white" if count > threshold else "black")
    figure.tight_layout()
    return figure


def row_losses(output: np.ndarray, y: np.ndarray, task: str, metric: str) -> np.ndarray:
    """Each row's share of a validation metric, as a loss (lower is better), so two models can be
    compared row by row: a wrong class for ``valid_acc``, the log loss of the true class for a
    classifier's ``valid_loss``; the absolute error for ``valid_mae``, the squared error for the
    other regression metrics (RMSE and R² order models as the mean squared error does)."""
    output = np.asarray(output, dtype=np.float64)
    if task == "regression":
        error = output - np.asarray(y, dtype=np.float64)
        return np.abs(error) if metric == "valid_mae" else error ** 2
    labels = np.asarray(y, dtype=np.int64)
    if metric == "valid_acc":
        return (output.argmax(axis=1) != labels).astype(np.float64)
    return -np.log(np.clip(output[np.arange(len(labels)), labels], PROBABILITY_FLOOR, 1.0))
