"""tunaflow: AutoML for neural networks, run as Prefect flows, searched by Optuna, tracked in MLflow.

The Python API does what the command line does, with the same checks and messages::

    import tunaflow

    spec = tunaflow.validate("examples/digits-mlp.yaml", {"search.n_trials": 4})
    result = tunaflow.run(spec)            # a RunResult: study, best_value, model_uri, ...
    tunaflow.predict(result.model_uri, "rows.csv", "scored.csv")

A user's mistake raises ``UserInputError`` (``str(error)`` is the line the CLI prints).
"""

from tunaflow.api import (
    DataError,
    DeployResult,
    NoCompleteTrial,
    RetrainResult,
    RollbackResult,
    RunResult,
    SpecError,
    SpecSummary,
    StarterResult,
    UserInputError,
    WorkerResult,
    deploy,
    describe,
    init,
    load_spec,
    predict,
    retrain,
    rollback,
    run,
    schema,
    validate,
    version,
    worker,
)

__version__ = version()

__all__ = [
    "DataError",
    "DeployResult",
    "NoCompleteTrial",
    "RetrainResult",
    "RollbackResult",
    "RunResult",
    "SpecError",
    "SpecSummary",
    "StarterResult",
    "UserInputError",
    "WorkerResult",
    "__version__",
    "deploy",
    "describe",
    "init",
    "load_spec",
    "predict",
    "retrain",
    "rollback",
    "run",
    "schema",
    "validate",
    "worker",
]
