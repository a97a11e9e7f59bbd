"""One peer AutoML system on one table split: fit, predict the test rows, score, write JSON.

Runs in the bench-only environment (``make bench-env``), never tunaflow's; bench/model_quality.py
calls it once per peer and draw with the rows tunaflow trained its final model on (train +
validation) and tested on:

    .venv-bench/bin/python bench/peers.py --system autogluon_medium|autogluon_best|flaml \\
        --train train.csv --test test.csv --target COL --task classification|regression \\
        --time-limit S --seed N --out result.json

Systems, each at its defaults but for the budget, the CPU count and a quiet log:
- ``autogluon_medium``: ``TabularPredictor.fit(presets="medium_quality")``, AutoGluon's default
  preset, with no time limit (as a user's first call runs it);
- ``autogluon_best``: ``presets="best_quality"`` (bagging, stacking, its zero-shot portfolio) with
  ``time_limit`` = tunaflow's limit;
- ``flaml``: ``AutoML.fit(time_budget=S)``, its default estimators and metric.
AutoGluon's fit takes no seed (its models use fixed seeds of their own); FLAML gets ``--seed``.
FLAML 2.8 does not stop a CatBoost trial at its deadline (its resource-limit callback skips the
time check for CatBoost since microsoft/FLAML#1364, for reproducibility): one such trial of 8192
rounds can run minutes past ``time_budget`` even on 150 rows. The wall time shows it.

Score: test accuracy (classification), test R^2 and RMSE (regression). ``seconds`` is fit +
predict, measured around both; the caller also measures the whole process (imports included).
Everything the systems write goes into a temporary working folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from importlib.metadata import version
from pathlib import Path

import pandas as pd

SYSTEMS = ("autogluon_medium", "autogluon_best", "flaml")


def score(task: str, y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

    if task == "classification":
        return {"score": float(accuracy_score(y_true, y_pred))}
    return {"score": float(r2_score(y_true, y_pred)), "rmse": float(mean_squared_error(y_true, y_pred) ** 0.5)}


def run_autogluon(preset: str, train: pd.DataFrame, test: pd.DataFrame, target: str, task: str,
                  time_limit: float | None, cpus: int, folder: Path) -> tuple[pd.Series, dict]:
    from autogluon.tabular import TabularPredictor

    problem = "regression" if task == "regression" else ("binary" if train[target].nunique() == 2 else "multiclass")
    if preset == "best_quality":
        # best_quality fits bagged folds (and DyStack's sub-fit) in Ray workers and starts Ray itself
        # unless it is running. Started here the same way but without Ray's web dashboard, which no
        # model uses and which on these machines fails to start after a 30-60 s timeout per start.
        # Ray's start stays inside the measured time.
        import ray

        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    predictor = TabularPredictor(label=target, problem_type=problem, path=str(folder / "autogluon"), verbosity=1)
    predictor.fit(train, presets=preset, time_limit=time_limit, num_cpus=cpus, num_gpus=0)
    predicted = predictor.predict(test.drop(columns=[target]))
    board = predictor.leaderboard(silent=True)
    models = [{"model": r["model"], "score_val": float(r["score_val"]), "fit_time": float(r["fit_time"])}
              for r in board.to_dict("records")]
    return predicted, {"best_model": predictor.model_best, "eval_metric": predictor.eval_metric.name,
                       "models": models, "version": version("autogluon.tabular")}


def run_flaml(train: pd.DataFrame, test: pd.DataFrame, target: str, task: str, time_limit: float, seed: int,
              cpus: int, folder: Path) -> tuple[pd.Series, dict]:
    from flaml import AutoML

    automl = AutoML()
    automl.fit(train.drop(columns=[target]), train[target], task=task, time_budget=time_limit, seed=seed,
               n_jobs=cpus, verbose=0, log_file_name=str(folder / "flaml.log"))
    predicted = automl.predict(test.drop(columns=[target]))
    tried = {name: n for name, n in getattr(automl, "_iter_per_learner", {}).items() if n}  # trials per estimator
    return predicted, {"best_model": automl.best_estimator, "best_config": automl.best_config,
                       "best_loss": float(automl.best_loss), "n_trials": sum(tried.values()),
                       "eval_metric": str(getattr(automl._state, "metric", "")), "models": tried,
                       "version": version("flaml")}


def run(system: str, train_csv: Path, test_csv: Path, target: str, task: str, time_limit: float, seed: int,
        cpus: int) -> dict:
    train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix=f"peer-{system}-", ignore_cleanup_errors=True) as tmp:
        os.chdir(tmp)  # CatBoost and the rest write beside the working folder: keep it all in tmp
        os.environ["RAY_TMPDIR"] = tmp  # Ray's sessions and logs (best_quality fits bagged folds in Ray workers)
        try:
            started = time.perf_counter()
            if system == "flaml":
                predicted, about = run_flaml(train, test, target, task, time_limit, seed, cpus, Path(tmp))
            else:
                preset = {"autogluon_medium": "medium_quality", "autogluon_best": "best_quality"}[system]
                limit = time_limit if system == "autogluon_best" else None
                predicted, about = run_autogluon(preset, train, test, target, task, limit, cpus, Path(tmp))
            seconds = time.perf_counter() - started
        finally:
            if "ray" in sys.modules and sys.modules["ray"].is_initialized():
                sys.modules["ray"].shutdown()  # before its folder goes
            os.chdir(here)
    return {"system": system, **score(task, test[target], predicted), "seconds": seconds,
            "time_limit": time_limit if system != "autogluon_medium" else None, "seed": seed, "cpus": cpus,
            "train_rows": len(train), "test_rows": len(test), **about}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", required=True, choices=SYSTEMS)
    parser.add_argument("--train", required=True, type=Path, help="the rows to fit on (tunaflow's train + validation)")
    parser.add_argument("--test", required=True, type=Path, help="the rows to score on (tunaflow's test split)")
    parser.add_argument("--target", required=True)
    parser.add_argument("--task", required=True, choices=("classification", "regression"))
    parser.add_argument("--time-limit", required=True, type=float, help="seconds: tunaflow's limit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs the system may use (default: all)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out = args.out.resolve()
    try:
        result = run(args.system, args.train.resolve(), args.test.resolve(), args.target, args.task,
                     args.time_limit, args.seed, args.cpus)
    except Exception as error:  # noqa: BLE001 - reported to the caller as this system's result
        traceback.print_exc()
        args.out.write_text(json.dumps({"system": args.system, "error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
    args.out.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
