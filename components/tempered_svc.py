"""An SVC whose class probabilities are its decision values through a fitted temperature.

A kernel SVM decides by its decision values, which are no probabilities: with several classes
they are one-vs-one votes (the winner holds about C - 1), whose softmax gives a sure answer
about 0.6 on three classes, right or wrong. Ensemble selection and the study's log loss read
those probabilities, so an SVC counted for less than its accuracy. Platt scaling
(``probability=True``) refits five times and may disagree with the SVC's own decisions;
temperature scaling (Guo et al. 2017) fits one number, T, on out-of-fold decision values
(2 folds: about 1.5 times the fit of one SVC, whose cost grows with the square of the rows)
and keeps the argmax of the decision values, since softmax(z / T) has the argmax of z.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from tunaflow.components.fitted import decision_logits, softmax

TEMPERATURE_FOLDS = 2
LOG_TEMPERATURE_BOUND = 5.0  # T within e^-5 .. e^5


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 that minimizes the log loss of softmax(logits / T) for labels ``y`` (column indices)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(y))

    def loss(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(scaled).sum(axis=1)) - scaled[rows, y]))

    found = minimize_scalar(loss, bounds=(-LOG_TEMPERATURE_BOUND, LOG_TEMPERATURE_BOUND), method="bounded")
    return float(np.exp(found.x))


class TemperedSVC(ClassifierMixin, BaseEstimator):
    """``SVC(C, gamma)`` with ``predict_proba`` = softmax(decision logits / T), T fitted out of fold.

    Where a class has fewer training rows than TEMPERATURE_FOLDS, no fold split holds every class:
    T stays 1 (the plain softmax of the decision values).
    """

    def __init__(self, C: float = 1.0, gamma="scale", random_state=None):
        self.C = C
        self.gamma = gamma
        self.random_state = random_state

    def _svc(self):
        from sklearn.svm import SVC

        return SVC(C=self.C, gamma=self.gamma, random_state=self.random_state)

    def fit(self, X, y):
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        y = np.asarray(y)
        self.svc_ = self._svc().fit(X, y)
        self.classes_ = self.svc_.classes_
        self.temperature_ = 1.0
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= TEMPERATURE_FOLDS:
            folds = StratifiedKFold(TEMPERATURE_FOLDS, shuffle=True, random_state=self.random_state)
            scores = cross_val_predict(self._svc(), X, y, cv=folds, method="decision_function")
            self.temperature_ = fit_temperature(decision_logits(scores), np.searchsorted(self.classes_, y))
        return self

    def decision_function(self, X):
        return self.svc_.decision_function(X)

    def predict(self, X):
        return self.svc_.predict(X)

    def predict_proba(self, X):
        return softmax(decision_logits(self.decision_function(X)) / self.temperature_)
