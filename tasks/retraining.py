"""Retraining stages: plan the challenger's study, score the champion, record the decision."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import mlflow
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from tunaflow.components.data import DataSplits
from tunaflow.components.metrics import classification_metrics, regression_metrics
from tunaflow.components.promotion import PromotionDecision
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.pyfunc import split_input
from tunaflow.tasks.mlflow.registry import alias_version, latest_version
from tunaflow.tasks.search import _artifact_key
from tunaflow.tasks.settings import missing_sqlite_file
from tunaflow.tasks.optuna.storage import open_storage, storage_url
from tunaflow.tasks.mlflow.tracking import TrackingContext, stage_run, use_tracking_store
from tunaflow.tasks import tags as keys


@dataclass(frozen=True)
class RetrainingPlan:
    """The challenger's spec (its own study, warm-started) and what it will be compared with."""

    spec: ExperimentSpec
    champion_version: str | None
    last_study: str | None


def _study_exists(spec: ExperimentSpec, name: str) -> bool:
    url = storage_url(spec)
    if missing_sqlite_file(url):
        return False
    return name in {s.study_name for s in open_storage(url).get_all_studies()}


@task(name="plan retraining", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def plan_retraining(spec: ExperimentSpec) -> RetrainingPlan:
    """A new study per retraining (a resumed one would run no trials), warm-started from the
    champion's parameters and the best trials of the study behind the latest version."""
    use_tracking_store()
    client = MlflowClient()
    name = spec.model_name
    champion = alias_version(client, name, spec.tracking.alias)
    latest = latest_version(client, name)
    last_study = latest.tags.get(keys.STUDY) if latest is not None else None
    if last_study and not _study_exists(spec, last_study):
        last_study = None
    tree = spec.model_dump(mode="json")
    run_id = str(flow_run.get_id() or uuid.uuid4())
    tree["name"] = f"{spec.name[:60]}.retrain-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{run_id[:8]}"
    # the experiment and the registered model stay the spec's, whatever the study is called
    tree["tracking"].update(experiment=spec.experiment_name, registered_model=name)
    warm = tree["search"]["warm_start"]
    if champion is not None:
        # the version, not the alias: the alias may move while this run searches
        warm["from_model"] = f"models:/{name}/{champion.version}"
    if last_study:
        warm["from_study"] = last_study
    return RetrainingPlan(ExperimentSpec.model_validate(tree), str(champion.version) if champion else None,
                          last_study)


@task(name="evaluate champion", cache_policy=NO_CACHE)
def evaluate_champion(plan: RetrainingPlan, splits: DataSplits, ctx: TrackingContext) -> tuple[dict | None, str | None]:
    """The champion's metrics on the challenger's held-out data, or why it cannot be scored on it.

    Loading failures propagate (the registry is unreachable: decide nothing); a champion
    that cannot read the current data (its columns or shape changed) cannot defend its place.
    """
    if plan.champion_version is None:
        return None, None
    uri = f"models:/{plan.spec.model_name}/{plan.champion_version}"
    model = mlflow.pyfunc.load_model(uri)
    champion_task = getattr(model.unwrap_python_model(), "task", "classification")
    if champion_task != splits.task:
        return None, (f"the champion (version {plan.champion_version}) is a {champion_task} model, the current "
                      f"data is {splits.task}: the challenger replaces it")
    try:
        metrics, problem = _champion_metrics(model, splits)
    except (MlflowException, ValueError, RuntimeError) as error:
        return None, (f"the champion (version {plan.champion_version}) cannot score the current data "
                      f"({str(error).splitlines()[0]}): the challenger replaces it")
    if problem:
        return None, f"the champion (version {plan.champion_version}) {problem}: the challenger replaces it"
    with stage_run(ctx, "champion_evaluation"):
        mlflow.log_metrics({f"champion_test_{k}": v for k, v in metrics.items()})
        mlflow.log_params({"champion_version": plan.champion_version, "champion_uri": uri})
    return metrics, None


def _champion_metrics(model, splits: DataSplits) -> tuple[dict | None, str | None]:
    """Test metrics of a loaded champion of the same task, or what makes it unfit to be compared."""
    if splits.task == "regression":
        values = np.asarray(model.predict(split_input(splits)), dtype=np.float64)
        return regression_metrics(splits.y_test, values), None
    proba = model.predict(split_input(splits), params={"output": "proba"})
    columns = [str(c) for c in splits.classes]
    if list(proba.columns) != columns:
        return None, f"predicts classes {list(proba.columns)}, the current data has {columns}"
    return classification_metrics(splits.y_test, proba.to_numpy(), splits.n_classes)[0], None


def decision_tags(plan: RetrainingPlan, decision: PromotionDecision, champion_metrics: dict | None) -> dict[str, str]:
    """Tags of the challenger's version: the outcome and the champion's scores it was compared with."""
    tags = {
        keys.DECISION: "promoted" if decision.promote else "kept",
        keys.REASON: decision.reason[:5000],
        keys.CHAMPION_VERSION: plan.champion_version or "",
        keys.PROMOTION_METRIC: plan.spec.tracking.promotion_metric,
        keys.PROMOTION_MARGIN: f"{plan.spec.tracking.promotion_margin:g}",
    }
    tags.update({f"champion_test_{k}": f"{v:.6g}" for k, v in (champion_metrics or {}).items()})
    return tags


@task(name="record challenge", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def record_challenge(plan: RetrainingPlan, decision: PromotionDecision, registered: dict, metrics: dict,
                     champion_metrics: dict | None, splits: DataSplits, ctx: TrackingContext) -> None:
    """Tag the champion that was challenged with the outcome, log the reason, publish an artifact."""
    name = plan.spec.model_name
    outcome = "promoted" if decision.promote else "kept"
    if plan.champion_version is not None:
        client = MlflowClient()
        tags = {
            keys.CHALLENGED_BY: registered["version"],
            keys.CHALLENGE + "decision": outcome,
            keys.CHALLENGE + "reason": decision.reason[:5000],
            keys.CHALLENGE + "data_digest": splits.digest,
            keys.CHALLENGE + "study": plan.spec.name,
            keys.CHALLENGE + "prefect_flow_run_id": ctx.flow_run_id or "",
            **{f"challenge.champion_test_{k}": f"{v:.6g}" for k, v in (champion_metrics or {}).items()},
            **{f"challenge.challenger_test_{k}": f"{v:.6g}" for k, v in metrics.items()},
        }
        for key, value in tags.items():
            client.set_model_version_tag(name, plan.champion_version, key, value)
    get_run_logger().info(f"version {registered['version']} of {name} {outcome} "
                          f"(alias {registered['alias']}): {decision.reason}")
    create_markdown_artifact(key=f"retrain-{_artifact_key(name)}",
                             markdown=_challenge_markdown(plan, decision, registered, metrics, champion_metrics),
                             description=f"tunaflow retraining of {name}")


def _challenge_markdown(plan: RetrainingPlan, decision: PromotionDecision, registered: dict, metrics: dict,
                        champion_metrics: dict | None) -> str:
    rows = "\n".join(
        f"| {k} | {v:.4f} | {champion_metrics[k]:.4f} |" if champion_metrics else f"| {k} | {v:.4f} | - |"
        for k, v in metrics.items())
    champion = f"version {plan.champion_version}" if plan.champion_version else "none"
    return (
        f"# Retraining of {plan.spec.model_name}: {'promoted' if decision.promote else 'kept the champion'}\n\n"
        f"{decision.reason}\n\n"
        f"Challenger: `{registered['model_uri']}` (alias `{registered['alias']}`), study `{plan.spec.name}`"
        f"{f', warm-started from study `{plan.last_study}`' if plan.last_study else ''}. Champion: {champion}.\n\n"
        f"| held-out metric | challenger | champion |\n|---|---|---|\n{rows}\n\n"
        f"```\n{json.dumps({'champion_version': plan.champion_version, 'challenger': registered}, indent=1)}\n```\n"
    )

