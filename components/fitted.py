"""A fitted model, whatever its family: one output on the encoded matrix, labels or values from it.

``predict_output(X)`` takes what training saw (``DataSplits.X_*``: the encoded matrix, or
images) and gives class probabilities (N, C) for classification, or predictions in the
target's units (N,) for regression. ``output_labels`` is the one place that turns such an
output into what a caller is told: class labels, or the values themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FittedNetwork:
    """A trained torch module (``components/models.py``); a regression module keeps its target's scale."""

    module: object
    task: str = "classification"
    family: str = "mlp"

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        from tunaflow.components.models import predict_proba, predict_values

        return predict_values(self.module, X) if self.task == "regression" else predict_proba(self.module, X)

    @property
    def n_params(self) -> int:
        from tunaflow.components.models import count_parameters

        return count_parameters(self.module)


@dataclass
class FittedEstimator:
    """A fitted scikit-learn estimator (``components/sklearn_models.py``) on flattened rows."""

    estimator: object
    task: str = "classification"
    family: str = "hgb"
    n_classes: int = 0

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        X = flat_rows(X)
        if self.task == "regression":
            return np.asarray(self.estimator.predict(X), dtype=np.float64)
        return class_probabilities(self.estimator, X, self.n_classes)

    @property
    def n_params(self) -> int:
        return 0


@dataclass
class FittedEnsemble:
    """Fitted models of any family, averaged with ``weights`` (ensemble selection's counts):
    probabilities for classification, values (in the target's units) for regression."""

    members: list
    weights: list[int]
    task: str = "classification"
    family: str = "ensemble"

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        from tunaflow.components.ensemble_selection import weighted_output

        return weighted_output([m.predict_output(X) for m in self.members], self.weights)

    @property
    def n_params(self) -> int:
        return sum(m.n_params for m in self.members)


def flat_rows(X: np.ndarray) -> np.ndarray:
    """Images become one row of pixels each: what a scikit-learn estimator reads."""
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1) if X.ndim > 2 else X


def softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def decision_logits(scores) -> np.ndarray:
    """Decision values as one logit per class: two classes have one score, for the second (0, score)."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.stack([np.zeros_like(scores), scores], axis=1) if scores.ndim == 1 else scores


def class_probabilities(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities (N, n_classes) in the order of the encoded labels 0..n_classes-1.

    Estimators without ``predict_proba`` (a ridge classifier) get the softmax of their decision
    values: argmax is the estimator's own choice, and the log-loss is defined.
    """
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
    else:
        proba = softmax(decision_logits(estimator.decision_function(X)))
    seen = np.asarray(estimator.classes_, dtype=np.int64)
    if len(seen) == n_classes:
        return proba
    full = np.zeros((len(X), n_classes))  # a class absent from the training rows is never predicted
    full[:, seen] = proba
    return full


def output_labels(output: np.ndarray, task: str, classes: list | np.ndarray) -> np.ndarray:
    """Class labels (argmax of the probabilities) for classification, the values for regression."""
    if task == "regression":
        return np.asarray(output, dtype=np.float64)
    return np.asarray(classes)[np.asarray(output).argmax(axis=1)]


def primary_score(task: str, y_true: np.ndarray, output: np.ndarray) -> float:
    """Accuracy of probabilities, or the RMSE of predictions: a model's one-number summary."""
    if task == "regression":
        return float(np.sqrt(np.mean((np.asarray(output, np.float64) - y_true) ** 2)))
    return float((np.asarray(output).argmax(axis=1) == y_true).mean())
