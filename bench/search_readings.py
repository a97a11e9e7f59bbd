"""Readings of the search-efficiency curves (``bench/search_efficiency.py`` runs the studies).

A curve is one study's (epochs trained so far, best value so far) after each trial. From
the curves of random search and TPE + hyperband on several seeds: the per-seed and the
mean-over-seeds epoch ratios, their spread over draws of the seeds, several runs' result
files read as one, and the plot.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np


def setting_name(problem: str, space: str, folds: int = 0, epochs: int = 20) -> str:
    """``digits-narrow``, with ``-3fold`` and ``-40epochs`` where they differ from the defaults."""
    return "-".join([problem, space, *([f"{folds}fold"] if folds else []),
                     *([f"{epochs}epochs"] if epochs != 20 else [])])


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


def seed_row(seed: int, random_curve: list, tpe_curve: list) -> dict:
    """One seed's per-seed reading: epochs each side needed to reach random search's final best."""
    target = random_curve[-1][1]
    random_epochs, tpe_epochs = _epochs_to(random_curve, target), _epochs_to(tpe_curve, target)
    return {"seed": seed, "target": target, "random_epochs": random_epochs, "tpe_hyperband_epochs": tpe_epochs,
            "ratio": tpe_epochs / random_epochs if tpe_epochs else None, "tpe_best": tpe_curve[-1][1],
            "tpe_total_epochs": tpe_curve[-1][0], "random_total_epochs": random_curve[-1][0]}


def _per_seed_ratios(rows: list[dict]) -> list[float]:
    """Each seed's ratio, infinite where TPE + hyperband never reached random search's best."""
    return [r["ratio"] if r["ratio"] is not None else float("inf") for r in rows]


def _reading(random_curves: list, tpe_curves: list, seeds, trials: int) -> dict:
    """Both readings of the goal over the first ``trials`` trials of every study."""
    random_curves, tpe_curves = [c[:trials] for c in random_curves], [c[:trials] for c in tpe_curves]
    rows = [seed_row(*seed_curves) for seed_curves in zip(seeds, random_curves, tpe_curves)]
    ratios = _per_seed_ratios(rows)
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


def _results_in(path: Path) -> dict:
    """The epochs-to-target results of an ``--out`` file; ValueError naming the file if it holds none."""
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from None
    results = content.get("epochs_to_target") if isinstance(content, dict) else None
    needed = {"problem", "space", "folds", "epochs", "rows", "curves", "budgets"}
    if not results or not all(isinstance(r, dict) and needed <= r.keys() for r in results.values()):
        raise ValueError(f"{path}: not an --out file of a search-efficiency run with epochs-to-target readings")
    return results


def merge(paths: list[Path]) -> dict:
    """The readings of several runs' result files taken together, setting by setting (seeds must differ).

    Each file is the ``--out`` of a run; the merged readings are those of one run over all
    their seeds, at the budgets every file was read at.
    """
    settings: dict[str, dict] = {}
    for path in paths:
        for name, result in _results_in(path).items():
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

        # the reading's draws again (same generator seed), kept out of the result file for its size
        ratios, _ = _bootstrap_ratios(curves["random"], curves["tpe_hyperband"], _per_seed_ratios(result["rows"]))
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
