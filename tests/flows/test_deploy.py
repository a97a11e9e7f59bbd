"""The retraining deployment: its schedule and parameters, served by `tunaflow deploy`, and
declared in prefect.yaml for a work pool (registered with the real `prefect deploy`)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.settings import PREFECT_API_URL

from tunaflow.components.spec import build_spec
from tunaflow.deployments.retrain import retraining_deployment
from tunaflow.cli import main
from tunaflow.flows.retrain import retrain_flow
from tests.conftest import tiny_spec_tree

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(home: Path, **extra) -> dict:
    # the installed package is all a runner needs: nothing of the checkout goes on the path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "TUNAFLOW_HOME": str(home), "PREFECT_API_URL": PREFECT_API_URL.value(),
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]), **extra}


def _read_deployment(name: str):
    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(name)


def test_the_deployment_carries_its_schedule_and_the_spec(prefect_harness):
    spec = build_spec(tiny_spec_tree(name="dep-a"))
    deployment = retraining_deployment(spec, "15 2 * * 1-5", "Europe/Paris")
    assert deployment.name == "retrain-dep-a" and deployment.entrypoint == "tunaflow.flows.retrain.retrain_flow"
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("15 2 * * 1-5", "Europe/Paris", True)
    assert deployment.concurrency_limit == 1
    # the parameter is the flow's own: it validates back into the same spec
    assert retrain_flow.validate_parameters(deployment.parameters)["spec"] == spec
    deployment.apply()
    stored = _read_deployment("retrain/retrain-dep-a")
    assert stored.schedules[0].schedule.cron == "15 2 * * 1-5"
    assert stored.schedules[0].schedule.timezone == "Europe/Paris"
    assert stored.parameters["spec"] == spec.model_dump(mode="json")


@pytest.mark.parametrize("args,message", [
    (["--cron", "0 3 * *"], "--cron: '0 3 * *' with time zone 'UTC': Invalid cron string"),
    (["--timezone", "Mars/Olympus"], "--timezone: unknown time zone 'Mars/Olympus'"),
    (["--prefect-yaml", "/nonexistent/prefect.yaml"], "--prefect-yaml: directory /nonexistent does not exist"),
])
def test_bad_deploy_arguments_exit_2_with_one_line(args, message, tmp_path, tunaflow_home, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec_tree(name="dep-bad")))
    assert main(["deploy", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tunaflow_home / "mlflow.db").exists()


def test_prefect_yaml_registers_with_prefect_deploy_for_a_work_pool(prefect_harness, tmp_path, tunaflow_home):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(tiny_spec_tree(name="dep-pool")))
    out = tmp_path / "prefect.yaml"
    assert main(["deploy", str(spec_path), "--cron", "*/30 * * * *", "--work-pool", "pool-a",
                 "--prefect-yaml", str(out)]) == 0
    declared = yaml.safe_load(out.read_text())["deployments"][0]
    assert declared["schedules"] == [{"cron": "*/30 * * * *", "timezone": "UTC", "active": True}]
    assert declared["work_pool"]["name"] == "pool-a" and declared["entrypoint"] == "flows/retrain.py:retrain_flow"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="pool-a", type="process"))
    proc = subprocess.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--prefect-file", str(out), "--all"],
                          cwd=REPO, env=_env(tunaflow_home, TUNAFLOW_REPO=str(REPO)), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stored = _read_deployment("retrain/retrain-dep-pool")
    assert stored.work_pool_name == "pool-a"
    assert stored.schedules[0].schedule.cron == "*/30 * * * *"
    assert build_spec(stored.parameters["spec"]) == build_spec(tiny_spec_tree(name="dep-pool"))
    # the worker moves to the repository before it imports the entrypoint
    (step,) = stored.pull_steps
    assert step["prefect.deployments.steps.set_working_directory"]["directory"] in (str(REPO), "{{ $TUNAFLOW_REPO }}")


def _start_deploy(spec_tree: dict, tmp_path: Path, home: Path) -> tuple[subprocess.Popen, Path]:
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec_tree))
    log = tmp_path / "deploy.log"
    # Ctrl-C in a terminal: a test suite started in the background of a non-interactive shell
    # (CI, nohup) inherits SIGINT ignored, and so would the command without this reset
    process = subprocess.Popen([str(BIN / "tunaflow"), "deploy", str(spec_path), "--cron", "0 4 * * *"],
                               env=_env(home), stdout=log.open("w"), stderr=subprocess.STDOUT,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return process, log


def _wait_for_deployment(name: str, process: subprocess.Popen, log: Path, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return _read_deployment(name)
        except Exception:  # not registered yet
            time.sleep(0.5)
    raise AssertionError(f"no deployment {name} after {timeout} s: {log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen, log: Path) -> None:
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"tunaflow deploy still running 90 s after SIGINT: {log.read_text()[-3000:]}") from None
    assert code in (0, 130), log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()


def test_tunaflow_deploy_serves_the_schedule_until_stopped(prefect_harness, tmp_path, tunaflow_home):
    """The real command: the deployment appears with its schedule, and SIGINT ends it cleanly."""
    process, log = _start_deploy(tiny_spec_tree(name="dep-serve"), tmp_path, tunaflow_home)
    try:
        stored = _wait_for_deployment("retrain/retrain-dep-serve", process, log)
        assert stored.schedules[0].schedule.cron == "0 4 * * *"
        assert stored.parameters["spec"]["name"] == "dep-serve"
    finally:
        _stop(process, log)


@pytest.mark.slow
def test_the_served_deployment_runs_a_retraining(prefect_harness, tmp_path, tunaflow_home):
    """A run of the served deployment (as its schedule would start one) retrains and promotes."""
    from prefect.deployments import run_deployment
    from mlflow.tracking import MlflowClient

    tree = tiny_spec_tree(name="dep-run")
    tree["train"]["learning_curve"] = {"enabled": False}
    process, log = _start_deploy(tree, tmp_path, tunaflow_home)
    try:
        _wait_for_deployment("retrain/retrain-dep-run", process, log)
        run = run_deployment("retrain/retrain-dep-run", timeout=0)
        deadline = time.monotonic() + 540
        with get_client(sync_client=True) as client:
            while not (state := client.read_flow_run(run.id).state).is_final():
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-3000:]
                time.sleep(1)
        assert state.is_completed(), log.read_text()[-3000:]
    finally:
        _stop(process, log)
    champion = MlflowClient(f"sqlite:///{tunaflow_home / 'mlflow.db'}").get_model_version_by_alias("dep-run", "champion")
    assert champion.tags["tunaflow.decision"] == "promoted"
    assert champion.tags["tunaflow.prefect_flow_run_id"] == str(run.id)


def test_a_relative_data_file_is_pinned_to_where_it_was_deployed_from(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = build_spec(tiny_spec_tree(name="dep-csv", data={"source": "data/rows.csv", "target": "y"}))
    parameters = retraining_deployment(spec).parameters["spec"]
    assert parameters["data"]["source"] == str(tmp_path / "data" / "rows.csv")
    assert retraining_deployment(build_spec(tiny_spec_tree())).parameters["spec"]["data"]["source"] == "digits"
