import pytest

from tunaflow.components.checks import check_experiment
from tunaflow.components.learning_curve import CurvePoint, curve_figure, learning_curve, still_rising
from tunaflow.components.spec import build_spec
from tests.components.synthetic_splits import table_splits
from tests.conftest import tiny_spec_tree


def _point(n, acc):
    return CurvePoint(n / 1000, n, 1.0, acc, 0.1)


def test_still_rising_reads_the_last_step_of_the_curve():
    assert still_rising([_point(100, 0.80), _point(250, 0.88), _point(500, 0.93), _point(1000, 0.96)])
    assert not still_rising([_point(100, 0.80), _point(250, 0.95), _point(500, 0.97), _point(1000, 0.971)])
    assert not still_rising([_point(100, 0.9)])


def test_learning_curve_grows_the_training_data_and_scores_improve():
    spec = build_spec(tiny_spec_tree(
        data={"subsample": 1.0},
        train={"epochs": 12, "early_stopping": {"enabled": False}, "learning_curve": {"fractions": [0.05, 1.0]}}))
    splits = check_experiment(spec)
    points = learning_curve(spec, splits, seed=0)
    assert [p.fraction for p in points] == [0.05, 1.0]
    assert points[0].n_samples < points[1].n_samples == len(splits.y_train)
    assert points[1].valid_score > points[0].valid_score and points[1].metric == "acc"
    assert curve_figure(points, still_rising(points)).axes


def test_learning_curve_fractions_are_validated():
    from tunaflow.components.errors import SpecError

    with pytest.raises(SpecError, match=r"train\.learning_curve\.fractions"):
        build_spec(tiny_spec_tree(train={"learning_curve": {"fractions": [0.5, 1.5]}}))


def test_regression_curves_follow_rmse_and_improve_when_it_falls():
    def point(n, rmse):
        return CurvePoint(n / 1000, n, rmse, rmse, rmse ** 2, "rmse")

    assert still_rising([point(500, 20.0), point(1000, 15.0)])
    assert not still_rising([point(500, 20.0), point(1000, 19.95)])  # 0.25% of the RMSE
    assert not still_rising([point(500, 15.0), point(1000, 20.0)])


@pytest.mark.parametrize("family", ["ridge", "mlp"])
def test_learning_curve_of_a_regression_family(family):
    tree = tiny_spec_tree(train={"epochs": 15, "lr": 0.01, "batch_size": 16,
                                 "learning_curve": {"fractions": [0.05, 1.0]}})
    tree["model"] = {"family": family}
    splits = table_splits("regression", n=400)
    points = learning_curve(build_spec(tree), splits, seed=0)
    assert [p.metric for p in points] == ["rmse", "rmse"]
    assert points[0].n_samples < points[1].n_samples == len(splits.y_train)
    # in the target's units (~1000 +- 100): better than predicting the mean, and better with more rows
    assert points[1].valid_score < points[0].valid_score < 2 * splits.y_val.std()
    assert points[1].valid_score < 0.5 * splits.y_val.std()
    assert "RMSE" in curve_figure(points, still_rising(points)).axes[0].get_ylabel()
