"""The command line: exit codes, one clear line per problem, nothing written on bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tunaflow.cli import main
from tests.conftest import tiny_spec_tree


def _write(tmp_path, tree, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(tree) if not isinstance(tree, str) else tree)
    return str(path)


def _assert_nothing_written(home: Path):
    written = [p.name for p in home.iterdir()] if home.exists() else []
    assert not {"mlflow.db", "optuna.db", "artifacts"} & set(written), written


def _csv(tmp_path, frame):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


BAD_INPUTS = {
    "malformed yaml": (lambda t: "name: x\ndata: {source: digits\n", "malformed YAML"),
    "unknown key": (lambda t: tiny_spec_tree(train={"learning_rate": 0.1}), "train.learning_rate: unknown field"),
    "wrong type": (lambda t: tiny_spec_tree(train={"epochs": "ten"}), "train.epochs"),
    "unknown data set": (lambda t: tiny_spec_tree(data={"source": "cifar"}), "data.source: unknown data set"),
    "missing file": (lambda t: tiny_spec_tree(data={"source": str(t / "none.csv"), "target": "y"}),
                     "data.source: file not found"),
    "csv without target": (lambda t: tiny_spec_tree(data={"source": _csv(t, pd.DataFrame(
        {"a": range(30), "b": range(30)})), "target": "label"}), "no target column 'label'"),
    "empty target": (lambda t: tiny_spec_tree(data={"source": _csv(t, pd.DataFrame(
        {"a": [1.0, 2.0] * 15, "y": [np.nan] * 30})), "target": "y"}), "target column 'y' is empty"),
    "single class": (lambda t: tiny_spec_tree(data={"source": _csv(t, pd.DataFrame(
        {"a": [0.5, 1.5, 2.5] * 10, "y": [1] * 30})), "target": "y"}), "single class"),
    "too few samples": (lambda t: tiny_spec_tree(data={"source": _csv(t, pd.DataFrame(
        {"a": range(6), "y": [0, 1] * 3})), "target": "y"}), "too few"),
    "bad search path": (lambda t: tiny_spec_tree(search={"space": {"train.lrr": {
        "type": "float", "low": 0.1, "high": 1}}}), "search.space.train.lrr: no such field"),
    "cnn on tabular": (lambda t: {**tiny_spec_tree(data={"source": "iris"}), "model": {"family": "cnn"}},
                       "model.family: cnn needs an image source"),
    "unknown schedule": (lambda t: tiny_spec_tree(train={"lr_schedule": {"type": "zigzag"}}),
                         "train.lr_schedule: unknown name 'zigzag'"),
    "negative l1": (lambda t: tiny_spec_tree(train={"l1": -1}), "train.l1: Input should be greater than or equal to 0"),
    "dropout of one": (lambda t: tiny_spec_tree(model={"dropout": 1}), "model.dropout: Input should be less than 1"),
    "unreachable storage": (lambda t: tiny_spec_tree(search={"storage": "postgresql://u:hunter2@127.0.0.1:1/x"}),
                            "search.storage: cannot open postgresql://u:***@127.0.0.1:1/x"),
    "zero drop": (lambda t: tiny_spec_tree(train={"lr_schedule": {"type": "step", "drop": 0}}),
                  "train.lr_schedule.drop: Input should be greater than 0"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, command, tmp_path, tunaflow_home, capsys):
    make_tree, message = BAD_INPUTS[case]
    path = _write(tmp_path, make_tree(tmp_path))
    assert main([command, path]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "hunter2" not in err
    assert len(err.strip().splitlines()) == 1
    _assert_nothing_written(tunaflow_home)


def test_bad_override_and_missing_spec(tmp_path, tunaflow_home, capsys):
    path = _write(tmp_path, tiny_spec_tree())
    assert main(["run", path, "--set", "train.lr=-1"]) == 2
    assert "train.lr: Input should be greater than 0" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: file not found" in capsys.readouterr().err
    _assert_nothing_written(tunaflow_home)


def test_validate_ok_and_schema(tmp_path, capsys):
    assert main(["validate", _write(tmp_path, tiny_spec_tree())]) == 0
    assert ": ok" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "search" in schema["properties"]


def test_console_script_runs_end_to_end_with_json_and_a_clean_console(tmp_path):
    """The real `tunaflow` command on Prefect's temporary server, as a user runs it."""
    path = _write(tmp_path, tiny_spec_tree(name="cli-run"))
    env = {**os.environ, "TUNAFLOW_HOME": str(tmp_path / "home"), "PYTHONWARNINGS": ""}
    proc = subprocess.run([str(Path(sys.executable).parent / "tunaflow"), "run", path, "--json",
                           "--set", "search.n_trials=3"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"study", "n_trials", "best_value", "best_params", "test_metrics", "mlflow_run_id",
            "model_uri", "alias"} <= set(summary)
    assert summary["n_trials"] == 3 and summary["model_uri"] == "models:/cli-run/1"
    console = proc.stdout + proc.stderr
    assert "Traceback" not in console
    assert "| ERROR" not in console and "| WARNING" not in console
    assert "trial 3/3" in console  # the per-trial progress line
    assert "final training epoch 1/" in console  # and the final training's progress


@pytest.mark.parametrize("uri,message", [
    ("bad", "expected models:/NAME@ALIAS or models:/NAME/VERSION, got 'bad'"),
    ("models:/nobody@champion", "models:/nobody@champion not found"),
])
def test_warm_start_from_a_missing_or_malformed_model_is_bad_input(uri, message, tmp_path, tunaflow_home, capsys):
    path = _write(tmp_path, tiny_spec_tree(search={"warm_start": {"from_model": uri}}))
    assert main(["validate", path]) == 2
    assert f"search.warm_start.from_model: {message}" in capsys.readouterr().err
    _assert_nothing_written(tunaflow_home)


@pytest.mark.parametrize("uri", ["http://u:hunter2@127.0.0.1:1", "postgresql://u:hunter2@127.0.0.1:1/mlflow"])
@pytest.mark.parametrize("command", ["run", "worker"])
def test_unreachable_tracking_store_is_bad_input_with_the_password_masked(uri, command, tmp_path, tunaflow_home,
                                                                         monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert main([command, _write(tmp_path, tiny_spec_tree())]) == 2
    err = capsys.readouterr().err
    assert f"MLFLOW_TRACKING_URI: cannot reach {uri.replace('hunter2', '***')}" in err
    assert "Traceback" not in err and "hunter2" not in err and len(err.strip().splitlines()) == 1
    _assert_nothing_written(tunaflow_home)


def test_a_worker_needs_an_existing_study(tmp_path, tunaflow_home, capsys):
    assert main(["worker", _write(tmp_path, tiny_spec_tree(name="nobody"))]) == 2
    assert "name: no study 'nobody'" in capsys.readouterr().err
    _assert_nothing_written(tunaflow_home)
