"""The names a spec gives MLflow (experiment, registered model, alias), checked by MLflow's own
rules before a run starts: MLflow refuses a reserved alias only at registration, after the
whole search has run and been recorded."""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.utils import validation

from tunaflow.components.errors import SpecError
from tunaflow.components.spec import ExperimentSpec


def _check(where: str, check, value: str) -> None:
    try:
        check(value)
    except MlflowException as error:
        raise SpecError(where, f"{value!r} is not a name MLflow accepts: {error.message}") from None


def check_tracking_names(spec: ExperimentSpec) -> None:
    """SpecError naming the tracking field whose name MLflow would refuse."""
    tracking = spec.tracking
    experiment = "tracking.experiment" if tracking.experiment else "name"
    _check(experiment, validation._validate_experiment_name, spec.experiment_name)
    model = "tracking.registered_model" if tracking.registered_model else "name"
    _check(model, validation._validate_model_name, spec.model_name)
    _check("tracking.alias", validation._validate_model_alias_name, tracking.alias)
    _check("tracking.alias", validation._validate_model_alias_name_reserved, tracking.alias)
