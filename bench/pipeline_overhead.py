"""Wall time of `tunaflow run` against a plain Optuna + skorch loop doing the same trials.

Each repetition runs both as fresh processes, alternating; tunaflow on Prefect's
temporary server and a TUNAFLOW_HOME that one untimed warm-up run has already created
(a user's steady state: the MLflow and Optuna databases exist; each repetition is a new
study). The ratio is median(tunaflow) / median(baseline). The first run in an empty
home costs a few seconds more (creating the MLflow database); that is reported apart.

Beside wall time, each run's CPU time (user + system, its child processes included: the
Prefect server) is recorded: on a machine shared with other work the wall-time ratio
swings by tens of percent, while CPU time is far less swayed by it.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "pipeline_spec.yaml"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict, cpu: list | None = None) -> tuple[float, dict]:
    """Wall seconds and the last JSON line of ``command``; its CPU seconds appended to ``cpu``."""
    start, used = time.perf_counter(), _children_cpu()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed:\n{proc.stderr[-2000:]}")
    if cpu is not None:
        cpu.append(_children_cpu() - used)
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def run(repeats: int = 3, trials: int | None = None, epochs: int | None = None) -> dict:
    """``epochs``: trial length (the spec's 50 epochs took ~2.2 s a trial on 2026-12-04; 120 take ~5 s)."""
    import os

    bin_dir = Path(sys.executable).parent
    spec = SPEC
    if trials or epochs:
        spec = Path(tempfile.mkdtemp()) / "spec.yaml"
        text = SPEC.read_text()
        text = text.replace("n_trials: 16", f"n_trials: {trials}") if trials else text
        text = text.replace("epochs: 50", f"epochs: {epochs}") if epochs else text
        spec.write_text(text)
    home = tempfile.mkdtemp(prefix="bench-home-")
    env = {**os.environ, "TUNAFLOW_HOME": home}
    first_run, _ = _timed([str(bin_dir / "tunaflow"), "run", str(spec), "--json", "--set", "name=bench-warmup",
                           "--set", "search.n_trials=1"], env)
    warm_run, _ = _timed([str(bin_dir / "tunaflow"), "run", str(spec), "--json", "--set", "name=bench-warmup2",
                          "--set", "search.n_trials=1"], env)
    print(f"  one-trial run: {first_run:.1f} s in an empty home, {warm_run:.1f} s once it exists", flush=True)
    tuna, base, tuna_cpu, base_cpu, same_trials = [], [], [], [], True
    for i in range(repeats):
        seconds, plain = _timed([sys.executable, str(HERE / "baseline_loop.py"), str(spec)], dict(os.environ),
                                base_cpu)
        base.append(seconds)
        print(f"  baseline  #{i + 1}: {seconds:7.1f} s ({base_cpu[-1]:.1f} s CPU)", flush=True)
        seconds, summary = _timed([str(bin_dir / "tunaflow"), "run", str(spec), "--json", "--no-learning-curve",
                                   "--set", f"name=bench-pipeline-{i}"], env, tuna_cpu)
        tuna.append(seconds)
        print(f"  tunaflow  #{i + 1}: {seconds:7.1f} s ({tuna_cpu[-1]:.1f} s CPU)", flush=True)
        same_trials &= abs(summary["best_value"] - max(plain["values"])) < 1e-12
    result = {
        "benchmark": "pipeline_overhead",
        "trials": trials or 16,
        "epochs": epochs or 50,
        "repeats": repeats,
        "baseline_seconds": base,
        "tunaflow_seconds": tuna,
        "baseline_median": statistics.median(base),
        "tunaflow_median": statistics.median(tuna),
        "ratio": statistics.median(tuna) / statistics.median(base),
        "baseline_cpu_seconds": base_cpu,
        "tunaflow_cpu_seconds": tuna_cpu,
        "cpu_ratio": statistics.median(tuna_cpu) / statistics.median(base_cpu),
        "same_best_value": same_trials,
        "one_trial_run_empty_home_seconds": first_run,
        "one_trial_run_warm_home_seconds": warm_run,
    }
    print(f"pipeline overhead: tunaflow {result['tunaflow_median']:.1f} s / baseline "
          f"{result['baseline_median']:.1f} s = {result['ratio']:.3f} (median of {repeats}; "
          f"same best value: {same_trials}); CPU time ratio {result['cpu_ratio']:.3f}")
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int)
    parser.add_argument("--epochs", type=int, help="epochs per trial (default: the spec's 50)")
    options = parser.parse_args()
    run(options.repeats, options.trials, options.epochs)
