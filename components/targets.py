"""The target of a data set: which task it makes (classification or regression), and its encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tunaflow.components.errors import DataError
from tunaflow.components.numeric_checks import check_float32_range

# `data.task: auto`: an integer target is regression only with this many distinct values
# making up this share of the rows (class ids and ratings stay classes)
REGRESSION_MIN_DISTINCT = 20
REGRESSION_MIN_DISTINCT_SHARE = 0.05
# a target of non-integer numbers is regression unless it has at most this many values
FEW_VALUES = 10


def detect_task(values, requested: str, name: str) -> tuple[str, str | None]:
    """(task, note): the task ``requested`` (auto | classification | regression) comes to for a target.

    The note says why `auto` chose what it chose; an impossible request is a DataError.
    """
    values = pd.Series(values)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if requested == "regression":
        if not numeric:
            example = next(iter(values.dropna().astype(str)), "")
            raise DataError("data.task", f"regression needs a numeric target; {name!r} holds values "
                                         f"such as {example!r}")
        return "regression", None
    if requested == "classification":
        return "classification", None
    distinct = int(values.nunique())
    if numeric:
        integral = bool(np.all(np.mod(values.dropna().to_numpy(dtype=np.float64), 1) == 0))
        many = (distinct > FEW_VALUES if not integral else
                distinct > REGRESSION_MIN_DISTINCT and distinct > REGRESSION_MIN_DISTINCT_SHARE * len(values))
        if many:
            return "regression", (f"task: regression (target {name!r} is numeric with {distinct} distinct "
                                  "values); set data.task to change it")
    return "classification", (f"task: classification (target {name!r} has {distinct} distinct values); "
                              "set data.task to change it")


def encode_labels(values, where: str) -> tuple[np.ndarray, list]:
    """Class indices 0..C-1 (int64) and the classes in sorted order; at least two classes."""
    raw = np.asarray(values)
    if raw.dtype == object:
        # labels read as text and as numbers in one column sort as text
        raw = np.asarray([str(v) for v in raw]) if len({type(v) for v in raw}) > 1 else raw
    classes, y = np.unique(raw, return_inverse=True)
    if len(classes) < 2:
        only = classes[0].item() if hasattr(classes[0], "item") else classes[0]
        raise DataError(where, f"the target has a single class ({only!r}); need at least two")
    return y.astype(np.int64), [c.item() if hasattr(c, "item") else c for c in classes]


def regression_targets(values, where: str) -> np.ndarray:
    """The target as float32 in its own units; it must vary."""
    y = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(y).all():
        raise DataError(where, "the regression target has non-numeric or infinite values")
    check_float32_range(y, None, where)
    if np.ptp(y) == 0:
        raise DataError(where, f"the regression target is constant ({y[0]:g}); nothing to predict")
    return y.astype(np.float32)
