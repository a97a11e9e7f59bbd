"""scikit-learn families: built from their spec sections for either task, on encoded tables."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer

from tunaflow.components.errors import SpecError
from tunaflow.components.fitted import FittedEstimator, output_labels
from tunaflow.components.model_spec import HGBSpec, LogRegSpec, RFSpec, RidgeSpec, SVCSpec
from tunaflow.components.sklearn_models import build_estimator, describe_estimator, fit_estimator
from tests.components.synthetic_splits import table_splits

SPECS = {"hgb": HGBSpec(max_iter=50), "rf": RFSpec(n_estimators=30), "logreg": LogRegSpec(),
         "ridge": RidgeSpec(), "svc": SVCSpec()}


def _fit(family, splits, **spec_fields):
    spec = SPECS[family].model_copy(update=spec_fields)
    estimator = build_estimator(spec, splits.task, splits.X_train.shape[1], splits.embedded, seed=0)
    fit_estimator(estimator, splits.X_train, splits.y_train)
    return FittedEstimator(estimator, splits.task, family, splits.n_outputs)


@pytest.mark.parametrize("family", ["hgb", "rf", "logreg", "ridge", "svc"])
def test_each_family_learns_classes_with_probabilities(family):
    splits = table_splits("classification", cards=(4,))
    fitted = _fit(family, splits)
    proba = fitted.predict_output(splits.X_test)
    assert proba.shape == (len(splits.y_test), 3)
    assert np.allclose(proba.sum(axis=1), 1) and (proba >= 0).all()
    accuracy = (proba.argmax(1) == splits.y_test).mean()
    assert accuracy > 0.6  # three classes: chance is 1/3
    labels = output_labels(proba, "classification", splits.classes)
    assert set(labels) <= set(splits.classes)


@pytest.mark.parametrize("family", ["hgb", "rf", "ridge", "svc"])
def test_each_regression_family_predicts_in_the_targets_units(family):
    splits = table_splits("regression", cards=(4,))
    fitted = _fit(family, splits)  # default settings: SVR's C of 1 too, on targets in the thousands
    predicted = fitted.predict_output(splits.X_test)
    assert predicted.shape == (len(splits.y_test),)
    rmse = np.sqrt(np.mean((predicted - splits.y_test) ** 2))
    assert rmse < 0.6 * splits.y_test.std()  # far better than the mean
    assert abs(predicted.mean() - 1000) < 50


def test_logreg_refuses_regression_with_the_field_named():
    with pytest.raises(SpecError) as error:
        build_estimator(LogRegSpec(), "regression", 5, seed=0)
    assert str(error.value) == "model.family: logreg is for classification; use ridge"


def test_hgb_reads_the_code_columns_as_categories_and_linear_models_one_hot_them():
    hgb = build_estimator(HGBSpec(), "classification", 6, embedded=(5, 300), seed=0)
    # a code beyond HistGradientBoosting's 255 bins stays a number
    assert hgb.categorical_features.tolist() == [False] * 4 + [True, False]
    assert build_estimator(HGBSpec(), "classification", 6, seed=0).categorical_features is None
    ridge = build_estimator(RidgeSpec(), "classification", 6, embedded=(5, 3), seed=0)
    columns = ridge.steps[0][1]
    assert isinstance(columns, ColumnTransformer)
    splits = table_splits("classification", cards=(5, 3))
    columns.fit(splits.X_train)
    assert columns.transform(splits.X_test).shape[1] == 4 + 5 + 3


def test_forest_is_single_threaded_and_seeded():
    forest = build_estimator(RFSpec(), "regression", 4, seed=7)
    assert forest.n_jobs == 1 and forest.random_state == 7
    splits = table_splits("regression")
    a, b = _fit("rf", splits), _fit("rf", splits)
    assert np.array_equal(a.predict_output(splits.X_test), b.predict_output(splits.X_test))


def test_single_thread_fit_gives_the_same_model():
    splits = table_splits("classification")
    a = build_estimator(HGBSpec(max_iter=20), "classification", 4, seed=0)
    b = build_estimator(HGBSpec(max_iter=20), "classification", 4, seed=0)
    fit_estimator(a, splits.X_train, splits.y_train, single_thread=True)
    fit_estimator(b, splits.X_train, splits.y_train)
    assert np.allclose(a.predict_proba(splits.X_test), b.predict_proba(splits.X_test))


def test_description_names_the_estimator_and_its_parameters():
    text = describe_estimator(build_estimator(SVCSpec(C=3.0), "classification", 4, seed=0))
    assert "SVC" in text and "temperedsvc__C = 3.0" in text
