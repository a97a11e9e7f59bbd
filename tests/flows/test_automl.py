"""The automl flow under Prefect's test harness, against a real MLflow store and Optuna storage."""

import json
import subprocess
import sys

import mlflow
import numpy as np
import optuna
import pytest
from mlflow.tracking import MlflowClient

from tunaflow.components.checks import check_experiment
from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tests.conftest import tiny_spec_tree

STAGES = {"data", "augmentation", "model", "search_space", "search", "final_training", "evaluation", "registration",
          "learning_curve"}


@pytest.fixture(scope="module")
def finished_run(prefect_harness, tmp_path_factory):
    home = tmp_path_factory.mktemp("flow-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNAFLOW_HOME", str(home))
        spec = build_spec(tiny_spec_tree(name="flow-a"))
        summary = automl_flow(spec)
        uri, storage = tracking_uri(), default_storage_url()
    return spec, summary, uri, storage


def _children(client, experiment_id, parent_id):
    return client.search_runs([experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")


def test_summary_has_the_contract_keys(finished_run):
    _, summary, _, _ = finished_run
    assert {"study", "n_trials", "best_value", "best_params", "test_metrics", "mlflow_run_id",
            "model_uri", "alias"} <= set(summary)
    assert summary["n_trials"] == 2 and summary["alias"] == "champion"
    assert summary["model_uri"] == "models:/flow-a/1"


def test_run_tree_has_a_run_per_stage_and_per_trial(finished_run):
    spec, summary, uri, _ = finished_run
    client = MlflowClient(uri)
    parent = client.get_run(summary["mlflow_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["tunaflow.study"] == "flow-a"
    assert parent.data.tags["tunaflow.prefect_flow_run_id"] == summary["prefect_flow_run_id"]
    assert "test_accuracy" in parent.data.metrics
    stages = {r.info.run_name: r for r in _children(client, parent.info.experiment_id, parent.info.run_id)}
    assert set(stages) == STAGES
    assert all(r.info.status == "FINISHED" for r in stages.values())
    trials = _children(client, parent.info.experiment_id, stages["search"].info.run_id)
    assert sorted(r.info.run_name for r in trials) == ["trial-0", "trial-1"]
    for trial in trials:
        assert "train.lr" in trial.data.params and "seed" in trial.data.params
        # every strategy in force is a param of the trial, searched or not
        assert {"train.optimizer", "train.l1", "model.activation", "train.lr_schedule.type"} <= set(trial.data.params)
        assert [m.step for m in client.get_metric_history(trial.info.run_id, "lr")] == [1, 2]
        history = client.get_metric_history(trial.info.run_id, "valid_acc")
        assert [m.step for m in history] == [1, 2]
    data_run = client.get_run(stages["data"].info.run_id)
    assert data_run.data.params["digest"] and len(data_run.inputs.dataset_inputs) == 3
    assert "confusion_matrix.png" in {a.path for a in client.list_artifacts(stages["evaluation"].info.run_id)}
    assert "plots" in {a.path for a in client.list_artifacts(stages["search"].info.run_id)}
    curve = client.get_run(stages["learning_curve"].info.run_id)
    assert curve.data.tags["tunaflow.more_data_helps"] in ("true", "false")
    assert len(client.get_metric_history(curve.info.run_id, "curve_valid_acc")) == 2
    assert "learning_curve.png" in {a.path for a in client.list_artifacts(curve.info.run_id)}


def test_study_links_back_to_mlflow_and_prefect(finished_run):
    _, summary, _, storage = finished_run
    study = optuna.load_study(study_name="flow-a", storage=storage)
    assert study.user_attrs["tunaflow.mlflow_parent_run_id"] == summary["mlflow_run_id"]
    assert study.user_attrs["tunaflow.prefect_flow_run_id"] == summary["prefect_flow_run_id"]
    assert len(study.trials) == 2


def test_alias_points_at_the_registered_version_with_signature(finished_run):
    _, summary, uri, _ = finished_run
    client = MlflowClient(uri, registry_uri=uri)
    version = client.get_model_version_by_alias("flow-a", "champion")
    assert str(version.version) == "1"
    assert version.tags["tunaflow.study"] == "flow-a"
    mlflow.set_tracking_uri(uri)
    info = mlflow.models.get_model_info(summary["model_uri"])
    assert info.signature is not None and info.signature.inputs is not None


def test_registered_model_predicts_raw_test_data_in_a_new_process(finished_run, tmp_path):
    spec, summary, uri, _ = finished_run
    splits = check_experiment(spec)
    np.save(tmp_path / "X.npy", splits.X_test)
    code = (
        "import sys, json, numpy as np, mlflow\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        f"model = mlflow.pyfunc.load_model('models:/flow-a@champion')\n"
        f"print(json.dumps(model.predict(np.load({str(tmp_path / 'X.npy')!r})).tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    predicted = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    accuracy = float((predicted == np.asarray(splits.classes)[splits.y_test]).mean())
    assert accuracy == pytest.approx(summary["test_metrics"]["accuracy"])


def test_same_spec_and_seed_replays_the_same_trials(finished_run, prefect_harness, tmp_path, monkeypatch):
    _, summary, _, storage = finished_run
    monkeypatch.setenv("TUNAFLOW_HOME", str(tmp_path / "replay"))
    replay = automl_flow(build_spec(tiny_spec_tree(name="flow-a")))
    first = optuna.load_study(study_name="flow-a", storage=storage).trials
    second = optuna.load_study(study_name="flow-a", storage=default_storage_url()).trials
    assert [t.params for t in first] == [t.params for t in second]
    assert replay["best_value"] == summary["best_value"]
    assert replay["best_params"] == summary["best_params"]
