"""The study's report drawn in a process of its own while the final model trains (issue 20)."""

import pytest
import torch
from mlflow.tracking import MlflowClient

from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.tasks import search_report
from tunaflow.tasks.settings import tracking_uri
from tests.conftest import tiny_spec_tree

SPACE = {"train.lr": {"type": "float", "low": 1e-3, "high": 3e-2, "log": True}}


def _runs(client, summary):
    parent = client.get_run(summary["mlflow_run_id"])
    runs = client.search_runs([parent.info.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    return {r.info.run_name: r for r in runs}


def test_the_report_beside_the_final_training_logs_plots_and_ends_the_search_run(prefect_harness, monkeypatch):
    monkeypatch.setattr(search_report, "REPORT_PROCESS_SECONDS", 0.0)  # every final training counts as long
    drawn = []
    real = search_report.draw_in_process
    monkeypatch.setattr(search_report, "draw_in_process", lambda arguments: drawn.append(1) or real(arguments))
    threads = torch.get_num_threads()
    spec = build_spec(tiny_spec_tree(name="beside", search={"n_trials": 4, "space": SPACE},
                                     train={"learning_curve": {"enabled": False}}))
    summary = automl_flow(spec)
    assert drawn == [1]
    assert torch.get_num_threads() == threads  # the core left to the report is given back
    client = MlflowClient(tracking_uri())
    search = _runs(client, summary)["search"]
    assert search.info.status == "FINISHED"
    assert {"plots/optimization_history.png", "plots/param_importances.png"} <= {
        a.path for a in client.list_artifacts(search.info.run_id, "plots")}
    assert "leaderboard.json" in {a.path for a in client.list_artifacts(search.info.run_id)}
    assert search.data.metrics["n_trials"] == 4

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as prefect:
        keys = {a.key for a in prefect.read_artifacts()}
    assert {"study-beside", "leaderboard-beside"} <= keys


def test_a_failing_report_fails_the_run_and_its_search_run(prefect_harness, monkeypatch):
    monkeypatch.setattr(search_report, "REPORT_PROCESS_SECONDS", 0.0)

    def broken(arguments):
        raise RuntimeError("the study report failed (exit 1): boom")

    monkeypatch.setattr(search_report, "draw_in_process", broken)
    spec = build_spec(tiny_spec_tree(name="beside-fails", search={"n_trials": 2, "space": SPACE},
                                     train={"learning_curve": {"enabled": False}}))
    with pytest.raises(RuntimeError, match="study report failed"):
        automl_flow(spec)
    client = MlflowClient(tracking_uri())
    experiment = client.get_experiment_by_name(spec.experiment_name)
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert runs["search"].info.status == "FAILED"
    assert runs["final_training"].info.status == "FINISHED"  # the training ran to its end beside it


def test_a_short_final_training_gets_the_report_before_it(monkeypatch):
    from tunaflow.tasks.search import SearchResult

    result = SearchResult(study="s", n_trials=1, best_value=1.0, best_params={}, best_epoch=1, best_trial=0,
                          search_run_id="r", best_seconds=search_report.REPORT_PROCESS_SECONDS / 2)
    assert not search_report.report_beside(result)
    result.best_seconds = search_report.REPORT_PROCESS_SECONDS * 2
    assert search_report.report_beside(result)
