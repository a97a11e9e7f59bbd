"""Text end to end: a CSV's free-text column and a folder of .txt files train, register, and
the registered model scores raw strings (`tunaflow predict` and the pyfunc)."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.text_samples import sentences
from tunaflow.cli import main
from tunaflow.components.translators import ApertiumTranslator
from tunaflow.tasks.settings import tracking_uri


def _run(tmp_path, capsys, spec: dict) -> dict:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_csv_text_column_trains_tfidf_and_a_text_cnn_and_scores_raw_strings(prefect_harness, tmp_path, capsys):
    texts, labels = sentences(240)
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"review": texts, "stars": np.arange(240) % 5, "topic": labels}).to_csv(source, index=False)
    summary = _run(tmp_path, capsys, {
        "name": "reviews", "seed": 2,
        "data": {"source": str(source), "target": "topic"},
        "model": {"family": "auto", "families": ["tfidf", "text_cnn"]},
        "train": {"epochs": 2, "learning_curve": {"enabled": False}},
        "search": {"n_trials": 2, "pruner": "none"},
    })
    assert summary["model_uri"] == "models:/reviews/1"
    families = {row["family"] for row in summary["leaderboard"]}
    assert families == {"tfidf", "text_cnn"}  # each family's default ran first
    assert summary["test_metrics"]["accuracy"] >= 0.9

    mlflow.set_tracking_uri(tracking_uri())
    data_run = mlflow.search_runs(experiment_names=["reviews"], filter_string="attributes.run_name = 'data'",
                                  output_format="list")[0]
    assert data_run.data.params["kind"] == "text"
    record = mlflow.artifacts.load_dict(f"{data_run.info.artifact_uri}/data.json")
    assert record["columns"] == ["review"]
    assert any("'review' alone; not used: stars" in note for note in record["notes"])

    model = mlflow.pyfunc.load_model("models:/reviews@champion")
    raw = ["The striker scored a goal for the team!", "Simmer the garlic sauce in the oven."]
    assert list(model.predict(pd.DataFrame({"review": raw}))) == ["sport", "cooking"]

    rows = tmp_path / "new.csv"
    pd.DataFrame({"review": raw + ["words never seen in training"]}).to_csv(rows, index=False)
    scored = tmp_path / "scored.csv"
    assert main(["predict", "models:/reviews@champion", str(rows), "--out", str(scored)]) == 0
    result = pd.read_csv(scored)
    assert list(result["label"][:2]) == ["sport", "cooking"] and len(result) == 3


def test_a_folder_of_txt_files_per_class_trains_a_fasttext_network_with_text_augmentation(prefect_harness, tmp_path, capsys):
    texts, labels = sentences(160, seed=5)
    folder = tmp_path / "corpus"
    for i, (text, label) in enumerate(zip(texts, labels)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / f"{i}.txt").write_text(text)
    (folder / "sport" / "empty.txt").write_text("  ")
    summary = _run(tmp_path, capsys, {
        "name": "folder-text", "seed": 1,
        "data": {"source": str(folder)},
        "model": {"family": "fasttext", "dim": 16},
        "augment": {"text": {"swap": {"p": 0.5, "strength": 0.2}, "delete": {"p": 0.5, "strength": 0.2}}},
        "train": {"epochs": 8, "lr": 0.05, "learning_curve": {"enabled": False}},
        "search": {"n_trials": 2, "pruner": "none",
                   "space": {"model.bigrams": {"type": "categorical", "choices": [False, True]}}},
    })
    assert summary["test_metrics"]["accuracy"] >= 0.9
    mlflow.set_tracking_uri(tracking_uri())
    augment_run = mlflow.search_runs(experiment_names=["folder-text"], output_format="list",
                                     filter_string="attributes.run_name = 'augmentation'")[0]
    samples = mlflow.artifacts.load_dict(f"{augment_run.info.artifact_uri}/augmentation_text_samples.json")
    assert len(samples) == 10 and any(s["before"] != s["after"] for s in samples)
    assert all(s["after"] for s in samples)
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    assert [c.name for c in model.metadata.signature.inputs if c.required] == ["text"]
    assert list(model.predict(pd.DataFrame({"text": ["A goal for the league team", "Butter and flour"]}))) == [
        "sport", "cooking"]


@pytest.mark.skipif(ApertiumTranslator().missing() is not None, reason="apertium-eng-spa is not installed (make data)")
def test_back_translation_with_apertium_trains_and_records_round_trips(prefect_harness, tmp_path, capsys, tunaflow_home):
    texts, labels = sentences(120, seed=3)
    source = tmp_path / "notes.csv"
    pd.DataFrame({"note": texts, "topic": labels}).to_csv(source, index=False)
    summary = _run(tmp_path, capsys, {
        "name": "back-translated", "seed": 4,
        "data": {"source": str(source), "target": "topic"},
        "model": {"family": "fasttext", "dim": 16},
        "augment": {"text": {"back_translate": {"p": 0.5}}},
        "train": {"epochs": 6, "lr": 0.05, "learning_curve": {"enabled": False}},
        "search": {"n_trials": 1, "pruner": "none"},
    })
    assert summary["test_metrics"]["accuracy"] >= 0.8
    mlflow.set_tracking_uri(tracking_uri())
    run = mlflow.search_runs(experiment_names=["back-translated"], output_format="list",
                             filter_string="attributes.run_name = 'augmentation'")[0]
    samples = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/augmentation_text_samples.json")
    assert all(s["back_translated"] for s in samples)
    assert any(s["back_translated"] != s["before"] for s in samples)  # Spanish and back changed some words
    assert run.data.metrics["back_translate_documents"] > 0
    described = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/augmentation.json")
    assert described["pipeline"][0]["op"] == "back_translate" and described["pipeline"][0]["translator"] == "apertium"
    assert any((tunaflow_home / "cache" / "translations").rglob("*.txt"))  # cached for the next run
