"""End to end on the command line: a scikit-learn family and regression (a network and a
linear model) run, register, and score a file through `tunaflow predict`."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_breast_cancer, load_diabetes

from tunaflow.cli import main
from tunaflow.tasks.settings import tracking_uri


def _run(tmp_path, capsys, tree, *flags) -> dict:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tree))
    assert main(["run", str(path), "--json", *flags]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _predict(tmp_path, capsys, uri: str, frame: pd.DataFrame) -> pd.DataFrame:
    frame.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["predict", uri, str(tmp_path / "rows.csv"), "--out", str(tmp_path / "scored.csv")]) == 0
    capsys.readouterr()
    return pd.read_csv(tmp_path / "scored.csv")


def _stage_runs(summary: dict) -> dict:
    mlflow.set_tracking_uri(tracking_uri())
    client = MlflowClient()
    runs = client.search_runs([summary["mlflow_experiment_id"]] if "mlflow_experiment_id" in summary else
                              [client.get_run(summary["mlflow_run_id"]).info.experiment_id])
    return {r.data.tags.get("mlflow.runName"): r for r in runs}


def test_gradient_boosting_on_breast_cancer_registers_and_predicts(prefect_harness, tmp_path, capsys):
    summary = _run(tmp_path, capsys, {"name": "bc-hgb", "data": {"source": "breast_cancer"},
                                      "model": {"family": "hgb", "max_iter": 20}, "search": {"n_trials": 2}},
                   "--no-learning-curve")
    assert summary["model_uri"] == "models:/bc-hgb/1" and summary["test_metrics"]["accuracy"] > 0.9
    assert all(k.startswith("model.") for k in summary["best_params"])
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    assert model.unwrap_python_model().fitted.family == "hgb"
    model_run = _stage_runs(summary)["model"]
    assert MlflowClient().download_artifacts(model_run.info.run_id, "model_summary.txt")
    bunch = load_breast_cancer()
    rows = pd.DataFrame(bunch.data, columns=bunch.feature_names)
    scored = _predict(tmp_path, capsys, "models:/bc-hgb@champion", rows)
    assert list(scored.columns) == ["label", "proba_malignant", "proba_benign"]
    assert (scored["label"] == np.asarray(bunch.target_names)[bunch.target]).mean() > 0.9
    assert np.allclose(scored.filter(like="proba_").sum(axis=1), 1, atol=1e-6)


@pytest.mark.parametrize("family,model", [("mlp", {"family": "mlp", "layers": 1, "units": [32]}),
                                          ("ridge", {"family": "ridge"})])
def test_diabetes_regression_end_to_end(family, model, prefect_harness, tmp_path, capsys):
    tree = {"name": f"dia-{family}", "data": {"source": "diabetes"}, "model": model,
            "train": {"epochs": 40, "lr": 0.01, "learning_curve": {"fractions": [0.3, 1.0]}},
            "search": {"n_trials": 2, "space": {"train.weight_decay" if family == "mlp" else "model.alpha":
                                                {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}}}}
    summary = _run(tmp_path, capsys, tree)
    metrics = summary["test_metrics"]
    assert set(metrics) == {"rmse", "mae", "r2"}
    # the target spans 25..346 (std ~77): a model in standard units would be off by ~150
    assert metrics["rmse"] < 70 and metrics["r2"] > 0.2 and metrics["mae"] < metrics["rmse"]
    runs = _stage_runs(summary)
    client = MlflowClient()
    assert client.get_run(runs["evaluation"].info.run_id).data.metrics["test_r2"] == pytest.approx(metrics["r2"])
    assert [a.path for a in client.list_artifacts(runs["evaluation"].info.run_id)] == ["predicted_vs_true.png"]
    curve = runs["learning_curve"]
    assert len(client.get_metric_history(curve.info.run_id, "curve_valid_rmse")) == 2
    assert curve.data.tags["tunaflow.more_data_helps"] in ("true", "false")
    bunch = load_diabetes()
    rows = pd.DataFrame(bunch.data, columns=bunch.feature_names)
    scored = _predict(tmp_path, capsys, summary["model_uri"], rows)
    assert list(scored.columns) == ["prediction"]
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    assert np.allclose(scored["prediction"], model.predict(rows), rtol=1e-5)
    assert np.sqrt(np.mean((scored["prediction"] - bunch.target) ** 2)) < 70
    with pytest.raises(ValueError, match="regression"):
        model.predict(rows, params={"output": "proba"})


def test_a_network_embeds_a_many_valued_category_and_the_registered_model_reads_raw_rows(
        prefect_harness, tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 400
    city = rng.integers(0, 30, n)
    frame = pd.DataFrame({"size": rng.normal(100, 20, n), "city": [f"city-{c}" for c in city]})
    frame["price"] = 3 * frame["size"] + 10 * (city % 5) + rng.normal(0, 2, n)
    frame.loc[::17, "size"] = np.nan  # imputed, with a missing indicator
    frame.to_csv(tmp_path / "homes.csv", index=False)
    tree = {"name": "homes", "data": {"source": str(tmp_path / "homes.csv"), "target": "price"},
            "model": {"family": "mlp", "layers": 1, "units": [32]},
            "train": {"epochs": 30, "lr": 0.01, "batch_size": 32},
            "search": {"n_trials": 1, "space": {"train.lr": {"type": "categorical", "choices": [0.01]}}}}
    summary = _run(tmp_path, capsys, tree, "--no-learning-curve")
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    module = model.unwrap_python_model().fitted.module
    assert [e.num_embeddings for e in module.network.layers[0].embeddings]  # the city went to an embedding
    rows = frame.drop(columns=["price"]).head(40)
    rows.loc[0, "city"] = "a city never seen"
    scored = _predict(tmp_path, capsys, summary["model_uri"], rows)
    assert list(scored.columns) == ["prediction"] and scored["prediction"].notna().all()
    assert summary["test_metrics"]["rmse"] < frame["price"].std()
