"""The names a spec gives MLflow (experiment, registered model, alias), checked by MLflow's rules
before a run starts: MLflow refuses a reserved alias only at registration, after the whole search
has run and been recorded.

MLflow's checks are private functions (mlflow.utils.validation._validate_*) that change between
releases (3.18 renamed the alias ones, and the first spec check died with an AttributeError), so
the rules are written here, as mlflow 3.18 enforces them. Source: mlflow/utils/validation.py of
mlflow 3.18 (_validate_experiment_name, _validate_model_name, _validate_alias_name and
_validate_alias_name_reserved), which MLflow calls when an experiment, a registered model or an
alias is created."""

from __future__ import annotations

import posixpath
import re

from tunaflow.components.errors import SpecError
from tunaflow.components.spec import ExperimentSpec

# mlflow.utils.validation.MAX_EXPERIMENT_NAME_LENGTH (a public constant, kept local so a move of it
# in MLflow cannot break the check)
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_ALIAS_LENGTH = 255  # MAX_REGISTERED_MODEL_ALIAS_LENGTH
ALIAS_CHARACTERS = re.compile(r"[\w\-]*")  # alphanumerics, underscores and dashes
VERSION_ALIAS = re.compile(r"[vV]\d+")  # reserved: "v3" could be taken for version 3


def experiment_name_problem(name: str) -> str | None:
    """Why MLflow would refuse the experiment name: blank or longer than 500 characters."""
    if not name.strip():
        return "an experiment name cannot be blank"
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        return f"an experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
    return None


def model_name_problem(name: str) -> str | None:
    """Why MLflow would refuse the registered model name: blank, '/' or ':' (they split model URIs),
    or a name that normalises to another path (MLflow may store it as a folder)."""
    if not name.strip():
        return "a registered model name cannot be blank"
    if "/" in name or ":" in name:
        return "names cannot contain '/' or ':'"
    normal = posixpath.normpath(name)
    if normal != name or normal == "." or normal.startswith(".."):
        return f"names must not resolve to other names when treated as files; this one resolves to {normal!r}"
    return None


def alias_problem(alias: str) -> str | None:
    """Why MLflow would refuse the alias: empty, other characters than alphanumerics, '_' and '-',
    longer than 255, 'latest' in any case, or a version alias like 'v3' (both reserved)."""
    if not alias:
        return "an alias cannot be empty"
    if not ALIAS_CHARACTERS.fullmatch(alias):
        return "names may only contain alphanumerics, underscores (_), and dashes (-)"
    if len(alias) > MAX_ALIAS_LENGTH:
        return f"an alias exceeds the maximum length of {MAX_ALIAS_LENGTH} characters"
    if alias.lower() == "latest":
        return "'latest' alias name (case insensitive) is reserved"
    if VERSION_ALIAS.fullmatch(alias):
        return f"version alias name {alias!r} is reserved"
    return None


def _check(where: str, problem, value: str) -> None:
    reason = problem(value)
    if reason is not None:
        raise SpecError(where, f"{value!r} is not a name MLflow accepts: {reason}")


def check_tracking_names(spec: ExperimentSpec) -> None:
    """SpecError naming the tracking field whose name MLflow would refuse."""
    tracking = spec.tracking
    experiment = "tracking.experiment" if tracking.experiment else "name"
    _check(experiment, experiment_name_problem, spec.experiment_name)
    model = "tracking.registered_model" if tracking.registered_model else "name"
    _check(model, model_name_problem, spec.model_name)
    _check("tracking.alias", alias_problem, tracking.alias)
