"""Stage: build the spec's model once and record its summary and size."""

from __future__ import annotations

import mlflow
from prefect import task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.models import count_parameters, describe_module
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import prepare_module
from tunaflow.tasks.mlflow.tracking import TrackingContext, stage_run


@task(name="build model", cache_policy=NO_CACHE)
def build_model_stage(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> int:
    module = prepare_module(spec, splits.X_train, splits.n_classes, splits.kind, spec.seed)
    n_params = count_parameters(module)
    with stage_run(ctx, "model"):
        mlflow.log_params({f"model.{k}": v for k, v in spec.model.model_dump(mode="json").items()})
        mlflow.log_metric("n_params", n_params)
        mlflow.log_text(describe_module(module), "model_summary.txt")
    return n_params
