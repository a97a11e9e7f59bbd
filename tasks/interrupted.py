"""What an interrupted command does before it exits, and the one line that says so.

By the time the interrupt has unwound the flow, Optuna has failed the running trials and
the stages have marked their runs failed; here the command's worker processes are made to
stop, its MLflow runs end KILLED (an interrupt, not a failure of the configuration), and
its Prefect flow runs Cancelled instead of Crashed.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tunaflow.components.interrupt_guard import InterruptGuard
from tunaflow.components.processes import child_pids


def watch_flow_runs(guard: InterruptGuard) -> list[str]:
    """The flow runs the main thread is inside when the interrupt comes, filled in then."""
    ids: list[str] = []

    def note() -> None:
        if "prefect.context" in sys.modules:
            from tunaflow.tasks.prefect.flow_runs import current_flow_run_id

            if flow_run_id := current_flow_run_id():
                ids.append(flow_run_id)

    guard.on_interrupt(note)
    return ids


def _lingering(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # multiprocessing's resource tracker reads its pipe until this process is gone, then ends
    return b"resource_tracker" not in command


def stop_children(keep: set[int], grace: float = 1.5) -> int:
    """Wait ``grace`` seconds for this process's children (but ``keep``) to end, then kill them."""
    deadline = time.monotonic() + grace
    while (left := [p for p in child_pids() if p not in keep and _lingering(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(left)


def end_interrupted(guard: InterruptGuard, flow_run_ids: list[str], keep: set[int]) -> str:
    """Clean up after the interrupt; the line the command prints (without its ``tunaflow: `` prefix)."""
    stop_children(keep)
    done = []
    if "tunaflow.tasks.mlflow.tracking" in sys.modules:  # no run was started before it was imported
        import mlflow

        from tunaflow.tasks.mlflow.dead_runs import end_interrupted_runs
        from tunaflow.tasks.mlflow.tracking import STARTED_RUNS

        try:
            killed = end_interrupted_runs(mlflow.get_tracking_uri(), int((guard.at or time.time()) * 1000))
            done.append(f"{killed} MLflow run(s) KILLED")
        except Exception as error:  # the store is unreachable: the next run on the study ends them
            done.append(f"MLflow runs not ended ({type(error).__name__})")
        flow_run_ids = [*flow_run_ids, *_flow_runs_of(STARTED_RUNS)]
    if flow_run_ids:
        from tunaflow.tasks.prefect.flow_runs import cancel_flow_runs

        cancelled = cancel_flow_runs(flow_run_ids, f"interrupted ({_cause(guard)})")
        done.append(f"{cancelled} Prefect flow run(s) cancelled")
    what = "; ".join(done) if done else "nothing had started"
    by = "" if guard.signum == signal.SIGINT else f" by {_cause(guard)}"
    return f"interrupted{by}: running trials failed, {what}; the same command resumes the study"


def _cause(guard: InterruptGuard) -> str:
    return "Ctrl-C" if guard.signum == signal.SIGINT else signal.Signals(guard.signum).name


def _flow_runs_of(started) -> list[str]:
    from mlflow.tracking import MlflowClient

    from tunaflow.tasks import tags as keys

    ids = []
    for _, run_id in list(started):
        try:
            tag = MlflowClient().get_run(run_id).data.tags.get(keys.PREFECT_FLOW_RUN_ID)
        except Exception:
            continue
        if tag:
            ids.append(tag)
        break  # the first run a command starts is its parent run, tagged with the flow run
    return ids
