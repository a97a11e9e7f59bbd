"""Trials whose worker process is gone, failed at once instead of after the heartbeat's grace.

A worker killed outright leaves its trial RUNNING. Optuna fails it once its heartbeat is
three beats stale; the next run or worker on the study does not wait for that when the
trial's worker (``tunaflow.worker``: ``host-pPID``) is a process of this host that no longer
exists. What happens to a failed trial (retried once, its MLflow run ended) is the caller's.

A worker killed between creating its trial and naming itself on it (both under the study's
lock, milliseconds apart) leaves a trial that never beat: Optuna never finds it stale, and
the budget waits for it forever. Such an orphan, older than the heartbeat's grace, is failed
too; nothing was evaluated, so nothing is retried.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Callable

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from tunaflow.components.processes import worker_is_dead
from tunaflow.tasks import tags as keys


def _orphaned(trial: FrozenTrial, grace: float | None) -> bool:
    if grace is None or keys.WORKER in trial.user_attrs or trial.datetime_start is None:
        return False
    return datetime.now() - trial.datetime_start > timedelta(seconds=grace)


def _fail(storage: optuna.storages.BaseStorage, trial_id: int) -> bool:
    try:
        return storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:  # another process got there first: it handles the trial
        return False


def fail_dead_trials(study: optuna.Study, storage: optuna.storages.BaseStorage,
                     on_failed: Callable[[optuna.Study, FrozenTrial], None] | None = None,
                     orphan_after: float | None = None) -> list[int]:
    """FAIL the study's RUNNING trials of dead workers of this host (then ``on_failed``), and
    those no worker named within ``orphan_after`` seconds; their numbers."""
    failed, numbers = [], []
    # a FrozenTrial's storage id is private (_trial_id): the storage's public lookups give it
    study_id = None
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        orphaned = _orphaned(trial, orphan_after)
        if not orphaned and not worker_is_dead(trial.user_attrs.get(keys.WORKER, "")):
            continue
        if study_id is None:
            study_id = storage.get_study_id_from_name(study.study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        if not _fail(storage, trial_id):
            continue
        if orphaned:
            numbers.append(trial.number)
        else:
            failed.append(trial_id)
    for trial_id in failed:
        trial = copy.deepcopy(storage.get_trial(trial_id))
        numbers.append(trial.number)
        if on_failed is not None:
            on_failed(study, trial)
    return numbers
