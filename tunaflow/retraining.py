"""Scheduled retraining's Python API: deploy it on a cron schedule, roll a promotion back.

Same checks and one-line ``UserInputError`` messages as ``tunaflow deploy`` and
``tunaflow rollback``; Prefect and MLflow are imported when a function is called.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING

from tunaflow.results import DeployResult, RollbackResult

if TYPE_CHECKING:
    from tunaflow.api import Overrides, SpecLike

DEFAULT_CRON = "0 3 * * *"  # daily at 03:00


def deploy(spec: SpecLike, overrides: Overrides = None, *, cron: str = DEFAULT_CRON, timezone: str = "UTC",
           prefect_yaml: str | os.PathLike[str] | None = None, work_pool: str = "tunaflow") -> DeployResult:
    """Serve the spec's retraining on a cron schedule from this process until it is stopped
    (``tunaflow deploy``), or, with ``prefect_yaml``, write that deployment for ``work_pool``'s
    workers to the file and return at once.

    Give the spec as written (a path or a mapping) rather than ``validate``'s resolved one: each
    scheduled run resolves it (task, space, budget) against the data of its day.
    Serving needs a server with a scheduler: with no ``PREFECT_API_URL``, a local Prefect server
    runs for as long as the deployment is served.
    """
    from tunaflow import api

    api.validate(spec, overrides, resumes_study=False)
    # the deployment keeps the spec as written: each scheduled run resolves it (task, space,
    # budget) against the data of that day, which may have grown past a family's limit
    loaded = api.load_spec(spec, overrides)
    from tunaflow.deployments import retrain as retrain_deployment  # imports Prefect's deployment machinery

    name = retrain_deployment.deployment_name(loaded)
    if prefect_yaml is not None:
        path = retrain_deployment.write_prefect_yaml(prefect_yaml, loaded, cron, timezone, work_pool,
                                                     _deploy_command(spec, overrides, cron, timezone, work_pool,
                                                                     prefect_yaml))
        return DeployResult(deployment=name, cron=cron, timezone=timezone, prefect_yaml=str(path),
                            work_pool=work_pool)
    retrain_deployment.cron_schedule(cron, timezone)  # bad input before a server starts
    from tunaflow.tasks.prefect.server import start_temporary_server

    # a long-running deployment needs the server's scheduler: a full server, not an ephemeral one
    server = start_temporary_server(scheduler=True)
    try:
        if server is not None:
            server.wait_ready()
        retrain_deployment.serve_retraining(loaded, cron, timezone)
    finally:
        if server is not None:
            server.stop()
    return DeployResult(deployment=name, cron=cron, timezone=timezone)


def _deploy_command(spec, overrides, cron: str, timezone: str, work_pool: str, prefect_yaml) -> str:
    """The command line that writes the same prefect.yaml again (the file's header says it)."""
    from tunaflow.api import override_list

    if not isinstance(spec, (str, os.PathLike)):
        return "tunaflow.deploy() (Python API)"
    words = ["tunaflow", "deploy", os.fspath(spec), "--cron", cron, "--timezone", timezone]
    for override in override_list(overrides):
        words += ["--set", override]
    words += ["--work-pool", work_pool, "--prefect-yaml", os.fspath(prefect_yaml)]
    return shlex.join(words)


def rollback(name: str, alias: str = "champion") -> RollbackResult:
    """Move ``alias`` of the registered model ``name`` back to the version it replaced (``tunaflow rollback``).

    Each alias move records the version it replaced, so rolling back again walks further back.
    Nothing to go back to, no such model or alias, or an empty registry raise ``UserInputError``.
    """
    from tunaflow.components.errors import UserInputError
    from tunaflow.tasks.settings import missing_sqlite_file, tracking_uri

    if missing_sqlite_file(tracking_uri()):  # opening it would create an empty store
        raise UserInputError(name, "no registered model of that name (empty registry)")
    from tunaflow.tasks.mlflow.registry import rollback_alias
    from tunaflow.tasks.mlflow.tracking import use_tracking_store

    use_tracking_store()
    before, after = rollback_alias(name, alias)
    return RollbackResult(registered_model=name, alias=alias, from_version=before, to_version=after)
