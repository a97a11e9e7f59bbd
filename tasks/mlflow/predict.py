"""Batch scoring with a registered model: labels and class probabilities for a whole file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from tunaflow.components.batch_input import ExpectedInput, read_batch_input
from tunaflow.components.errors import UserInputError
from tunaflow.tasks.settings import missing_sqlite_file
from tunaflow.tasks.mlflow.tracking import use_tracking_store


def open_model(model_uri: str):
    """The pyfunc behind ``model_uri`` and what it expects; bad input when there is none.

    An empty embedded registry is reported without opening it, which would create it.
    """
    from tunaflow.tasks.settings import tracking_uri

    if model_uri.startswith("models:/") and missing_sqlite_file(tracking_uri()):
        raise UserInputError(model_uri, "not found (empty registry); expected models:/NAME@ALIAS or /VERSION")
    use_tracking_store()
    try:
        # one resolution of the alias: the signature read is the loaded model's own
        model = mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as error:
        detail = (getattr(error, "message", None) or str(error)).splitlines()[0]
        raise UserInputError(model_uri, f"not found ({detail}); expected models:/NAME@ALIAS, "
                                        "models:/NAME/VERSION or runs:/RUN_ID/model") from None
    return model, expected_input(model.metadata.signature, model_uri)


def expected_input(signature, model_uri: str) -> ExpectedInput:
    if signature is None:
        raise UserInputError(model_uri, "has no signature; expected a model registered by tunaflow")
    from mlflow.types.schema import AnyType

    schema = signature.inputs
    if schema.is_tensor_spec():
        return ExpectedInput(sample_shape=tuple(schema.inputs[0].shape[1:]))
    # a model reading raw table rows declares its columns `any` (pyfunc.raw_input_schema)
    return ExpectedInput(columns=[c.name for c in schema.inputs if c.required],
                         optional=tuple(c.name for c in schema.inputs if not c.required),
                         raw=any(isinstance(c.type, AnyType) for c in schema.inputs))


def check_output_path(out: str | Path) -> Path:
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".npz"):
        raise UserInputError("--out", f"{out}: expected a .csv or .npz file name")
    if not out.parent.is_dir():
        raise UserInputError("--out", f"directory {out.parent} does not exist")
    return out


def score_batches(model, model_input, batch_size: int, progress: bool = True,
                  proba: bool = True) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Labels and probabilities (values alone for a regression: ``proba`` False), ``batch_size``
    rows at a time, with a progress bar on stderr."""
    from tqdm import tqdm

    n = len(model_input)
    labels, probas = [], []
    with tqdm(total=n, unit="rows", file=sys.stderr, disable=not progress, mininterval=0.5,
              desc="scoring") as bar:
        for start in range(0, n, batch_size):
            batch = model_input[start:start + batch_size]
            labels.append(np.asarray(model.predict(batch)))
            if proba:
                probas.append(model.predict(batch, params={"output": "proba"}))
            bar.update(len(batch))
    return np.concatenate(labels), pd.concat(probas, ignore_index=True) if proba else None


def write_predictions(out: Path, labels: np.ndarray, proba: pd.DataFrame | None) -> None:
    """One row per input row: the label, then one probability column per class; for a
    regression (no ``proba``) one column, ``prediction``.

    Written to a temporary file beside ``out`` and renamed: a failure leaves no partial file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        if proba is None:
            if out.suffix.lower() == ".npz":
                np.savez(tmp, prediction=labels.astype(np.float64))
            else:
                pd.DataFrame({"prediction": labels}).to_csv(tmp, index=False)
        elif out.suffix.lower() == ".npz":
            # plain arrays only: an NPZ that needs pickle to load is refused by default
            labels = labels.astype(str) if labels.dtype == object else labels
            np.savez(tmp, labels=labels, proba=proba.to_numpy(), classes=np.asarray(proba.columns, dtype=str))
        else:
            frame = pd.DataFrame({"label": labels})
            frame[[f"proba_{c}" for c in proba.columns]] = proba.to_numpy()
            frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def predict_file(model_uri: str, input_path: str, out: str, batch_size: int = 1024, progress: bool = True) -> int:
    """Score ``input_path`` into ``out``; every check comes before the first row is scored."""
    out_path = check_output_path(out)
    model, expected = open_model(model_uri)
    model_input = read_batch_input(input_path, expected)
    regression = getattr(model.unwrap_python_model(), "task", "classification") == "regression"
    labels, proba = score_batches(model, model_input, batch_size, progress, proba=not regression)
    write_predictions(out_path, labels, proba)
    return len(labels)
