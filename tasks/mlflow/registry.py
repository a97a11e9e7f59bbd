"""The model registry's aliases: who holds them, moving them with a history, and moving back.

Every move of an alias to another version tags the new holder with the version it
replaced (``tunaflow.previous.ALIAS``), so a rollback needs nothing but the registry.
"""

from __future__ import annotations

import time

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tunaflow.components.errors import UserInputError
from tunaflow.tasks import tags as keys

CHALLENGER = "challenger"


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version holding ``alias`` of model ``name``; None when either does not exist."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def latest_version(client: MlflowClient, name: str) -> ModelVersion | None:
    """The most recently registered version of ``name`` (any alias or none)."""
    versions = client.search_model_versions(f"name = '{name}'", max_results=1, order_by=["version_number DESC"])
    return versions[0] if versions else None


def move_alias(client: MlflowClient, name: str, alias: str, version: str) -> str | None:
    """Point ``alias`` at ``version``, recording on it the version that held the alias before.

    The tag is written first: once a consumer can see the new holder, its history is there.
    """
    current = alias_version(client, name, alias)
    previous = str(current.version) if current is not None and str(current.version) != str(version) else None
    if previous is not None:
        client.set_model_version_tag(name, version, keys.previous(alias), str(previous))
    client.set_registered_model_alias(name, alias, version)
    return previous


def rollback_alias(name: str, alias: str) -> tuple[str, str]:
    """Move ``alias`` back to the version it replaced; (from, to) versions come back.

    Repeated rollbacks walk further back: each holder keeps its own ``previous`` tag.
    """
    client = MlflowClient()
    where = f"models:/{name}@{alias}"
    try:
        client.get_registered_model(name)
    except MlflowException:
        raise UserInputError(name, "no registered model of that name") from None
    current = alias_version(client, name, alias)
    if current is None:
        raise UserInputError(where, f"no version of {name} holds the alias {alias!r}")
    previous = current.tags.get(keys.previous(alias))
    if not previous:
        raise UserInputError(where, f"version {current.version} is the first {alias}; there is none to go back to")
    client.set_model_version_tag(name, current.version, keys.rolled_back(alias),
                                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    client.set_registered_model_alias(name, alias, previous)
    return str(current.version), str(previous)
