"""The one-standard-error rule between the best trial and a start, row by row."""

import numpy as np
import pytest

from tunaflow.components.default_preference import lead_over
from tunaflow.components.metrics import row_losses


def _onehot(labels, n_classes=2) -> np.ndarray:
    return np.eye(n_classes)[np.asarray(labels)] * 0.8 + 0.1


def test_row_losses_are_each_rows_share_of_the_metric():
    y = np.array([0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    assert list(row_losses(proba, y, "classification", "valid_acc")) == [0.0, 1.0, 0.0]
    assert np.allclose(row_losses(proba, y, "classification", "valid_loss"), -np.log([0.9, 0.4, 0.8]))
    values, target = np.array([1.0, 2.0, 5.0]), np.array([1.5, 2.0, 3.0])
    assert list(row_losses(values, target, "regression", "valid_mae")) == [0.5, 0.0, 2.0]
    for metric in ("valid_rmse", "valid_r2", "valid_loss"):
        assert list(row_losses(values, target, "regression", metric)) == [0.25, 0.0, 4.0]


def test_a_lead_of_one_row_among_disagreements_is_not_clear_and_a_consistent_one_is():
    y = np.zeros(100, dtype=int)
    start = np.zeros(100, dtype=int)
    start[:3] = 1  # the start misses three rows
    noisy = np.zeros(100, dtype=int)
    noisy[2:4] = 1  # the best gets two of them right, and misses one the start got right: one row ahead
    lead = lead_over(_onehot(noisy), _onehot(start), y, "classification", "valid_acc")
    assert lead.rows == 100 and lead.gain == pytest.approx(0.01)
    assert not lead.clear  # 0.01 against a standard error of about 0.017
    lead = lead_over(_onehot(np.zeros(100, dtype=int)), _onehot(start), y, "classification", "valid_acc")
    assert lead.gain == pytest.approx(0.03) and lead.clear  # three rows ahead, none behind


def test_identical_predictions_are_no_lead_and_a_worse_best_none_either():
    y = np.linspace(0, 1, 50)
    assert not lead_over(y + 0.1, y + 0.1, y, "regression", "valid_rmse").clear
    lead = lead_over(y + 0.3, y + 0.1, y, "regression", "valid_rmse")
    assert lead.gain < 0 and not lead.clear
    assert lead_over(y + 0.1, y + 0.3, y, "regression", "valid_rmse").clear
