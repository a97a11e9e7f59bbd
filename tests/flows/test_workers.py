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

from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.tasks.settings import tracking_uri
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
        assert "seed" in run.data.params and "value" in run.data.metrics  # logged to the flow's store
        assert run.data.tags["tunaflow.worker"] == study.trials[number].user_attrs["tunaflow.worker"]
        assert run.data.tags["mlflow.parentRunId"] == study.user_attrs["tunaflow.mlflow_search_run_id"]


def _start_study(name: str, url: str, **search) -> dict:
    """The study as `tunaflow run` leaves it: created, lineage recorded, one trial done."""
    return automl_flow(build_spec(tiny_spec_tree(
        name=name, train={"epochs": 40, "learning_curve": {"enabled": False}},
        search={"n_trials": 1, "storage": url, "heartbeat": 1, **search})))


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_a_worker_killed_mid_trial_loses_nothing_and_the_study_reaches_its_budget(
        backend, prefect_harness, tunaflow_home, tmp_path, request):
    url = storage_url_for(backend, tunaflow_home, request)
    summary = _start_study("killed", url)
    spec = write_spec(tmp_path, name="killed", train={"epochs": 40, "learning_curve": {"enabled": False}},
                      search={"n_trials": 1, "storage": url, "heartbeat": 1})
    budget = ["--set", "search.n_trials=6"]
    victim = start_cli("worker", spec, *budget, log=tmp_path / "victim.log")
    survivor = start_cli("worker", spec, *budget, log=tmp_path / "survivor.log")
    try:
        client = MlflowClient(tracking_uri())
        experiment = client.get_run(summary["mlflow_run_id"]).info.experiment_id
        # `tunaflow worker` runs trials in its own process, named in the trial's worker attribute
        victim_name = f"{socket.gethostname()}-p{victim.pid}"

        def victim_mid_trial():
            for t in trials("killed", url):
                # mid-trial: its configuration already sampled, which the retry must repeat
                if t.state.name == "RUNNING" and t.params and t.user_attrs.get("tunaflow.worker") == victim_name:
                    run = _trial_runs(client, experiment, "killed").get(t.number)
                    if run is not None and run.info.status == "RUNNING":
                        return t
            return None

        doomed = wait_for(victim_mid_trial, 240, "the victim worker to be mid-trial", every=0.05)
        before = {t.number: (t.params, t.values) for t in trials("killed", url) if t.state in FINISHED}
        killed_at = time.time()
        os.kill(victim.pid, signal.SIGKILL)
        kill_group(victim)
        assert survivor.wait(300) == 0, (tmp_path / "survivor.log").read_text()[-3000:]
    finally:
        kill_group(victim)
        kill_group(survivor)
    after = trials("killed", url)
    by_number = {t.number: t for t in after}
    assert by_number[doomed.number].state.name == "FAIL"
    retries = [t for t in after if t.system_attrs.get("failed_trial") == doomed.number]
    assert len(retries) == 1 and retries[0].state in FINISHED and retries[0].params == doomed.params
    # failed while the survivor still worked (its retry ran after), not when the study ended
    assert killed_at <= by_number[doomed.number].datetime_complete.timestamp() <= retries[0].datetime_start.timestamp()
    assert sum(t.state in FINISHED for t in after) == 6 and not any(t.state.name == "RUNNING" for t in after)
    assert {n: (by_number[n].params, by_number[n].values) for n in before} == before
    run = _trial_runs(client, experiment, "killed")[doomed.number]
    assert run.info.status == "FAILED" and run.data.tags["tunaflow.trial_state"] == "FAIL", \
        (run.info, run.data.tags, (tmp_path / "survivor.log").read_text()[-4000:])



@pytest.mark.slow
def test_an_interrupted_flow_run_again_resumes_its_study_within_budget(tmp_path, tunaflow_home):
    """`tunaflow run` with two workers, SIGKILLed whole mid-search, then the same command again."""
    spec = write_spec(tmp_path, name="resumed", train={"epochs": 40, "learning_curve": {"enabled": False}},
                      search={"n_trials": 6, "workers": 2, "heartbeat": 1})
    url = f"sqlite:///{tunaflow_home / 'optuna.db'}"
    first = start_cli("run", spec, log=tmp_path / "first.log")
    try:
        wait_for(lambda: sum(t.state in FINISHED for t in trials("resumed", url)) >= 2
                 and any(t.state.name == "RUNNING" for t in trials("resumed", url)), 300, "two finished trials")
        kill_group(first)
    finally:
        kill_group(first)
    before = {t.number: (t.params, t.values) for t in trials("resumed", url) if t.state in FINISHED}
    assert 2 <= len(before) < 6
    again = start_cli("run", spec, "--json", log=tmp_path / "again.log")
    try:
        assert again.wait(400) == 0, (tmp_path / "again.log").read_text()[-3000:]
    finally:
        kill_group(again)
    after = trials("resumed", url)
    assert sum(t.state in FINISHED for t in after) == 6 and not any(t.state.name == "RUNNING" for t in after)
    assert {n: (after[n].params, after[n].values) for n in before} == before
    # the interrupted run's trials were failed, and their MLflow runs with them
    client = MlflowClient(tracking_uri())
    experiment = client.get_experiment_by_name("resumed").experiment_id
    runs = _trial_runs(client, experiment, "resumed")
    assert not [n for n, r in runs.items() if r.info.status == "RUNNING"]
    assert all(runs[t.number].info.status == "FAILED" for t in after if t.state.name == "FAIL" and t.number in runs)


def test_workers_fan_out_on_a_dask_cluster_given_its_scheduler_address(prefect_harness, tunaflow_home):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dask_pids = set(client.run(os.getpid).values())
        spec = build_spec(tiny_spec_tree(name="on-dask", train={"learning_curve": {"enabled": False}},
                                         search={"n_trials": 5, "workers": 2, "cluster": cluster.scheduler_address}))
        summary = automl_flow(spec)
    study = optuna.load_study(study_name="on-dask", storage=f"sqlite:///{tunaflow_home / 'optuna.db'}")
    assert summary["n_trials"] == 5 and sum(t.state in FINISHED for t in study.trials) == 5
    pids = {int(t.user_attrs["tunaflow.worker"].split("-p")[-1].split("-")[0]) for t in study.trials}
    assert pids <= dask_pids and len(pids) == 2  # trials ran in both Dask worker processes
    # the Dask workers, started before the flow, still logged to the flow's tracking store
    client = MlflowClient(tracking_uri())
    runs = _trial_runs(client, client.get_run(summary["mlflow_run_id"]).info.experiment_id, "on-dask")
    assert sorted(runs) == list(range(5)) and all("value" in r.data.metrics for r in runs.values())


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_workers_run_two_hundred_trials_with_no_storage_error(backend, tmp_path, tunaflow_home, request):
    """`tunaflow run` with 8 worker processes and near-free trials: the storage is the bottleneck."""
    url = storage_url_for(backend, tunaflow_home, request)
    spec = write_spec(tmp_path, name="crowd", data={"source": "iris"}, model={"units": [4]},
                      train={"epochs": 1, "early_stopping": {"enabled": False}, "learning_curve": {"enabled": False}},
                      search={"n_trials": 200, "workers": 8, "storage": url, "pruner": "none", "sampler": "random"})
    proc = start_cli("run", spec, log=tmp_path / "run.log")
    try:
        assert proc.wait(900) == 0, (tmp_path / "run.log").read_text()[-3000:]
    finally:
        kill_group(proc)
    console = (tmp_path / "run.log").read_text()
    for sign in ("locked", "OperationalError", "Traceback", "| ERROR", "| WARNING"):
        assert sign not in console, console[console.index(sign) - 2000:][:4000]
    after = trials("crowd", url)
    assert len(after) == 200 and all(t.state.name == "COMPLETE" for t in after)
    assert len({t.user_attrs["tunaflow.worker"] for t in after}) == 8


@pytest.mark.slow
def test_a_pool_worker_killed_mid_trial_does_not_stop_the_flow(prefect_harness, tunaflow_home):
    """SIGKILL one of the flow's own worker processes: its trial fails and is retried, the budget is met."""
    import threading

    url = f"sqlite:///{tunaflow_home / 'optuna.db'}"
    killed: list = []

    def kill_one_mid_trial():
        def running():
            return next((t for t in trials("pool-kill", url) if t.state.name == "RUNNING"
                         and "tunaflow.worker" in t.user_attrs), None)
        trial = wait_for(running, 300, "a running trial", every=0.05)
        os.kill(int(trial.user_attrs["tunaflow.worker"].split("-p")[-1].split("-")[0]), signal.SIGKILL)
        killed.append(trial)

    killer = threading.Thread(target=kill_one_mid_trial, daemon=True)
    killer.start()
    summary = automl_flow(build_spec(tiny_spec_tree(
        name="pool-kill", train={"epochs": 40, "learning_curve": {"enabled": False}},
        search={"n_trials": 5, "workers": 2, "heartbeat": 1})))
    killer.join(5)
    assert killed and summary["n_trials"] == 5
    after = {t.number: t for t in trials("pool-kill", url)}
    assert after[killed[0].number].state.name == "FAIL"
    assert sum(t.state in FINISHED for t in after.values()) == 5
    assert not any(t.state.name == "RUNNING" for t in after.values())
    assert any(t.system_attrs.get("failed_trial") == killed[0].number for t in after.values())
