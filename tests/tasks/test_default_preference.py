"""Which trial a study registers: its best, or the start (a family's default) it does not clearly beat."""

import logging

import numpy as np
import optuna

from tunaflow.components.out_of_sample import encode_predictions, study_targets
from tunaflow.components.spec import build_spec
from tunaflow.tasks.default_preference import ENQUEUED, prefer_start
from tunaflow.tasks.optuna.objective import PREDICTIONS
from tests.components.synthetic_splits import table_splits
from tests.conftest import tiny_spec_tree

SPLITS = table_splits(n=300)  # holdout: the trials predicted the 60 validation rows


def _proba(wrong: list[int]) -> np.ndarray:
    """Confident probabilities of the true classes of the validation rows, but for the rows ``wrong``."""
    y = study_targets(SPLITS, build_spec(tiny_spec_tree()))
    labels = y.copy()
    labels[wrong] = (labels[wrong] + 1) % 3
    return np.eye(3)[labels] * 0.7 + 0.1


def _study(best_wrong: list[int]) -> optuna.Study:
    """Two enqueued starts (logreg's default misses rows 0-2, rf's rows 0-5), a tuned trial between them,
    and the best trial, which misses ``best_wrong``."""
    study = optuna.create_study(direction="maximize")
    for family, wrong, enqueued in (("logreg", [0, 1, 2], True), ("rf", list(range(6)), True),
                                    ("rf", [0, 1, 2, 3], False), ("hgb", best_wrong, False)):
        study.add_trial(optuna.trial.create_trial(
            value=1 - len(wrong) / 60, params={}, distributions={},
            system_attrs={ENQUEUED: {"model.family": family}} if enqueued else {},
            user_attrs={"family": family, PREDICTIONS: encode_predictions(_proba(wrong))}))
    return study


def _choose(study: optuna.Study, caplog, **search) -> int:
    spec = build_spec(tiny_spec_tree(search=search))
    with caplog.at_level(logging.INFO):
        return prefer_start(study, spec, study.best_trial, SPLITS, logging.getLogger("test")).number


def test_a_best_trial_one_row_ahead_of_the_best_default_gives_way_to_it(caplog):
    study = _study(best_wrong=[0, 7])  # two of the default's misses right, one new miss: a row ahead
    assert study.best_trial.number == 3
    assert _choose(study, caplog) == 0  # logreg's default, the better of the two starts
    assert "start #0 (logreg) is chosen" in caplog.text and "60 out-of-sample rows" in caplog.text


def test_a_best_trial_clearly_ahead_is_kept_and_the_switch_turns_the_rule_off(caplog):
    assert _choose(_study(best_wrong=[]), caplog) == 3  # three rows ahead, none behind
    assert "the best trial is kept" in caplog.text
    assert _choose(_study(best_wrong=[0, 7]), caplog, prefer_start=False) == 3


def test_without_stored_predictions_or_starts_the_best_trial_stands(caplog):
    study = optuna.create_study(direction="maximize")
    for value, enqueued in ((0.8, True), (0.9, False)):
        study.add_trial(optuna.trial.create_trial(value=value, params={}, distributions={},
                                                  system_attrs={ENQUEUED: {}} if enqueued else {}))
    assert _choose(study, caplog) == 1
