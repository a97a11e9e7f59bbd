"""The study lock beside an SQLite file: excludes other holders, dies with its process."""

import signal
import subprocess
import sys
import threading
import time

from tunaflow.tasks.optuna.study_lock import FileStudyLock, study_lock


def test_a_second_holder_waits_until_the_first_releases(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    first, second = study_lock(url, "s"), study_lock(url, "s")
    assert isinstance(first, FileStudyLock) and first.path.parent == tmp_path
    order = []
    with first:
        waiter = threading.Thread(target=lambda: (second.acquire(), order.append("second")))
        waiter.start()
        time.sleep(0.3)
        order.append("first released")
    waiter.join(5)
    assert order == ["first released", "second"]
    second.release()
    second.release()  # a no-op when not held
    first.acquire()  # re-usable
    first.close()


def test_a_killed_holder_leaves_the_study_unlocked(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from tunaflow.tasks.optuna.study_lock import study_lock\n"
         f"lock = study_lock({url!r}, 's')\nlock.acquire()\nprint('held', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = study_lock(url, "s")
        got = threading.Event()
        threading.Thread(target=lambda: (lock.acquire(), got.set()), daemon=True).start()
        assert not got.wait(0.5)  # the other process holds it
        holder.send_signal(signal.SIGKILL)
        assert got.wait(10)
        lock.close()
    finally:
        holder.kill()
        holder.wait()
