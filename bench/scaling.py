"""Completed trials per hour against the number of search workers (issue 6).

Each configuration is the real `tunaflow run` with `search.workers` set (torch threads per
worker: cores // workers, at least one), on its own fresh TUNAFLOW_HOME; the
configurations alternate within each repetition. Throughput is finished trials over the
span from the first trial's start to the last trial's end, read from the study storage,
so Prefect's server start and the final training are left out; `wall_s` is the whole
command. Ratios are medians against one worker (which takes both cores' threads).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "scaling_spec.yaml"
WORKERS = (1, 2, 4)


def _one(workers: int, trials: int, repeat: int) -> dict:
    import optuna

    home = Path(tempfile.mkdtemp(prefix=f"scaling-{workers}-"))
    name = f"scaling-w{workers}-r{repeat}"
    env = {**os.environ, "TUNAFLOW_HOME": str(home), "PYTHONWARNINGS": "ignore"}
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-m", "tunaflow.cli", "run", str(SPEC), "--set", f"search.workers={workers}",
               "--set", f"search.n_trials={trials}", "--set", f"name={name}"]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{workers} worker(s) failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    done = [t for t in optuna.load_study(study_name=name, storage=f"sqlite:///{home / 'optuna.db'}").trials
            if t.state.name == "COMPLETE"]
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    return {"workers": workers, "threads": max(1, len(os.sched_getaffinity(0)) // workers), "trials": len(done),
            "span_s": round(span, 2), "wall_s": round(wall, 2), "trials_per_hour": round(len(done) / span * 3600, 1)}


def run(repeats: int = 3, trials: int = 24) -> dict:
    rows = []
    for repeat in range(repeats):
        for workers in WORKERS:
            row = _one(workers, trials, repeat)
            print(f"  repeat {repeat}: {row}", flush=True)
            rows.append(row)
    median = {w: statistics.median(r["trials_per_hour"] for r in rows if r["workers"] == w) for w in WORKERS}
    result = {"cpus": len(os.sched_getaffinity(0)), "trials": trials, "rows": rows, "median_trials_per_hour": median,
              "ratio_2_workers": round(median[2] / median[1], 3), "ratio_4_workers": round(median[4] / median[1], 3)}
    print(f"  median trials/hour {median}; 2 workers / 1: {result['ratio_2_workers']}, "
          f"4 workers / 1: {result['ratio_4_workers']}")
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=24)
    args = parser.parse_args()
    print(json.dumps(run(args.repeats, args.trials), indent=2))
