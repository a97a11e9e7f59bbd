"""Input files for batch scoring: read a CSV, Parquet or NPZ file and check it against what a model expects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tunaflow.components.data import _check_finite as check_finite  # the same rule as training data
from tunaflow.components.errors import DataError
from tunaflow.components.tables import TABLE_SUFFIXES, read_table


@dataclass(frozen=True)
class ExpectedInput:
    """What a model reads: named columns (tabular), or arrays of one shape per sample (images).

    ``raw``: the model encodes its own rows (strings, empty cells), so values are passed as read;
    ``optional`` columns may be present (the model ignores them) or not.
    """

    columns: list[str] | None = None
    sample_shape: tuple[int, ...] | None = None
    optional: tuple[str, ...] = ()
    raw: bool = False

    def describe(self) -> str:
        if self.columns is not None:
            shown = ", ".join(self.columns[:8]) + (", ..." if len(self.columns) > 8 else "")
            return f"a CSV with the {len(self.columns)} column(s) {shown}"
        return f"an NPZ file with an array X shaped (N, {', '.join(map(str, self.sample_shape))})"


def read_batch_input(path: str | Path, expected: ExpectedInput):
    """A DataFrame of the expected columns (in the model's order) or an image array, as float32;
    raw rows as read for a model that encodes its own input.

    Anything else is a DataError saying what was expected, before any row is scored.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), f"file not found; expected {expected.describe()}")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _read_table(path, expected)
    if suffix == ".npz":
        return _read_npz(path, expected)
    raise DataError(str(path), f"unknown file type {suffix or '(none)'}; expected {expected.describe()}")


def _read_table(path: Path, expected: ExpectedInput):
    import pandas as pd

    if expected.columns is None:
        raise DataError(str(path), f"the model reads images, not a CSV; expected {expected.describe()}")
    frame = read_table(path)
    names = list(frame.columns)
    missing = [c for c in expected.columns if c not in names]
    extra = [c for c in names if c not in expected.columns and c not in expected.optional]
    if missing or extra:
        problems = "; ".join(part for part in (
            f"missing {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}" if missing else "",
            f"extra {', '.join(extra[:5])}{', ...' if len(extra) > 5 else ''}" if extra else "") if part)
        raise DataError(str(path), f"{problems}; expected {expected.describe()}")
    if expected.raw:
        # strings, empty cells and unseen categories are the model's to read
        return frame[expected.columns + [c for c in expected.optional if c in names]]
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
