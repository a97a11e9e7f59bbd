"""Starting Prefect's temporary server early, while the command line does its own checks."""

from __future__ import annotations

import os
import threading


def start_temporary_server_early() -> threading.Thread | None:
    """Start Prefect's temporary local server in the background; join before the flow runs.

    It takes seconds to start; on a second core that overlaps with imports and data checks.
    Nothing is started when PREFECT_API_URL points at a server.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    thread = threading.Thread(target=SubprocessASGIServer().start, name="prefect-server-start", daemon=True)
    thread.start()
    return thread
