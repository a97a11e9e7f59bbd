"""Where a run will write (TUNAFLOW_HOME, the study storage, the tracking store) and the names
it writes under, checked before anything is written: a SQLite file in a missing folder or a
home that is a file would otherwise fail mid-flow, after the study or MLflow runs exist."""

from __future__ import annotations

from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.names import check_tracking_names
from tunaflow.tasks.settings import check_sqlite_url, tracking_uri, tunaflow_home


def check_state_locations(spec: ExperimentSpec) -> None:
    """UserInputError naming TUNAFLOW_HOME, search.storage, MLFLOW_TRACKING_URI or a tracking field."""
    tunaflow_home()  # the study lock lives there even when both stores are servers
    if spec.search.storage:
        check_sqlite_url(spec.search.storage, "search.storage")
    check_sqlite_url(tracking_uri(), "MLFLOW_TRACKING_URI")
    check_tracking_names(spec)
