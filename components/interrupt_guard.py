"""Ctrl-C (or SIGTERM): one clean stop, and one line, instead of every library's tracebacks.

A terminal sends SIGINT to the whole foreground process group: the command, its worker
processes and anything else it started. A service manager, a container runtime or a Prefect
worker cancelling a job sends SIGTERM to the command alone: the guard passes it on to the
command's worker processes as SIGINT and then stops the same way, exiting 143 instead of 130. Without care, each prints its own traceback and
Prefect's client retries a server that is shutting down for minutes. Under the guard, the
first SIGINT raises ``KeyboardInterrupt`` once (Optuna fails the running trial on it), the
console of the process goes quiet (what follows is cleanup, not news), later SIGINTs are
ignored so that the cleanup runs to its end, and a deadline bounds that cleanup.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Callable

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_console_fd: int | None = None  # the original stderr while the process's own is silenced
_active: "InterruptGuard | None" = None  # the command's guard while it runs
_exit_deadline: float | None = None


def set_exit_deadline(seconds: float | None) -> None:
    """The command line's promise: exit within ``seconds`` of Ctrl-C, cleanup done or not.

    Unset (the default), an interrupted library call returns to its caller however long
    the cleanup takes: a caller's interpreter is never ended from here.
    """
    global _exit_deadline
    _exit_deadline = seconds


def exit_deadline() -> float | None:
    return _exit_deadline


class Interrupted(KeyboardInterrupt):
    """The command was interrupted and cleaned up after; ``str()`` says what was left and how.

    ``signum``: the signal that stopped it (SIGINT or SIGTERM)."""

    def __init__(self, message: str = "", signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum


def exit_code(interrupt: BaseException) -> int:
    """What a shell reports for a command stopped by ``interrupt``'s signal: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + int(getattr(interrupt, "signum", signal.SIGINT))


def console_line(text: str) -> None:
    """Write one line to the user's terminal, even while this process's stderr is silenced."""
    data = (text.rstrip("\n") + "\n").encode(errors="replace")
    if _console_fd is not None:
        os.write(_console_fd, data)
        return
    sys.stderr.flush()
    os.write(sys.stderr.fileno(), data)


def silence_console(stdout: bool = False) -> None:
    """Send this process's stderr (and stdout) to /dev/null; ``console_line`` still reaches the terminal."""
    global _console_fd
    for stream in (sys.stderr, sys.stdout):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if _console_fd is None:
        _console_fd = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    if stdout:
        os.dup2(null, 1)
    os.close(null)


def restore_console() -> None:
    global _console_fd
    if _console_fd is not None:
        os.dup2(_console_fd, 2)
        os.close(_console_fd)
        _console_fd = None


class InterruptGuard:
    """The process's SIGINT and SIGTERM handling while a command runs (a context manager, main thread only).

    ``on_interrupt`` callbacks run inside the signal handler: they must only note things
    (which flow run was running). Past ``deadline`` seconds after the interrupt, the
    process's children are killed and it exits with ``EXIT_INTERRUPTED`` whatever the
    cleanup is doing, its line written.
    """

    def __init__(self, deadline: float | None = None, quiet_stdout: bool = False):
        self.deadline, self.quiet_stdout = deadline, quiet_stdout
        self.at: float | None = None  # time.time() of the first stop signal
        self.signum: int = signal.SIGINT  # which one it was
        self.callbacks: list[Callable[[], None]] = []
        self.previous: dict[int, object] = {}
        self.installed = False

    def on_interrupt(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def __enter__(self) -> "InterruptGuard":
        global _active
        if threading.current_thread() is threading.main_thread():
            self.previous = {signum: signal.signal(signum, self._handle) for signum in STOP_SIGNALS}
            self.installed, _active = True, self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        if self.installed:
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)
            self.installed, _active = False, None

    @property
    def interrupted(self) -> bool:
        return self.at is not None

    def _handle(self, signum, frame) -> None:
        if self.at is not None:
            return  # the cleanup of the first one is under way
        self.at, self.signum = time.time(), signum
        if signum != signal.SIGINT:
            _interrupt_process_group_children()
        for callback in self.callbacks:
            try:
                callback()
            except Exception:  # noting is best effort; the interrupt must go through
                pass
        silence_console(stdout=self.quiet_stdout)
        if self.deadline is not None:
            threading.Thread(target=self._enforce_deadline, name="interrupt-deadline", daemon=True).start()
        raise KeyboardInterrupt

    def _enforce_deadline(self) -> None:
        from tunaflow.components.processes import child_pids

        time.sleep(max(0.0, self.deadline - 1.0))
        for pid in child_pids():  # a child that ignores the interrupt must not outlive the command
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(1.0)
        console_line(f"tunaflow: interrupted: cleanup cut short after {self.deadline:.0f} s; "
                     "the next run on the study ends what was left")
        os._exit(128 + self.signum)


def reclaim_stop_signals() -> None:
    """At the start of a flow run in the command's process: SIGTERM back to the command's guard.

    Prefect's flow engine puts a handler of its own on SIGTERM for the flow run's length; it
    raises an exception that Optuna does not fail a running trial on and that worker processes
    never hear of, and Prefect marks the flow run Crashed. Under the guard a SIGTERM stops the
    run as Ctrl-C does. Prefect puts the guard's handler back when the flow run ends. Without a
    guard (a flow run that Prefect's runner started in a process of its own) Prefect's stays.
    """
    guard = _active
    if guard is not None and guard.installed and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, guard._handle)


def _interrupt_process_group_children() -> None:
    """SIGINT to the processes under this one that share its process group (its worker processes,
    also those a fork server started), as a terminal's Ctrl-C would reach them; a child in a
    session of its own (the Prefect server, which must keep answering during the cleanup) is
    left alone with what it started, and so are the group's processes outside this one's tree."""
    from tunaflow.components.processes import child_pids

    group, frontier = os.getpgrp(), [os.getpid()]
    while frontier:
        children = [child for pid in frontier for child in child_pids(pid)]
        frontier = []
        for pid in children:
            try:
                if os.getpgid(pid) == group:
                    os.kill(pid, signal.SIGINT)
                    frontier.append(pid)
            except OSError:  # gone meanwhile
                pass


def guard_worker_process() -> None:
    """Initializer of a worker process that shares the command's process group: dies with its
    parent, and on SIGINT fails its running trial quietly (the parent reports the interrupt)."""
    from tunaflow.components.processes import die_with_parent

    die_with_parent(os.getppid())
    signal.signal(signal.SIGINT, _worker_interrupted)


def _worker_interrupted(signum, frame) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # once: the trial's cleanup must finish
    silence_console(stdout=True)
    raise KeyboardInterrupt
