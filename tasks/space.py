"""Stage: define the search space and record it."""

from __future__ import annotations

import mlflow
from prefect import task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.space import describe_space
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_dict_artifact, stage_run


@task(name="define search space", cache_policy=NO_CACHE)
def define_space(spec: ExperimentSpec, ctx: TrackingContext) -> dict:
    space = describe_space(spec.search.space)
    with stage_run(ctx, "search_space"):
        mlflow.log_params({"sampler": spec.search.sampler, "pruner": spec.search.pruner,
                           "n_trials": spec.search.n_trials,
                           "objectives": ",".join(o.metric for o in spec.search.objective_specs),
                           "directions": ",".join(spec.search.directions),
                           "validation": spec.search.validation.scheme,
                           "n_dimensions": len(space)})
        log_dict_artifact(space, "search_space.json")
    return space
