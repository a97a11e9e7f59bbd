"""Which process owns a run or a trial, and whether it is still alive.

A process killed with SIGKILL cannot end what it started: its MLflow runs stay RUNNING
and its Optuna trial RUNNING. The next process on the study ends them, but only when
their owner is provably dead: on this host, a pid that is gone, or that now belongs to a
process started at another time (pids are reused). An owner on another host is never
judged from here; the trial's heartbeat speaks for it.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import sys
from pathlib import Path

PROC = Path("/proc")
_WORKER_NAME = re.compile(r"^(?P<host>.+)-p(?P<pid>\d+)(?:-w\d+)?$")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (state, ppid, ...); None when gone or not Linux."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name, in parentheses, may hold spaces: the fields after it are fixed
    return stat.rsplit(")", 1)[1].split()


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None when unknown or gone."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def _pid_alive(pid: int) -> bool:
    if PROC.is_dir():
        fields = _stat_fields(pid)
        # a zombie has exited: only its parent has yet to read its status
        return fields is not None and fields[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def process_identity(pid: int | None = None) -> str:
    """``host:pid:start``: names one process for its whole life, whatever pid reuse follows."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or ''}"


def identity_is_dead(identity: str) -> bool:
    """True only when ``identity`` (from ``process_identity``) names a process of this host that is gone."""
    parts = (identity or "").split(":")
    if len(parts) < 3 or not parts[-2].isdigit():
        return False
    host, pid, start = ":".join(parts[:-2]), int(parts[-2]), parts[-1]
    if host != socket.gethostname():
        return False
    if not _pid_alive(pid):
        return True
    now = _start_ticks(pid)
    return bool(start) and now is not None and now != start


def worker_is_dead(name: str) -> bool:
    """True only when a worker name (``host-pPID`` or ``host-pPID-wN``) names a gone process of this host.

    Worker names carry no start time: a reused pid reads as alive, the safe side (the
    trial's heartbeat fails it later).
    """
    match = _WORKER_NAME.match(name or "")
    if not match or match["host"] != socket.gethostname():
        return False
    return not _pid_alive(int(match["pid"]))


def child_pids(pid: int | None = None) -> list[int]:
    """The live children of ``pid`` (default: this process), read from /proc; [] where there is none."""
    pid = os.getpid() if pid is None else pid
    children = []
    for entry in PROC.glob("[0-9]*") if PROC.is_dir() else ():
        fields = _stat_fields(int(entry.name))
        if fields and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            children.append(int(entry.name))
    return children


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """In a child process: be sent ``sig`` when the parent dies (Linux; a no-op elsewhere).

    Safe in a ``preexec_fn``. The kernel signals on the death of the parent *thread* that
    started the child, so start such children from a thread that lives as long as they should.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)
