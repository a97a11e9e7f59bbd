"""TemperedSVC: the SVC's own decisions, with probabilities through a temperature fitted out of fold."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.svm import SVC

from tunaflow.components.fitted import decision_logits, softmax
from tunaflow.components.tempered_svc import TemperedSVC, fit_temperature


def _classes(n: int = 600, classes: int = 4, seed: int = 0):
    X, y = make_classification(n_samples=n, n_features=8, n_informative=5, n_classes=classes, class_sep=1.5,
                               random_state=seed)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]


def test_fit_temperature_recovers_the_temperature_labels_were_drawn_at():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(20_000, 3))
    probabilities = softmax(logits / 2.0)
    y = np.array([rng.choice(3, p=p) for p in probabilities])
    assert fit_temperature(logits, y) == pytest.approx(2.0, rel=0.05)


def test_decisions_are_the_svcs_and_probabilities_score_better_than_its_vote_softmax():
    X, y, X_test, y_test = _classes()
    tempered = TemperedSVC(C=1.0, random_state=0).fit(X, y)
    plain = SVC(C=1.0, random_state=0).fit(X, y)
    proba = tempered.predict_proba(X_test)
    assert np.array_equal(tempered.predict(X_test), plain.predict(X_test))
    # the label tunaflow reads is the argmax of the probabilities: the argmax of the decision values
    assert np.array_equal(proba.argmax(axis=1), plain.decision_function(X_test).argmax(axis=1))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert tempered.temperature_ != 1.0
    vote_softmax = softmax(decision_logits(plain.decision_function(X_test)))
    assert log_loss(y_test, proba) < 0.9 * log_loss(y_test, vote_softmax)


def test_a_class_of_one_training_row_leaves_the_plain_softmax():
    X, y, X_test, _ = _classes(classes=3)
    y = y.copy()
    y[0] = 3  # a fourth class, one row: no 2-fold split holds it on both sides
    tempered = TemperedSVC(random_state=0).fit(X, y)
    assert tempered.temperature_ == 1.0
    assert tempered.predict_proba(X_test).shape == (len(X_test), 4)
