"""Search efficiency (issue 5), two figures.

1. Epochs to a target: TPE with hyperband pruning against random search without
   pruning, the same trial budget, several seeds. The target is random search's best
   validation accuracy; we count the training epochs each strategy spent (pruned
   trials count the epochs they ran) until its best reached the target.
   Goal: TPE + hyperband needs at most one third of random search's epochs.
2. Sampler plus storage time per trial, trials 180-200 against trials 1-20, on the
   embedded SQLite storage with a cheap objective (goal: at most 2x).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time

import optuna

from components.checks import check_experiment
from components.objective import evaluate_config
from components.seeding import derive_seed
from components.space import apply_params, suggest_params
from components.spec import build_spec
from components.strategy import build_pruner, build_sampler

SPACE = {
    "train.lr": {"type": "float", "low": 1e-4, "high": 0.3, "log": True},
    "model.units.0": {"type": "int", "low": 8, "high": 256, "log": True},
    "model.dropout": {"type": "float", "low": 0.0, "high": 0.6},
    "model.activation": {"type": "categorical", "choices": ["relu", "tanh", "sigmoid", "gelu"]},
    "train.optimizer": {"type": "categorical", "choices": ["sgd", "adam", "rmsprop"]},
}


def _spec(sampler: str, pruner: str, seed: int, trials: int):
    return build_spec({
        "name": "eff", "seed": seed, "data": {"source": "digits", "subsample": 0.5},
        "model": {"family": "mlp", "layers": 1, "units": [64]},
        "train": {"epochs": 20, "batch_size": 64, "early_stopping": {"enabled": False}},
        "search": {"sampler": sampler, "pruner": pruner, "n_trials": trials, "space": SPACE},
    })


def _study_curve(spec, splits) -> list[tuple[int, float]]:
    """(cumulative epochs, best value so far) after each trial."""
    study = optuna.create_study(direction="maximize", sampler=build_sampler(spec.search, spec.seed),
                                pruner=build_pruner(spec.search, spec.train.epochs))
    spent = [0]

    def objective(trial):
        params = suggest_params(trial, spec.search.space)

        def report(epoch, metrics):
            spent[0] += 1
            trial.report(metrics["valid_acc"], epoch)
            if spec.search.pruner != "none" and trial.should_prune():
                raise optuna.TrialPruned()

        return evaluate_config(apply_params(spec, params), splits, report=report,
                               seed=derive_seed(spec.seed, "trial", trial.number)).value

    curve = []
    study.optimize(objective, n_trials=spec.search.n_trials,
                   callbacks=[lambda s, t: curve.append((spent[0], s.best_value))])
    return curve


def _epochs_to(curve, target: float) -> int | None:
    return next((epochs for epochs, best in curve if best >= target - 1e-12), None)


def epochs_to_target(seeds=(0, 1, 2), trials: int = 30) -> dict:
    rows = []
    for seed in seeds:
        splits = check_experiment(_spec("random", "none", seed, trials))
        random_curve = _study_curve(_spec("random", "none", seed, trials), splits)
        tpe_curve = _study_curve(_spec("tpe", "hyperband", seed, trials), splits)
        target = random_curve[-1][1]
        random_epochs, tpe_epochs = _epochs_to(random_curve, target), _epochs_to(tpe_curve, target)
        rows.append({"seed": seed, "target": target, "random_epochs": random_epochs, "tpe_hyperband_epochs": tpe_epochs,
                     "tpe_best": tpe_curve[-1][1], "tpe_total_epochs": tpe_curve[-1][0],
                     "random_total_epochs": random_curve[-1][0]})
        print(f"  seed {seed}: target {target:.4f}; random reached it after {random_epochs} epochs, "
              f"TPE+hyperband after {tpe_epochs} (its best {tpe_curve[-1][1]:.4f}, "
              f"{tpe_curve[-1][0]} epochs in all vs {random_curve[-1][0]})", flush=True)
    reached = [r for r in rows if r["tpe_hyperband_epochs"] is not None]
    ratio = statistics.median([r["tpe_hyperband_epochs"] / r["random_epochs"] for r in reached]) if reached else None
    return {"rows": rows, "seeds_reached": len(reached), "median_epoch_ratio": ratio}


def sampler_storage_time(trials: int = 200) -> dict:
    """Seconds of sampling and storage per trial (the objective itself is instant)."""
    spec = _spec("tpe", "median", 0, trials)
    folder = tempfile.mkdtemp()
    from tasks.storage import open_storage

    study = optuna.create_study(storage=open_storage(f"sqlite:///{folder}/bench.db"), study_name="timing",
                                direction="maximize", sampler=build_sampler(spec.search, 0),
                                pruner=build_pruner(spec.search, 20))
    seconds = []
    for _ in range(trials):
        start = time.perf_counter()
        trial = study.ask()
        params = suggest_params(trial, spec.search.space)
        for epoch in range(1, 21):  # the per-epoch reports a real trial makes
            trial.report(0.5 + 0.01 * epoch * params["model.dropout"], epoch)
            trial.should_prune()
        study.tell(trial, 0.5 + params["model.dropout"])
        seconds.append(time.perf_counter() - start)
    early, late = statistics.median(seconds[:20]), statistics.median(seconds[179:200])
    print(f"  sampler+storage per trial: trials 1-20 {early * 1000:.1f} ms, trials 180-200 {late * 1000:.1f} ms, "
          f"ratio {late / early:.2f}", flush=True)
    return {"trials_1_20_ms": early * 1000, "trials_180_200_ms": late * 1000, "ratio": late / early}


def run(repeats: int = 3) -> dict:
    optuna.logging.set_verbosity(logging.WARNING)
    return {"benchmark": "search_efficiency", "epochs_to_target": epochs_to_target(seeds=tuple(range(repeats))),
            "sampler_storage_time": sampler_storage_time()}
