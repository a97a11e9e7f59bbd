"""Stage: check the logged model loads and predicts, register it, then move the alias."""

from __future__ import annotations

import json

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient
from prefect import task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.fitted import output_labels
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.pyfunc import split_input
from tunaflow.tasks.mlflow.registry import move_alias
from tunaflow.tasks.search import SearchResult
from tunaflow.tasks.mlflow.tracking import TrackingContext, stage_run
from tunaflow.tasks.train import FinalModel
from tunaflow.tasks import tags as keys


@task(name="register model", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def register(spec: ExperimentSpec, final: FinalModel, best: SearchResult, metrics: dict,
             splits: DataSplits, ctx: TrackingContext, alias: str | None = None,
             extra_tags: dict[str, str] | None = None) -> dict:
    """Register the logged model once it reproduces the trained one, then point ``alias`` at it.

    ``alias`` defaults to the spec's (``tracking.alias``); retraining names ``challenger``
    when the new model does not beat the champion, and adds its decision as ``extra_tags``.
    """
    alias = alias or spec.tracking.alias
    smoke = splits.X_test[:16]
    expected = output_labels(final.fitted.predict_output(smoke), splits.task, splits.classes)
    loaded = mlflow.pyfunc.load_model(final.model_uri)
    got = np.asarray(loaded.predict(split_input(splits, len(smoke))))
    # values may differ in the last bits (float32 through another batch); labels must be equal
    same = np.allclose(got.astype(np.float64), expected, rtol=1e-4, atol=1e-6) if splits.task == "regression" \
        else np.array_equal(got, expected)
    if not same:
        raise RuntimeError("the logged model does not reproduce the trained model's predictions")
    name = spec.model_name
    with stage_run(ctx, "registration"):
        tags = {
            keys.STUDY: best.study,
            keys.BEST_TRIAL: str(best.best_trial),
            keys.DATA_DIGEST: splits.digest,
            keys.MLFLOW_RUN_ID: ctx.parent_run_id,
            keys.PREFECT_FLOW_RUN_ID: ctx.flow_run_id or "",
            keys.BEST_PARAMS: json.dumps(best.best_params),
            **{f"test_{k}": f"{v:.6g}" for k, v in metrics.items()},
            **(extra_tags or {}),
        }
        version = mlflow.register_model(final.model_uri, name, tags=tags)
        previous = move_alias(MlflowClient(), name, alias, version.version)
        mlflow.log_params({"registered_model": name, "version": version.version, "alias": alias,
                           "replaced_version": previous})
    return {"name": name, "version": str(version.version), "alias": alias, "replaced_version": previous,
            "model_uri": f"models:/{name}/{version.version}"}
