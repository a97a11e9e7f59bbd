"""Stage: resolve the spec for the loaded data (task, metric, search space, budget) and record the space."""

from __future__ import annotations

import mlflow
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.resolve import describe_resolution, resolve_experiment
from tunaflow.components.space import all_paths, describe_space
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_dict_artifact, stage_run


@task(name="define search space", cache_policy=NO_CACHE)
def define_space(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> ExperimentSpec:
    """The resolved spec every later stage works on; its space is logged as search_space.json."""
    resolved = resolve_experiment(spec, splits)
    search = resolved.search
    space = describe_space(search.searched)
    summary = describe_resolution(resolved)
    get_run_logger().info(summary)
    with stage_run(ctx, "search_space"):
        mlflow.log_params({"sampler": search.sampler, "pruner": search.pruner,
                           "n_trials": search.trial_budget, "timeout": search.timeout,
                           "task": resolved.data.task, "family": resolved.model.family,
                           "objectives": ",".join(o.metric for o in search.objective_specs),
                           "directions": ",".join(search.directions),
                           "validation": search.validation.scheme,
                           "default_space": spec.search.space is None,
                           "n_dimensions": len(all_paths(search.searched))})
        mlflow.log_text(summary + "\n", "search_summary.txt")
        log_dict_artifact(space, "search_space.json")
        if search.warm_start.params:
            log_dict_artifact(search.warm_start.params, "first_trials.json")
    return resolved
