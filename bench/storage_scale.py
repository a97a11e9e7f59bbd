"""Many workers on one PostgreSQL study: storage errors and the exact trial count (issue 21).

The real `tunaflow run` with `search.workers=16` (a process pool on this machine) on a study
in a PostgreSQL database of its own (127.0.0.1:5432, user postgres; created and dropped
here), with short trials: logistic regression on iris, `model.C` searched on a log scale,
so no two trials share a configuration. Read back after the run: trials per state (goal:
exactly the budget COMPLETE, none FAIL or RUNNING), MLflow trial runs (one per trial, none
left RUNNING), and every line of the run's output that reports a storage error
(OperationalError, deadlock, database is locked, could not serialize, Traceback).

    .venv/bin/python bench/storage_scale.py [--workers 16] [--trials 200]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ERRORS = re.compile(r"OperationalError|deadlock|database is locked|could not serialize|IntegrityError|Traceback",
                    re.IGNORECASE)


def _database(name: str, create: bool) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if create:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        else:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run(workers: int, trials: int) -> dict:
    import optuna
    from mlflow.tracking import MlflowClient

    name = f"tunaflow_scale_{uuid.uuid4().hex[:8]}"
    _database(name, create=True)
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        with tempfile.TemporaryDirectory(prefix="storage-scale-") as tmp:
            spec = {
                "name": "storage-scale", "data": {"source": "iris"}, "model": {"family": "logreg"},
                "train": {"learning_curve": {"enabled": False}},
                "search": {"sampler": "random", "pruner": "none", "n_trials": trials, "workers": workers,
                           "storage": url, "space": {"model.C": {"type": "float", "low": 1e-3, "high": 1e3,
                                                                 "log": True}}},
            }
            path = Path(tmp) / "spec.yaml"
            path.write_text(yaml.safe_dump(spec))
            env = {**os.environ, "TUNAFLOW_HOME": str(Path(tmp) / "home")}
            env.pop("PREFECT_API_URL", None)
            env.pop("MLFLOW_TRACKING_URI", None)
            started = time.perf_counter()
            done = subprocess.run([str(Path(sys.executable).with_name("tunaflow")), "run", str(path), "--json"],
                                  env=env, cwd=tmp, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            output = done.stdout + done.stderr
            study = optuna.load_study(study_name="storage-scale", storage=url)
            states: dict[str, int] = {}
            for trial in study.get_trials(deepcopy=False):
                states[trial.state.name] = states.get(trial.state.name, 0) + 1
            client = MlflowClient(f"sqlite:///{Path(tmp) / 'home' / 'mlflow.db'}")
            experiment = client.get_experiment_by_name("storage-scale")
            runs = client.search_runs([experiment.experiment_id], "tags.`tunaflow.stage` = 'trial'",
                                      max_results=50000) if experiment else []
            return {
                "workers": workers, "budget": trials, "exit_code": done.returncode, "wall_s": round(seconds, 1),
                "trials_per_s": round(states.get("COMPLETE", 0) / seconds, 1), "states": states,
                "complete_exact": states.get("COMPLETE", 0) == trials,
                "mlflow_trial_runs": len(runs),
                "mlflow_running": sum(r.info.status == "RUNNING" for r in runs),
                "storage_error_lines": [line for line in output.splitlines() if ERRORS.search(line)][:20],
            }
    finally:
        _database(name, create=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "storage_scale.json"))
    args = parser.parse_args()
    result = run(args.workers, args.trials)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
