"""tunaflow: AutoML for neural networks, run as Prefect flows, searched by Optuna, tracked in MLflow.

The Python API does what the command line does, with the same checks and messages::

    import tunaflow

    spec = tunaflow.validate("examples/digits-mlp.yaml", {"search.n_trials": 4})
    result = tunaflow.run(spec)            # a RunResult: study, best_value, model_uri, ...
    tunaflow.predict(result.model_uri, "rows.csv", "scored.csv")

A user's mistake raises ``UserInputError`` (``str(error)`` is the line the CLI prints).
"""

from tunaflow.api import (
    RetrainResult,
    RunResult,
    StarterResult,
    WorkerResult,
    init,
    load_spec,
    predict,
    retrain,
    run,
    schema,
    validate,
    version,
    worker,
)
from tunaflow.components.errors import DataError, SpecError, UserInputError

__version__ = version()

__all__ = [
    "DataError",
    "RetrainResult",
    "RunResult",
    "SpecError",
    "StarterResult",
    "UserInputError",
    "WorkerResult",
    "__version__",
    "init",
    "load_spec",
    "predict",
    "retrain",
    "run",
    "schema",
    "validate",
    "worker",
]
