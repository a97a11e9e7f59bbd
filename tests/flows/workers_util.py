"""Helpers of the worker tests: specs on disk, the real command line in a subprocess, study reads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import yaml

from tests.conftest import tiny_spec_tree

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
REPO = Path(__file__).resolve().parents[2]


def write_spec(tmp_path: Path, **sections) -> str:
    path = tmp_path / f"{sections.get('name', 'spec')}.yaml"
    path.write_text(yaml.safe_dump(tiny_spec_tree(**sections)))
    return str(path)


def start_cli(*args: str, log: Path) -> subprocess.Popen:
    """``tunaflow ARGS`` as a user runs it, in its own process group (so it can be killed whole)."""
    handle = open(log, "w")
    return subprocess.Popen([sys.executable, "-m", "tunaflow.cli", *args], stdout=handle, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"}, cwd=REPO, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)


def wait_for(predicate, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def trials(name: str, url: str) -> list[optuna.trial.FrozenTrial]:
    if url.startswith("sqlite:///") and not _sqlite_has_study(Path(url.removeprefix("sqlite:///")), name):
        return []  # not created yet: opening it with Optuna would race the flow creating its schema
    # one engine per read, closed after it: tests poll every 50 ms, and an engine left to the
    # garbage collector held its PostgreSQL connection until the server refused new clients
    storage = optuna.storages.RDBStorage(url)
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials()
    except KeyError:
        return []
    finally:
        storage.engine.dispose()


def storage_url_for(backend: str, home: Path, request) -> str:
    return f"sqlite:///{home / 'optuna.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")


def _sqlite_has_study(path: Path, name: str) -> bool:
    if not path.exists():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            return bool(db.execute("SELECT count(*) FROM studies WHERE study_name = ?", (name,)).fetchone()[0])
    except sqlite3.Error:
        return False
