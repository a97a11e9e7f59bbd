"""Multi-machine state: the study in PostgreSQL, MLflow on a real tracking server backed by
PostgreSQL, two workers; and no password of either URL anywhere a user or tool can read."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess

import optuna
from mlflow.tracking import MlflowClient

from tests.flows.workers_util import FINISHED, start_cli, write_spec
from tests.servers import mlflow_server  # noqa: F401  (fixture)

PASSWORD = "pw-7Hq2-never-shown"


def _pg_dump(database: str) -> str:
    return subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--data-only", database],
                          capture_output=True, text=True, check=True).stdout


def test_a_distributed_run_on_servers_keeps_lineage_and_never_shows_a_password(
        mlflow_server, postgres_url, tmp_path, tunaflow_home, monkeypatch):
    # PostgreSQL trusts local connections here, so the passwords are carried but never checked
    storage = postgres_url.replace("postgres@", f"postgres:{PASSWORD}@")
    tracking = mlflow_server["url"].replace("http://", f"http://tuna:{PASSWORD}@")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    spec = write_spec(tmp_path, name="served", train={"learning_curve": {"enabled": False}},
                      search={"n_trials": 4, "workers": 2, "storage": storage})
    proc = start_cli("run", spec, "--json", log=tmp_path / "run.log")
    assert proc.wait(600) == 0, (tmp_path / "run.log").read_text()[-3000:]
    console = (tmp_path / "run.log").read_text()
    summary = json.loads(console.strip().splitlines()[-1])

    study = optuna.load_study(study_name="served", storage=postgres_url)
    assert sum(t.state in FINISHED for t in study.trials) == 4 and len(study.trials) == 4
    assert len({t.user_attrs["tunaflow.worker"] for t in study.trials}) == 2
    assert study.user_attrs["tunaflow.mlflow_parent_run_id"] == summary["mlflow_run_id"]
    assert study.user_attrs["tunaflow.prefect_flow_run_id"] == summary["prefect_flow_run_id"]
    client = MlflowClient(mlflow_server["url"])
    parent = client.get_run(summary["mlflow_run_id"])
    assert parent.data.tags["tunaflow.storage"] == storage.replace(PASSWORD, "***")
    runs = client.search_runs([parent.info.experiment_id], filter_string="tags.`tunaflow.stage` = 'trial'")
    assert sorted(int(r.data.tags["tunaflow.trial"]) for r in runs) == [0, 1, 2, 3]
    assert all(r.data.tags["tunaflow.study"] == "served" and r.data.tags["tunaflow.worker"] for r in runs)
    # the model and plots went to the server's artifact store
    assert any(mlflow_server["artifacts"].rglob("MLmodel"))

    # every place a password could leak to: the console, MLflow's and Optuna's databases,
    # the artifact store, the server's log, and the Prefect server's artifacts and logs
    assert PASSWORD not in console
    assert PASSWORD not in _pg_dump(mlflow_server["database"])
    assert PASSWORD not in _pg_dump(postgres_url.rsplit("/", 1)[1])
    assert PASSWORD not in mlflow_server["log"].read_text()
    for path in mlflow_server["artifacts"].rglob("*"):
        assert not path.is_file() or PASSWORD.encode() not in path.read_bytes(), path
    prefect_db = sqlite3.connect(tmp_path / "prefect" / "prefect.db")
    for table in ("artifact", "log", "task_run"):
        rows = prefect_db.execute(f"SELECT * FROM {table}").fetchall()
        assert rows if table != "task_run" else True
        assert PASSWORD not in repr(rows), table
