"""The parent MLflow run of a flow run: opened first, closed with the outcome."""

from __future__ import annotations

import time

from mlflow.entities import Metric
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from tunaflow.components.secrets import mask_url
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.optuna.storage import storage_url
from tunaflow.tasks.mlflow.tracking import TrackingContext, close_run, flatten_spec, log_batch, open_parent_run
from tunaflow.tasks import tags as keys


@task(name="start tracking", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def start_tracking(spec: ExperimentSpec) -> TrackingContext:
    flow_run_id = str(flow_run.get_id() or "")
    tags = {
        keys.STUDY: spec.name,
        keys.STORAGE: mask_url(storage_url(spec)),
        keys.PREFECT_FLOW_RUN_ID: flow_run_id,
        keys.PREFECT_FLOW_RUN_NAME: str(flow_run.get_name() or ""),
    }
    ctx = open_parent_run(spec.experiment_name, f"{spec.name}-{flow_run.get_name() or 'run'}", tags)
    log_batch(ctx.parent_run_id, params={"seed": spec.seed, **flatten_spec(spec.model_dump(mode="json"))})
    return ctx


@task(name="finish tracking", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def finish_tracking(ctx: TrackingContext, status: str, summary: dict | None = None) -> None:
    if summary:
        metrics = {f"test_{k}": v for k, v in summary.get("test_metrics", {}).items()}
        if summary.get("best_value") is not None:
            metrics["best_value"] = summary["best_value"]
        stamp = int(time.time() * 1000)
        log_batch(ctx.parent_run_id, metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items()],
                  tags={keys.MODEL_URI: summary.get("model_uri", "")})
    close_run(ctx.parent_run_id, status)
