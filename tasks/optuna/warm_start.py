"""Warm starts: enqueue given parameters, an earlier study's best trials, a registered model's."""

from __future__ import annotations

import json

import optuna
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tunaflow.components.errors import UserInputError
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks import tags as keys



def _in_space(params: dict, spec: ExperimentSpec) -> dict:
    from tunaflow.components.space import all_paths

    known = all_paths(spec.search.searched)
    return {k: v for k, v in params.items() if k in known}


def study_best_params(storage, name: str, top_k: int) -> list[dict]:
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise UserInputError("search.warm_start.from_study", f"no study named {name!r} in the storage") from None
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(study.directions) == 1:
        reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
        complete.sort(key=lambda t: t.value, reverse=reverse)
    return [t.params for t in complete[:top_k]]


def _registry_name(model_uri: str) -> str:
    """``NAME@ALIAS`` or ``NAME/VERSION`` from a ``models:/`` URI; bad input otherwise."""
    rest = model_uri.removeprefix("models:/")
    if rest == model_uri or ("@" not in rest and "/" not in rest):
        raise UserInputError("search.warm_start.from_model",
                             f"expected models:/NAME@ALIAS or models:/NAME/VERSION, got {model_uri!r}")
    return rest


def model_params(model_uri: str) -> dict:
    """The searched parameters recorded on a registered version (``models:/NAME@ALIAS`` or ``/VERSION``)."""
    where = "search.warm_start.from_model"
    name_part = _registry_name(model_uri)
    client = MlflowClient()
    try:
        if "@" in name_part:
            name, alias = name_part.split("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        else:
            name, number = name_part.rsplit("/", 1)
            version = client.get_model_version(name, number)
    except MlflowException as error:
        raise UserInputError(where, f"{model_uri} not found ({error.message.splitlines()[0]})") from None
    return json.loads(version.tags.get(keys.BEST_PARAMS, "{}"))


def enqueue_warm_start(study: optuna.Study, spec: ExperimentSpec, storage) -> int:
    """Enqueue the warm-start parameter sets not tried yet; how many were enqueued comes back."""
    warm = spec.search.warm_start
    candidates = list(warm.params)
    if warm.from_study:
        candidates += study_best_params(storage, warm.from_study, warm.top_k)
    if warm.from_model:
        candidates.append(model_params(warm.from_model))
    count = 0
    for params in candidates:
        params = _in_space(params, spec)
        if params:
            study.enqueue_trial(params, skip_if_exists=True)
            count += 1
    return count


def check_warm_start(spec: ExperimentSpec) -> None:
    """The warm start's study and model exist (read only; nothing is created)."""
    from tunaflow.tasks.settings import missing_sqlite_file, tracking_uri
    from tunaflow.tasks.optuna.storage import open_storage, storage_url

    warm = spec.search.warm_start
    if warm.from_study:
        url = storage_url(spec)
        if missing_sqlite_file(url):
            raise UserInputError("search.warm_start.from_study", f"no study named {warm.from_study!r} (empty storage)")
        study_best_params(open_storage(url), warm.from_study, warm.top_k)
    if warm.from_model:
        _registry_name(warm.from_model)
        uri = tracking_uri()
        if missing_sqlite_file(uri):
            raise UserInputError("search.warm_start.from_model", f"{warm.from_model} not found (empty registry)")
        import mlflow

        mlflow.set_tracking_uri(uri)
        model_params(warm.from_model)
