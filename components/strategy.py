"""Search strategies: the spec's sampler and pruner as Optuna objects."""

from __future__ import annotations

import warnings

import optuna

from components.seeding import derive_seed
from components.space import grid_values
from components.spec import SearchSpec


def build_sampler(search: SearchSpec, seed: int) -> optuna.samplers.BaseSampler:
    sampler_seed = derive_seed(seed, "sampler")
    if search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=sampler_seed)
    if search.sampler == "grid":
        return optuna.samplers.GridSampler(grid_values(search.space), seed=sampler_seed)
    with warnings.catch_warnings():
        # multivariate/group TPE are marked experimental; they are what conditional spaces need
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=sampler_seed,
            multivariate=True,
            group=True,
            constant_liar=search.workers > 1,
            n_startup_trials=min(10, max(2, search.n_trials // 3)),
        )


def build_pruner(search: SearchSpec, max_epochs: int) -> optuna.pruners.BasePruner:
    if search.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, max_epochs // 4))
    if search.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs)
    return optuna.pruners.NopPruner()
