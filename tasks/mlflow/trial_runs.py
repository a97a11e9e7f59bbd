"""Trial runs in MLflow, written from a background thread so trials never wait on tracking."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from tunaflow.tasks.mlflow.tracking import TrackingContext, epoch_metrics, log_batch, note_started, owner_tags
from tunaflow.tasks import tags as keys


class TrialRunRecorder:
    """One nested MLflow run per trial under the search run.

    The run is created when the trial starts (so it shows as RUNNING meanwhile) and gets
    its parameters, per-epoch metrics and outcome in one batch when the trial ends; all of
    it on one background thread, in order. ``close()`` waits for everything to be written.
    """

    def __init__(self, ctx: TrackingContext, search_run_id: str, tags: dict | None = None):
        self.ctx, self.search_run_id, self.tags = ctx, search_run_id, tags or {}
        self.client = MlflowClient(ctx.tracking_uri)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trial-runs")

    def start(self, study: str, number: int, tags: dict | None = None) -> Future:
        def create() -> str:
            run = self.client.create_run(self.ctx.experiment_id, run_name=f"trial-{number}", tags={
                "mlflow.parentRunId": self.search_run_id, keys.STAGE: "trial",
                keys.STUDY: study, keys.TRIAL: str(number), **owner_tags(), **self.tags, **(tags or {})})
            note_started(self.ctx.experiment_id, run.info.run_id)
            return run.info.run_id

        return self.executor.submit(create)

    def finish(self, run: Future, *, history: list[dict], params: dict, state: str,
               summary: dict | None = None, error: str | None = None) -> None:
        """``error``: the traceback of a trial that failed, kept as the run's ``error.txt``."""
        def write() -> None:
            run_id = run.result()
            stamp = int(time.time() * 1000)
            metrics = epoch_metrics(history, timestamp=stamp)
            metrics += [Metric(k, float(v), stamp, 0) for k, v in (summary or {}).items()]
            log_batch(run_id, metrics=metrics, params=params, tags={keys.TRIAL_STATE: state})
            if error:
                self.client.log_text(run_id, error, "error.txt")
            self.client.set_terminated(run_id, status="FAILED" if state == "FAIL" else "FINISHED")

        self.executor.submit(write)

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def end_trial_runs(ctx: TrackingContext, study: str, states: dict[int, str]) -> int:
    """End the still-RUNNING MLflow runs of trials the study has already ended.

    ``states`` maps trial numbers to their Optuna state names. A worker killed mid-trial
    cannot end its own run: whoever fails its trial in the study ends the run, FAILED. A
    process killed after telling the study but before its background writer ended the run
    leaves a finished trial whose run says RUNNING: it ends KILLED, the trial's state tagged.
    Returns how many runs were ended.
    """
    if not states:
        return 0
    client = MlflowClient(ctx.tracking_uri)
    where = f"tags.`tunaflow.study` = '{study}' AND tags.`tunaflow.stage` = 'trial' AND attributes.status = 'RUNNING'"
    if len(states) == 1:
        where += f" AND tags.`tunaflow.trial` = '{next(iter(states))}'"
    ended = 0
    for run in client.search_runs([ctx.experiment_id], filter_string=where, max_results=1000):
        state = states.get(int(run.data.tags[keys.TRIAL]))
        if state is None:
            continue
        client.set_tag(run.info.run_id, keys.TRIAL_STATE, state)
        client.set_terminated(run.info.run_id, status="FAILED" if state == "FAIL" else "KILLED")
        ended += 1
    return ended

