"""A worker whose running trial another worker failed as stale goes on searching."""

import logging

import optuna

from tunaflow.tasks.worker import _optimize_once


def test_a_trial_failed_by_another_worker_while_running_is_dropped_not_fatal(caplog):
    study = optuna.create_study()

    def objective(trial):
        # what a surviving worker does to a trial it saw no heartbeat from
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        return 1.0

    with caplog.at_level(logging.WARNING):
        _optimize_once(study, objective, [], heartbeat=10, log=logging.getLogger("tunaflow.test"))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]
    assert "failed by another one after 30 s without a heartbeat" in caplog.text
    # the next trial runs as usual
    _optimize_once(study, lambda trial: 2.0, [], heartbeat=10, log=logging.getLogger("tunaflow.test"))
    assert study.trials[-1].value == 2.0
