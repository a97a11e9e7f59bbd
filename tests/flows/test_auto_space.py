"""A minimal spec through the flow: the resolved space is logged, each family's default runs
first, and the study is fingerprinted by the resolved spec (the API's check agrees)."""

import json
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from tunaflow import api
from tunaflow.components.checks import prepare_experiment
from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tunaflow.tasks import tags as keys

MINIMAL = {"name": "auto-iris", "data": {"source": "iris"}, "train": {"epochs": 2},
           "search": {"n_trials": 5, "pruner": "none"}}


@pytest.fixture(scope="module")
def auto_run(prefect_harness, tmp_path_factory):
    home = tmp_path_factory.mktemp("auto-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNAFLOW_HOME", str(home))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        spec = build_spec(MINIMAL)  # unresolved: the flow resolves it after loading the data
        summary = automl_flow(spec)
        uri, storage = tracking_uri(), default_storage_url()
        study = optuna.load_study(study_name="auto-iris", storage=storage)
        # the API's check (a resume) accepts the study the flow made
        checked = api.validate(MINIMAL)
    return spec, summary, uri, study, checked


def test_the_space_stage_logs_the_resolved_space(auto_run):
    _, summary, uri, _, _ = auto_run
    client = MlflowClient(uri)
    parent = client.get_run(summary["mlflow_run_id"])
    stage = client.search_runs([parent.info.experiment_id],
                               filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}' "
                                             "and attributes.run_name = 'search_space'")[0]
    logged = json.loads(Path(client.download_artifacts(stage.info.run_id, "search_space.json")).read_text())
    assert logged["model.family"]["choices"] == ["hgb", "rf", "logreg", "svc", "mlp"]
    assert "model.learning_rate" in logged["model.family"]["branches"]["hgb"]
    assert stage.data.params["task"] == "classification" and stage.data.params["family"] == "auto"
    assert stage.data.params["n_trials"] == "5" and stage.data.params["default_space"] == "True"


def test_each_family_default_runs_first(auto_run):
    _, summary, _, study, _ = auto_run
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    assert [t.params["model.family"] for t in trials] == ["hgb", "rf", "logreg", "svc", "mlp"]
    assert trials[0].params["model.learning_rate"] == 0.1 and trials[0].params["model.max_iter"] == 100
    assert trials[1].params["model.max_depth"] is None and trials[1].params["model.max_features"] == "sqrt"
    assert trials[3].params == {"model.family": "svc", "model.C": 1.0, "model.gamma": "scale"}
    assert summary["n_trials"] == 5 and summary["best_params"]["model.family"] in {"hgb", "rf", "logreg", "svc",
                                                                                  "mlp"}


def test_the_study_is_fingerprinted_by_the_resolved_spec(auto_run):
    spec, _, _, study, checked = auto_run
    resolved, _ = prepare_experiment(spec)
    assert study.user_attrs[keys.SPEC_DIGEST] == resolved.study_digest() == checked.study_digest()
    assert checked == resolved and checked.search.metric == "valid_acc"
