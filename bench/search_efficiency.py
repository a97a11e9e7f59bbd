"""Search efficiency (issue 5), two figures.

1. Epochs to a target: TPE with hyperband pruning against random search without
   pruning, the same trial budget, several seeds, on three problems (digits, the MNIST
   5k subset, a Fashion-MNIST share with 6,000 validation images) and in two search
   spaces (a narrow one whose ranges are already good, and the wide one a practitioner
   writes before knowing them). Training epochs are counted
   (pruned trials count the epochs they ran).
   Two readings of "epochs to reach random search's best validation accuracy":
   - per seed: random search's best after its trials is the target; the epochs each
     side spent until its best reached it, and their ratio; the median over seeds
     (a seed where TPE + hyperband never reaches it counts as an infinite ratio);
   - mean over seeds (the usual speed-up figure of Hyperband and BOHB): the target is
     the mean over seeds of random search's final best; the epochs at which each side's
     mean best-so-far reaches it.
   Goal: TPE + hyperband needs at most one third of random search's epochs.
   (The readings are computed in bench/search_readings.py.)
   Each reading comes with the range it takes over 2,000 draws of the seeds with
   replacement (95 % of draws), and ``--merge`` reads the result files of runs on other
   seeds as one run, so a figure can be made as precise as the seeds run allow. The
   mean-curve ratio is also split in two: the trials each side needs to reach the target
   (mean best by trial) and the epochs TPE + hyperband spends per trial.
2. Sampler plus storage time per trial, trials 180-200 against trials 1-20, on the
   embedded SQLite storage with a cheap objective (goal: at most 2x).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import optuna
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tunaflow.components.checks import check_experiment  # noqa: E402
from tunaflow.components.errors import SpecError  # noqa: E402
from tunaflow.components.model_spec import ACTIVATIONS  # noqa: E402
from tunaflow.components.objective import evaluate_config  # noqa: E402
from tunaflow.components.seeding import derive_seed  # noqa: E402
from tunaflow.components.space import apply_params, suggest_params  # noqa: E402
from tunaflow.components.spec import OPTIMIZERS, build_spec  # noqa: E402
from tunaflow.components.strategy import build_pruner, build_sampler  # noqa: E402
from search_readings import merge, plot_mean_curves, seed_row, setting_name, summarize  # noqa: E402

# digits is cheap but saturated: most configurations score within a few validation images
# of the best, so random search's best is mostly its luckiest draw. The MNIST 5k subset
# has 2.8x the validation images and configurations that differ more; its ratio came out
# no better (bench/REPORT.md)
PROBLEMS = {
    "digits": {"source": "digits", "subsample": 0.5},  # 583 training, 270 validation images
    "mnist": {"source": "mnist", "subsample": 0.5},  # 1,620 training, 750 validation images
    # a validation set large enough that one image is 0.00017 of accuracy, so the best value
    # is the configuration's, not the split's luck (Debian dataset-fashion-mnist, `make data`)
    "fashion": {"source": "fashion_mnist", "val_fraction": 0.1, "subsample": 0.1},  # 5,400 training, 6,000 validation
}

SPACES = {
    # ranges a practitioner who knows digits would pick: most configurations train well
    "narrow": {
        "train.lr": {"type": "float", "low": 1e-4, "high": 0.3, "log": True},
        "model.units.0": {"type": "int", "low": 8, "high": 256, "log": True},
        "model.dropout": {"type": "float", "low": 0.0, "high": 0.6},
        "model.activation": {"type": "categorical", "choices": ["relu", "tanh", "sigmoid", "gelu"]},
        "train.optimizer": {"type": "categorical", "choices": ["sgd", "adam", "rmsprop"]},
    },
    # the first space one writes for a new problem: every optimizer and activation, wide ranges
    "wide": {
        "train.lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
        "train.optimizer": {"type": "categorical", "choices": list(OPTIMIZERS)},
        "train.weight_decay": {"type": "float", "low": 1e-6, "high": 0.1, "log": True},
        "train.batch_size": {"type": "categorical", "choices": [16, 32, 64, 128, 256]},
        "model.units.0": {"type": "int", "low": 8, "high": 512, "log": True},
        "model.dropout": {"type": "float", "low": 0.0, "high": 0.7},
        "model.activation": {"type": "categorical", "choices": list(ACTIVATIONS)},
        "model.batch_norm": {"type": "categorical", "choices": [True, False]},
    },
}


def _spec(problem: str, space: str, sampler: str, pruner: str, seed: int, trials: int, folds: int = 0,
          epochs: int = 20):
    """``folds`` > 0: a k-fold objective (the folds train in turns; hyperband judges their mean per epoch)."""
    validation = {"scheme": "kfold", "folds": folds} if folds else {"scheme": "holdout"}
    return build_spec({
        "name": f"eff-{problem}-{space}-{seed}", "seed": seed, "data": PROBLEMS[problem],
        "model": {"family": "mlp", "layers": 1, "units": [64]},
        "train": {"epochs": epochs, "batch_size": 64, "early_stopping": {"enabled": False}},
        "search": {"sampler": sampler, "pruner": pruner, "n_trials": trials, "space": SPACES[space],
                   "validation": validation},
    })


def _study_curve(spec, splits) -> list[tuple[int, float]]:
    """(cumulative epochs, best value so far) after each trial; 0 before the first complete one."""
    # a named study: hyperband assigns trials to brackets by a hash of the study name
    study = optuna.create_study(study_name=spec.name, direction="maximize",
                                sampler=build_sampler(spec.search, spec.seed),
                                pruner=build_pruner(spec.search, spec.train.epochs))
    spent = [0]
    folds = spec.search.validation.folds if spec.search.validation.scheme == "kfold" else 1

    def objective(trial):
        params = suggest_params(trial, spec.search.space)

        def report(epoch, metrics):
            spent[0] += folds  # every fold trains this epoch (no early stopping here)
            trial.report(metrics["valid_acc"], epoch)
            if spec.search.pruner != "none" and trial.should_prune():
                raise optuna.TrialPruned()

        return evaluate_config(apply_params(spec, params), splits, report=report,
                               seed=derive_seed(spec.seed, "trial", trial.number)).value

    def best(s):
        return s.best_value if s.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)) else 0.0

    curve = []
    study.optimize(objective, n_trials=spec.search.n_trials, callbacks=[lambda s, t: curve.append((spent[0], best(s)))])
    return curve


def _seed_curves(problem: str, space: str, seed: int, trials: int, folds: int = 0,
                 epochs: int = 20) -> tuple[list, list]:
    """Random search's and TPE + hyperband's curves on one seed (its own split, samplers and trial seeds)."""
    torch.set_num_threads(1)  # one trial at a time on one core: epochs, not seconds, are the figure
    optuna.logging.set_verbosity(logging.WARNING)
    random_spec = _spec(problem, space, "random", "none", seed, trials, folds, epochs)
    splits = check_experiment(random_spec)
    return (_study_curve(random_spec, splits),
            _study_curve(_spec(problem, space, "tpe", "hyperband", seed, trials, folds, epochs), splits))


# TPE's start-up under hyperband (components/strategy.py) is the one setting that depends
# on the budget, and it is the same for every budget from here on
FIRST_READABLE_BUDGET = 27


def check_budgets(budgets, trials: int) -> None:
    """ValueError unless every budget can be read from studies of ``trials`` trials."""
    bad = [b for b in budgets if not FIRST_READABLE_BUDGET <= b <= trials]
    if bad:
        raise ValueError(f"budget {bad[0]}: each budget must be from {FIRST_READABLE_BUDGET} to the trials "
                         f"run ({trials})")


def epochs_to_target(problem: str = "digits", space: str = "wide", seeds=(0, 1, 2), trials: int = 50,
                     jobs: int = 1, budgets=(), folds: int = 0, epochs: int = 20) -> dict:
    """``jobs`` seeds at once, each in its own process with one torch thread (as many as cores).

    ``budgets`` are smaller trial budgets read from the same studies: the first n trials of
    a study are those of an n-trial study, since neither sampler nor pruner looks at the
    budget from ``FIRST_READABLE_BUDGET`` on.
    """
    check_budgets(budgets, trials)
    random_curves, tpe_curves = [], []
    label = setting_name(problem, space, folds, epochs)
    with ProcessPoolExecutor(jobs) as pool:
        outcomes = pool.map(_seed_curves, *zip(*[(problem, space, seed, trials, folds, epochs) for seed in seeds]))
        for seed, (random_curve, tpe_curve) in zip(seeds, outcomes):
            random_curves.append(random_curve)
            tpe_curves.append(tpe_curve)
            row = seed_row(seed, random_curve, tpe_curve)
            print(f"  {label} seed {seed}: target {row['target']:.4f}; random reached it after "
                  f"{row['random_epochs']} epochs, TPE+hyperband after {row['tpe_hyperband_epochs']} (its best "
                  f"{row['tpe_best']:.4f}, {row['tpe_total_epochs']} epochs in all vs {row['random_total_epochs']})",
                  flush=True)
    setting = {"problem": problem, "space": space, "folds": folds, "epochs": epochs}
    return summarize(setting, list(seeds), random_curves, tpe_curves, trials, budgets)


def _sampler_storage_seconds(trials: int) -> list[float]:
    """Seconds of sampling and storage per trial (the objective itself is instant)."""
    spec = _spec("digits", "narrow", "tpe", "median", 0, trials)
    from tunaflow.tasks.optuna.storage import open_storage

    study = optuna.create_study(storage=open_storage(f"sqlite:///{tempfile.mkdtemp()}/bench.db"), study_name="timing",
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
    return seconds


def sampler_storage_time(trials: int = 200, repeats: int = 3) -> dict:
    """Trials 180-200 against trials 1-20: the median of each window, then the median over studies."""
    runs = []
    for _ in range(repeats):
        seconds = _sampler_storage_seconds(trials)
        early, late = statistics.median(seconds[:20]), statistics.median(seconds[179:200])
        runs.append({"trials_1_20_ms": early * 1000, "trials_180_200_ms": late * 1000, "ratio": late / early})
        print(f"  sampler+storage per trial: trials 1-20 {early * 1000:.1f} ms, trials 180-200 {late * 1000:.1f} ms, "
              f"ratio {late / early:.2f}", flush=True)
    return {"runs": runs, "ratio": statistics.median(r["ratio"] for r in runs)}


def run(repeats: int = 3, spaces=tuple(SPACES), trials: int = 50, timing: bool = True,
        problems=("digits",), first_seed: int = 0, jobs: int | None = None, budgets=(), folds: int = 0,
        epochs: int = 20) -> dict:
    """``repeats`` seeds for each problem and space (`make bench` passes 3 on digits; the report uses 40).

    MNIST costs about ten times digits' epoch time and Fashion-MNIST more still, so they
    run on request (``--problem mnist``, ``--problem fashion``).
    """
    from tunaflow.tasks.worker import usable_cores

    jobs = jobs or usable_cores()  # cores this process may run on (taskset), as search workers count them
    optuna.logging.set_verbosity(logging.WARNING)
    torch.set_num_threads(1)  # the sampler timing runs here; the seeds' studies in their own processes
    seeds = tuple(range(first_seed, first_seed + repeats))
    result = {"benchmark": "search_efficiency",
              "epochs_to_target": {
                  setting_name(problem, space, folds, epochs):
                      epochs_to_target(problem, space, seeds, trials, jobs, budgets, folds, epochs)
                  for problem in problems for space in spaces}}
    if timing:
        result["sampler_storage_time"] = sampler_storage_time()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed.. (100 and up: held out)")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--space", choices=sorted(SPACES), action="append")
    parser.add_argument("--problem", choices=sorted(PROBLEMS), action="append")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--timing-only", action="store_true")
    parser.add_argument("--jobs", type=int, help="seeds run at once (default: one per usable core)")
    parser.add_argument("--budget", type=int, action="append", default=[],
                        help=f"also read the first N trials of each study (N >= {FIRST_READABLE_BUDGET}), e.g. --trials 100 --budget 50")
    parser.add_argument("--folds", type=int, default=0,
                        help="score trials by k-fold cross-validation with this many folds (default: holdout)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs a trial trains (default 20)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--plot", type=Path, help="a PNG of the mean best-so-far curves")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="RESULT",
                        help="run nothing: read the --out files of earlier runs (other seeds) as one run")
    args = parser.parse_args()
    if args.merge:
        try:
            merged = {"benchmark": "search_efficiency", "merged_from": [str(p) for p in args.merge],
                      "epochs_to_target": merge(args.merge)}
        except (OSError, ValueError, KeyError) as error:
            parser.error(f"--merge: {error}")
        if args.out:
            args.out.write_text(json.dumps(merged, indent=2))
        if args.plot:
            plot_mean_curves(merged["epochs_to_target"], args.plot)
        sys.exit(0)
    if args.seeds < 1 or args.trials < 1 or (args.jobs is not None and args.jobs < 1):
        parser.error("--seeds, --trials and --jobs must be at least 1")
    try:
        check_budgets(args.budget, args.trials)
        # --folds and --epochs out of range: the spec's own message
        for problem in args.problem or ("digits",):
            _spec(problem, "narrow", "tpe", "hyperband", 0, args.trials, args.folds, args.epochs)
    except SpecError as error:
        parser.error(str(error).replace("\n", "; "))
    except ValueError as error:
        parser.error(f"--{error}")
    spaces = () if args.timing_only else tuple(args.space or SPACES)
    outcome = run(args.seeds, spaces, args.trials, not args.no_timing, tuple(args.problem or ("digits",)),
                  args.first_seed, args.jobs, args.budget, args.folds, args.epochs)
    if args.out:
        args.out.write_text(json.dumps(outcome, indent=2))
    if args.plot and outcome["epochs_to_target"]:
        plot_mean_curves(outcome["epochs_to_target"], args.plot)
