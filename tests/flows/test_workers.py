"""Several workers on one study, through the real flow and the real `tunaflow worker` command:
the global budget, lineage, a worker killed mid-trial, an interrupted flow resumed."""

from __future__ import annotations

import os
import signal
import socket
import time

import optuna
import pytest
from mlflow.tracking import MlflowClient

from components.spec import build_spec
from flows.automl import automl_flow
from tasks.settings import tracking_uri
from tests.conftest import tiny_spec_tree
from tests.flows.workers_util import (FINISHED, kill_group, start_cli, storage_url_for, trials, wait_for,
                                      write_spec)


def _trial_runs(client: MlflowClient, experiment_id: str, study: str) -> dict[int, object]:
    runs = client.search_runs([experiment_id], filter_string=f"tags.`tunaflow.study` = '{study}' "
                                                             "AND tags.`tunaflow.stage` = 'trial'")
    return {int(r.data.tags["tunaflow.trial"]): r for r in runs}


def test_two_worker_processes_share_one_study_and_spend_exactly_its_budget(prefect_harness):
    spec = build_spec(tiny_spec_tree(name="pair", search={"n_trials": 7, "workers": 2},
                                     train={"learning_curve": {"enabled": False}}))
    summary = automl_flow(spec)
    study = optuna.load_study(study_name="pair", storage=f"sqlite:///{os.environ['TUNAFLOW_HOME']}/optuna.db")
    assert summary["n_trials"] == 7
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 7
    workers = {t.user_attrs["tunaflow.worker"] for t in study.trials}
    assert len(workers) == 2 and all(w.endswith(("-w0", "-w1")) for w in workers)
    # both worker processes are not the flow's own
    assert all(f"-p{os.getpid()}-" not in w for w in workers)
    # lineage: the study names its flow run and MLflow runs; each trial run names study, trial, worker
    assert study.user_attrs["tunaflow.mlflow_parent_run_id"] == summary["mlflow_run_id"]
    assert study.user_attrs["tunaflow.prefect_flow_run_id"] == summary["prefect_flow_run_id"]
    client = MlflowClient(tracking_uri())
    runs = _trial_runs(client, client.get_run(summary["mlflow_run_id"]).info.experiment_id, "pair")
    assert sorted(runs) == list(range(7))
    for number, run in runs.items():
        assert run.info.status == "FINISHED"
        assert run.data.tags["tunaflow.worker"] == study.trials[number].user_attrs["tunaflow.worker"]
        assert run.data.tags["mlflow.parentRunId"] == study.user_attrs["tunaflow.mlflow_search_run_id"]
