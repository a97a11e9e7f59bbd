"""MLflow run tree: one parent run per flow run, one nested run per stage and per trial."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from tunaflow.components.errors import UserInputError
from tunaflow.components.processes import process_identity
from tunaflow.components.secrets import mask_text, mask_url
from tunaflow.tasks.settings import artifact_root, quiet_library_logs, tracking_uri
from tunaflow.tasks import tags as keys

MAX_BATCH = 1000  # MLflow's limit of metrics in one log_batch call


@dataclass(frozen=True)
class TrackingContext:
    """Where a flow run's MLflow runs go; passed to every stage task."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    flow_run_id: str | None = None


# (experiment id, run id) of the runs this process started, latest last: what an interrupt must end
STARTED_RUNS: deque[tuple[str, str]] = deque(maxlen=10_000)


def owner_tags() -> dict[str, str]:
    """Names this process on a run it starts, so that the next process on the study can end
    the run if this one is killed before it could (tasks/mlflow/dead_runs.py)."""
    return {keys.OWNER: process_identity()}


def note_started(experiment_id: str, run_id: str) -> None:
    STARTED_RUNS.append((experiment_id, run_id))


def use_tracking_store() -> str:
    quiet_library_logs()
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    return uri


def open_tracking_store() -> None:
    """Open the tracking store ahead of the flow run: MLflow keeps one store per URI in the
    process, and a database's first connection and schema check (about 0.6 s on SQLite) then
    overlap the boot of Prefect's temporary server instead of following it. Called once the
    input has passed every check: a local store's database is created here."""
    use_tracking_store()
    MlflowClient()


def use_context_store(ctx: TrackingContext) -> None:
    """This process logs where the flow does: a worker may be a fresh process, or on a Dask
    machine whose environment does not name the flow's tracking store."""
    quiet_library_logs(ctx.tracking_uri)
    mlflow.set_tracking_uri(ctx.tracking_uri)


def check_tracking_store(timeout: float = 10.0) -> None:
    """A tracking server or database that cannot be reached is the user's to fix (exit 2),
    found before any run or study is created; the password stays masked."""
    uri = tracking_uri()
    try:
        if uri.startswith(("http://", "https://")):
            import requests

            requests.get(f"{uri.rstrip('/')}/health", timeout=timeout).raise_for_status()
        elif not uri.startswith(("sqlite:", "file:", "databricks")) and "://" in uri:
            import sqlalchemy

            engine = sqlalchemy.create_engine(uri, pool_pre_ping=True)
            try:
                with engine.connect():
                    pass
            finally:
                engine.dispose()
    except Exception as error:  # any failure to reach it: the message says which
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        # requests and drivers wrap the OS's reason ("[Errno 111] Connection refused") in pages of context
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        detail = mask_text(reason[1] if reason else text[:300], uri)
        raise UserInputError("MLFLOW_TRACKING_URI", f"cannot reach {mask_url(uri)}: {detail}") from None


def ensure_experiment(name: str) -> str:
    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    return client.create_experiment(name, artifact_location=artifact_root(mlflow.get_tracking_uri()))


def open_parent_run(experiment_name: str, run_name: str, tags: dict[str, str]) -> TrackingContext:
    uri = use_tracking_store()
    experiment_id = ensure_experiment(experiment_name)
    run = MlflowClient().create_run(experiment_id, run_name=run_name, tags={**tags, **owner_tags()})
    note_started(experiment_id, run.info.run_id)
    return TrackingContext(uri, experiment_id, run.info.run_id, tags.get(keys.PREFECT_FLOW_RUN_ID))


def close_run(run_id: str, status: str = "FINISHED") -> None:
    MlflowClient().set_terminated(run_id, status=status)


@contextmanager
def stage_run(ctx: TrackingContext, stage: str) -> Iterator[mlflow.ActiveRun]:
    """A nested run under the parent for one stage; FAILED if the stage raises."""
    mlflow.set_tracking_uri(ctx.tracking_uri)
    tags = {keys.STAGE: stage, **owner_tags()}
    if ctx.flow_run_id:
        tags[keys.PREFECT_FLOW_RUN_ID] = ctx.flow_run_id
    run = mlflow.start_run(experiment_id=ctx.experiment_id, run_name=stage,
                           parent_run_id=ctx.parent_run_id, tags=tags)
    note_started(ctx.experiment_id, run.info.run_id)
    try:
        yield run
    except BaseException:
        mlflow.end_run("FAILED")
        raise
    mlflow.end_run("FINISHED")


def log_dict_artifact(data: Any, path: str, run_id: str | None = None) -> None:
    if run_id is None:
        mlflow.log_dict(data, path)
    else:
        MlflowClient().log_dict(run_id, data, path)


def log_figure_artifact(figure, path: str, run_id: str | None = None) -> None:
    import matplotlib.pyplot as plt

    if run_id is None:
        mlflow.log_figure(figure, path)
    else:
        MlflowClient().log_figure(run_id, figure, path)
    plt.close(figure)


def safe_params(params: dict[str, Any]) -> list[Param]:
    """MLflow params as text, URLs masked, values cut to MLflow's 6000-character limit."""
    out = []
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        out.append(Param(key, (mask_url(text) or "")[:6000]))
    return out


def log_batch(run_id: str, metrics: list[Metric] = (), params: dict | None = None,
              tags: dict | None = None) -> None:
    """Many metrics, params and tags in as few calls as MLflow allows."""
    client = MlflowClient()
    param_list = safe_params(params or {})
    tag_list = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    metrics = list(metrics)
    client.log_batch(run_id, metrics=metrics[:MAX_BATCH], params=param_list[:100], tags=tag_list)
    for start in range(MAX_BATCH, len(metrics), MAX_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + MAX_BATCH])
    for start in range(100, len(param_list), 100):
        client.log_batch(run_id, params=param_list[start:start + 100])


def epoch_metrics(history: list[dict], prefix: str = "", timestamp: int | None = None) -> list[Metric]:
    """Per-epoch metrics as one list, for a single log_batch."""
    stamp = timestamp or int(time.time() * 1000)
    return [Metric(f"{prefix}{key}", float(value), stamp, int(row["epoch"]))
            for row in history for key, value in row.items() if key != "epoch"]


def flatten_spec(tree: Any, prefix: str = "") -> dict[str, Any]:
    """A nested spec as dotted keys, for MLflow params."""
    if isinstance(tree, dict) and tree:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            if key == "space":
                out[f"{prefix}{key}"] = json.dumps(value, sort_keys=True)
            else:
                out.update(flatten_spec(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): tree}
