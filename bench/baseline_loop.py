"""The baseline: the same trials as `tunaflow run`, as a plain Optuna + skorch loop.

In-memory Optuna study, the same sampler and seeds, the same skorch training function,
then the same final fit on train+validation and test accuracy. No Prefect, no MLflow,
no study storage, no registry. Prints one JSON line: trial values and the test accuracy.
"""

from __future__ import annotations

import json
import logging
import os
import sys

import numpy as np
import optuna
import torch

from tunaflow.components.checks import check_experiment
from tunaflow.components.models import predict_proba
from tunaflow.components.objective import evaluate_config
from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import apply_params, suggest_params
from tunaflow.components.spec import load_spec
from tunaflow.components.strategy import build_pruner, build_sampler
from tunaflow.components.trainer import train_model


def main(path: str) -> None:
    optuna.logging.set_verbosity(logging.WARNING)
    torch.set_num_threads(os.cpu_count() or 1)
    spec = load_spec(path)
    splits = check_experiment(spec)
    study = optuna.create_study(direction=spec.search.direction, sampler=build_sampler(spec.search, spec.seed),
                                pruner=build_pruner(spec.search, spec.train.epochs))

    def objective(trial):
        params = suggest_params(trial, spec.search.space)
        outcome = evaluate_config(apply_params(spec, params), splits, seed=derive_seed(spec.seed, "trial", trial.number))
        trial.set_user_attr("best_epoch", outcome.best_epoch)
        return outcome.value

    study.optimize(objective, n_trials=spec.search.n_trials)
    best = study.best_trial
    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    module, _ = train_model(apply_params(spec, best.params), X, y, n_classes=splits.n_classes, kind=splits.kind,
                            seed=derive_seed(spec.seed, "final"), epochs=best.user_attrs["best_epoch"])
    accuracy = float((predict_proba(module, splits.X_test).argmax(1) == splits.y_test).mean())
    print(json.dumps({"values": [t.value for t in study.trials], "test_accuracy": accuracy,
                      "trial_seconds": [t.duration.total_seconds() for t in study.trials]}))


if __name__ == "__main__":
    main(sys.argv[1])
