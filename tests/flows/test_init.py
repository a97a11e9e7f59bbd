"""`tunaflow init` and `tunaflow validate`: a starter spec for a data file, and the space it resolves."""

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
from tunaflow.components.resolve import DEFAULT_TIMEOUT_S


def _table(tmp_path, rows=240, name="loans.csv"):
    """A table with a categorical and a missing cell, its target the last column."""
    rng = np.random.default_rng(0)
    income = rng.normal(50, 10, rows).round(1)
    grade = rng.choice(["a", "b", "c"], rows)
    frame = pd.DataFrame({"income": income, "grade": grade,
                          "years": rng.integers(0, 30, rows).astype(float),
                          "approved": np.where(income + (grade == "a") * 10 > 55, "yes", "no")})
    frame.loc[3, "years"] = np.nan
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_init_writes_a_commented_starter_that_validates(tmp_path, monkeypatch, capsys, tunaflow_home):
    monkeypatch.chdir(tmp_path)
    data = _table(tmp_path)
    assert main(["init", str(data)]) == 0
    out = capsys.readouterr().out
    assert "target: 'approved', the last column" in out  # a guess says so
    assert "next: tunaflow run loans.yaml" in out
    text = (tmp_path / "loans.yaml").read_text()
    spec = yaml.safe_load(text)
    assert spec == {"name": "loans", "data": {"source": str(data), "target": "approved"}}  # the minimal spec
    # what was found and will be searched, as comments
    assert "# Data: 240 rows" in text and "classification (2 classes)" in text
    assert "#   model.family: categorical [hgb, rf, logreg, svc, mlp]" in text
    assert "#       train.lr: float 0.0001..0.03 log" in text and f"#   timeout: {DEFAULT_TIMEOUT_S:g}" in text
    assert not (tunaflow_home / "optuna.db").exists()  # init writes the spec and nothing else

    assert main(["validate", "loans.yaml"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("loans.yaml: ok (loans: auto on") and "classification" in lines[0]
    assert lines[1] == "search space (valid_acc, maximize):"
    assert lines[2] == "  model.family: categorical [hgb, rf, logreg, svc, mlp]"
    assert "    hgb:" in lines and "      model.learning_rate: float 0.01..0.3 log" in lines


def test_init_refuses_to_overwrite_and_takes_target_and_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = _table(tmp_path)
    out = tmp_path / "specs" / "mine.yaml"
    assert main(["init", str(data), "--target", "grade", "--out", str(out)]) == 0
    assert "the last column" not in capsys.readouterr().out
    assert yaml.safe_load(out.read_text())["data"]["target"] == "grade"
    out.write_text("name: kept\n")
    assert main(["init", str(data), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"tunaflow: error: {out}: already exists; remove it or name another " \
                                              "file with --out"
    assert out.read_text() == "name: kept\n"


@pytest.mark.parametrize("args,message", [
    (["missing.csv"], "file not found"),
    (["TABLE", "--target", "nope"], "nope"),
])
def test_init_on_bad_input_is_one_line_and_writes_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = _table(tmp_path)
    args = [str(data) if a == "TABLE" else a for a in args]
    assert main(["init", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.glob("*.yaml"))


def test_validate_json_and_an_empty_space(tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"name": "empty", "data": {"source": "iris"}, "model": {"family": "hgb"},
                                    "search": {"space": {}}}))
    assert main(["validate", str(path), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "searching 0 field(s) over hgb" in lines[0] and "1 trial(s)" in lines[0]
    assert lines[2] == "  (empty: one configuration)"
    summary = json.loads(lines[-1])
    assert summary["n_trials"] == 1 and summary["space"] == {} and summary["metric"] == "valid_acc"


@pytest.mark.slow
def test_a_starter_spec_runs_end_to_end(tmp_path):
    """`tunaflow init` then `tunaflow run`, the newcomer's two commands (with a tiny budget)."""
    env = {**os.environ, "TUNAFLOW_HOME": str(tmp_path / "home"), "PYTHONWARNINGS": ""}
    tunaflow = str(Path(sys.executable).parent / "tunaflow")
    data = _table(tmp_path)
    made = subprocess.run([tunaflow, "init", str(data)], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=300)
    assert made.returncode == 0, made.stderr[-3000:]
    run = subprocess.run([tunaflow, "run", "loans.yaml", "--json", "--no-learning-curve",
                          "--set", "search.n_trials=3", "--set", "train.epochs=2"],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["n_trials"] == 3 and summary["model_uri"] == "models:/loans/1"
    # the first trials are the families' defaults, in order
    assert summary["best_params"]["model.family"] in ("hgb", "rf", "logreg")
    assert "searching " in run.stdout + run.stderr
