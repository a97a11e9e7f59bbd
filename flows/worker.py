"""A worker started on its own (``tunaflow worker SPEC``): joins a study and works until its budget is spent."""

from __future__ import annotations

from prefect import flow

from tunaflow.components.interrupt_guard import reclaim_stop_signals
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.recovery import end_dead_work
from tunaflow.tasks.worker import join_study, study_worker


@flow(name="study worker", flow_run_name="{spec.name}-worker", validate_parameters=True)
def study_worker_flow(spec: ExperimentSpec) -> dict:
    reclaim_stop_signals()  # Ctrl-C and SIGTERM alike stop the run cleanly (components/interrupt_guard.py)
    ctx, search_run_id, splits = join_study(spec)
    end_dead_work(spec, ctx)
    report = study_worker(spec, splits, ctx, search_run_id)
    return {"study": spec.name, "worker": report.worker, "trials": report.trials, "seconds": report.seconds}
