"""What a killed run or worker left behind, ended by the next one on the study."""

from __future__ import annotations

import logging

import optuna
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.dead_runs import end_dead_runs
from tunaflow.tasks.mlflow.tracking import TrackingContext
from tunaflow.tasks.optuna.dead_trials import fail_dead_trials
from tunaflow.tasks.optuna.storage import open_storage, storage_url
from tunaflow.tasks.worker import StaleTrialHandler


@task(name="end dead runs", cache_policy=NO_CACHE)
def end_dead_work(spec: ExperimentSpec, ctx: TrackingContext) -> dict:
    """Before this run's workers start: trials of dead workers of this host FAIL (each retried
    once, as a stale trial is), then the experiment's MLflow runs whose process died KILLED (a trial's
    run ends with its trial).

    Trials of workers on other hosts are left to their heartbeat.
    """
    optuna.logging.set_verbosity(logging.WARNING)
    storage = open_storage(storage_url(spec))
    study = optuna.load_study(study_name=spec.name, storage=storage)
    failed = fail_dead_trials(study, storage, StaleTrialHandler(ctx), orphan_after=3 * spec.search.heartbeat)
    killed = end_dead_runs(ctx.tracking_uri, ctx.experiment_id)
    if failed or killed:
        get_run_logger().info(f"a process on this study had died: trial(s) {failed or 'none'} failed "
                              f"(retried once), {killed} MLflow run(s) ended KILLED")
    return {"failed_trials": failed, "killed_runs": killed}
