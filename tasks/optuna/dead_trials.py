"""Trials whose worker process is gone, failed at once instead of after the heartbeat's grace.

A worker killed outright leaves its trial RUNNING. Optuna fails it once its heartbeat is
three beats stale; the next run or worker on the study does not wait for that when the
trial's worker (``tunaflow.worker``: ``host-pPID``) is a process of this host that no longer
exists. What happens to a failed trial (retried once, its MLflow run ended) is the caller's.
"""

from __future__ import annotations

import copy
from typing import Callable

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from tunaflow.components.processes import worker_is_dead
from tunaflow.tasks import tags as keys


def fail_dead_trials(study: optuna.Study, storage: optuna.storages.BaseStorage,
                     on_failed: Callable[[optuna.Study, FrozenTrial], None] | None = None) -> list[int]:
    """FAIL the study's RUNNING trials of dead workers of this host; their numbers."""
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not worker_is_dead(trial.user_attrs.get(keys.WORKER, "")):
            continue
        try:
            if storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                failed.append(trial._trial_id)
        except UpdateFinishedTrialError:  # another process got there first: it handles the trial
            pass
    numbers = []
    for trial_id in failed:
        trial = copy.deepcopy(storage.get_trial(trial_id))
        numbers.append(trial.number)
        if on_failed is not None:
            on_failed(study, trial)
    return numbers
