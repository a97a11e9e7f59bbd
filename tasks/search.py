"""Stage: the Optuna study, one nested MLflow run per trial, progress as it goes."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import mlflow
import optuna
import torch
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from components.data import DataSplits
from components.objective import evaluate_config
from components.seeding import derive_seed
from components.space import apply_params, suggest_params
from components.spec import ExperimentSpec
from components.strategy import build_pruner, build_sampler
from tasks.storage import open_storage, storage_url
from tasks.study_plots import log_study_plots
from tasks.tracking import TrackingContext, flatten_spec, stage_run
from tasks.trial_runs import TrialRunRecorder

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@dataclass
class SearchResult:
    """The study's outcome in plain values."""

    study: str
    n_trials: int
    best_value: float
    best_params: dict
    best_epoch: int
    best_trial: int
    search_run_id: str
    n_pruned: int = 0
    durations: list[float] = field(default_factory=list)


class TrialObjective:
    """Optuna's objective: sample, train, report epochs to the pruner, record the trial run."""

    def __init__(self, spec: ExperimentSpec, splits: DataSplits, recorder: TrialRunRecorder):
        self.spec, self.splits, self.recorder = spec, splits, recorder
        # NopPruner never prunes: asking it each epoch would only cost a storage read
        self.prunes = spec.search.pruner != "none"

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_params(trial, self.spec.search.space)
        seed = derive_seed(self.spec.seed, "trial", trial.number)
        trial.set_user_attr("seed", seed)
        run = self.recorder.start(trial.study.study_name, trial.number)
        history: list[dict] = []

        def report(epoch: int, metrics: dict) -> None:
            history.append({"epoch": epoch, **metrics})
            trial.report(metrics[self.spec.search.metric], epoch)
            if self.prunes and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch}")

        state, summary = "FAIL", None
        trial_spec = apply_params(self.spec, params)
        # every strategy in force for this trial, searched or not
        trial_settings = flatten_spec(trial_spec.model_dump(mode="json", include={"model", "train", "augment"}))
        try:
            outcome = evaluate_config(trial_spec, self.splits, seed=seed, report=report)
            trial.set_user_attr("best_epoch", outcome.best_epoch)
            trial.set_user_attr("n_params", outcome.n_params)
            state = "COMPLETE"
            summary = {"value": outcome.value, "n_params": outcome.n_params,
                       "samples_per_second": outcome.samples_per_second}
            return outcome.value
        except optuna.TrialPruned:
            state = "PRUNED"
            raise
        finally:
            self.recorder.finish(run, history=history, params={**trial_settings, **params, "seed": seed},
                                 state=state, summary=summary)


def _progress_callback(n_trials: int, started: float):
    logger = get_run_logger()

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
        try:
            best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
        except ValueError:
            best = "no complete trial yet"
        value = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() if trial.datetime_complete else 0
        params = " ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        logger.info(f"trial {done}/{n_trials} #{trial.number}: {value:>8}  {best}  "
                    f"{seconds:.1f}s  elapsed {time.monotonic() - started:.0f}s  {params}")

    return callback


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def create_study(spec: ExperimentSpec, ctx: TrackingContext) -> optuna.Study:
    study = optuna.create_study(
        storage=open_storage(storage_url(spec)),
        study_name=spec.name,
        direction=spec.search.direction,
        sampler=build_sampler(spec.search, spec.seed),
        pruner=build_pruner(spec.search, spec.train.epochs),
        load_if_exists=True,
    )
    if "tunaflow.spec_digest" not in study.user_attrs:
        study.set_user_attr("tunaflow.spec_digest", spec.study_digest())
    study.set_user_attr("tunaflow.mlflow_parent_run_id", ctx.parent_run_id)
    study.set_user_attr("tunaflow.prefect_flow_run_id", ctx.flow_run_id or "")
    return study


@task(name="search", cache_policy=NO_CACHE)
def search(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> SearchResult:
    optuna.logging.set_verbosity(logging.WARNING)
    # one worker per core at most: workers x threads never exceed the cores
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // spec.search.workers))
    logger = get_run_logger()
    with stage_run(ctx, "search") as run:
        study = create_study(spec, ctx)
        finished = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
        remaining = max(0, spec.search.n_trials - finished)
        if finished:
            logger.info(f"resuming study {spec.name!r}: {finished} finished trial(s), {remaining} to go")
        mlflow.set_tags({"tunaflow.study": spec.name, "tunaflow.sampler": spec.search.sampler})
        if remaining:
            recorder = TrialRunRecorder(ctx, run.info.run_id)
            try:
                study.optimize(
                    TrialObjective(spec, splits, recorder),
                    n_trials=remaining,
                    timeout=spec.search.timeout,
                    callbacks=[_progress_callback(spec.search.n_trials, time.monotonic())],
                    catch=(RuntimeError, FloatingPointError),
                )
            finally:
                recorder.close()
        trials = study.get_trials(deepcopy=False)
        best = study.best_trial
        n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
        mlflow.log_metrics({"best_value": best.value, "n_trials": len(trials), "n_pruned": n_pruned,
                            "best_trial": best.number})
        mlflow.log_dict({"best_params": best.params, "best_value": best.value, "best_trial": best.number},
                        "best_trial.json")
        log_study_plots(study)
    return SearchResult(
        study=spec.name, n_trials=len(trials), best_value=float(best.value), best_params=dict(best.params),
        best_epoch=int(best.user_attrs.get("best_epoch", spec.train.epochs)), best_trial=best.number,
        search_run_id=run.info.run_id, n_pruned=n_pruned,
    )
