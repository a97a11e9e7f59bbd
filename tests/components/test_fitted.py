"""Fitted models of every family answer predict_output alike; labels and values come from one place."""

import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifier
from sklearn.svm import SVC

from tunaflow.components.fitted import (FittedEstimator, FittedNetwork, class_probabilities, output_labels,
                                        primary_score)
from tunaflow.components.model_spec import HGBSpec, MLPSpec
from tunaflow.components.models import build_module
from tunaflow.components.sklearn_models import build_estimator


def test_labels_are_the_classes_of_the_largest_probability_and_values_pass_through():
    proba = np.array([[0.1, 0.9], [0.7, 0.3]])
    assert output_labels(proba, "classification", ["no", "yes"]).tolist() == ["yes", "no"]
    assert output_labels(np.array([1.5, -2.0]), "regression", []).tolist() == [1.5, -2.0]
    assert primary_score("classification", np.array([1, 1]), proba) == 0.5
    assert primary_score("regression", np.array([1.0, 0.0]), np.array([4.0, 0.0])) == pytest.approx(np.sqrt(4.5))


def test_estimators_without_predict_proba_get_softmax_probabilities_that_agree_with_predict():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    for n_classes in (2, 3):
        y = (X[:, 0] * n_classes).astype(int).clip(0, n_classes - 1)
        for estimator in (RidgeClassifier().fit(X, y), SVC().fit(X, y)):
            proba = class_probabilities(estimator, X, n_classes)
            assert proba.shape == (120, n_classes) and np.allclose(proba.sum(axis=1), 1)
            agree = (proba.argmax(axis=1) == estimator.predict(X)).mean()
            assert agree > 0.97  # SVC breaks vote ties by confidence in its ovr scores


def test_a_class_missing_from_the_training_rows_gets_probability_zero():
    X = np.arange(20, dtype=float).reshape(-1, 1)
    y = np.array([0] * 10 + [2] * 10)
    from sklearn.linear_model import LogisticRegression

    proba = class_probabilities(LogisticRegression().fit(X, y), X, 3)
    assert proba.shape == (20, 3) and (proba[:, 1] == 0).all() and proba[0].argmax() == 0 and proba[-1].argmax() == 2


def test_scikit_learn_families_read_images_as_rows_of_pixels():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(60, 4, 4)).astype(np.float32)
    y = (images[:, 0, 0] > 0).astype(np.int64)
    estimator = build_estimator(HGBSpec(max_iter=10), "classification", 16, seed=0)
    fitted = FittedEstimator(estimator.fit(images.reshape(60, -1), y), "classification", "hgb", 2)
    assert fitted.predict_output(images).shape == (60, 2) and fitted.n_params == 0


def test_a_network_gives_probabilities_for_classes():
    module = build_module(MLPSpec(units=[8]), (4,), 3, "tabular", np.zeros(4), np.ones(4))
    fitted = FittedNetwork(module, "classification")
    proba = fitted.predict_output(np.ones((5, 4), np.float32))
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1) and fitted.n_params > 0
