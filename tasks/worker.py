"""A search worker: takes trials from the shared study until its global budget is spent.

Any number of workers, in processes on this machine, on a Dask cluster or started with
``tunaflow worker`` elsewhere, run this same loop against one study. Each admission
(count the budget, ask for a trial) happens under the study's lock; the trial itself runs
outside it, with Optuna's heartbeat so that a dead worker's trial is failed and retried.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass

import optuna
import torch
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from tunaflow.components.budget import BudgetCount, next_step
from tunaflow.components.checks import check_experiment
from tunaflow.components.errors import UserInputError
from tunaflow.components.secrets import mask_url
from tunaflow.components.data import DataSplits
from tunaflow.components.space import count_configurations
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.strategy import StopWhenStalled, build_pruner, build_sampler
from tunaflow.tasks.optuna.dead_trials import fail_dead_trials
from tunaflow.tasks.optuna.fingerprint import check_fingerprint, settings_changes
from tunaflow.tasks.optuna.duplicates import DUPLICATE_OF, budget_states, space_exhausted
from tunaflow.tasks.optuna.objective import FINISHED, TrialObjective, progress_callback
from tunaflow.tasks.optuna.storage import existing_study, open_storage, storage_url
from tunaflow.tasks.optuna.study_lock import study_lock
from tunaflow.tasks.optuna.trial_failures import CAUGHT, one_line_trial_failures
from tunaflow.tasks.mlflow.tracking import TrackingContext, use_context_store, use_tracking_store
from tunaflow.tasks.mlflow.trial_runs import TrialRunRecorder, end_trial_runs
from tunaflow.tasks import tags as keys


STARTED = (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
           optuna.trial.TrialState.FAIL)


@dataclass(frozen=True)
class WorkerReport:
    worker: str
    trials: int  # trials this worker finished (complete or pruned)
    seconds: float


def worker_name(index: int | None = None) -> str:
    """``host-pPID``, and ``-wN`` for the flow's own N-th worker."""
    return f"{socket.gethostname()}-p{os.getpid()}" + (f"-w{index}" if index is not None else "")


def usable_cores() -> int:
    """The cores this process may run on (taskset, cgroup cpusets), not all the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_threads(workers: int) -> int:
    # workers x threads never exceed the cores: oversubscribed torch threads run an order slower
    return max(1, usable_cores() // workers)


class StaleTrialHandler:
    """What a surviving worker does for a dead one's trial: retry it once, fail its MLflow run."""

    def __init__(self, ctx: TrackingContext):
        self.ctx = ctx
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self.retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.retry(study, trial)
        end_trial_runs(self.ctx, study.study_name, {trial.number: "FAIL"})
        logging.getLogger("tunaflow.worker").warning(
            f"trial #{trial.number} lost its worker (no heartbeat); failed and queued again")


def fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class StaleTrialWatchdog:
    """Fails other workers' stale trials every heartbeat, from a thread: Optuna does so only
    when a worker asks for a trial, which a busy worker may not do for a long trial's time."""

    def __init__(self, study: optuna.Study, every: float):
        self.study, self.every, self.stopped = study, every, threading.Event()
        self.thread = threading.Thread(target=self._watch, name="stale-trials", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                fail_stale_trials(self.study)
            except Exception as error:  # a storage hiccup: the next round, or the next admission, retries
                logging.getLogger("tunaflow.worker").debug(f"stale-trial check failed: {error!r}")

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def work_on_study(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext, search_run_id: str,
                  worker: str, first: bool = False, log=None) -> WorkerReport:
    """Run trials of the spec's study until its budget is spent (or its time or patience runs out).

    ``first`` marks the worker that samples the study's own seeded stream; every other one
    samples its own, so that workers never propose identical parameters.
    """
    optuna.logging.set_verbosity(logging.WARNING)
    one_line_trial_failures()
    use_context_store(ctx)
    torch.set_num_threads(worker_threads(spec.search.workers))
    search, url = spec.search, storage_url(spec)
    stale = StaleTrialHandler(ctx)
    storage = open_storage(url, heartbeat=search.heartbeat, on_stale=stale)
    lock = study_lock(url, spec.name)
    with lock:
        stream = sampler_stream(storage, spec.name, worker, first)
    study = optuna.load_study(study_name=spec.name, storage=storage, pruner=build_pruner(search, spec.train.epochs),
                              sampler=build_sampler(search, spec.seed, stream))
    recorder = TrialRunRecorder(ctx, search_run_id, tags={keys.WORKER: worker})
    log = log or logging.getLogger("tunaflow.worker")
    objective = TrialObjective(spec, splits, recorder, log)
    stalled = StopWhenStalled(search.patience) if search.patience else None
    size = count_configurations(search.searched)
    mine: list[optuna.trial.TrialState] = []  # the states of the trials this worker trained
    repeats = RepeatCounter()
    callbacks = [progress_callback(search.trial_budget, search.multi_objective, log), repeats,
                 lambda _study, trial: None if trial.user_attrs.get(DUPLICATE_OF) is not None else mine.append(trial.state)]
    started = time.monotonic()

    def admitted(trial: optuna.Trial):
        try:
            trial.set_user_attr(keys.WORKER, worker)
            proposal = objective.propose(trial)  # sampled under the lock: a twin begun elsewhere is visible
        finally:
            lock.release()  # the trial is RUNNING in the storage now: others count it
        return objective.evaluate(trial, proposal)

    watchdog = StaleTrialWatchdog(study, search.heartbeat)
    try:
        while search.timeout is None or time.monotonic() - started < search.timeout:
            lock.acquire()
            try:
                fail_stale_trials(study)
                # a dead worker of this host, or one killed before it named itself on its trial
                fail_dead_trials(study, storage, stale, orphan_after=3 * search.heartbeat)
                trials = study.get_trials(deepcopy=False)
                step = next_step(BudgetCount.of(budget_states(trials)), search.trial_budget)
                if step == "done" or (stalled and stalled.stalled(study)) or _grid_exhausted(study):
                    break
                if space_exhausted(trials, size):
                    log.info(f"search space exhausted: all {size} configuration(s) evaluated")
                    break
                if repeats.count >= MAX_REPEATS:
                    log.info(f"search space looks exhausted: the last {repeats.count} trials proposed "
                             "configurations already evaluated; stopping this worker")
                    break
                if len(mine) >= MAX_FAILURES and set(mine[-MAX_FAILURES:]) == {optuna.trial.TrialState.FAIL}:
                    log.warning(f"the last {MAX_FAILURES} trials of this worker failed (their errors are above); "
                                "stopping this worker")
                    break
                if search.timeout is not None and (left := search.timeout - (time.monotonic() - started)) < \
                        (typical := typical_trial_seconds(trials)):
                    log.info(f"time budget: {left:.0f} s left, less than a typical trial ({typical:.0f} s); "
                             "stopping this worker")
                    break
                if step == "run":
                    _optimize_once(study, admitted, callbacks, search.heartbeat, log)
                    continue
            finally:
                lock.release()
            # the rest of the budget is running elsewhere; a dead worker's trial turns
            # stale within the grace period, then it is ours to retry
            time.sleep(min(search.heartbeat, 2.0))
    finally:
        watchdog.stop()
        lock.close()
        recorder.close()
    return WorkerReport(worker, sum(s in FINISHED for s in mine), time.monotonic() - started)


# consecutive failed trials after which a worker stops: a failure of every configuration (a
# broken install, a data set no family can train on) would otherwise spend the whole budget
MAX_FAILURES = 10

# consecutive repeats after which a worker stops: a sampler that keeps proposing evaluated
# configurations has little left to find (a repeat spends no budget, so nothing else ends it)
MAX_REPEATS = 5


class RepeatCounter:
    """Optuna callback: how many of this worker's latest finished trials in a row were duplicates."""

    count = 0

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state in FINISHED:
            self.count = self.count + 1 if trial.user_attrs.get(DUPLICATE_OF) is not None else 0


def sampler_stream(storage, study_name: str, worker: str, first: bool) -> str | None:
    """The stream this worker samples: None for the study's seeded one, else the worker's own.

    The seeded stream goes to the first worker of the run that begins the study (a rerun of
    the spec on a new study samples the same configurations), claimed in the study under its
    lock. A resumed run, or a second run on the study at once, samples a stream of its own:
    the seeded one again would propose the configurations the study already evaluated.
    Call under the study's lock.
    """
    if not first:
        return worker
    study_id = storage.get_study_id_from_name(study_name)
    begun = storage.get_all_trials(study_id, deepcopy=False, states=STARTED)  # warm-start trials wait
    if storage.get_study_user_attrs(study_id).get(keys.SAMPLER_STREAM) or begun:
        return worker
    storage.set_study_user_attr(study_id, keys.SAMPLER_STREAM, worker)
    return None


def check_joinable(spec: ExperimentSpec) -> dict:
    """The study's user attributes, if a worker can join it (bad input otherwise)."""
    study = existing_study(spec)
    if study is None:
        raise UserInputError("name", f"no study {spec.name!r} in {mask_url(storage_url(spec))}; "
                                     "start it with `tunaflow run`")
    if not study.user_attrs.get(keys.MLFLOW_SEARCH_RUN_ID):
        raise UserInputError("name", f"study {spec.name!r} was not started by a search this version can join; "
                                     "run `tunaflow run` on it once")
    check_fingerprint(spec, study.user_attrs)
    return study.user_attrs


def typical_trial_seconds(trials: list[optuna.trial.FrozenTrial]) -> float:
    """The median duration of the trials that trained (complete or pruned; repeats are instant):
    a search with a time budget starts no trial it would most likely not finish."""
    seconds = sorted(t.duration.total_seconds() for t in trials
                     if t.state in FINISHED and t.duration and t.user_attrs.get(DUPLICATE_OF) is None)
    return seconds[len(seconds) // 2] if seconds else 0.0


def _optimize_once(study: optuna.Study, objective, callbacks, heartbeat: int, log) -> None:
    """One trial; a trial another worker failed as stale while it still ran is dropped, not fatal."""
    try:
        study.optimize(objective, n_trials=1, callbacks=callbacks, catch=CAUGHT)
    except (ValueError, AssertionError) as error:
        # Optuna refuses to tell a trial that is no longer RUNNING (and then trips an assertion
        # of its own while logging it): another worker saw no heartbeat from this one for
        # 3 x search.heartbeat seconds (an overloaded machine) and failed it, queuing its retry
        told = error if isinstance(error, ValueError) else error.__context__
        if not (isinstance(told, ValueError) and str(told).startswith("Cannot tell a ")):
            raise
        log.warning(f"a trial of this worker was failed by another one after {3 * heartbeat} s without a "
                    "heartbeat (an overloaded machine? raise search.heartbeat); its result is dropped")


def _grid_exhausted(study: optuna.Study) -> bool:
    # a grid smaller than the budget ends the search, as it does under study.optimize
    sampler = study.sampler
    return isinstance(sampler, optuna.samplers.GridSampler) and sampler.is_exhausted(study)


@task(name="join study", cache_policy=NO_CACHE)
def join_study(spec: ExperimentSpec) -> tuple[TrackingContext, str, DataSplits]:
    """What a worker started on its own needs: the study's MLflow run (from the study's
    lineage attributes) and the spec's data, split as the flow split it."""
    attrs = check_joinable(spec)
    if changes := settings_changes(spec, attrs):  # against the latest flow run on the study
        get_run_logger().info(changes)
    ctx = TrackingContext(use_tracking_store(), attrs[keys.MLFLOW_EXPERIMENT_ID],
                          attrs[keys.MLFLOW_PARENT_RUN_ID], str(flow_run.get_id() or ""))
    return ctx, attrs[keys.MLFLOW_SEARCH_RUN_ID], check_experiment(spec)


@task(name="search worker", cache_policy=NO_CACHE)
def study_worker(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext, search_run_id: str,
                 index: int | None = None) -> WorkerReport:
    """One worker as a Prefect task: in a process of the pool, on a Dask worker, or in place."""
    name = worker_name(index)
    report = work_on_study(spec, splits, ctx, search_run_id, name, first=index == 0, log=get_run_logger())
    get_run_logger().info(f"worker {name}: {report.trials} trial(s) in {report.seconds:.0f}s")
    return report
