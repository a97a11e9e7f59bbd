"""Search strategies: the spec's sampler, pruner and budget as Optuna objects."""

from __future__ import annotations

import warnings

import optuna

from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import grid_values
from tunaflow.components.spec import SearchSpec


def build_sampler(search: SearchSpec, seed: int, worker: str | None = None) -> optuna.samplers.BaseSampler:
    """``worker`` names one of several workers: each samples its own stream (the first keeps the study's)."""
    sampler_seed = derive_seed(seed, "sampler") if worker is None else derive_seed(seed, "sampler", worker)
    with warnings.catch_warnings():
        # multivariate/group TPE, GP, QMC are marked experimental; they are what the spec asks for
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if search.sampler == "random":
            return optuna.samplers.RandomSampler(seed=sampler_seed)
        if search.sampler == "grid":
            return optuna.samplers.GridSampler(grid_values(search.searched), seed=sampler_seed)
        if search.sampler == "cmaes":
            # categorical dimensions fall back to the independent sampler, quietly
            return optuna.samplers.CmaEsSampler(seed=sampler_seed, warn_independent_sampling=False,
                                                n_startup_trials=min(5, max(1, search.trial_budget // 4)))
        if search.sampler == "gp":
            return optuna.samplers.GPSampler(seed=sampler_seed, n_startup_trials=min(10, max(2, search.trial_budget // 3)))
        if search.sampler == "qmc":
            return optuna.samplers.QMCSampler(seed=sampler_seed, warn_independent_sampling=False)
        if search.sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=sampler_seed, population_size=min(50, max(4, search.trial_budget // 4)))
        return optuna.samplers.TPESampler(
            seed=sampler_seed,
            multivariate=True,
            group=True,
            constant_liar=search.workers > 1,
            n_startup_trials=_startup_trials(search),
        )


def _startup_trials(search: SearchSpec) -> int:
    """Random trials before TPE models the space.

    Under hyperband most trials stop at their first rung, so random start-up trials
    are cheap and few are needed: with Optuna's default of 10 in a 30-trial study, TPE +
    hyperband was little better than random search (bench/REPORT.md). TPE reads every
    bracket's trials (Optuna's bracket view filters ``get_trials``, TPE reads ``_get_trials``).
    """
    if search.pruner == "hyperband":
        return min(3, max(2, search.trial_budget // 9))
    return min(10, max(2, search.trial_budget // 3))


# the epoch of the first pruning decision, for trials of 20 epochs or more
FIRST_RUNG = 5


def build_pruner(search: SearchSpec, max_steps: int) -> optuna.pruners.BasePruner:
    """Pruners read per-epoch reports (under k-fold, the mean over the folds trained in turns).

    Median, successive halving and hyperband judge no trial before its fifth epoch (a
    quarter of its epochs when it has fewer than 20): first-epoch accuracy favours fast
    starters over the configurations that end best, and hyperband from epoch 1 found a
    worse best than random search with the same trials (bench/REPORT.md; successive
    halving is hyperband's most aggressive bracket). The first rung stays at five epochs
    however long trials train, so longer trials give hyperband more rungs and brackets.
    """
    first_judged = max(1, min(FIRST_RUNG, max_steps // 4))
    if search.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=first_judged)
    if search.pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=first_judged, reduction_factor=3)
    if search.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=first_judged, max_resource=max_steps, reduction_factor=3)
    return optuna.pruners.NopPruner()


class StopWhenStalled:
    """Optuna callback: stop the study when the best value has not improved for ``patience`` trials."""

    def __init__(self, patience: int):
        self.patience = patience

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if self.stalled(study):
            study.stop()

    def stalled(self, study: optuna.Study) -> bool:
        complete = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
        if len(complete) <= self.patience:
            return False
        best = study.best_trial.number
        return sum(t.number > best for t in complete) >= self.patience
