"""The Python API: the command line's checks and messages, typed results, the same flows."""

import json
import os
import subprocess
import sys
from dataclasses import FrozenInstanceError
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

import tunaflow
from tunaflow.cli import main
from tests.conftest import tiny_spec_tree


def _write(tmp_path, tree, name="spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(tree))
    return str(path)


def test_load_spec_takes_a_path_a_mapping_or_a_spec_with_overrides(tmp_path):
    path = _write(tmp_path, tiny_spec_tree(name="api-a"))
    from_path = tunaflow.load_spec(path, {"search.n_trials": 5, "model.units": [16, 8], "model.layers": 2,
                                               "train.lr": 0.02})
    assert (from_path.search.n_trials, list(from_path.model.units), from_path.train.lr) == (5, [16, 8], 0.02)
    from_tree = tunaflow.load_spec(tiny_spec_tree(name="api-a"), ["search.n_trials=5"])
    assert from_tree.search.n_trials == 5
    again = tunaflow.load_spec(from_tree, {"seed": 11})
    assert again.seed == 11 and from_tree.seed == 3


def test_validate_writes_nothing_and_returns_the_checked_spec(tmp_path, tunaflow_home):
    spec = tunaflow.validate(_write(tmp_path, tiny_spec_tree(name="api-b")))
    assert spec.name == "api-b"
    assert not tunaflow_home.exists() or not any(tunaflow_home.iterdir())


@pytest.mark.parametrize("tree,overrides", [
    (tiny_spec_tree(train={"epochs": "ten"}), None),
    (tiny_spec_tree(data={"source": "cifar"}), None),
    (tiny_spec_tree(), {"train.lrr": 0.1}),
    (tiny_spec_tree(search={"storage": "postgresql://u:hunter2@127.0.0.1:1/x"}), None),
])
def test_errors_are_the_command_lines_lines(tree, overrides, tmp_path, capsys, tunaflow_home):
    path = _write(tmp_path, tree)
    with pytest.raises(tunaflow.UserInputError) as raised:
        tunaflow.validate(path, overrides)
    cli_args = ["validate", path] + [f"--set={k}={v}" for k, v in (overrides or {}).items()]
    assert main(cli_args) == 2
    assert capsys.readouterr().err.strip() == f"tunaflow: error: {raised.value}"
    assert "hunter2" not in str(raised.value)


def test_run_returns_a_typed_result_with_the_json_fields(prefect_harness, tmp_path):
    result = tunaflow.run(tiny_spec_tree(name="api-run"), {"search.n_trials": 2}, learning_curve=False)
    assert isinstance(result, tunaflow.RunResult)
    assert result.n_trials == 2 and result.model_uri == "models:/api-run/1" and result.alias == "champion"
    assert result.more_data_helps is None  # the learning curve was skipped
    assert set(result.to_json()) == set(tunaflow.RunResult.JSON_KEYS)
    json.dumps(result.to_json())
    with pytest.raises(FrozenInstanceError):
        result.n_trials = 3
    # the registered model scores a file through the API as through `tunaflow predict`
    import numpy as np
    from sklearn.datasets import load_digits

    images = tmp_path / "images.npz"
    np.savez(images, X=load_digits().images[:7])
    assert tunaflow.predict(result.model_uri, images, tmp_path / "scored.csv") == 7
    assert len((tmp_path / "scored.csv").read_text().splitlines()) == 8


def test_worker_through_the_api_joins_the_study_and_spends_a_raised_budget(prefect_harness):
    tree = tiny_spec_tree(name="api-worker")
    tunaflow.run(tree, learning_curve=False)
    report = tunaflow.worker(tree, {"search.n_trials": 3})
    assert isinstance(report, tunaflow.WorkerResult)
    assert (report.study, report.trials) == ("api-worker", 1)


def test_version_on_the_command_line_and_in_python():
    assert tunaflow.__version__ == version("tunaflow")
    proc = subprocess.run([str(Path(sys.executable).parent / "tunaflow"), "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"tunaflow {tunaflow.__version__}"


def test_importing_tunaflow_loads_no_heavy_library():
    probe = "import sys, tunaflow; print(sorted({'torch', 'prefect', 'mlflow', 'optuna'} & set(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_two_runs_in_one_python_process_share_its_temporary_server(tmp_path):
    """A notebook calls ``tunaflow.run`` again: Prefect has read its API URL on first import, so the
    second run must find the same temporary server (it failed with 'Connection refused' when each
    call stopped its own); the process exits with no server left behind."""
    spec = _write(tmp_path, tiny_spec_tree(name="api-twice", search={"n_trials": 1},
                                           train={"learning_curve": {"enabled": False}}))
    script = (
        "import json, os, tunaflow\n"
        "from tunaflow.tasks.prefect import server\n"
        f"first = tunaflow.run({spec!r})\n"
        "url = server._shared.api_url\n"
        f"second = tunaflow.run({spec!r}, {{'search.n_trials': 2}})\n"
        "from prefect.settings import get_current_settings\n"
        "from tunaflow.api import with_prefect_server\n"
        "beat = with_prefect_server(lambda: lambda: get_current_settings().flows.heartbeat_frequency)\n"
        "print(json.dumps({'trials': [first.n_trials, second.n_trials], 'same': url == server._shared.api_url,"
        " 'left': os.environ.get('PREFECT_API_URL'), 'pid': server._shared.process.pid, 'beat': beat,"
        " 'beat_after': get_current_settings().flows.heartbeat_frequency}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI")}
    env.update(TUNAFLOW_HOME=str(tmp_path / "home"), PREFECT_HOME=str(tmp_path / "prefect"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["trials"] == [1, 2] and out["same"]
    # no flow-run heartbeats on a server without the services that read them: the flow engine
    # joins their thread at each flow run's end (up to a second); a user's setting is back after
    assert out["beat"] is None and out["beat_after"] is not None
    assert out["left"] is None  # a process the notebook starts later does not inherit the server's URL
    assert not Path(f"/proc/{out['pid']}").exists()  # stopped when the process exited


@pytest.mark.parametrize("kwargs,message", [
    ({"cron": "0 3 * *"}, "--cron: '0 3 * *' with time zone 'UTC': Invalid cron string"),
    ({"timezone": "Mars/Olympus"}, "--timezone: unknown time zone 'Mars/Olympus'"),
    ({"prefect_yaml": "/nonexistent/prefect.yaml"}, "--prefect-yaml: directory /nonexistent does not exist"),
])
def test_deploy_checks_its_arguments_as_the_command_does(kwargs, message, tmp_path, tunaflow_home):
    path = _write(tmp_path, tiny_spec_tree(name="api-dep-bad"))
    with pytest.raises(tunaflow.UserInputError) as raised:
        tunaflow.deploy(path, **kwargs)
    assert message in str(raised.value) and len(str(raised.value).splitlines()) == 1
    assert not (tunaflow_home / "mlflow.db").exists()


def test_deploy_writes_a_prefect_yaml_for_a_work_pool(tmp_path, tunaflow_home):
    path = _write(tmp_path, tiny_spec_tree(name="api-dep"))
    out = tmp_path / "prefect.yaml"
    result = tunaflow.deploy(path, {"search.n_trials": 5}, cron="*/30 * * * *", prefect_yaml=out, work_pool="pool-b")
    assert result == tunaflow.DeployResult(deployment="retrain-api-dep", cron="*/30 * * * *", timezone="UTC",
                                           prefect_yaml=str(out), work_pool="pool-b")
    text = out.read_text()
    # the header says the command that writes it again
    assert text.startswith(f"# Generated by: tunaflow deploy {path} --cron '*/30 * * * *' --timezone UTC "
                           f"--set search.n_trials=5 --work-pool pool-b --prefect-yaml {out}\n")
    (declared,) = yaml.safe_load(text)["deployments"]
    assert declared["parameters"]["spec"]["search"]["n_trials"] == 5 and declared["work_pool"]["name"] == "pool-b"


def test_rollback_on_an_empty_registry_is_the_commands_error(tunaflow_home, capsys):
    with pytest.raises(tunaflow.UserInputError) as raised:
        tunaflow.rollback("nobody")
    assert str(raised.value) == "nobody: no registered model of that name (empty registry)"
    assert main(["rollback", "nobody"]) == 2
    assert capsys.readouterr().err.strip() == f"tunaflow: error: {raised.value}"
    assert not (tunaflow_home / "mlflow.db").exists()


def test_describe_tells_a_validated_spec_as_validate_prints_it(tmp_path, tunaflow_home, capsys):
    path = _write(tmp_path, tiny_spec_tree(name="api-describe"))
    summary = tunaflow.describe(tunaflow.validate(path))
    assert (summary.name, summary.family, summary.task) == ("api-describe", "mlp", "classification")
    assert summary.space_lines and summary.space_lines[0].lstrip().startswith("train.lr")
    assert tunaflow.describe(path) == summary  # a path is validated first
    assert main(["validate", path, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert summary.space_lines[0] in out
    assert json.loads(out[-1]) == {"spec": path, **summary.to_json()}
