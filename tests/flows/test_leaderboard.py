"""One tiny run end to end: no configuration trained twice, and the leaderboard logged and printed."""

import json

import optuna
import yaml
from mlflow.tracking import MlflowClient

from tunaflow.cli import main
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tests.conftest import tiny_spec_tree


def test_a_two_choice_space_trains_two_configurations_and_the_run_prints_and_logs_its_leaderboard(
        prefect_harness, tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_spec_tree(
        name="board", train={"learning_curve": {"enabled": False}},
        search={"n_trials": 5, "space": {"model.units.0": {"type": "categorical", "choices": [16, 32]}}})))
    assert main(["run", str(spec), "--json"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])

    study = optuna.load_study(study_name="board", storage=default_storage_url())
    trained = [t for t in study.trials if "duplicate_of" not in t.user_attrs]
    assert sorted(t.params["model.units.0"] for t in trained) == [16, 32]  # each configuration once
    assert summary["n_trials"] == 2 and summary["best_params"]["model.units.0"] in (16, 32)

    [row] = summary["leaderboard"]  # one family: a one-row board
    assert row["family"] == "mlp" and row["trials"] == 2 and row["metric"] == "valid_acc"
    assert row["best_value"] == summary["best_value"] and row["best_trial"] == study.best_trial.number
    assert row["seconds"] > 0 and row["test_metric"] == "accuracy" and 0 < row["test_score"] <= 1
    printed = out[out.index("leaderboard (model families, best first)"):].splitlines()
    assert printed[1].split()[:3] == ["family", "trials", "pruned"] and printed[2].split()[:2] == ["mlp", "2"]

    client = MlflowClient(tracking_uri())
    parent = client.get_run(summary["mlflow_run_id"])
    [search] = client.search_runs([parent.info.experiment_id], filter_string=(
        f"tags.mlflow.parentRunId = '{parent.info.run_id}' AND tags.`tunaflow.stage` = 'search'"))
    table = json.loads(open(client.download_artifacts(search.info.run_id, "leaderboard.json")).read())
    assert "family" in table["columns"] and table["data"][0][table["columns"].index("family")] == "mlp"
    trial_runs = client.search_runs([parent.info.experiment_id], filter_string=(
        "tags.`tunaflow.study` = 'board' AND tags.`tunaflow.stage` = 'trial'"))
    assert sum("tunaflow.duplicate_of" not in r.data.tags for r in trial_runs) == 2

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as prefect:
        artifacts = prefect.read_artifacts()
    tables = [a for a in artifacts if a.key == "leaderboard-board"]
    assert tables and tables[0].type == "table" and "mlp" in str(tables[0].data)
    # and the run's summary shows the board
    assert any(a.key == "automl-summary" and "# board" in a.data and "| mlp | 2 | 0 |" in a.data for a in artifacts)
