"""Ctrl-C: one clean stop, and one line, instead of every library's tracebacks.

A terminal sends SIGINT to the whole foreground process group: the command, its worker
processes and anything else it started. Without care, each prints its own traceback and
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

_console_fd: int | None = None  # the original stderr while the process's own is silenced
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
    """The command was interrupted and cleaned up after; ``str()`` says what was left and how."""


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
    """The process's SIGINT handling while a command runs (a context manager, main thread only).

    ``on_interrupt`` callbacks run inside the signal handler: they must only note things
    (which flow run was running). Past ``deadline`` seconds after the interrupt, the
    process's children are killed and it exits with ``EXIT_INTERRUPTED`` whatever the
    cleanup is doing, its line written.
    """

    def __init__(self, deadline: float | None = None, quiet_stdout: bool = False):
        self.deadline, self.quiet_stdout = deadline, quiet_stdout
        self.at: float | None = None  # time.time() of the first SIGINT
        self.callbacks: list[Callable[[], None]] = []
        self.previous = None
        self.installed = False

    def on_interrupt(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def __enter__(self) -> "InterruptGuard":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False

    @property
    def interrupted(self) -> bool:
        return self.at is not None

    def _handle(self, signum, frame) -> None:
        if self.at is not None:
            return  # the cleanup of the first one is under way
        self.at = time.time()
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
        os._exit(EXIT_INTERRUPTED)


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
