"""Retraining a regression model: the champion is scored on RMSE/MAE/R² of today's data."""

import pytest
from mlflow.tracking import MlflowClient

from tunaflow.components.spec import build_spec
from tunaflow.flows.retrain import retrain_flow
from tunaflow.tasks.settings import tracking_uri


def _spec(margin: float):
    return build_spec({"name": "dia-rt", "data": {"source": "diabetes"}, "model": {"family": "ridge"},
                       "train": {"learning_curve": {"enabled": False}},
                       "search": {"n_trials": 1}, "tracking": {"promotion_margin": margin}})


def test_a_regression_champion_is_compared_on_rmse(prefect_harness):
    first = retrain_flow(_spec(0.0))
    assert first["decision"] == "promoted" and set(first["test_metrics"]) == {"rmse", "mae", "r2"}
    second = retrain_flow(_spec(1000.0))  # the same model again: never better by 1000 in RMSE
    champion = second["champion_metrics"]
    assert second["decision"] == "kept" and set(champion) == {"rmse", "mae", "r2"}
    # the same configuration on the same split: the champion scores what the challenger does
    assert champion["rmse"] == pytest.approx(second["test_metrics"]["rmse"], rel=1e-4)
    assert "rmse" in second["reason"] and "margin 1000" in second["reason"]
    version = MlflowClient(tracking_uri()).get_model_version("dia-rt", "2")
    assert float(version.tags["champion_test_rmse"]) == pytest.approx(champion["rmse"], rel=1e-4)
