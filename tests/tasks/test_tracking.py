"""Where the embedded MLflow store puts artifacts."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from tasks.tracking import ensure_experiment, use_tracking_store


def test_embedded_store_keeps_artifacts_under_tunaflow_home(tunaflow_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's own default would be ./mlruns here
    use_tracking_store()  # exports MLFLOW_TRACKING_URI, as every run does
    first, second = ensure_experiment("first"), ensure_experiment("second")
    for experiment_id in (first, second):
        location = MlflowClient().get_experiment(experiment_id).artifact_location
        assert location.startswith((tunaflow_home / "artifacts").as_uri()), location
    assert not (Path(tmp_path) / "mlruns").exists()
