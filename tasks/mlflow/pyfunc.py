"""The registered model: an MLflow pyfunc that predicts labels (or probabilities, or values) from raw input.

One class serves every family: a network stores its weights (``weights.pt``), a scikit-learn
family its fitted estimator (``estimator.joblib``); ``config.json`` says which, and the task.
An ensemble stores each member's as ``member<i>_...`` and its members' specs and weights.
"""

from __future__ import annotations

import json
import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch

from tunaflow.components.data import DataSplits
from tunaflow.components.fitted import FittedEnsemble, FittedEstimator, FittedNetwork, output_labels
from tunaflow.components.model_spec import SKLEARN_FAMILIES
from tunaflow.components.models import build_module
from tunaflow.components.secrets import mask_tree
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.table_encoder import TableEncoder
from tunaflow.components.text_encoder import encoder_from_dict

@contextmanager
def _without_type_hint_advice():
    # MLflow advises type hints on every PythonModel subclass, forcing the warning on with
    # its own filter; tunaflow states the signature itself (an image tensor or the columns).
    with warnings.catch_warnings():
        warnings.showwarning = lambda *args, **kwargs: None
        yield


with _without_type_hint_advice():

    class TunaflowClassifier(mlflow.pyfunc.PythonModel):
        """Raw rows (a DataFrame of the source's columns) or images in, labels (or values) out.

        ``params={"output": "proba"}`` returns one probability column per class instead (not
        for regression, whose predictions are the values).
        """

        def load_context(self, context):
            config = json.loads(Path(context.artifacts["config"]).read_text())
            spec = ExperimentSpec.model_validate(config["spec"])
            self.task = config.get("task", "classification")
            self.classes = np.asarray(config["classes"])
            self.fitted = load_fitted(spec, config, context.artifacts)
            self.features = config.get("feature_names")
            self.encoder = None
            if "encoder" in context.artifacts:
                self.encoder = encoder_from_dict(json.loads(Path(context.artifacts["encoder"]).read_text()))

        def _as_array(self, model_input) -> np.ndarray:
            if getattr(self, "encoder", None) is not None:
                # raw rows: strings, empty cells, unknown categories; the encoder makes the matrix
                return self.encoder.transform(pd.DataFrame(model_input))
            if isinstance(model_input, pd.DataFrame):
                if self.features:
                    missing = [c for c in self.features if c not in model_input.columns]
                    if missing:
                        raise ValueError(f"missing input column(s): {', '.join(missing[:5])}")
                    model_input = model_input[self.features]
                return model_input.to_numpy(dtype=np.float32)
            return np.asarray(model_input, dtype=np.float32)

        def predict(self, context, model_input, params=None):
            proba = (params or {}).get("output") == "proba"
            if proba and self.task == "regression":
                raise ValueError("params output=proba: this model is a regression; it predicts values, "
                                 "not class probabilities (leave output out)")
            output = self.fitted.predict_output(self._as_array(model_input))
            if proba:
                return pd.DataFrame(output, columns=[str(c) for c in self.classes])
            return output_labels(output, self.task, self.classes)


def load_fitted(spec: ExperimentSpec, config: dict, artifacts: dict,
                prefix: str = "") -> FittedNetwork | FittedEstimator | FittedEnsemble:
    """The fitted model a logged config and its artifacts describe (models logged before the
    families came hold a network for classification and no task in their config); an ensemble's
    members are read from the artifacts named ``member<i>_...``, each with its own spec."""
    task, family = config.get("task", "classification"), spec.model.family
    if config.get("members") and not prefix:
        members = [load_fitted(ExperimentSpec.model_validate(m["spec"]), config, artifacts, f"member{i}_")
                   for i, m in enumerate(config["members"])]
        return FittedEnsemble(members, [m["weight"] for m in config["members"]], task)
    if family in SKLEARN_FAMILIES:
        import joblib

        return FittedEstimator(joblib.load(artifacts[f"{prefix}estimator"]), task, family, len(config["classes"]))
    shape, kind = tuple(config["input_shape"]), config["kind"]
    zeros = np.zeros(shape[-1] if kind in ("tabular", "text") or len(shape) == 3 else (), np.float32)
    n_outputs = 1 if task == "regression" else len(config["classes"])
    module = build_module(spec.model, shape, n_outputs, kind, zeros, zeros + 1, task=task,
                          embedded=tuple(config.get("embedded", ())))
    module.load_state_dict(torch.load(artifacts[f"{prefix}weights"], map_location="cpu", weights_only=True))
    module.eval()
    return FittedNetwork(module, task, family)


def as_model_input(X: np.ndarray, kind: str, feature_names: list[str] | None):
    """What a caller of the registered model passes: a DataFrame of the columns, or images.

    Columns are declared as doubles, what pandas reads from a CSV: MLflow's schema check
    accepts float32 as well (a safe upcast), where a float32 signature would refuse doubles.
    """
    return pd.DataFrame(X, columns=feature_names).astype(np.float64) if kind == "tabular" else X


def split_input(splits: DataSplits, n: int | None = None):
    """The first ``n`` test rows as a caller of the registered model passes them: raw table rows
    when the model encodes its own input, else ``as_model_input`` of the test matrix."""
    if splits.encoder is not None:
        return splits.raw_test.iloc[:n].reset_index(drop=True)
    return as_model_input(splits.X_test[:n], splits.kind, splits.feature_names)


def raw_input_schema(encoder: TableEncoder, target: str | None = None):
    """The input schema of a model reading raw rows: every column typed `any`.

    MLflow's typed columns refuse what a raw table holds (an int column where double was
    seen, a float column of empty cells where strings were), so the encoder checks values
    instead. The columns dropped at training and the target are accepted and ignored
    (optional): the file the model was trained on can be scored as it is.
    """
    from mlflow.types.schema import AnyType, ColSpec, Schema

    ignored = [*encoder.dropped, *([target] if target and target not in encoder.dropped else [])]
    return Schema([ColSpec(AnyType(), name) for name in encoder.columns]
                  + [ColSpec(AnyType(), name, required=False) for name in ignored])


def requirements() -> list[str]:
    import sklearn

    from importlib.metadata import version

    # the pyfunc class is tunaflow's own and is pickled by reference: loading needs tunaflow
    return [
        f"tunaflow=={version('tunaflow')}",
        f"mlflow=={mlflow.__version__}",
        f"torch=={torch.__version__.split('+')[0]}",
        f"numpy=={np.__version__}",
        f"pandas=={pd.__version__}",
        f"pydantic>=2",
        f"scikit-learn=={sklearn.__version__}",
    ]


def save_fitted(fitted: FittedNetwork | FittedEstimator | FittedEnsemble, workdir: Path,
                prefix: str = "") -> dict[str, str]:
    """The model's own artifacts: a network's weights, the pickled scikit-learn estimator, or
    each ensemble member's under ``member<i>_`` (MLflow keeps artifacts in one folder)."""
    if isinstance(fitted, FittedEnsemble):
        return {key: path for i, member in enumerate(fitted.members)
                for key, path in save_fitted(member, workdir, f"member{i}_").items()}
    if isinstance(fitted, FittedEstimator):
        import joblib

        joblib.dump(fitted.estimator, workdir / f"{prefix}estimator.joblib")
        return {f"{prefix}estimator": str(workdir / f"{prefix}estimator.joblib")}
    torch.save(fitted.module.state_dict(), workdir / f"{prefix}weights.pt")
    return {f"{prefix}weights": str(workdir / f"{prefix}weights.pt")}


def log_fitted_model(fitted: FittedNetwork | FittedEstimator, spec: ExperimentSpec, *, kind: str, classes: list,
                     input_shape: tuple, feature_names: list[str] | None, example: np.ndarray,
                     workdir: Path, encoder: TableEncoder | None = None, embedded: list[int] | tuple = (),
                     raw_example: pd.DataFrame | None = None,
                     member_specs: list[ExperimentSpec] | None = None) -> mlflow.models.model.ModelInfo:
    """Log a fitted model of any family as a pyfunc with signature and input example under the active run.

    With an ``encoder`` the model reads raw table rows (``raw_example``: a few test rows as
    read) and stores the encoder as ``encoder.json``. ``embedded``: the cardinalities of the
    encoded matrix's trailing code columns (a network's embeddings are built from them).
    ``member_specs``: an ensemble's members' specs, in the order of ``fitted.members``.
    """
    artifacts = save_fitted(fitted, workdir)
    config = workdir / "config.json"
    config.write_text(json.dumps({
        "spec": mask_tree(spec.model_dump(mode="json")), "kind": kind, "classes": classes,
        "input_shape": list(input_shape), "feature_names": feature_names, "task": fitted.task,
        "family": fitted.family, "embedded": list(embedded),
        **({"members": [{"spec": mask_tree(s.model_dump(mode="json")), "weight": w, "family": s.model.family}
                        for s, w in zip(member_specs, fitted.weights)]} if member_specs else {}),
    }))
    artifacts["config"] = str(config)
    model_input = as_model_input(example, kind, feature_names)
    python_model = TunaflowClassifier()
    python_model.fitted, python_model.task, python_model.classes = fitted, fitted.task, np.asarray(classes)
    python_model.features, python_model.encoder = feature_names, encoder
    if encoder is not None:
        model_input = raw_example
        (workdir / "encoder.json").write_text(json.dumps(encoder.to_dict()))
        artifacts["encoder"] = str(workdir / "encoder.json")
    pyfunc_logger = logging.getLogger("mlflow.pyfunc")
    level = pyfunc_logger.level
    # Its note on cloudpickle concerns models from untrusted sources; this class is tunaflow's own.
    pyfunc_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # MLflow's hint on integer columns that cannot hold missing values concerns typed inputs:
            # a raw-row model's columns are typed `any` and its encoder imputes empty cells
            if encoder is not None:
                warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
            signature = mlflow.models.infer_signature(
                model_input, python_model.predict(None, model_input), params={"output": "label"})
            if encoder is not None:
                signature.inputs = raw_input_schema(encoder, spec.data.target)
            return _log_model(signature, model_input, artifacts)
    finally:
        pyfunc_logger.setLevel(level)


def _log_model(signature, model_input, artifacts: dict):
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=TunaflowClassifier(),
        artifacts=artifacts,
        signature=signature,
        input_example=model_input,
        pip_requirements=requirements(),
    )
