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

import numpy as np
import optuna
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.checks import check_experiment  # noqa: E402
from components.errors import SpecError  # noqa: E402
from components.model_spec import ACTIVATIONS  # noqa: E402
from components.objective import evaluate_config  # noqa: E402
from components.seeding import derive_seed  # noqa: E402
from components.space import apply_params, suggest_params  # noqa: E402
from components.spec import OPTIMIZERS, build_spec  # noqa: E402
from components.strategy import build_pruner, build_sampler  # noqa: E402

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


def setting_name(problem: str, space: str, folds: int = 0, epochs: int = 20) -> str:
    """``digits-narrow``, with ``-3fold`` and ``-40epochs`` where they differ from the defaults."""
    return "-".join([problem, space, *([f"{folds}fold"] if folds else []),
                     *([f"{epochs}epochs"] if epochs != 20 else [])])


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


def _epochs_to(curve, target: float) -> int | None:
    return next((epochs for epochs, best in curve if best >= target - 1e-12), None)


def _marks(curves) -> np.ndarray:
    """Every epoch count at which one of ``curves`` changes."""
    return np.array(sorted({epochs for curve in curves for epochs, _ in curve}))


def _best_matrix(curves, marks: np.ndarray) -> np.ndarray:
    """Each curve's best so far at each mark (a row per curve; 0 before its first trial ends)."""
    rows = []
    for curve in curves:
        spent, best = np.array([e for e, _ in curve]), np.array([b for _, b in curve])
        last = np.searchsorted(spent, marks, side="right") - 1
        rows.append(np.where(last >= 0, best[np.maximum(last, 0)], 0.0))
    return np.array(rows)


def _first_mark(marks: np.ndarray, mean_curve: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(mean_curve >= target - 1e-12)
    return int(marks[reached[0]]) if reached.size else None


def _mean_epochs_to(curves, target: float) -> int | None:
    """The first epoch count at which the mean over seeds of the best so far reaches ``target``."""
    marks = _marks(curves)
    return _first_mark(marks, _best_matrix(curves, marks).mean(axis=0), target)


def _mean_trials_to(curves, target: float) -> int | None:
    """The first trial count at which the mean over seeds of the best so far reaches ``target``.

    With the epochs each side spends per trial this splits the epoch ratio in two: how many
    of random search's trials TPE needs, and what a trial costs under hyperband.
    """
    mean_best = np.array([[best for _, best in curve] for curve in curves]).mean(axis=0)
    reached = np.flatnonzero(mean_best >= target - 1e-12)
    return int(reached[0]) + 1 if reached.size else None


def _bootstrap_ratios(random_curves: list, tpe_curves: list, per_seed: list[float],
                      draws: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Both readings recomputed on seeds drawn with replacement: how far the seeds' luck moves them.

    Returns the mean-curve ratio and the per-seed median of every draw (a draw whose mean
    curve never reaches the target counts as infinite).
    """
    rng = np.random.default_rng(0)
    random_marks, tpe_marks = _marks(random_curves), _marks(tpe_curves)
    random_best, tpe_best = _best_matrix(random_curves, random_marks), _best_matrix(tpe_curves, tpe_marks)
    finals, per_seed = np.array([c[-1][1] for c in random_curves]), np.array(per_seed)
    n = len(finals)
    mean_ratios, median_ratios = [], []
    for _ in range(draws):
        drawn = rng.integers(n, size=n)
        weights = np.bincount(drawn, minlength=n) / n
        target = weights @ finals
        random_epochs = _first_mark(random_marks, weights @ random_best, target)
        tpe_epochs = _first_mark(tpe_marks, weights @ tpe_best, target)
        mean_ratios.append(tpe_epochs / random_epochs if tpe_epochs else np.inf)
        median_ratios.append(np.median(per_seed[drawn]))
    return np.array(mean_ratios), np.array(median_ratios)


def _bootstrap(random_curves: list, tpe_curves: list, per_seed: list[float], draws: int = 2000) -> dict:
    """The 2.5th, 50th and 97.5th percentiles of each reading over the draws, and the share at or under a third."""
    mean_ratios, median_ratios = _bootstrap_ratios(random_curves, tpe_curves, per_seed, draws)

    def summary(ratios):
        low, mid, high = np.percentile(ratios, [2.5, 50, 97.5], method="inverted_cdf")  # no interpolation with inf
        return {"interval_95": [float(low), float(high)], "median": float(mid),
                "share_at_most_a_third": float(np.mean(ratios <= 1 / 3))}

    return {"draws": draws, "mean_over_seeds": summary(mean_ratios), "per_seed_median": summary(median_ratios)}


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


def _seed_row(seed: int, random_curve: list, tpe_curve: list) -> dict:
    """One seed's per-seed reading: epochs each side needed to reach random search's final best."""
    target = random_curve[-1][1]
    random_epochs, tpe_epochs = _epochs_to(random_curve, target), _epochs_to(tpe_curve, target)
    return {"seed": seed, "target": target, "random_epochs": random_epochs, "tpe_hyperband_epochs": tpe_epochs,
            "ratio": tpe_epochs / random_epochs if tpe_epochs else None, "tpe_best": tpe_curve[-1][1],
            "tpe_total_epochs": tpe_curve[-1][0], "random_total_epochs": random_curve[-1][0]}


def _reading(random_curves: list, tpe_curves: list, seeds, trials: int) -> dict:
    """Both readings of the goal over the first ``trials`` trials of every study."""
    random_curves, tpe_curves = [c[:trials] for c in random_curves], [c[:trials] for c in tpe_curves]
    rows = [_seed_row(*seed_curves) for seed_curves in zip(seeds, random_curves, tpe_curves)]
    ratios = [r["ratio"] if r["ratio"] is not None else float("inf") for r in rows]
    mean_target = statistics.mean(c[-1][1] for c in random_curves)
    mean_random, mean_tpe = _mean_epochs_to(random_curves, mean_target), _mean_epochs_to(tpe_curves, mean_target)
    return {
        "trials": trials, "rows": rows,
        "seeds_reached": sum(r["ratio"] is not None for r in rows), "median_epoch_ratio": statistics.median(ratios),
        "mean_target": mean_target, "mean_random_epochs": mean_random, "mean_tpe_hyperband_epochs": mean_tpe,
        "mean_epoch_ratio": mean_tpe / mean_random if mean_tpe else None,
        "mean_random_trials": _mean_trials_to(random_curves, mean_target),
        "mean_tpe_hyperband_trials": _mean_trials_to(tpe_curves, mean_target),
        "mean_tpe_final_best": statistics.mean(c[-1][1] for c in tpe_curves),
        "mean_epochs_spent": {"random": statistics.mean(c[-1][0] for c in random_curves),
                              "tpe_hyperband": statistics.mean(c[-1][0] for c in tpe_curves)},
        "bootstrap": _bootstrap(random_curves, tpe_curves, ratios),
    }


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
            row = _seed_row(seed, random_curve, tpe_curve)
            print(f"  {label} seed {seed}: target {row['target']:.4f}; random reached it after "
                  f"{row['random_epochs']} epochs, TPE+hyperband after {row['tpe_hyperband_epochs']} (its best "
                  f"{row['tpe_best']:.4f}, {row['tpe_total_epochs']} epochs in all vs {row['random_total_epochs']})",
                  flush=True)
    setting = {"problem": problem, "space": space, "folds": folds, "epochs": epochs}
    return summarize(setting, list(seeds), random_curves, tpe_curves, trials, budgets)


def _interval(bootstrap: dict, reading: str) -> str:
    low, high = bootstrap[reading]["interval_95"]
    return f"95% of seed draws {low:.2f}-{high:.2f}"


def summarize(setting: dict, seeds: list, random_curves: list, tpe_curves: list, trials: int, budgets=()) -> dict:
    """Both readings at every budget, printed and returned with the curves they were read from."""
    label = setting_name(**setting)
    readings = {}
    for n in sorted({trials, *budgets}):
        r = readings[n] = _reading(random_curves, tpe_curves, seeds, n)
        ratio = f"{r['mean_epoch_ratio']:.2f}" if r["mean_epoch_ratio"] else "not reached"
        spent = r["mean_epochs_spent"]
        print(f"  {label}, {n} trials, {len(seeds)} seeds: per seed, median ratio {r['median_epoch_ratio']:.2f} "
              f"({_interval(r['bootstrap'], 'per_seed_median')}; reached on {r['seeds_reached']}); mean over "
              f"seeds: target {r['mean_target']:.4f}, random {r['mean_random_epochs']} epochs, TPE+hyperband "
              f"{r['mean_tpe_hyperband_epochs']} (ratio {ratio}; {_interval(r['bootstrap'], 'mean_over_seeds')}); "
              f"by trials: random {r['mean_random_trials']}, TPE+hyperband {r['mean_tpe_hyperband_trials']}, "
              f"which spends {spent['tpe_hyperband'] / spent['random']:.2f} of random search's epochs per trial",
              flush=True)
    return {**setting, **readings[trials], "budgets": readings,
            "curves": {"random": random_curves, "tpe_hyperband": tpe_curves}}


def merge(paths: list[Path]) -> dict:
    """The readings of several runs' result files taken together, setting by setting (seeds must differ).

    Each file is the ``--out`` of a run; the merged readings are those of one run over all
    their seeds, at the budgets every file was read at.
    """
    settings: dict[str, dict] = {}
    for path in paths:
        for name, result in json.loads(path.read_text())["epochs_to_target"].items():
            setting = {k: result[k] for k in ("problem", "space", "folds", "epochs")}
            merged = settings.setdefault(name, {"setting": setting, "seeds": [], "random": [], "tpe_hyperband": [],
                                                "budgets": None})
            seeds = [row["seed"] for row in result["rows"]]
            if set(seeds) & set(merged["seeds"]):
                raise ValueError(f"{path}: seeds {sorted(set(seeds) & set(merged['seeds']))} of {name} are in "
                                 "another file too")
            merged["seeds"] += seeds
            merged["random"] += result["curves"]["random"]
            merged["tpe_hyperband"] += result["curves"]["tpe_hyperband"]
            budgets = {int(n) for n in result["budgets"]}
            merged["budgets"] = budgets if merged["budgets"] is None else merged["budgets"] & budgets
            if not merged["budgets"]:
                raise ValueError(f"{path}: no trial budget of {name} was read in every file")
    return {name: summarize(m["setting"], m["seeds"], m["random"], m["tpe_hyperband"], max(m["budgets"]),
                            m["budgets"] - {max(m["budgets"])})
            for name, m in settings.items()}


def plot_mean_curves(results: dict, path: Path) -> None:
    """A column per setting: the mean over seeds of each side's best so far against epochs spent,
    and under it how the mean-curve ratio spreads over draws of the seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(5.5 * len(results), 7.5), squeeze=False)
    for (ax, spread), (name, result) in zip(axes.T, results.items()):
        trials = result["trials"]
        curves = {side: [c[:trials] for c in result["curves"][side]] for side in ("random", "tpe_hyperband")}
        target = result["mean_target"]
        for side, label in (("random", "random search"), ("tpe_hyperband", "TPE + hyperband")):
            marks = _marks(curves[side])
            ax.plot(marks, _best_matrix(curves[side], marks).mean(axis=0), label=label)
        ax.axhline(target, color="gray", linestyle="--", linewidth=0.8, label="random search's mean final best")
        if result["mean_random_epochs"]:
            ax.axvline(result["mean_random_epochs"] / 3, color="gray", linestyle=":", linewidth=0.8,
                       label="a third of random search's epochs")
        ax.set_ylim(target - 0.03, target + 0.01)
        ax.set(title=f"{name}, {len(curves['random'])} seeds, {trials} trials", xlabel="epochs trained",
               ylabel="mean best validation accuracy")
        ax.legend(loc="lower right", fontsize=8)

        per_seed = [r["ratio"] if r["ratio"] is not None else np.inf for r in result["rows"]]
        ratios, _ = _bootstrap_ratios(curves["random"], curves["tpe_hyperband"], per_seed)
        finite = ratios[np.isfinite(ratios)]
        spread.hist(finite, bins=40, color="tab:orange", alpha=0.7)
        spread.axvline(1 / 3, color="gray", linestyle=":", linewidth=1, label="the goal, a third")
        if result["mean_epoch_ratio"]:
            spread.axvline(result["mean_epoch_ratio"], color="black", linewidth=1,
                           label=f"all seeds: {result['mean_epoch_ratio']:.2f}")
        never = f"; {len(ratios) - len(finite)} never reach it" if len(finite) < len(ratios) else ""
        spread.set(title=f"mean-curve ratio over {len(ratios)} draws of the seeds{never}",
                   xlabel="epochs TPE + hyperband / random search", ylabel="draws")
        spread.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _sampler_storage_seconds(trials: int) -> list[float]:
    """Seconds of sampling and storage per trial (the objective itself is instant)."""
    spec = _spec("digits", "narrow", "tpe", "median", 0, trials)
    from tasks.storage import open_storage

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
    from tasks.worker import usable_cores

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
