"""Trials of dead workers and orphans are failed through the storage's public lookups (the
FrozenTrial's own storage id is private), and only those: a live worker's trial keeps running."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import optuna
from optuna.trial import TrialState

from tunaflow.tasks import tags as keys
from tunaflow.tasks.optuna.dead_trials import fail_dead_trials


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_dead_workers_and_orphans_fail_and_a_live_worker_keeps_running(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}")
    optuna.create_study(study_name="other", storage=storage).ask()  # ids differ from numbers
    study = optuna.create_study(study_name="dead", storage=storage)
    host = socket.gethostname()
    alive, dead, orphan = study.ask(), study.ask(), study.ask()
    alive.set_user_attr(keys.WORKER, f"{host}-p{os.getpid()}")
    dead.set_user_attr(keys.WORKER, f"{host}-p{_dead_pid()}-w1")
    seen = []

    numbers = fail_dead_trials(study, storage, lambda s, t: seen.append(t), orphan_after=0)

    assert sorted(numbers) == [dead.number, orphan.number]
    assert [t.number for t in seen] == [dead.number]  # only the dead worker's trial is handed on
    assert seen[0].state == TrialState.FAIL
    states = {t.number: t.state for t in study.get_trials()}
    assert states == {alive.number: TrialState.RUNNING, dead.number: TrialState.FAIL,
                      orphan.number: TrialState.FAIL}
    assert fail_dead_trials(study, storage, lambda s, t: seen.append(t), orphan_after=0) == []
