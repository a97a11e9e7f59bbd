"""Stage: the Optuna study, one nested MLflow run per trial, progress as it goes."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import mlflow
import optuna
import torch
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from components.data import DataSplits
from components.selection import select_trial
from components.spec import ExperimentSpec
from components.strategy import StopWhenStalled, build_pruner, build_sampler
from tasks.objective import FINISHED, TrialObjective, progress_callback
from tasks.storage import open_storage, storage_url
from tasks.study_report import log_study_plots, study_markdown
from tasks.tracking import TrackingContext, stage_run
from tasks.trial_runs import TrialRunRecorder
from tasks.warm_start import enqueue_warm_start


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


def create_study(spec: ExperimentSpec, ctx: TrackingContext, storage) -> optuna.Study:
    steps = spec.search.validation.folds if spec.search.validation.scheme == "kfold" else spec.train.epochs
    study = optuna.create_study(
        storage=storage,
        study_name=spec.name,
        directions=spec.search.directions,
        sampler=build_sampler(spec.search, spec.seed),
        pruner=build_pruner(spec.search, steps),
        load_if_exists=True,
    )
    if "tunaflow.spec_digest" not in study.user_attrs:
        study.set_user_attr("tunaflow.spec_digest", spec.study_digest())
        study.set_user_attr("tunaflow.objectives", [o.metric for o in spec.search.objective_specs])
    study.set_user_attr("tunaflow.mlflow_parent_run_id", ctx.parent_run_id)
    study.set_user_attr("tunaflow.prefect_flow_run_id", ctx.flow_run_id or "")
    return study


def choose_trial(study: optuna.Study, spec: ExperimentSpec) -> optuna.trial.FrozenTrial:
    """The trial to register: the best one, or the Pareto-optimal one the spec's rule picks."""
    if not spec.search.multi_objective:
        return study.best_trial
    front = study.best_trials
    return front[select_trial([t.values for t in front], spec.search.directions, spec.search.selection)]


def _run_trials(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext, study: optuna.Study,
                run_id: str, remaining: int) -> None:
    callbacks = [progress_callback(spec.search.n_trials, spec.search.multi_objective)]
    if spec.search.patience:
        callbacks.append(StopWhenStalled(spec.search.patience))
    recorder = TrialRunRecorder(ctx, run_id)
    try:
        study.optimize(TrialObjective(spec, splits, recorder), n_trials=remaining, timeout=spec.search.timeout,
                       callbacks=callbacks, catch=(RuntimeError, FloatingPointError))
    finally:
        recorder.close()


@task(name="search", cache_policy=NO_CACHE)
def search(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> SearchResult:
    optuna.logging.set_verbosity(logging.WARNING)
    # one worker per core at most: workers x threads never exceed the cores
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // spec.search.workers))
    logger = get_run_logger()
    names = [o.metric for o in spec.search.objective_specs]
    with stage_run(ctx, "search") as run:
        storage = open_storage(storage_url(spec))
        study = create_study(spec, ctx, storage)
        finished = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
        remaining = max(0, spec.search.n_trials - finished)
        if finished:
            logger.info(f"resuming study {spec.name!r}: {finished} finished trial(s), {remaining} to go")
        elif (queued := enqueue_warm_start(study, spec, storage)):
            logger.info(f"warm start: {queued} parameter set(s) enqueued")
        mlflow.set_tags({"tunaflow.study": spec.name, "tunaflow.sampler": spec.search.sampler,
                         "tunaflow.pruner": spec.search.pruner, "tunaflow.objectives": ",".join(names)})
        if remaining:
            _run_trials(spec, splits, ctx, study, run.info.run_id, remaining)
        trials = study.get_trials(deepcopy=False)
        chosen = choose_trial(study, spec)
        n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
        front = [{"trial": t.number, "values": dict(zip(names, t.values)), "params": t.params}
                 for t in (study.best_trials if spec.search.multi_objective else [chosen])]
        mlflow.log_metrics({"best_value": chosen.values[0], "n_trials": len(trials), "n_pruned": n_pruned,
                            "best_trial": chosen.number, "pareto_front_size": len(front)})
        mlflow.log_dict({"chosen": {"trial": chosen.number, "values": dict(zip(names, chosen.values)),
                                    "params": chosen.params, "rule": spec.search.selection},
                         "pareto_front": front}, "best_trial.json")
        log_study_plots(study, names)
        create_markdown_artifact(key=f"study-{_artifact_key(spec.name)}", markdown=study_markdown(study, names, chosen),
                                 description=f"Optuna study {spec.name}")
    return SearchResult(
        study=spec.name, n_trials=len(trials), best_value=float(chosen.values[0]), best_params=dict(chosen.params),
        best_epoch=int(chosen.user_attrs.get("best_epoch", spec.train.epochs)), best_trial=chosen.number,
        search_run_id=run.info.run_id, n_pruned=n_pruned, best_values=list(chosen.values), pareto_front=front,
    )


def _artifact_key(name: str) -> str:
    # Prefect artifact keys: lowercase letters, digits and dashes
    return "".join(c if c.isalnum() else "-" for c in name.lower())
