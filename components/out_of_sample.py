"""A trial's out-of-sample predictions: what ensemble selection reads, kept compact in the study.

Rows follow a fixed order, the same for every trial of a study: under k-fold, the rows of
train + validation (each predicted by the fold model that did not train on it; under repeated
k-fold, the mean of the predictions of each repeat's such model), under
holdout the validation rows. Classification keeps probabilities (N, C), regression the
predicted values (N,) in the target's units.
"""

from __future__ import annotations

import base64
import zlib

import numpy as np

from tunaflow.components.data import DataSplits, search_splits
from tunaflow.components.seeding import derive_seed

MAX_STORED_VALUES = 50_000  # about 270 kB of text per trial; above it a trial keeps none


def storable(predictions: np.ndarray | None) -> bool:
    return predictions is not None and 0 < predictions.size <= MAX_STORED_VALUES


def encode_predictions(predictions: np.ndarray) -> str:
    """float32, compressed, as text an Optuna attribute (JSON) holds: ``"R,C:base64"``."""
    array = np.ascontiguousarray(predictions, dtype=np.float32)
    shape = ",".join(str(n) for n in array.shape)
    return f"{shape}:{base64.b64encode(zlib.compress(array.tobytes(), 6)).decode('ascii')}"


def decode_predictions(text: str) -> np.ndarray:
    shape, _, payload = text.partition(":")
    array = np.frombuffer(zlib.decompress(base64.b64decode(payload)), dtype=np.float32)
    return array.reshape(tuple(int(n) for n in shape.split(","))).astype(np.float64)


def out_of_sample_targets(splits: DataSplits, scheme: str) -> np.ndarray:
    """The targets of the predicted rows, in their order, for the splits the trials saw."""
    if scheme == "kfold":
        return np.concatenate([splits.y_train, splits.y_val])
    return np.asarray(splits.y_val)


def study_targets(splits: DataSplits, spec) -> np.ndarray:
    """The targets of the rows every trial of ``spec``'s study predicted (its search subsample's)."""
    seen = search_splits(splits, spec.data.search_subsample, derive_seed(spec.seed, "search_subsample"))
    return out_of_sample_targets(seen, spec.search.validation.scheme)


def empty_predictions(n_rows: int, task: str, n_outputs: int) -> np.ndarray:
    """NaNs to fill, fold by fold: (N,) for values, (N, C) for probabilities."""
    return np.full((n_rows,) if task == "regression" else (n_rows, n_outputs), np.nan)
