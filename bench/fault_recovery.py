"""kill -9 of one of four search workers, on SQLite and on PostgreSQL (issue 21).

The real `tunaflow run` with `search.workers=4` on a fresh TUNAFLOW_HOME (and, for
PostgreSQL, a database of its own on 127.0.0.1:5432, dropped after). Once some trials are
complete and a worker is inside a trial, that worker's process gets SIGKILL; the flow's
other workers and a new pool carry on. Read from the study and MLflow after the run:
COMPLETE trials lost (complete before the kill, not complete after; goal 0), finished
trials against the budget (goal: exactly), MLflow runs left RUNNING (goal 0), and the
killed trial's state and its retry.

    .venv/bin/python bench/fault_recovery.py [--trials 16] [--epochs 30] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _spec(path: Path, name: str, url: str, trials: int, epochs: int) -> None:
    path.write_text(yaml.safe_dump({
        "name": name, "seed": 5,
        "data": {"source": "digits", "subsample": 0.5},
        "model": {"family": "mlp", "layers": 1, "units": [32]},
        "train": {"epochs": epochs, "batch_size": 64, "early_stopping": {"enabled": False},
                  "learning_curve": {"enabled": False}},
        "search": {"n_trials": trials, "workers": 4, "pruner": "none", "sampler": "random", "storage": url,
                   "space": {"train.lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}}},
    }))


def _one(backend: str, trials: int, epochs: int) -> dict:
    from mlflow.tracking import MlflowClient

    from tests.flows.workers_util import FINISHED, trials as read_trials, wait_for

    home = Path(tempfile.mkdtemp(prefix=f"fault-{backend}-"))
    database = None
    if backend == "sqlite":
        url = f"sqlite:///{home / 'optuna.db'}"
    else:
        import psycopg

        database = f"tunaflow_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {database}")
        url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    name = f"fault-{backend}"
    spec = home / "spec.yaml"
    _spec(spec, name, url, trials, epochs)
    env = {**os.environ, "TUNAFLOW_HOME": str(home), "PYTHONWARNINGS": "ignore"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log = open(home / "run.log", "w")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tunaflow.cli", "run", str(spec)], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=HERE.parent, start_new_session=True)
    try:
        def victim():
            now = read_trials(name, url)
            if sum(t.state.name == "COMPLETE" for t in now) < 2:
                return None
            return next((t for t in now if t.state.name == "RUNNING" and "tunaflow.worker" in t.user_attrs), None)

        doomed = wait_for(victim, 900, "a worker mid-trial", every=0.1)
        complete_before = {t.number: t.values for t in read_trials(name, url) if t.state.name == "COMPLETE"}
        pid = int(doomed.user_attrs["tunaflow.worker"].split("-p")[-1].split("-")[0])
        os.kill(pid, signal.SIGKILL)
        code = proc.wait(1800)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wall = time.perf_counter() - started
    after = {t.number: t for t in read_trials(name, url)}
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(name)
    runs = client.search_runs([experiment.experiment_id], max_results=5000) if experiment else []
    retries = [t.number for t in after.values() if t.system_attrs.get("failed_trial") == doomed.number]
    result = {
        "backend": backend, "exit_code": code, "budget": trials,
        "finished": sum(t.state in FINISHED for t in after.values()),
        "complete_lost": sum(after[n].state.name != "COMPLETE" or after[n].values != v
                             for n, v in complete_before.items()),
        "killed_trial": doomed.number, "killed_trial_state": after[doomed.number].state.name,
        "retried_as": retries, "retry_state": [after[n].state.name for n in retries],
        "trials_failed": sum(t.state.name == "FAIL" for t in after.values()),
        "mlflow_runs_running": sum(r.info.status == "RUNNING" for r in runs),
        "wall_s": round(wall, 1),
    }
    if database:
        import psycopg

        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {database} WITH (FORCE)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = [_one(backend, args.trials, args.epochs) for backend in args.backends]
    for result in results:
        print(json.dumps(result))
    out = HERE / "results" / "fault_recovery.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
