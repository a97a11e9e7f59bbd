"""Retraining against a real registry: first model promoted, a better challenger promoted,
a challenger short of the margin kept under `challenger`, and a rollback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow.tracking import MlflowClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.settings import PREFECT_API_URL

from tunaflow.components.spec import build_spec
from tunaflow.cli import main
from tunaflow.flows.retrain import retrain_flow
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tests.conftest import module_home, tiny_spec_tree

NAME = "rt"


def _spec(**sections):
    tree = tiny_spec_tree(name=NAME, **sections)
    tree["train"]["learning_curve"] = {"enabled": False}
    return build_spec(tree)


def _retrain_command(home: Path, spec, *args) -> dict:
    path = home / "spec.yaml"
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "TUNAFLOW_HOME": str(home),
           "PREFECT_API_URL": PREFECT_API_URL.value()}
    proc = subprocess.run([str(Path(sys.executable).parent / "tunaflow"), "retrain", str(path), "--json", *args],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "decision     kept: kept the champion" in proc.stdout
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def retrained(prefect_harness, tmp_path_factory):
    """Three scheduled-style runs in one registry: weak first model, a better one, one held to a margin."""
    with module_home(tmp_path_factory, "retrain-home") as home:
        # one epoch on a tenth of the data: a champion a real retraining beats by far
        first = retrain_flow(_spec(train={"epochs": 1}, data={"source": "digits", "subsample": 0.1}))
        second = retrain_flow(_spec(train={"epochs": 4}))
        # the same configuration again cannot be better by a whole unit of accuracy; this
        # one runs as a user runs it, with the console script (on the harness's server)
        third = _retrain_command(home, _spec(train={"epochs": 4}), "--set", "tracking.promotion_margin=1.0")
        uri, storage = tracking_uri(), default_storage_url()
    return home, (first, second, third), MlflowClient(uri), storage


def test_the_first_run_promotes_its_model(retrained):
    _, (first, _, _), client, _ = retrained
    assert first["decision"] == "promoted" and first["compared_with"] is None
    assert "no champion yet" in first["reason"]
    v1 = client.get_model_version(NAME, "1")
    assert v1.tags["tunaflow.decision"] == "promoted"
    assert v1.tags["tunaflow.study"] == first["study"] and first["study"].startswith(f"{NAME}.retrain-")
    assert "tunaflow.previous.champion" not in v1.tags


def test_a_better_challenger_is_promoted_and_both_versions_record_it(retrained):
    _, (first, second, _), client, storage = retrained
    assert second["decision"] == "promoted" and second["compared_with"] == "1"
    assert second["champion_metrics"]["accuracy"] + 0.005 <= second["test_metrics"]["accuracy"]
    v2 = client.get_model_version(NAME, "2")
    assert v2.tags["tunaflow.previous.champion"] == "1"
    assert v2.tags["tunaflow.champion_version"] == "1"
    assert float(v2.tags["champion_test_accuracy"]) == pytest.approx(second["champion_metrics"]["accuracy"], abs=1e-5)
    assert v2.tags["tunaflow.data_digest"] and v2.tags["tunaflow.prefect_flow_run_id"] == second["prefect_flow_run_id"]
    v1 = client.get_model_version(NAME, "1")
    assert v1.tags["tunaflow.challenged_by"] == "2" and v1.tags["tunaflow.challenge.decision"] == "promoted"
    assert v1.tags["tunaflow.challenge.data_digest"] == v2.tags["tunaflow.data_digest"]
    assert v1.tags["tunaflow.challenge.study"] == second["study"]
    assert "challenge.challenger_test_accuracy" in v1.tags and "challenge.champion_test_accuracy" in v1.tags
    # the challenger's study started from the champion's parameters and the last study's best trials
    assert second["warm_started_from_study"] == first["study"]
    study = optuna.load_study(study_name=second["study"], storage=storage)
    champion_params = json.loads(v1.tags["tunaflow.best_params"])
    first_trials = [t.params for t in study.trials[:2]]
    assert champion_params in first_trials
    previous = optuna.load_study(study_name=first["study"], storage=storage)
    assert previous.best_trial.params in first_trials


def test_a_challenger_short_of_the_margin_stays_challenger(retrained):
    _, (_, second, third), client, _ = retrained
    assert third["decision"] == "kept" and third["alias"] == "challenger"
    assert "kept the champion" in third["reason"] and "margin 1" in third["reason"]
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "2"
    assert str(client.get_model_version_by_alias(NAME, "challenger").version) == "3"
    v3 = client.get_model_version(NAME, "3")
    assert v3.tags["tunaflow.decision"] == "kept" and v3.tags["tunaflow.reason"] == third["reason"]
    assert v3.tags["tunaflow.champion_version"] == "2" and "champion_test_accuracy" in v3.tags
    assert client.get_model_version(NAME, "2").tags["tunaflow.challenge.decision"] == "kept"


def test_each_outcome_is_a_prefect_artifact(retrained):
    with get_client(sync_client=True) as prefect:
        artifacts = prefect.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"retrain-{NAME}"])))
    texts = [a.data for a in artifacts]
    assert len(texts) >= 3
    assert any("kept the champion" in t and "margin 1" in t for t in texts)
    assert any("no champion yet" in t for t in texts)


def test_rollback_walks_back_through_the_champions(retrained, monkeypatch, capsys):
    home, _, client, _ = retrained
    monkeypatch.setenv("TUNAFLOW_HOME", str(home))
    assert main(["rollback", NAME]) == 0
    assert "version 2 -> 1" in capsys.readouterr().out
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "1"
    assert main(["rollback", NAME]) == 2  # version 1 replaced nothing
    err = capsys.readouterr().err
    assert "version 1 is the first champion" in err and len(err.strip().splitlines()) == 1
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "1"
    assert main(["rollback", "nobody"]) == 2
    assert "nobody: no registered model of that name" in capsys.readouterr().err


def test_rollback_on_an_empty_registry_is_bad_input_and_writes_nothing(tunaflow_home, capsys):
    assert main(["rollback", NAME]) == 2
    assert "empty registry" in capsys.readouterr().err
    assert not (tunaflow_home / "mlflow.db").exists()
