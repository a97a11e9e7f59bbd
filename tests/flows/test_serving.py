"""Consumers of the registry: batch prediction, `mlflow models serve`, and a consumer that
keeps loading the champion while it is promoted again and again."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from prefect import flow
from sklearn.datasets import load_digits, load_iris

from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.cli import main
from tunaflow.flows.stages import train_and_evaluate
from tunaflow.tasks.register import register
from tunaflow.tasks.run import finish_tracking, start_tracking
from tunaflow.tasks.settings import tracking_uri
from tests.conftest import module_home, tiny_spec_tree
from tests.tunaflow.test_namespace import user_project

BIN = Path(sys.executable).parent


def _spec(name, source, **sections):
    tree = tiny_spec_tree(name=name, data={"source": source, "subsample": 1.0}, **sections)
    tree["train"]["learning_curve"] = {"enabled": False}
    return build_spec(tree)


def _env(home: Path) -> dict:
    # `mlflow models serve` execs `uvicorn` from PATH: the environment's bin comes first, as when activated
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "TUNAFLOW_HOME": str(home),
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}


@pytest.fixture(scope="module")
def registry(prefect_harness, tmp_path_factory):
    """A tabular model (iris, `tab`) and an image model (digits, `img`), each the champion."""
    with module_home(tmp_path_factory, "serving-home") as home:
        automl_flow(_spec("tab", "iris", train={"epochs": 30, "lr": 0.01}))
        automl_flow(_spec("img", "digits"))
    return home


@pytest.fixture
def in_registry(registry, monkeypatch):
    monkeypatch.setenv("TUNAFLOW_HOME", str(registry))
    mlflow.set_tracking_uri(tracking_uri())
    return registry


def _iris_frame() -> pd.DataFrame:
    iris = load_iris()
    return pd.DataFrame(iris.data, columns=iris.feature_names)


def test_predict_scores_a_csv_with_the_console_script(in_registry, tmp_path):
    frame = _iris_frame().sample(frac=1.0, random_state=0).reset_index(drop=True)
    frame = frame[list(reversed(frame.columns))]  # column order does not matter, names do
    source = tmp_path / "rows.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    proc = subprocess.run([str(BIN / "tunaflow"), "predict", "models:/tab@champion", str(source), "--out", str(out),
                           "--batch-size", "32"], capture_output=True, text=True, env=_env(in_registry), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "scoring: 100%" in proc.stderr and "150/150" in proc.stderr  # the progress bar, on stderr
    assert "Warning" not in proc.stderr, proc.stderr[-3000:]  # clean output: no library warnings for a user
    scored = pd.read_csv(out)
    model = mlflow.pyfunc.load_model("models:/tab@champion")
    assert list(scored.columns) == ["label", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert scored["label"].tolist() == list(model.predict(frame))
    assert np.allclose(scored.filter(like="proba_").sum(axis=1), 1, atol=1e-4)


def test_a_registered_model_loads_in_a_project_with_its_own_tasks_and_flows(in_registry, tmp_path):
    """A service whose working directory has ``tasks.py`` and ``flows/`` loads the champion,
    and its own modules stay its own."""
    project = user_project(tmp_path / "service")
    script = (
        "import mlflow, pandas as pd, sys\n"
        "from sklearn.datasets import load_iris\n"
        "iris = load_iris()\n"
        "model = mlflow.pyfunc.load_model('models:/tab@champion')\n"
        "labels = model.predict(pd.DataFrame(iris.data[:5], columns=iris.feature_names))\n"
        "import tasks, flows\n"
        "assert tasks.OWNER == 'user' and flows.OWNER == 'user'\n"
        "print(len(labels))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True,
                          env=_env(in_registry), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "5"


def test_predict_scores_an_npz_of_images(in_registry, tmp_path, capsys):
    images = load_digits().images[:300]
    np.savez(tmp_path / "images.npz", X=images)
    assert main(["predict", "models:/img@champion", str(tmp_path / "images.npz"), "--out",
                 str(tmp_path / "out.npz"), "--batch-size", "64"]) == 0
    scored = np.load(tmp_path / "out.npz")
    expected = mlflow.pyfunc.load_model("models:/img@champion").predict(images.astype(np.float32))
    assert np.array_equal(scored["labels"], expected)
    assert scored["proba"].shape == (300, 10) and list(scored["classes"]) == [str(c) for c in range(10)]
    assert (scored["labels"] == load_digits().target[:300]).mean() > 0.5
    assert "scored 300 row(s)" in capsys.readouterr().out


BAD_PREDICTIONS = {
    "unknown model": ("models:/nobody@champion", "rows.csv", "models:/nobody@champion: not found"),
    "unknown version": ("models:/tab/99", "rows.csv", "models:/tab/99: not found"),
    "missing column": ("models:/tab@champion", "missing.csv", "missing petal width (cm); expected a CSV with the 4"),
    "extra column": ("models:/tab@champion", "extra.csv", "extra species; expected a CSV with the 4 column(s)"),
    "wrong image shape": ("models:/img@champion", "flat.npz", "X has shape (5, 64); expected an NPZ file with an "
                                                             "array X shaped (N, 8, 8)"),
    "csv for images": ("models:/img@champion", "rows.csv", "the model reads images, not a CSV"),
    "missing input": ("models:/tab@champion", "none.csv", "none.csv: file not found; expected a CSV"),
}


@pytest.mark.parametrize("case", sorted(BAD_PREDICTIONS))
def test_bad_prediction_input_exits_2_with_one_line_and_writes_nothing(case, in_registry, tmp_path, capsys):
    uri, name, message = BAD_PREDICTIONS[case]
    frame = _iris_frame().head(5)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    frame.drop(columns=["petal width (cm)"]).to_csv(tmp_path / "missing.csv", index=False)
    frame.assign(species=0).to_csv(tmp_path / "extra.csv", index=False)
    np.savez(tmp_path / "flat.npz", X=load_digits().data[:5])
    out = tmp_path / "out.csv"
    assert main(["predict", uri, str(tmp_path / name), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_predict_on_an_empty_registry_creates_nothing(tmp_path, tunaflow_home, capsys):
    _iris_frame().head(5).to_csv(tmp_path / "rows.csv", index=False)
    assert main(["predict", "models:/tab@champion", str(tmp_path / "rows.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "models:/tab@champion: not found (empty registry)" in capsys.readouterr().err
    assert not (tunaflow_home / "mlflow.db").exists() and not (tmp_path / "o.csv").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(uri: str, home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([str(BIN / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local",
                                "-h", "127.0.0.1", "-p", str(port)], env=_env(home), stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process, url: str, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"mlflow models serve did not answer within {timeout} s: {log.read_text()[-3000:]}")


def _invoke(url: str, body: dict):
    request = urllib.request.Request(f"{url}/invocations", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def test_mlflow_models_serve_answers_invocations(in_registry, tmp_path):
    """The real `mlflow models serve` on 127.0.0.1, with the store's URI, as a consumer starts it."""
    servers = {name: _serve(f"models:/{name}@champion", in_registry, tmp_path / f"{name}.log")
               for name in ("tab", "img")}
    try:
        for name, (process, url) in servers.items():
            _wait_ready(process, url, tmp_path / f"{name}.log")
        frame = _iris_frame().iloc[::10]
        tab = mlflow.pyfunc.load_model("models:/tab@champion")
        _, url = servers["tab"]
        split = json.loads(frame.to_json(orient="split", index=False))
        assert _invoke(url, {"dataframe_split": split}) == list(tab.predict(frame))
        proba = _invoke(url, {"dataframe_split": split, "params": {"output": "proba"}})
        expected = tab.predict(frame, params={"output": "proba"})
        assert pd.DataFrame(proba)[list(expected.columns)].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-5)
        assert _invoke(url, {"dataframe_records": frame.to_dict(orient="records")}) == list(tab.predict(frame))

        images = load_digits().images[:20].astype(np.float32)
        img = mlflow.pyfunc.load_model("models:/img@champion")
        _, url = servers["img"]
        assert _invoke(url, {"inputs": images.tolist()}) == img.predict(images).tolist()
        proba = pd.DataFrame(_invoke(url, {"inputs": images.tolist(), "params": {"output": "proba"}}))
        assert proba.to_numpy() == pytest.approx(img.predict(images, params={"output": "proba"}).to_numpy(), abs=1e-5)
        assert np.allclose(proba.sum(axis=1), 1, atol=1e-4)
    finally:
        for process, _ in servers.values():
            os.killpg(process.pid, 15)
            process.wait(timeout=30)


CONSUMER = """
import json, sys, time, traceback
from pathlib import Path
import mlflow, numpy as np
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_digits

stop, report, progress = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
images = load_digits().images[:32].astype(np.float32)
loads, failures, versions, started = 0, [], set(), False
while not stop.exists():
    try:
        version = MlflowClient().get_model_version_by_alias("cons", "champion").version
        labels = mlflow.pyfunc.load_model("models:/cons@champion").predict(images)
        assert labels.shape == (32,) and set(labels.tolist()) <= set(range(10)), labels
        loads, started = loads + 1, True
        versions.add(str(version))
        progress.with_suffix(".tmp").write_text(str(loads))
        progress.with_suffix(".tmp").replace(progress)
    except Exception:
        if started:  # before the first champion exists, not finding it is expected
            failures.append(traceback.format_exc())
        time.sleep(0.05)
report.write_text(json.dumps({"loads": loads, "failures": failures, "versions": sorted(versions)}))
"""


def _consumer_loads(progress: Path) -> int:
    return int(progress.read_text()) if progress.exists() else 0


def _wait_for_loads(progress: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _consumer_loads(progress) < count:
        assert time.monotonic() < deadline, f"the consumer made no progress past {_consumer_loads(progress)} loads"
        time.sleep(0.02)


@flow(name="promote-repeatedly")
def _promote_repeatedly(spec, promotions: int, progress: Path) -> list[str]:
    """Train once, then register and promote the model again and again: the real register stage.

    After each promotion the consumer completes two more loads, so at least one of them
    started after it: every champion is loaded at least once, and loads overlap promotions.
    """
    ctx = start_tracking(spec)
    trained = train_and_evaluate(spec, ctx)
    versions = []
    for _ in range(promotions + 1):
        registered = register(spec, trained.final, trained.best, trained.metrics, trained.splits, ctx)
        versions.append(registered["version"])
        _wait_for_loads(progress, _consumer_loads(progress) + 2)
    finish_tracking(ctx, "FINISHED")
    return versions


def test_a_consumer_never_fails_while_the_champion_is_promoted_20_times(prefect_harness, tunaflow_home, tmp_path):
    script = tmp_path / "consumer.py"
    script.write_text(CONSUMER)
    stop, report, progress = tmp_path / "stop", tmp_path / "report.json", tmp_path / "progress"
    tunaflow_home.mkdir(parents=True, exist_ok=True)
    consumer = subprocess.Popen([sys.executable, str(script), str(stop), str(report), str(progress)],
                                env=_env(tunaflow_home))
    try:
        versions = _promote_repeatedly(_spec("cons", "digits", search={"n_trials": 1}), 20, progress)
    finally:
        stop.touch()
        consumer.wait(timeout=120)
    assert versions == [str(v) for v in range(1, 22)]
    result = json.loads(report.read_text())
    assert result["failures"] == [], result["failures"][0]
    assert result["versions"] == sorted(versions), result  # it saw every champion come and go
