"""Where state lives: TUNAFLOW_HOME and the embedded defaults under it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tunaflow.components.errors import UserInputError
from tunaflow.components.home import home_path
from tunaflow.components.secrets import mask_url


def tunaflow_home() -> Path:
    """``$TUNAFLOW_HOME`` (default ``./.tunaflow``), created on first use; bad input (exit 2)
    when it is a file or cannot be created or written."""
    home = home_path()
    where = "TUNAFLOW_HOME" if os.environ.get("TUNAFLOW_HOME") else str(home)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserInputError(where, f"{home} is a file, not a folder") from None
    except OSError as error:
        raise UserInputError(where, f"{home} cannot be created ({error.strerror or error})") from None
    if not os.access(home, os.W_OK | os.X_OK):
        raise UserInputError(where, f"{home} is not writable")
    return home


def embedded_tracking_uri() -> str:
    return f"sqlite:///{tunaflow_home() / 'mlflow.db'}"


def tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, or the SQLite store under TUNAFLOW_HOME."""
    return os.environ.get("MLFLOW_TRACKING_URI") or embedded_tracking_uri()


def artifact_root(uri: str) -> str | None:
    """Artifacts go under TUNAFLOW_HOME with the embedded store; a server decides its own.

    Decided from the URI, not from the environment: ``mlflow.set_tracking_uri`` exports
    MLFLOW_TRACKING_URI itself, so after the first run the variable no longer says
    whether the user named a store.
    """
    if uri != embedded_tracking_uri():
        return None
    return (tunaflow_home() / "artifacts").as_uri()


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for other URLs and in-memory databases)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def check_sqlite_url(url: str, where: str) -> None:
    """A SQLite database SQLite can open or create: its folder exists and it is not a folder
    (SQLite would fail only at the first write, after other state was written)."""
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        raise UserInputError(where, f"{mask_url(url)}: {path} is a folder, not a database file")
    if not path.parent.is_dir():
        raise UserInputError(where, f"{mask_url(url)}: the folder {path.parent} does not exist")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise UserInputError(where, f"{mask_url(url)}: {path if path.exists() else path.parent} is not writable")


def missing_sqlite_file(url: str) -> bool:
    """A ``sqlite:///`` URL whose file does not exist yet (opening it would create it)."""
    return url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()


def default_storage_url() -> str:
    return f"sqlite:///{tunaflow_home() / 'optuna.db'}"


def quiet_library_logs(uri: str | None = None) -> None:
    """Schema migrations and per-request chatter are not what a user wants to read."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = uri or tracking_uri()
    if mask_url(uri) != uri:
        # MLflow prints "View run at <tracking URI>/..." on every run's end, password included
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent", "mlflow.models.model"):
        logging.getLogger(name).setLevel(logging.WARNING)
