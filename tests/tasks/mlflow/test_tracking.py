"""Where the embedded MLflow store puts artifacts; trial runs a killed process left RUNNING."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from tunaflow.tasks.mlflow.tracking import TrackingContext, ensure_experiment, use_tracking_store
from tunaflow.tasks.mlflow.trial_runs import end_trial_runs


def test_embedded_store_keeps_artifacts_under_tunaflow_home(tunaflow_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's own default would be ./mlruns here
    use_tracking_store()  # exports MLFLOW_TRACKING_URI, as every run does
    first, second = ensure_experiment("first"), ensure_experiment("second")
    for experiment_id in (first, second):
        location = MlflowClient().get_experiment(experiment_id).artifact_location
        assert location.startswith((tunaflow_home / "artifacts").as_uri()), location
    assert not (Path(tmp_path) / "mlruns").exists()


def test_trial_runs_left_running_are_ended_with_their_trials_state(tunaflow_home):
    uri = use_tracking_store()
    experiment = ensure_experiment("orphans")
    client = MlflowClient(uri)
    runs = {number: client.create_run(experiment, tags={"tunaflow.study": "orphans", "tunaflow.stage": "trial",
                                                         "tunaflow.trial": str(number)}).info.run_id
            for number in range(3)}
    # trial 0 finished in the study before its process died, trial 1 failed, trial 2 still runs
    ctx = TrackingContext(uri, experiment, parent_run_id="")
    assert end_trial_runs(ctx, "orphans", {0: "COMPLETE", 1: "FAIL"}) == 2
    ended = {number: client.get_run(run_id) for number, run_id in runs.items()}
    assert ended[0].info.status == "KILLED" and ended[0].data.tags["tunaflow.trial_state"] == "COMPLETE"
    assert ended[1].info.status == "FAILED" and ended[1].data.tags["tunaflow.trial_state"] == "FAIL"
    assert ended[2].info.status == "RUNNING"
    assert end_trial_runs(ctx, "orphans", {0: "COMPLETE"}) == 0  # ended once



def test_runs_of_a_dead_process_end_killed_but_its_trial_runs_end_with_their_trials(tunaflow_home):
    import subprocess
    import sys

    from tunaflow.components.processes import process_identity
    from tunaflow.tasks.mlflow.dead_runs import end_dead_runs

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    dead = process_identity(child.pid)
    child.kill()
    child.wait()
    uri = use_tracking_store()
    experiment = ensure_experiment("dead")
    client = MlflowClient(uri)
    tags = {"tunaflow.owner": dead, "tunaflow.study": "dead"}
    search = client.create_run(experiment, tags={**tags, "tunaflow.stage": "search"}).info.run_id
    trial = client.create_run(experiment, tags={**tags, "tunaflow.stage": "trial", "tunaflow.trial": "4"}).info.run_id
    assert end_dead_runs(uri, experiment) == 1
    assert client.get_run(search).info.status == "KILLED"
    # the dead worker's trial, failed in the study by whoever finds it, ends its run FAILED
    assert client.get_run(trial).info.status == "RUNNING"
    assert end_trial_runs(TrackingContext(uri, experiment, parent_run_id=""), "dead", {4: "FAIL"}) == 1
    assert client.get_run(trial).info.status == "FAILED"
