"""Where state lives: TUNAFLOW_HOME and the embedded defaults under it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tunaflow.components.secrets import mask_url


def tunaflow_home() -> Path:
    """``$TUNAFLOW_HOME`` (default ``./.tunaflow``), created on first use."""
    home = Path(os.environ.get("TUNAFLOW_HOME") or ".tunaflow").resolve()
    home.mkdir(parents=True, exist_ok=True)
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
