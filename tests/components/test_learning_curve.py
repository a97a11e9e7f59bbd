import pytest

from tunaflow.components.checks import check_experiment
from tunaflow.components.learning_curve import CurvePoint, curve_figure, learning_curve, still_rising
from tunaflow.components.spec import build_spec
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
    assert points[1].valid_acc > points[0].valid_acc
    assert curve_figure(points, still_rising(points)).axes


def test_learning_curve_fractions_are_validated():
    from tunaflow.components.errors import SpecError

    with pytest.raises(SpecError, match=r"train\.learning_curve\.fractions"):
        build_spec(tiny_spec_tree(train={"learning_curve": {"fractions": [0.5, 1.5]}}))
