"""Search features through the real flow: several objectives, warm starts, reports."""

import json

import optuna
import pytest
from mlflow.tracking import MlflowClient

from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tests.conftest import tiny_spec_tree

SPACE = {"train.lr": {"type": "float", "low": 1e-3, "high": 3e-2, "log": True},
         "model.units.0": {"type": "int", "low": 8, "high": 64}}


def _search_run(client, summary):
    parent = client.get_run(summary["mlflow_run_id"])
    runs = client.search_runs([parent.info.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    return next(r for r in runs if r.info.run_name == "search")


def test_multi_objective_study_logs_its_pareto_front_and_reports(prefect_harness):
    spec = build_spec(tiny_spec_tree(name="pareto", search={
        "n_trials": 5, "sampler": "nsga2", "pruner": "none", "selection": "knee", "space": SPACE,
        "objectives": [{"metric": "valid_acc"}, {"metric": "n_params"}]}, train={"learning_curve": {"enabled": False}}))
    summary = automl_flow(spec)
    assert len(summary["best_values"]) == 2 and summary["pareto_front_size"] >= 1
    client = MlflowClient(tracking_uri())
    search = _search_run(client, summary)
    artifacts = {a.path for a in client.list_artifacts(search.info.run_id, "plots")}
    assert {"plots/pareto_front.png", "plots/optimization_history.png", "plots/parallel_coordinate.png",
            "plots/slice.png", "plots/parallel_coordinate.html"} <= artifacts
    chosen = json.loads(open(client.download_artifacts(search.info.run_id, "best_trial.json")).read())
    assert chosen["chosen"]["rule"] == "knee"
    assert chosen["chosen"]["trial"] in [p["trial"] for p in chosen["pareto_front"]]
    study = optuna.load_study(study_name="pareto", storage=default_storage_url())
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as prefect:
        artifacts = prefect.read_artifacts()
    markdown = [a for a in artifacts if a.key == "study-pareto"]
    assert markdown and "Pareto front" in markdown[0].data and "pruned" in markdown[0].data


def test_warm_start_enqueues_given_params_an_earlier_study_and_the_champion(prefect_harness):
    first = automl_flow(build_spec(tiny_spec_tree(name="warm-a", search={"n_trials": 3, "space": SPACE},
                                                  train={"learning_curve": {"enabled": False}})))
    given = {"train.lr": 0.02, "model.units.0": 40}
    spec = build_spec(tiny_spec_tree(name="warm-b", search={"n_trials": 5, "space": SPACE, "warm_start": {
        "params": [given], "from_study": "warm-a", "top_k": 1, "from_model": "models:/warm-a@champion"}},
        train={"learning_curve": {"enabled": False}}))
    automl_flow(spec)
    trials = optuna.load_study(study_name="warm-b", storage=default_storage_url()).trials
    assert trials[0].params == given
    assert trials[1].params == first["best_params"]  # the earlier study's best
    # the champion's parameters are the same set: enqueued once only
    assert trials[2].params != first["best_params"]


def test_the_study_can_live_in_postgresql(prefect_harness, postgres_url):
    spec = build_spec(tiny_spec_tree(name="in-postgres", search={"storage": postgres_url, "n_trials": 2},
                                     train={"learning_curve": {"enabled": False}}))
    summary = automl_flow(spec)
    study = optuna.load_study(study_name="in-postgres", storage=postgres_url)
    assert len(study.trials) == 2
    assert study.user_attrs["tunaflow.mlflow_parent_run_id"] == summary["mlflow_run_id"]


def test_kfold_trials_report_per_epoch_to_the_pruner_and_log_each_fold(prefect_harness):
    spec = build_spec(tiny_spec_tree(name="kfold-hb", search={
        "n_trials": 4, "pruner": "hyperband", "space": SPACE, "validation": {"scheme": "kfold", "folds": 3}},
        train={"epochs": 4, "early_stopping": {"enabled": False}, "learning_curve": {"enabled": False}}))
    summary = automl_flow(spec)
    study = optuna.load_study(study_name="kfold-hb", storage=default_storage_url())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # the pruner saw the fold mean after every epoch, not one report per fold
    assert complete and all(sorted(t.intermediate_values) == [1, 2, 3, 4] for t in complete)
    assert complete[0].intermediate_values[4] == pytest.approx(complete[0].value)
    client = MlflowClient(tracking_uri())
    trial_run = client.search_runs([client.get_run(summary["mlflow_run_id"]).info.experiment_id],
                                   filter_string=f"tags.`tunaflow.study` = 'kfold-hb' AND tags.`tunaflow.trial` = "
                                                 f"'{complete[0].number}'")[0]
    assert [m.step for m in client.get_metric_history(trial_run.info.run_id, "valid_acc")] == [1, 2, 3, 4]
    assert len(client.get_metric_history(trial_run.info.run_id, "fold_valid_acc")) == 3
