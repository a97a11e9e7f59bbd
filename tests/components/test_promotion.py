"""Champion or challenger on classification and regression metrics."""

import pytest

from tunaflow.components.promotion import decide_promotion


def test_no_champion_promotes_and_a_tie_never_does():
    assert decide_promotion(None, {"accuracy": 0.5}, "accuracy", 0.0).promote
    assert not decide_promotion({"accuracy": 0.9}, {"accuracy": 0.9}, "accuracy", 0.0).promote


@pytest.mark.parametrize("metric,champion,challenger,promote", [
    ("accuracy", 0.90, 0.92, True), ("accuracy", 0.90, 0.903, False), ("log_loss", 0.30, 0.20, True),
    ("rmse", 50.0, 45.0, True), ("rmse", 50.0, 55.0, False), ("mae", 40.0, 39.999, False),
    ("r2", 0.40, 0.45, True), ("r2", 0.45, 0.40, False),
])
def test_lower_is_better_for_errors_and_losses_higher_for_scores(metric, champion, challenger, promote):
    decision = decide_promotion({metric: champion}, {metric: challenger}, metric, 0.005)
    assert decision.promote is promote
    assert decision.improvement == pytest.approx(abs(challenger - champion) * (1 if promote else -1)) or not promote


def test_auto_compares_rmse_for_regression_and_accuracy_for_classes():
    regression = decide_promotion({"rmse": 50.0, "mae": 40.0, "r2": 0.4}, {"rmse": 45.0, "mae": 41.0, "r2": 0.5},
                                  "auto", 0.005)
    assert regression.promote and "rmse" in regression.reason
    classes = decide_promotion({"accuracy": 0.9, "log_loss": 0.3}, {"accuracy": 0.8, "log_loss": 0.1}, "auto", 0.0)
    assert not classes.promote and "accuracy" in classes.reason
