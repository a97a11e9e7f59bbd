"""Champion or challenger on classification and regression metrics."""

import pytest

from tunaflow.components.promotion import decide_promotion


def test_no_champion_promotes_and_a_tie_never_does():
    assert decide_promotion(None, {"accuracy": 0.5}, "accuracy", 0.0).promote
    assert not decide_promotion({"accuracy": 0.9}, {"accuracy": 0.9}, "accuracy", 0.0).promote


@pytest.mark.parametrize("metric,champion,challenger,promote,improvement", [
    ("accuracy", 0.90, 0.92, True, 0.02),
    ("accuracy", 0.90, 0.903, False, 0.003),  # better, by less than the margin
    ("accuracy", 0.90, 0.88, False, -0.02),
    ("log_loss", 0.30, 0.20, True, 0.10), ("log_loss", 0.20, 0.30, False, -0.10),
    ("rmse", 50.0, 45.0, True, 5.0), ("rmse", 50.0, 55.0, False, -5.0),
    ("mae", 40.0, 39.999, False, 0.001), ("mae", 40.0, 39.0, True, 1.0),
    ("r2", 0.40, 0.45, True, 0.05), ("r2", 0.45, 0.40, False, -0.05),
])
def test_lower_is_better_for_errors_and_losses_higher_for_scores(metric, champion, challenger, promote, improvement):
    decision = decide_promotion({metric: champion}, {metric: challenger}, metric, 0.005)
    assert decision.promote is promote
    # signed so that larger is better, whichever way the metric points, and given for a refusal too
    assert decision.improvement == pytest.approx(improvement)
    assert decision.reason.startswith("promoted: " if promote else "kept the champion: ")
    assert f"challenger {metric} {challenger:.4f} vs champion {champion:.4f}" in decision.reason


def test_the_margin_is_the_least_improvement_that_promotes():
    assert decide_promotion({"accuracy": 0.5}, {"accuracy": 0.75}, "accuracy", 0.25).promote  # exactly the margin
    assert not decide_promotion({"accuracy": 0.5}, {"accuracy": 0.74}, "accuracy", 0.25).promote
    assert not decide_promotion({"rmse": 2.0}, {"rmse": 1.76}, "rmse", 0.25).promote
    assert decide_promotion({"rmse": 2.0}, {"rmse": 1.75}, "rmse", 0.25).promote


def test_auto_compares_rmse_for_regression_and_accuracy_for_classes():
    regression = decide_promotion({"rmse": 50.0, "mae": 40.0, "r2": 0.4}, {"rmse": 45.0, "mae": 41.0, "r2": 0.5},
                                  "auto", 0.005)
    assert regression.promote and "rmse" in regression.reason
    classes = decide_promotion({"accuracy": 0.9, "log_loss": 0.3}, {"accuracy": 0.8, "log_loss": 0.1}, "auto", 0.0)
    assert not classes.promote and "accuracy" in classes.reason
