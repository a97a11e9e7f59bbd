"""evaluate_config for every family and both tasks, on configurations fixed as Optuna would
sample them (``FixedTrial``), holdout and k-fold."""

import numpy as np
import optuna
import pytest

from tunaflow.components.objective import evaluate_config
from tunaflow.components.space import apply_params, suggest_params
from tunaflow.components.spec import build_spec
from tests.components.synthetic_splits import table_splits
from tests.conftest import tiny_spec_tree

SPACE = {"model.family": {"type": "categorical", "choices": ["mlp", "hgb", "rf", "logreg", "ridge", "svc"]}}
SETTINGS = {"mlp": {"model.layers": 1}, "hgb": {"model.max_iter": 30}, "rf": {"model.n_estimators": 20},
            "logreg": {}, "ridge": {}, "svc": {}}


def _spec(family: str, metric: str, validation: str = "holdout"):
    tree = tiny_spec_tree(train={"epochs": 4, "lr": 0.01, "batch_size": 32},
                          search={"metric": metric, "validation": {"scheme": validation, "folds": 3}})
    tree["model"] = {"family": "auto"}
    tree["search"]["space"] = SPACE
    base = build_spec(tree)
    params = suggest_params(optuna.trial.FixedTrial({"model.family": family}), base.search.searched)
    return apply_params(base, {**params, **SETTINGS[family]})


@pytest.fixture(scope="module")
def classes():
    return table_splits("classification", cards=(4,))


@pytest.fixture(scope="module")
def values():
    return table_splits("regression", cards=(4,))


@pytest.mark.parametrize("family", ["mlp", "hgb", "rf", "logreg", "ridge", "svc"])
def test_every_family_scores_classification(family, classes):
    spec = _spec(family, "valid_acc")
    reports = []
    outcome = evaluate_config(spec, classes, seed=0, report=lambda step, m: reports.append((step, m)))
    assert outcome.family == family and spec.model.family == family
    assert {"valid_acc", "valid_loss"} <= set(outcome.metrics)
    assert outcome.value == outcome.metrics["valid_acc"] > 0.5
    assert 0 <= outcome.test_score <= 1 and outcome.test_score > 0.4
    assert reports and reports[-1][1]["valid_acc"] == pytest.approx(outcome.value)
    if family == "mlp":
        assert outcome.n_params > 0 and [s for s, _ in reports] == [1, 2, 3, 4]
    else:  # one fit, one report: pruners and progress lines see every family alike
        assert outcome.n_params == 0 and [s for s, _ in reports] == [1]


@pytest.mark.parametrize("family", ["mlp", "hgb", "rf", "ridge", "svc"])
def test_every_regression_family_scores_in_target_units(family, values):
    outcome = evaluate_config(_spec(family, "valid_rmse"), values, seed=0)
    metrics = outcome.metrics
    assert {"valid_rmse", "valid_mae", "valid_r2", "valid_loss"} <= set(metrics)
    assert outcome.value == metrics["valid_rmse"]
    if family != "mlp":  # sklearn: the loss is the MSE in target units
        assert metrics["valid_loss"] == pytest.approx(metrics["valid_rmse"] ** 2)
    # the target spreads ~100 around 1000: a model off in its units would be off by hundreds
    assert metrics["valid_rmse"] < values.y_val.std()
    predicted_mean = np.sqrt(np.mean((values.y_test - values.y_test.mean()) ** 2))
    assert outcome.test_score < predicted_mean


@pytest.mark.parametrize("family,metric", [("hgb", "valid_acc"), ("ridge", "valid_rmse"), ("mlp", "valid_rmse")])
def test_kfold_scores_each_fold(family, metric, classes, values):
    splits = classes if metric == "valid_acc" else values
    reports = []
    outcome = evaluate_config(_spec(family, metric, "kfold"), splits, seed=0,
                              report=lambda step, m: reports.append(step))
    folds = [row[f"fold_{metric}"] for row in outcome.history]
    assert len(folds) == 3 and outcome.value == pytest.approx(np.mean(folds))
    assert reports == ([1] if family != "mlp" else [1, 2, 3, 4])


def test_the_same_seed_gives_the_same_sklearn_trial_and_another_seed_another(classes):
    spec = _spec("rf", "valid_acc")
    a, b = evaluate_config(spec, classes, seed=3), evaluate_config(spec, classes, seed=3)
    assert a.metrics == b.metrics
    spec = apply_params(spec, {"model.max_features": 1.0, "model.n_estimators": 3})
    assert {evaluate_config(spec, classes, seed=s).metrics["valid_loss"] for s in (1, 2, 3)}.__len__() > 1


def test_an_objective_of_the_other_task_is_refused(values):
    with pytest.raises(ValueError, match="valid_acc"):
        evaluate_config(_spec("ridge", "valid_acc"), values, seed=0)
