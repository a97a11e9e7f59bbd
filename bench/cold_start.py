"""Cold start: from typing `tunaflow run SPEC` to the first trial's start, on 2 cores.

Each repetition launches the console script in a fresh process with a fresh, empty
TUNAFLOW_HOME (the worst case: the MLflow and Optuna databases are created) and with a
home that an earlier run created (a user's steady state). The first trial's start is the
``datetime_start`` Optuna records in the study storage, so nothing in tunaflow is
instrumented for the measure. Beside it, in the same run: a bare Python process that
imports torch, optuna, skorch and mlflow and starts a trial in a new SQLite study (the
floor any Python orchestrator of these libraries pays). Issue 20's target: <= 8 s.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "pipeline_spec.yaml"
BARE = """
import optuna, skorch, torch, mlflow, sys
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name="bare", storage=sys.argv[1])
study.ask()
"""


def _first_trial_start(storage: str, study: str) -> float:
    import optuna

    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    start = min(t.datetime_start for t in trials if t.datetime_start is not None)
    return start.replace(tzinfo=dt.datetime.now().astimezone().tzinfo).timestamp()


def _tunaflow_once(home: Path, name: str) -> float:
    env = {**os.environ, "TUNAFLOW_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    launched = time.time()
    proc = subprocess.run([str(Path(sys.executable).parent / "tunaflow"), "run", str(SPEC), "--set", f"name={name}",
                           "--set", "search.n_trials=1", "--set", "train.epochs=2", "--no-learning-curve"],
                          capture_output=True, text=True, env=env, cwd=HERE.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"tunaflow run failed:\n{proc.stderr[-2000:]}")
    return _first_trial_start(f"sqlite:///{home / 'optuna.db'}", name) - launched


def _bare_once(folder: Path) -> float:
    storage = f"sqlite:///{folder / f'bare-{time.monotonic_ns()}.db'}"
    launched = time.time()
    subprocess.run([sys.executable, "-c", BARE, storage], check=True, capture_output=True)
    return _first_trial_start(storage, "bare") - launched


def run(repeats: int = 5) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="cold-start-"))
    steady = scratch / "steady-home"
    _tunaflow_once(steady, "warm-up")  # creates the databases the steady-state runs find
    empty, warm, bare = [], [], []
    for i in range(repeats):
        bare.append(_bare_once(scratch))
        empty.append(_tunaflow_once(scratch / f"empty-home-{i}", f"cold-{i}"))
        warm.append(_tunaflow_once(steady, f"warm-{i}"))
        print(f"  repeat {i + 1}/{repeats}: bare {bare[-1]:.2f}s  tunaflow (empty home) {empty[-1]:.2f}s  "
              f"tunaflow (existing home) {warm[-1]:.2f}s", flush=True)
    result = {
        "repeats": repeats,
        "bare_seconds": statistics.median(bare),
        "tunaflow_empty_home_seconds": statistics.median(empty),
        "tunaflow_existing_home_seconds": statistics.median(warm),
        "all": {"bare": bare, "empty_home": empty, "existing_home": warm},
    }
    print(f"cold start to the first trial (median of {repeats}): bare {result['bare_seconds']:.2f}s, "
          f"tunaflow {result['tunaflow_empty_home_seconds']:.2f}s (empty home), "
          f"{result['tunaflow_existing_home_seconds']:.2f}s (existing home); target <= 8 s")
    return result


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
