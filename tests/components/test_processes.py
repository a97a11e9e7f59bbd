"""Owners of runs and trials: alive, dead, or not ours to judge; children that die with their parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from tunaflow.components.processes import (child_pids, identity_is_dead, process_identity, worker_is_dead)


def test_a_process_reads_dead_once_it_has_exited_even_before_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    identity = process_identity(child.pid)
    assert child.pid in child_pids()
    assert not identity_is_dead(identity) and not worker_is_dead(f"{socket.gethostname()}-p{child.pid}-w1")
    child.kill()
    deadline = time.monotonic() + 10
    while child.pid in child_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    # a zombie: exited, not yet waited for
    assert identity_is_dead(identity) and worker_is_dead(f"{socket.gethostname()}-p{child.pid}")
    child.wait()


def test_this_process_is_alive_and_other_hosts_or_malformed_owners_are_never_judged_dead():
    assert not identity_is_dead(process_identity())
    assert not identity_is_dead(f"another-host:{os.getpid() + 999_999}:1")
    assert not identity_is_dead("") and not identity_is_dead("no pid here")
    assert not worker_is_dead(f"another-host-p{os.getpid() + 999_999}-w0") and not worker_is_dead("")


def test_a_reused_pid_does_not_make_a_dead_owner_look_alive():
    host, pid, start = process_identity().split(":")
    assert identity_is_dead(f"{host}:{pid}:{int(start) - 1}")


def test_a_child_started_with_die_with_parent_dies_when_its_parent_is_killed(tmp_path):
    pid_file = tmp_path / "grandchild"
    parent = subprocess.Popen([sys.executable, "-c", f"""
import functools, os, subprocess, sys, time
from tunaflow.components.processes import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         preexec_fn=functools.partial(die_with_parent, os.getpid()))
open({str(pid_file)!r}, "w").write(str(child.pid))
time.sleep(60)
"""])
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchild = int(pid_file.read_text())
        identity = process_identity(grandchild)
        assert not identity_is_dead(identity)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while not identity_is_dead(identity) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert identity_is_dead(identity)
    finally:
        parent.kill()
