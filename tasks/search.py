"""Stage: the Optuna study, opened before the workers run and reported once they are done."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import optuna
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.leaderboard import LeaderboardRow, TrialSummary, rank_families
from tunaflow.components.errors import NoCompleteTrial
from tunaflow.components.selection import best_trial_index, select_trial
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.strategy import build_pruner, build_sampler
from tunaflow.tasks.default_preference import prefer_start
from tunaflow.tasks.optuna.fingerprint import check_fingerprint, record_fingerprint, settings_changes
from tunaflow.tasks.optuna.duplicates import DUPLICATE_OF, budget_states
from tunaflow.tasks.optuna.objective import FINISHED, FINISHED_NAMES
from tunaflow.tasks.optuna.storage import open_storage, storage_url
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_batch, log_dict_artifact, use_context_store
from tunaflow.tasks.mlflow.trial_runs import end_trial_runs
from tunaflow.tasks.optuna.warm_start import enqueue_warm_start
from tunaflow.tasks import tags as keys


@dataclass
class SearchResult:
    """The study's outcome in plain values; ``best_*`` describe the trial chosen to register."""

    study: str
    n_trials: int
    best_value: float
    best_params: dict
    best_epoch: int
    best_trial: int
    search_run_id: str
    n_pruned: int = 0
    best_values: list[float] = field(default_factory=list)
    pareto_front: list[dict] = field(default_factory=list)
    leaderboard: list[dict] = field(default_factory=list)  # LeaderboardRow.to_json() per family, best first
    best_seconds: float = 0.0  # the chosen trial's duration: about what the final training will take


@dataclass(frozen=True)
class SearchPlan:
    """An opened search: its MLflow run and how many trials the budget still holds."""

    search_run_id: str
    finished: int
    remaining: int


def create_study(spec: ExperimentSpec, ctx: TrackingContext, storage, search_run_id: str = "",
                 log=None) -> optuna.Study:
    """The spec's study, created or resumed; a resume whose resumable settings changed says so in ``log``."""
    study = optuna.create_study(
        storage=storage,
        study_name=spec.name,
        directions=spec.search.directions,
        sampler=build_sampler(spec.search, spec.seed),
        pruner=build_pruner(spec.search, spec.train.epochs),
        load_if_exists=True,
    )
    check_fingerprint(spec, study.user_attrs)  # the flow called directly skips the API's checks
    if log is not None and (changes := settings_changes(spec, study.user_attrs)):
        log.info(changes)
    record_fingerprint(study, spec)
    # lineage: the latest flow run that worked on the study; `tunaflow worker` joins it
    study.set_user_attr(keys.MLFLOW_PARENT_RUN_ID, ctx.parent_run_id)
    study.set_user_attr(keys.MLFLOW_SEARCH_RUN_ID, search_run_id)
    study.set_user_attr(keys.MLFLOW_EXPERIMENT_ID, ctx.experiment_id)
    study.set_user_attr(keys.PREFECT_FLOW_RUN_ID, ctx.flow_run_id or "")
    return study


def choose_trial(study: optuna.Study, spec: ExperimentSpec) -> optuna.trial.FrozenTrial:
    """The trial to register: the best one, or the Pareto-optimal one the spec's rule picks."""
    if not spec.search.multi_objective:
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not complete:
            raise NoCompleteTrial(f"study {spec.name!r}: no trial completed ({len(study.trials)} failed or pruned); "
                                  "the worker log lines above say why")
        index = best_trial_index([t.value for t in complete], [t.user_attrs.get("metrics") or {} for t in complete],
                                 spec.search.objective_specs[0].metric, spec.search.direction)
        return complete[index]
    front = study.best_trials
    return front[select_trial([t.values for t in front], spec.search.directions, spec.search.selection)]


@task(name="open search", cache_policy=NO_CACHE)
def open_search(spec: ExperimentSpec, ctx: TrackingContext) -> SearchPlan:
    """The study created (or resumed) and the search's MLflow run opened, before any worker starts:
    creating one study from many processes at once races."""
    optuna.logging.set_verbosity(logging.WARNING)
    logger = get_run_logger()
    names = [o.metric for o in spec.search.objective_specs]
    tags = {keys.STAGE: "search", "mlflow.parentRunId": ctx.parent_run_id, keys.STUDY: spec.name,
            keys.SAMPLER: spec.search.sampler, keys.PRUNER: spec.search.pruner,
            keys.OBJECTIVES: ",".join(names), keys.WORKERS: str(spec.search.workers)}
    if ctx.flow_run_id:
        tags[keys.PREFECT_FLOW_RUN_ID] = ctx.flow_run_id
    run = MlflowClient(ctx.tracking_uri).create_run(ctx.experiment_id, run_name="search", tags=tags)
    storage = open_storage(storage_url(spec))
    study = create_study(spec, ctx, storage, run.info.run_id, log=logger)
    finished = sum(s in FINISHED_NAMES for s in budget_states(study.get_trials(deepcopy=False)))
    remaining = max(0, spec.search.trial_budget - finished)
    if finished:
        logger.info(f"resuming study {spec.name!r}: {finished} finished trial(s), {remaining} to go")
    elif (queued := enqueue_warm_start(study, spec, storage)):
        # a default space's family defaults reach the study as warm-start parameter sets (resolve.py)
        logger.info(f"{queued} parameter set(s) enqueued to try first (each family's default under a default "
                    "space, then search.warm_start's)")
    return SearchPlan(run.info.run_id, finished, remaining)


@task(name="close search", cache_policy=NO_CACHE)
def close_search(spec: ExperimentSpec, ctx: TrackingContext, plan: SearchPlan, splits: DataSplits) -> SearchResult:
    """The study's outcome once every worker is done: the trial to register and the leaderboard.

    The search run stays open: its report (plots, importances, summaries) is drawn by
    ``report_search`` (tasks/search_report.py) beside the final training, which ends it.
    """
    use_context_store(ctx)
    names = [o.metric for o in spec.search.objective_specs]
    study = optuna.load_study(study_name=spec.name, storage=open_storage(storage_url(spec)))
    trials = study.get_trials(deepcopy=False)
    # a worker that died mid-trial, or after telling the study but before its run was
    # written, left that trial's run RUNNING
    ended = {t.number: t.state.name for t in trials if t.state != optuna.trial.TrialState.RUNNING}
    end_trial_runs(ctx, spec.name, ended)
    chosen = prefer_start(study, spec, choose_trial(study, spec), splits, get_run_logger())
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    n_finished = sum(s in FINISHED_NAMES for s in budget_states(trials))  # trained: duplicates are not
    n_reused = sum(t.state in FINISHED for t in trials) - n_finished
    front = [{"trial": t.number, "values": dict(zip(names, t.values)), "params": t.params}
             for t in (study.best_trials if spec.search.multi_objective else [chosen])]
    stamp = int(time.time() * 1000)
    counts = {"best_value": chosen.values[0], "n_trials": n_finished, "n_reused": n_reused, "n_pruned": n_pruned,
              "n_failed": sum(t.state == optuna.trial.TrialState.FAIL for t in trials),
              "best_trial": chosen.number, "pareto_front_size": len(front)}
    log_batch(plan.search_run_id, metrics=[Metric(k, float(v), stamp, 0) for k, v in counts.items()])
    log_dict_artifact({"chosen": {"trial": chosen.number, "values": dict(zip(names, chosen.values)),
                                  "params": chosen.params, "rule": spec.search.selection,
                                  "prefer_start": spec.search.prefer_start},
                       "pareto_front": front}, "best_trial.json", plan.search_run_id)
    board = rank_trials(trials, spec)
    return SearchResult(
        study=spec.name, n_trials=n_finished, best_value=float(chosen.values[0]), best_params=dict(chosen.params),
        best_epoch=int(chosen.user_attrs.get("best_epoch", spec.train.epochs)), best_trial=chosen.number,
        search_run_id=plan.search_run_id, n_pruned=n_pruned, best_values=list(chosen.values), pareto_front=front,
        leaderboard=[row.to_json() for row in board],
        best_seconds=chosen.duration.total_seconds() if chosen.duration else 0.0,
    )


def rank_trials(trials: list[optuna.trial.FrozenTrial], spec: ExperimentSpec) -> list[LeaderboardRow]:
    """The study's leaderboard: one row per model family, best validation value first."""
    summaries = [TrialSummary(
        number=t.number, state=t.state.name,
        # trials from before families were recorded ran the spec's one family
        family=str(t.user_attrs.get("family") or t.params.get("model.family") or spec.model.family),
        value=t.values[0] if t.values else None,
        test_score=(t.user_attrs.get("metrics") or {}).get("test_score"),
        seconds=t.duration.total_seconds() if t.duration else 0.0,
        duplicate_of=t.user_attrs.get(DUPLICATE_OF),
    ) for t in trials]
    test_metric = "rmse" if spec.data.task == "regression" else "accuracy"
    return rank_families(summaries, spec.search.direction == "maximize", spec.search.objective_specs[0].metric,
                         test_metric)


@task(name="abort search", cache_policy=NO_CACHE)
def abort_search(ctx: TrackingContext, plan: SearchPlan) -> None:
    MlflowClient(ctx.tracking_uri).set_terminated(plan.search_run_id, status="FAILED")


def _artifact_key(name: str) -> str:
    # Prefect artifact keys: lowercase letters, digits and dashes
    return "".join(c if c.isalnum() else "-" for c in name.lower())
