"""Ensemble selection end to end on small tables: the registered pyfunc holds every member and
predicts, from raw rows, the weighted average of its members; `search.ensemble: off` registers
the best trial alone, as before ensembles."""

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tunaflow.cli import main
from tunaflow.components.fitted import FittedEnsemble
from tunaflow.tasks.optuna.objective import PREDICTIONS
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tests.conftest import module_home

FAMILIES = {"classification": ["hgb", "rf", "logreg", "svc"], "regression": ["hgb", "rf", "ridge", "svc"]}


def _table(task: str, n: int = 260, seed: int = 0) -> pd.DataFrame:
    """Strings, empty cells, an interaction trees see and a linear trend linear models see."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], n)
    a, b, c = rng.normal(size=(3, n))
    signal = np.sin(2 * a) + 0.8 * b * (colour == "red") + 0.6 * c + rng.normal(scale=0.6, size=n)
    target = np.where(signal > 0, "yes", "no") if task == "classification" else 50 + 10 * signal
    frame = pd.DataFrame({"colour": colour, "a": a.round(3), "b": b.round(3), "c": c.round(3), "target": target})
    frame.loc[::13, "a"] = np.nan
    frame.loc[::17, "colour"] = None
    return frame


def _run(tmp_path_factory, task: str, ensemble: str | None):
    name = f"ens-{task[:5]}-{ensemble or 'default'}"
    with module_home(tmp_path_factory, name) as home:
        source = home / "table.csv"
        _table(task).to_csv(source, index=False)
        search = {"n_trials": 14, "pruner": "none", "validation": {"scheme": "kfold", "folds": 4}}
        if ensemble is not None:
            search["ensemble"] = ensemble
        spec = {"name": name, "seed": 2, "data": {"source": str(source), "target": "target"},
                "model": {"family": "auto", "families": FAMILIES[task]}, "train": {"learning_curve": {"enabled": False}},
                "search": search}
        path = home / "spec.yaml"
        path.write_text(yaml.safe_dump(spec))
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["run", str(path), "--json"]) == 0
        summary = json.loads(out.getvalue().strip().splitlines()[-1])
        study = optuna.load_study(study_name=name, storage=default_storage_url())
        model = mlflow.pyfunc.load_model(summary["model_uri"])
        client = MlflowClient(tracking_uri())
        experiment = client.get_run(summary["mlflow_run_id"]).info.experiment_id
        [search_run] = client.search_runs([experiment],
                                          filter_string="tags.`tunaflow.stage` = 'search'")
        artifacts = {a.path for a in client.list_artifacts(search_run.info.run_id)}
        record = (json.loads(Path(client.download_artifacts(search_run.info.run_id, "ensemble.json")).read_text())
                  if "ensemble.json" in artifacts else None)
        [final_run] = client.search_runs([experiment],
                                         filter_string="tags.`tunaflow.stage` = 'final_training'")
        raw = _table(task, n=40, seed=9).drop(columns="target")
        return summary, study, model, record, final_run, raw, home


@pytest.fixture(scope="module")
def classification(prefect_harness, tmp_path_factory):
    return _run(tmp_path_factory, "classification", None)


@pytest.fixture(scope="module")
def regression(prefect_harness, tmp_path_factory):
    return _run(tmp_path_factory, "regression", None)


def _members_average(model, raw: pd.DataFrame) -> np.ndarray:
    fitted = model.unwrap_python_model().fitted
    X = model.unwrap_python_model().encoder.transform(raw)
    weights = np.asarray(fitted.weights, dtype=float)
    return sum(w * m.predict_output(X) for w, m in zip(weights / weights.sum(), fitted.members))


def test_a_family_auto_study_registers_an_ensemble_that_beat_its_best_trial_out_of_sample(classification):
    summary, study, model, record, final_run, raw, _ = classification
    assert record is not None and record["used"] and len(record["members"]) >= 2
    # chosen by its log loss; its accuracy on the pooled rows is reported beside it, not required
    # (components/ensemble_selection.py): on 208 rows one row is half a point of noise
    assert record["loss"] < record["single_loss"] and 0 < record["score"] <= 1 and 0 < record["single_score"] <= 1
    assert study.trials[record["chosen"]].params == summary["best_params"]
    assert sum(m["weight"] for m in record["members"]) == 25  # search.ensemble.size rounds
    fitted = model.unwrap_python_model().fitted
    assert isinstance(fitted, FittedEnsemble)
    assert list(fitted.weights) == [m["weight"] for m in record["members"]]
    assert [m.family for m in fitted.members] == [m["family"] for m in record["members"]]
    assert final_run.data.params["family"] == "ensemble"
    # every trained trial kept its out-of-fold predictions, one row per train+validation row
    trained = [t for t in study.trials if t.state.name == "COMPLETE" and "duplicate_of" not in t.user_attrs]
    assert trained and all(PREDICTIONS in t.user_attrs for t in trained)
    # the board leads with the registered ensemble, tested on the test split
    first = summary["leaderboard"][0]
    assert first["family"] == "ensemble" and first["trials"] == len(record["members"])
    assert first["test_score"] == pytest.approx(summary["test_metrics"]["accuracy"])


def test_the_ensembles_pyfunc_averages_its_members_probabilities_from_raw_rows(classification, tmp_path,
                                                                              monkeypatch):
    summary, _, model, _, _, raw, home = classification
    proba = model.predict(raw, params={"output": "proba"})
    expected = _members_average(model, raw)
    assert np.allclose(proba.to_numpy(), expected, atol=1e-6)
    assert np.allclose(proba.sum(axis=1), 1.0)
    rows, scored = tmp_path / "rows.csv", tmp_path / "scored.csv"
    raw.to_csv(rows, index=False)
    monkeypatch.setenv("TUNAFLOW_HOME", str(home))  # the run's registry
    assert main(["predict", summary["model_uri"], str(rows), "--out", str(scored)]) == 0
    table = pd.read_csv(scored)
    assert list(table["label"]) == list(np.array(["no", "yes"])[expected.argmax(axis=1)])
    assert np.allclose(table[["proba_no", "proba_yes"]].to_numpy(), expected, atol=1e-6)


def test_a_regression_ensemble_averages_its_members_values_in_the_targets_units(regression):
    summary, _, model, record, _, raw, _ = regression
    assert record is not None and record["used"] and record["metric"] == "valid_rmse"
    values = np.asarray(model.predict(raw), dtype=float)
    assert np.allclose(values, _members_average(model, raw), rtol=1e-5)
    assert 20 < values.mean() < 80  # the target's units (50 +- 10 signal), not standardized ones
    assert summary["leaderboard"][0]["family"] == "ensemble"


def test_ensemble_off_registers_the_best_trial_alone_as_before(prefect_harness, tmp_path_factory):
    summary, study, model, record, final_run, _, _ = _run(tmp_path_factory, "classification", "off")
    assert record is None and not isinstance(model.unwrap_python_model().fitted, FittedEnsemble)
    assert final_run.data.params["family"] == summary["best_params"]["model.family"]
    assert all(r["family"] != "ensemble" for r in summary["leaderboard"])
    assert not any(PREDICTIONS in t.user_attrs for t in study.trials)


def test_validate_shows_the_resolved_switch_and_refuses_a_bad_one(tmp_path):
    source = tmp_path / "table.csv"
    _table("classification", n=60).to_csv(source, index=False)
    tunaflow = Path(sys.executable).with_name("tunaflow")
    for value, shown in [(None, True), ({"mode": "off"}, False), ("on", True)]:
        spec = {"name": "v", "data": {"source": str(source), "target": "target"},
                **({"search": {"ensemble": value}} if value else {})}
        (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
        proc = subprocess.run([tunaflow, "validate", str(tmp_path / "spec.yaml")], capture_output=True, text=True,
                              env={"TUNAFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        summary = proc.stdout.splitlines()[0]  # the resolved spec in one line
        assert ("then an ensemble of up to 25 best trials" in summary) == shown, summary
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({"name": "v", "data": {"source": str(source), "target": "target"},
                                                        "search": {"ensemble": {"mode": "sometimes"}}}))
    proc = subprocess.run([tunaflow, "validate", str(tmp_path / "spec.yaml")], capture_output=True, text=True,
                          env={"TUNAFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "search.ensemble.mode" in lines[0], proc.stderr
