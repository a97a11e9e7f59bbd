"""The per-trial progress line."""

import logging

import optuna

from tunaflow.tasks.optuna.objective import progress_callback


def test_a_pruned_trial_is_labelled_pruned_not_given_its_last_value(caplog):
    study = optuna.create_study(direction="maximize")
    callback = progress_callback(2, False, logging.getLogger("progress-test"))
    pruned = study.ask()
    pruned.report(0.5, 1)
    pruned.report(0.625, 2)
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    complete = study.ask()
    study.tell(complete, 0.875)
    with caplog.at_level(logging.INFO, logger="progress-test"):
        for trial in study.trials:
            callback(study, trial)
    first, second = [r.getMessage() for r in caplog.records if r.name == "progress-test"]
    assert "#0: pruned at epoch 2" in first and "0.625" not in first
    assert "#1:   0.8750  best 0.8750 (trial 1)" in second and "pruned" not in second
