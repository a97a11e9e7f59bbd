"""Stage: build the spec's model once and record its summary and size.

A network is built (summary and parameter count); a scikit-learn family's unfitted estimator
is described (its steps and parameters); with ``model.family: auto`` the search chooses the
family per trial, and the stage records the families it chooses from.
"""

from __future__ import annotations

import mlflow
import numpy as np
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.family_checks import trained_families
from tunaflow.components.model_spec import SKLEARN_FAMILIES
from tunaflow.components.models import count_parameters, describe_module
from tunaflow.components.sklearn_models import build_estimator, describe_estimator
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import prepare_module
from tunaflow.tasks.mlflow.tracking import TrackingContext, stage_run


def _summary(spec: ExperimentSpec, splits: DataSplits) -> tuple[str, int]:
    family = spec.model.family
    if family == "auto":
        families = ", ".join(trained_families(spec))
        return f"model.family auto: the search chooses the family per trial among {families}\n", 0
    if family in SKLEARN_FAMILIES:
        n_features = int(np.prod(splits.input_shape))
        estimator = build_estimator(spec.model, splits.task, n_features, splits.embedded or (), spec.seed)
        return describe_estimator(estimator), 0
    module = prepare_module(spec, splits.X_train, splits.n_outputs, splits.kind, spec.seed, task=splits.task,
                            embedded=tuple(splits.embedded or ()), y=splits.y_train)
    return describe_module(module), count_parameters(module)


@task(name="build model", cache_policy=NO_CACHE)
def build_model_stage(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> int:
    text, n_params = _summary(spec, splits)
    with stage_run(ctx, "model"):
        mlflow.log_params({f"model.{k}": v for k, v in spec.model.model_dump(mode="json").items()})
        mlflow.log_metric("n_params", n_params)
        mlflow.log_text(text, "model_summary.txt")
    if spec.model.family == "auto":
        get_run_logger().info(text.strip())
    return n_params
