"""Benchmark runner: `python bench/run.py [NAME ...] [--repeats N]`; results in bench/results/.

Benchmarks are ratios against a baseline run side by side in one invocation; see REPORT.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

BENCHMARKS = ["pipeline_overhead", "training_loop", "cold_start", "search_efficiency", "augmentation", "scaling"]


def _machine() -> dict:
    import os

    import mlflow
    import optuna
    import prefect
    import skorch
    import torch

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "torch": torch.__version__, "prefect": prefect.__version__, "optuna": optuna.__version__,
            "mlflow": mlflow.__version__, "skorch": skorch.__version__}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=BENCHMARKS, choices=BENCHMARKS + [[]])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    machine = _machine()
    print(f"machine: {machine}")
    for name in args.names or BENCHMARKS:
        print(f"== {name}")
        result = importlib.import_module(name).run(repeats=args.repeats)
        result["machine"] = machine
        (out / f"{name}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
