"""The search stage's fan-out: the study opened once, N workers on it, then its outcome and report.

One worker runs in place. Several run as Prefect tasks in a process pool on this machine
(a trial must be killable, and torch threads are per process), or on a Dask cluster when
the spec names a scheduler (``search.cluster``).
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

from prefect import get_run_logger
from prefect.futures import PrefectFuture

from tunaflow.components.data import DataSplits
from tunaflow.components.extras import missing_package
from tunaflow.components.interrupt_guard import guard_worker_process
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.search import SearchResult, abort_search, close_search, open_search
from tunaflow.tasks.mlflow.tracking import TrackingContext
from tunaflow.tasks.search_report import report_beside, report_search
from tunaflow.tasks.recovery import end_dead_work
from tunaflow.tasks.worker import study_worker


def worker_runner(spec: ExperimentSpec):
    """The task runner the workers fan out on."""
    if spec.search.cluster:
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as error:  # installed, but broken (dask or distributed missing)
            raise missing_package("search.cluster", "a Dask cluster", error) from None

        return DaskTaskRunner(address=spec.search.cluster)
    from prefect.task_runners import ProcessPoolTaskRunner

    # the workers share the command's process group: Ctrl-C reaches them, and they must
    # neither print over the command's one line nor outlive it
    return ProcessPoolTaskRunner(max_workers=spec.search.workers, initializer=guard_worker_process)


def run_workers(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext, search_run_id: str) -> list:
    params = {"spec": spec, "splits": splits, "ctx": ctx, "search_run_id": search_run_id}
    if spec.search.workers == 1 and not spec.search.cluster:
        return [study_worker(**params, index=0)]
    for restart in range(spec.search.workers + 1):
        try:
            with worker_runner(spec) as runner:
                futures = [runner.submit(study_worker, parameters={**params, "index": i})
                           for i in range(spec.search.workers)]
                return [future.result() for future in futures]
        except BrokenProcessPool:
            # one worker process died (killed, out of memory) and the pool ended the others:
            # a new pool takes over the budget; their trials turn stale and are retried
            if restart == spec.search.workers:
                raise
            get_run_logger().warning("a search worker process died; starting the workers again")
    return []


def search_stage(spec: ExperimentSpec, splits: DataSplits,
                 ctx: TrackingContext) -> tuple[SearchResult, PrefectFuture | None]:
    """The study's outcome, and the future of its report when that runs beside what follows (a
    final training long enough to hide it): the caller joins it, and its result raises the
    report's error. Otherwise the report is drawn here, and None comes back."""
    plan = open_search(spec, ctx)
    try:
        end_dead_work(spec, ctx)
        if plan.remaining:
            reports = run_workers(spec, splits, ctx, plan.search_run_id)
            get_run_logger().info(f"{len(reports)} worker(s) finished {sum(r.trials for r in reports)} trial(s)")
        best = close_search(spec, ctx, plan, splits)
    except BaseException:
        abort_search(ctx, plan)
        raise
    if report_beside(best):
        return best, report_search.submit(spec, ctx, best, beside=True)
    report_search(spec, ctx, best)
    return best, None
