"""One lock per study, shared by every worker that admits trials into it.

Admitting a trial (count the budget, then ask Optuna for a trial) must be atomic across
processes and machines, or two workers both take the last slot. The lock lives where the
study does: an advisory lock in PostgreSQL, a file lock beside an SQLite file. Both die
with their holder, so a SIGKILLed worker never leaves the study locked.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from filelock import FileLock

from tunaflow.tasks.settings import tunaflow_home


class StudyLock:
    """A re-usable, non-reentrant lock; ``release`` is a no-op when not held."""

    held = False

    def acquire(self) -> None:
        raise NotImplementedError

    def _unlock(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        if self.held:
            self.held = False
            self._unlock()

    def close(self) -> None:
        self.release()

    def __enter__(self) -> "StudyLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class FileStudyLock(StudyLock):
    """The operating system's lock on a file (``flock`` on POSIX, through filelock):
    released by the system when its process dies."""

    def __init__(self, path: Path):
        self.path = path
        # shared by the threads of this object, as the study's admission is; other objects
        # (and processes) on the same path exclude it
        self.lock = FileLock(path, thread_local=False)

    def acquire(self) -> None:
        self.lock.acquire()
        self.held = True

    def _unlock(self) -> None:
        self.lock.release(force=True)


class PostgresStudyLock(StudyLock):
    """A session advisory lock: PostgreSQL drops it when the holder's connection closes."""

    def __init__(self, url: str, key: int):
        # SQLAlchemy names the driver in the scheme (postgresql+psycopg://); libpq does not
        self.url = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
        self.key = key
        self.connection = None

    def acquire(self) -> None:
        import psycopg

        if self.connection is None or self.connection.closed:
            self.connection = psycopg.connect(self.url, autocommit=True)
        self.connection.execute("SELECT pg_advisory_lock(%s)", (self.key,))
        self.held = True

    def _unlock(self) -> None:
        self.connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))

    def close(self) -> None:
        super().close()
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def study_lock(url: str, study_name: str) -> StudyLock:
    digest = hashlib.sha256(f"tunaflow:{study_name}".encode()).digest()
    if url.startswith("postgresql"):
        return PostgresStudyLock(url, int.from_bytes(digest[:8], "big", signed=True))
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
    else:
        # other databases: workers on this machine only
        folder = tunaflow_home()
    return FileStudyLock(folder / f".{study_name}.{digest[:4].hex()}.lock")
