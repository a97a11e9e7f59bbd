"""Resuming a study with the real command line: settings that change no trial's value (sampler,
budget, learning curve, ...) may change and are reported; those that do are refused (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from tests.conftest import module_home, tiny_spec_tree
from tests.flows.workers_util import FINISHED
from tunaflow.cli import main

NAME = "resumed-study"


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TUNAFLOW_HOME": str(home), "PYTHONWARNINGS": ""}
    proc = subprocess.run([str(Path(sys.executable).parent / "tunaflow"), *args], capture_output=True, text=True,
                          env=env, timeout=600)
    console = proc.stdout + proc.stderr
    assert proc.returncode == 0, console[-3000:]
    assert "Traceback" not in console
    return proc


def _study(home: Path) -> optuna.Study:
    return optuna.load_study(study_name=NAME, storage=f"sqlite:///{home / 'optuna.db'}")


def _finished(home: Path) -> int:
    return sum(t.state in FINISHED for t in _study(home).trials)


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """A study started by `tunaflow run --no-learning-curve`: two trials."""
    with module_home(tmp_path_factory, "resume") as home:
        spec = home / "spec.yaml"
        spec.write_text(yaml.safe_dump(tiny_spec_tree(name=NAME)))
        _cli("run", str(spec), "--no-learning-curve", home=home)
        assert _finished(home) == 2
        yield str(spec), home


def test_a_worker_joins_a_study_started_without_the_learning_curve(started):
    spec, home = started
    budget = _finished(home) + 1
    proc = _cli("worker", spec, "--set", f"search.n_trials={budget}", home=home)
    assert _finished(home) == budget
    joined = [t for t in _study(home).trials if t.number == budget - 1][0]
    assert not joined.user_attrs["tunaflow.worker"].endswith("-w0")  # this worker's, not the flow's
    # reported against what the flow run recorded
    assert "train.learning_curve.enabled false -> true" in proc.stdout + proc.stderr


def test_a_resume_with_another_sampler_and_the_learning_curve_runs_and_says_what_changed(started):
    spec, home = started
    budget = _finished(home) + 1
    proc = _cli("run", spec, "--json", "--set", "search.sampler=random", "--set", f"search.n_trials={budget}",
                home=home)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["n_trials"] == budget and summary["more_data_helps"] is not None  # the curve ran
    changed = [line for line in (proc.stdout + proc.stderr).splitlines() if "settings changed" in line]
    assert len(changed) == 1, changed
    assert "search.sampler tpe -> random" in changed[0]
    assert "train.learning_curve.enabled false -> true" in changed[0]
    assert _study(home).user_attrs["tunaflow.settings"]["search.sampler"] == "random"


def test_a_resume_with_no_learning_curve_runs(started):
    spec, home = started
    budget = _finished(home) + 1
    proc = _cli("run", spec, "--json", "--no-learning-curve", "--set", "search.sampler=random",
                "--set", f"search.n_trials={budget}", home=home)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["n_trials"] == budget and summary["more_data_helps"] is None
    assert "train.learning_curve.enabled true -> false" in proc.stdout + proc.stderr


@pytest.mark.parametrize("override,part", [
    ("train.lr=0.05", "train"),
    ("search.space={train.lr: {type: float, low: 0.001, high: 0.1, log: true}}", "search.space"),
])
@pytest.mark.parametrize("command", ["run", "worker"])
def test_a_resume_that_changes_trial_values_is_refused(override, part, command, started, monkeypatch, capsys):
    spec, home = started
    monkeypatch.setenv("TUNAFLOW_HOME", str(home))
    before = _finished(home)
    assert main([command, spec, "--set", override]) == 2
    err = capsys.readouterr().err
    assert f"name: study '{NAME}' already exists with trials scored differently (changed: {part})" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert _finished(home) == before
