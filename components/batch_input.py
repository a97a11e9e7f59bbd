"""Input files for batch scoring: read a CSV or NPZ and check it against what a model expects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tunaflow.components.data import _check_finite as check_finite  # the same rule as training data
from tunaflow.components.errors import DataError


@dataclass(frozen=True)
class ExpectedInput:
    """What a model reads: named columns (tabular), or arrays of one shape per sample (images)."""

    columns: list[str] | None = None
    sample_shape: tuple[int, ...] | None = None

    def describe(self) -> str:
        if self.columns is not None:
            shown = ", ".join(self.columns[:8]) + (", ..." if len(self.columns) > 8 else "")
            return f"a CSV with the {len(self.columns)} column(s) {shown}"
        return f"an NPZ file with an array X shaped (N, {', '.join(map(str, self.sample_shape))})"


def read_batch_input(path: str | Path, expected: ExpectedInput):
    """A DataFrame of the expected columns (in the model's order) or an image array, as float32.

    Anything else is a DataError saying what was expected, before any row is scored.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), f"file not found; expected {expected.describe()}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, expected)
    if suffix == ".npz":
        return _read_npz(path, expected)
    raise DataError(str(path), f"unknown file type {suffix or '(none)'}; expected {expected.describe()}")


def _read_csv(path: Path, expected: ExpectedInput):
    import pandas as pd

    if expected.columns is None:
        raise DataError(str(path), f"the model reads images, not a CSV; expected {expected.describe()}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(str(path), f"not a readable CSV file ({str(error).splitlines()[0]})") from None
    names = [str(c) for c in frame.columns]
    missing = [c for c in expected.columns if c not in names]
    extra = [c for c in names if c not in expected.columns]
    if missing or extra:
        problems = "; ".join(part for part in (
            f"missing {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}" if missing else "",
            f"extra {', '.join(extra[:5])}{', ...' if len(extra) > 5 else ''}" if extra else "") if part)
        raise DataError(str(path), f"{problems}; expected {expected.describe()}")
    frame.columns = names
    non_numeric = [c for c in expected.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise DataError(str(path), f"non-numeric column(s) {', '.join(non_numeric[:5])}; expected numbers")
    frame = frame[expected.columns].astype(np.float32)  # the network computes in float32
    check_finite(frame.to_numpy(), str(path), expected.columns)
    return frame


def _read_npz(path: Path, expected: ExpectedInput):
    import pandas as pd

    try:
        archive = np.load(path, allow_pickle=False)
        files = list(archive.files)
        X = archive["X"] if "X" in files else archive[files[0]] if len(files) == 1 else None
    except (OSError, ValueError) as error:
        raise DataError(str(path), f"not a readable NPZ file ({str(error).splitlines()[0]})") from None
    if X is None:
        raise DataError(str(path), f"no array X among {', '.join(files) or '(none)'}; expected {expected.describe()}")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(str(path), f"X has non-numeric dtype {X.dtype}; expected numbers")
    if expected.columns is not None:
        if X.ndim != 2 or X.shape[1] != len(expected.columns):
            raise DataError(str(path), f"X has shape {X.shape}; expected (N, {len(expected.columns)}): "
                                       f"{expected.describe()}, or those columns in this order")
        X = X.astype(np.float32)
        check_finite(X, str(path), expected.columns)
        return pd.DataFrame(X, columns=expected.columns)
    if X.shape[1:] != expected.sample_shape:
        raise DataError(str(path), f"X has shape {X.shape}; expected {expected.describe()}")
    X = X.astype(np.float32)
    check_finite(X, str(path))
    return X
