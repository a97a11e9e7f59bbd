"""Prefect's temporary local server, started the moment the command line starts.

Prefect starts the same server (uvicorn serving ``prefect.server.api.server:create_app``;
here through ``server_app``'s factories) on its first API call, in the foreground, and waits
up to 5 s for it at exit. Starting it first lets it boot on one core while tunaflow imports
and checks the spec on the other, and stopping it ourselves, once Prefect's log and event
queues are flushed, ends the process promptly. Nothing is started when PREFECT_API_URL points
at a server.

One process has one such server: Prefect reads its API URL once, when first imported, so a
second ``tunaflow.run()`` in a notebook uses the first one's server (started again on the
same port if it has died), and the server stops when the process exits.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from tunaflow.components.processes import die_with_parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryServer:
    """A Prefect server subprocess on 127.0.0.1 for the length of one command."""

    def __init__(self, scheduler: bool = False, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        # the server keeps its SQLite database in PREFECT_HOME: SQLite cannot create the folder,
        # and a server that cannot open its file exits at start (code 3)
        _prefect_home().mkdir(parents=True, exist_ok=True)
        # uvicorn puts its --app-dir first on the server's sys.path (default: the working
        # directory, where a user's file could shadow a module): the installed packages' folder
        packages = Path(importlib.util.find_spec("prefect").origin).parent.parent
        env = {**os.environ, "PREFECT_UI_ENABLED": "0"}
        # no network is expected of users' machines: no telemetry attempts (a user's setting wins)
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        env.pop("PREFECT_API_URL", None)
        # an ephemeral app skips the background services (the scheduler among them)
        factory = "scheduling_app" if scheduler else "ephemeral_app"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(packages), "--factory",
             f"tunaflow.tasks.prefect.server_app:{factory}", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "error", "--lifespan", "on"],
            env=env, stdin=subprocess.DEVNULL,
            # Ctrl-C reaches the terminal's foreground process group: the server, in a session
            # of its own, keeps answering while the command cleans up (the flow run cancelled,
            # its logs sent), and the command stops it after. A command killed outright takes
            # the server with it instead of leaving it running unowned.
            start_new_session=True, preexec_fn=partial(die_with_parent, os.getpid()),
        )
        # Prefect reads its settings when first imported: point it here before that.
        os.environ["PREFECT_API_URL"] = self.api_url
        # This server has no UI and ends with the command: a "View at" link to it would be
        # dead. An empty UI URL makes Prefect print none.
        self.blanked_ui_url = "PREFECT_UI_URL" not in os.environ
        if self.blanked_ui_url:
            os.environ["PREFECT_UI_URL"] = ""

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prefect's temporary server exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Prefect's temporary server did not answer within {timeout:.0f} s")

    @contextmanager
    def settings(self) -> Iterator[None]:
        """Prefect's settings for flow runs on this server: no flow-run heartbeats. They exist for a
        server's automations to find crashed runs, which this one, without services, never runs;
        and the flow engine joins their thread at every flow run's end, a wait of up to a second
        (it sleeps in 1 s steps)."""
        from prefect.settings import temporary_settings

        with temporary_settings(updates={"flows.heartbeat_frequency": None}):
            yield

    def stop(self, grace: float = 2.0) -> None:
        """Flush what Prefect still has to send, then stop the server: SIGTERM, and SIGKILL after
        ``grace`` seconds (0: at once)."""
        if self.process.poll() is None:
            # only a module already imported can hold queued logs or events; importing Prefect
            # now, from an exit handler, would cost seconds and fail at the interpreter's
            # shutdown (its import registers exit handlers, refused by then)
            handlers = sys.modules.get("prefect.logging.handlers")
            events = sys.modules.get("prefect.events.worker")
            if handlers is not None:
                handlers.APILogWorker.drain_all(timeout=10)
            if events is not None:
                events.EventsWorker.drain_all(timeout=10)
            if grace > 0:
                self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                # its background services' loops can take seconds to notice; its
                # SQLite database has committed everything by now
                self.process.kill()
                self.process.wait()
        self.release_environment()

    def stop_at_exit(self) -> None:
        """At the process's exit, once flushed, the server is killed outright: every log and state
        it was sent is committed when its answer came back, and a graceful shutdown (closing the
        client's connections, the app's lifespan) would keep the command a quarter second longer."""
        self.stop(grace=0)

    def release_environment(self) -> None:
        """Take this server's URLs out of the environment: processes started after the call (a
        user's, a test's) must not inherit them; Prefect in this process has read them already."""
        os.environ.pop("PREFECT_API_URL", None)
        if self.blanked_ui_url:
            os.environ.pop("PREFECT_UI_URL", None)


_shared: TemporaryServer | None = None  # the process's server for flow runs (see the module's note)


def start_temporary_server(scheduler: bool = False) -> TemporaryServer | None:
    """A server started for this command (``scheduler``; the caller stops it), or None when the
    user's PREFECT_API_URL (or profile) names one.

    ``scheduler``: run the server's services, which create the runs of scheduled
    deployments (a long-running ``tunaflow deploy`` needs them; one flow run does not).
    """
    if os.environ.get("PREFECT_API_URL") or _profile_names_a_server():
        return None
    return TemporaryServer(scheduler)


def shared_temporary_server() -> TemporaryServer | None:
    """The process's server for flow runs, started on first use and stopped at exit; None when
    the user's PREFECT_API_URL (or profile) names a server."""
    global _shared
    if _shared is not None:
        if _shared.process.poll() is None:
            os.environ["PREFECT_API_URL"] = _shared.api_url
            if _shared.blanked_ui_url:
                os.environ["PREFECT_UI_URL"] = ""
            return _shared
        _shared = TemporaryServer(port=_shared.port)  # where Prefect, already imported, looks for it
    elif os.environ.get("PREFECT_API_URL") or _profile_names_a_server():
        return None
    else:
        _shared = TemporaryServer()
    atexit.register(_shared.stop_at_exit)
    return _shared


def _prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()


def _profile_names_a_server() -> bool:
    """Whether the active Prefect profile sets an API URL (read without importing prefect)."""
    home = _prefect_home()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml"))
    if not profiles.is_file():
        return False
    import tomllib

    try:
        data = tomllib.loads(profiles.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return True  # let Prefect read it and decide
    active = os.environ.get("PREFECT_PROFILE") or data.get("active", "ephemeral")
    return bool(data.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))
