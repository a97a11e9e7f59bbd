"""The guard's signals in one process: SIGTERM stops a command as Ctrl-C does, with its own exit
status, and a handler that a library put on SIGTERM meanwhile gives way to the guard's."""

from __future__ import annotations

import os
import signal

import pytest

from tunaflow.components.interrupt_guard import (InterruptGuard, Interrupted, exit_code, reclaim_stop_signals,
                                                 restore_console)


@pytest.fixture(autouse=True)
def _console_back():
    yield
    restore_console()  # the guard silences stderr once interrupted


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_raises_once_and_says_its_exit_status(signum, status):
    noted = []
    with InterruptGuard() as guard:
        guard.on_interrupt(lambda: noted.append(True))
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
        os.kill(os.getpid(), signum)  # a second one is ignored while the first is cleaned up after
        assert guard.interrupted and guard.signum == signum and noted == [True]
    assert exit_code(Interrupted("stopped", guard.signum)) == status
    assert signal.getsignal(signal.SIGTERM) is not guard._handle  # the previous handlers are back


def test_a_flow_run_takes_sigterm_back_for_the_guard_and_nothing_without_one():
    def library_handler(signum, frame):  # what Prefect's flow engine puts on SIGTERM
        raise SystemExit("not the guard")

    with InterruptGuard() as guard:
        signal.signal(signal.SIGTERM, library_handler)
        reclaim_stop_signals()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
        assert guard.signum == signal.SIGTERM
    previous = signal.signal(signal.SIGTERM, library_handler)
    try:
        reclaim_stop_signals()  # no guard: the library keeps its handler
        assert signal.getsignal(signal.SIGTERM) is library_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
