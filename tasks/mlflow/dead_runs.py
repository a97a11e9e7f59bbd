"""MLflow runs left behind by a process that stopped: ended KILLED.

MLflow has no heartbeat: a run whose process is SIGKILLed stays RUNNING forever. Every
run tunaflow starts names its process (``tunaflow.owner``; a search run has its parent's),
so the next run or worker on the experiment ends the runs of owners that are provably
dead. An interrupted command ends its own tree the same way before it exits.
"""

from __future__ import annotations

import logging

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from tunaflow.components.processes import identity_is_dead, process_identity
from tunaflow.tasks.mlflow.tracking import STARTED_RUNS
from tunaflow.tasks import tags as keys

PARENT = "mlflow.parentRunId"
log = logging.getLogger("tunaflow.recovery")


class RunLineage:
    """Runs by id, read once each: a run's owner is its own tag, else its nearest ancestor's."""

    def __init__(self, client: MlflowClient, runs: list[Run] = ()):
        self.client = client
        self.runs: dict[str, Run | None] = {r.info.run_id: r for r in runs}

    def get(self, run_id: str) -> Run | None:
        if run_id not in self.runs:
            try:
                self.runs[run_id] = self.client.get_run(run_id)
            except Exception:  # deleted, or never written
                self.runs[run_id] = None
        return self.runs[run_id]

    def ancestry(self, run: Run) -> list[Run]:
        """The run, its parent, its parent's parent..."""
        chain, seen = [run], {run.info.run_id}
        while (parent := chain[-1].data.tags.get(PARENT)) and parent not in seen:
            seen.add(parent)
            found = self.get(parent)
            if found is None:
                break
            chain.append(found)
        return chain

    def owner(self, run: Run) -> str | None:
        return next((r.data.tags[keys.OWNER] for r in self.ancestry(run) if keys.OWNER in r.data.tags), None)


def _kill(client: MlflowClient, run: Run) -> None:
    client.set_terminated(run.info.run_id, status="KILLED")


def end_dead_runs(tracking_uri: str, experiment_id: str) -> int:
    """End KILLED the RUNNING runs of the experiment whose owning process is gone; how many.

    A trial's run is left to its trial: whoever fails the trial in the study ends the run
    FAILED (tasks/mlflow/trial_runs.py), and the search's close ends that of a trial the
    study finished. A trial committed by a worker killed a moment ago may not be visible
    here yet: its run ended KILLED now would never be marked FAILED with its trial.
    """
    client = MlflowClient(tracking_uri)
    running = client.search_runs([experiment_id], "attributes.status = 'RUNNING'", max_results=5000)
    lineage = RunLineage(client, running)
    ended = 0
    for run in running:
        if run.data.tags.get(keys.STAGE) == "trial":
            continue
        owner = lineage.owner(run)
        if owner and identity_is_dead(owner):
            _kill(client, run)
            ended += 1
    if ended:
        log.info(f"ended {ended} MLflow run(s) KILLED: their process had died")
    return ended


def end_interrupted_runs(tracking_uri: str, since_ms: int) -> int:
    """After an interrupt: this process's runs and their descendants KILLED, whether still
    RUNNING or failed by the interrupt's unwinding (ended since ``since_ms``). A run owned by
    another live process (a ``tunaflow worker`` on the same search) is left to it."""
    if not STARTED_RUNS:
        return 0
    client = MlflowClient(tracking_uri)
    mine = {run_id for _, run_id in STARTED_RUNS}
    me = process_identity()
    ended = 0
    for experiment_id in {experiment for experiment, _ in STARTED_RUNS}:
        candidates = client.search_runs([experiment_id], "attributes.status = 'RUNNING'", max_results=5000)
        candidates += client.search_runs(
            [experiment_id], f"attributes.status = 'FAILED' AND attributes.end_time >= {int(since_ms)}",
            max_results=5000)
        lineage = RunLineage(client, candidates)
        for run in candidates:
            if not any(r.info.run_id in mine for r in lineage.ancestry(run)):
                continue
            owner = run.data.tags.get(keys.OWNER)
            if owner and owner != me and not identity_is_dead(owner):
                continue
            _kill(client, run)
            ended += 1
    return ended
