"""A worker whose running trial another worker failed as stale goes on searching."""

import logging

import optuna

from tunaflow.tasks.worker import _optimize_once


def test_a_trial_failed_by_another_worker_while_running_is_dropped_not_fatal(caplog):
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage)

    def objective(trial):
        # what a surviving worker does to a trial it saw no heartbeat from (through the storage:
        # the trial's storage id is found by the study's name and the trial's number)
        study_id = storage.get_study_id_from_name(study.study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)
        return 1.0

    with caplog.at_level(logging.WARNING):
        _optimize_once(study, objective, [], heartbeat=10, log=logging.getLogger("tunaflow.test"))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]
    assert "failed by another one after 30 s without a heartbeat" in caplog.text
    # the next trial runs as usual
    _optimize_once(study, lambda trial: 2.0, [], heartbeat=10, log=logging.getLogger("tunaflow.test"))
    assert study.trials[-1].value == 2.0
