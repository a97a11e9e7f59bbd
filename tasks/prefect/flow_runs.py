"""Flow runs ended from outside their engine: an interrupted command's, Cancelled."""

from __future__ import annotations


def cancel_flow_runs(flow_run_ids: list[str], message: str) -> int:
    """Set each flow run Cancelled (over the Crashed state Prefect's engine gives a
    KeyboardInterrupt); how many. Nothing is raised: the command is on its way out."""
    if not flow_run_ids:
        return 0
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    cancelled = 0
    try:
        with get_client(sync_client=True) as client:
            for flow_run_id in dict.fromkeys(flow_run_ids):
                try:
                    client.set_flow_run_state(flow_run_id, Cancelled(message=message), force=True)
                    cancelled += 1
                except Exception:  # the server may be gone already: the run stays Crashed
                    pass
    except Exception:
        pass
    return cancelled


def current_flow_run_id() -> str | None:
    """The flow run the calling thread is inside, if any (safe in a signal handler)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return str(context.flow_run.id) if context is not None and context.flow_run is not None else None
