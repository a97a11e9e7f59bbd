"""Stage: build the train-time augmentation and record the pipeline."""

from __future__ import annotations

import mlflow
from prefect import task
from prefect.cache_policies import NO_CACHE

from components.augment import build_augmentation, describe_augmentation
from components.data import DataSplits
from components.models import input_statistics
from components.spec import ExperimentSpec
from tasks.tracking import TrackingContext, log_dict_artifact, stage_run


@task(name="build augmentation", cache_policy=NO_CACHE)
def build_augmentation_stage(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> dict:
    _, std = input_statistics(splits.X_train, splits.kind)
    described = describe_augmentation(build_augmentation(spec.augment, splits.kind, std))
    with stage_run(ctx, "augmentation"):
        mlflow.log_params({"enabled": spec.augment.enabled, "tabular.noise": spec.augment.tabular.noise})
        log_dict_artifact(described, "augmentation.json")
    return described
