"""Checks that numbers read from a user's file make a usable float32 data set.

Networks train in float32: a cell of 1e39 is finite where pandas reads it (float64) and
infinite once cast, and a NaN loss follows. NPZ archives fail in ways ``np.load`` reports
late (truncated members, object arrays refused on first access) or not at all (no samples).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from tunaflow.components.errors import DataError

FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(X: np.ndarray, names: list[str] | None, where: str) -> None:
    """DataError naming the column(s) (or counting the values) that are finite but beyond
    float32's range, for ``X`` before it is cast; NaN and infinities are left to other checks."""
    if not np.issubdtype(X.dtype, np.floating) or X.dtype.itemsize <= 4 or X.size == 0:
        return  # integers up to int64 fit (rounded); float32 and narrower already are float32
    with np.errstate(invalid="ignore"):
        beyond = np.isfinite(X) & (np.abs(X) > FLOAT32_MAX)
    if not beyond.any():
        return
    if names is not None and X.ndim == 2:
        cols = [str(names[i]) for i in np.flatnonzero(beyond.any(axis=0))]
        listed = ", ".join(cols[:5]) + (", ..." if len(cols) > 5 else "")
        raise DataError(where, f"value(s) beyond float32's range (±{FLOAT32_MAX:.2e}) in column(s) {listed}; "
                               "rescale them")
    raise DataError(where, f"{int(beyond.sum())} value(s) beyond float32's range (±{FLOAT32_MAX:.2e}); rescale them")


def check_has_samples(n: int, where: str) -> None:
    if n == 0:
        raise DataError(where, "holds no samples (0 rows)")


def read_npz_arrays(path: Path, names: tuple[str, ...] = ("X", "y")) -> tuple[np.ndarray, ...]:
    """The named arrays of an NPZ file, read in full; DataError naming the file when it is not a
    readable NPZ (truncated, corrupt), lacks an array, holds Python objects or no samples."""
    where = str(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        # a text file, a pickle, a truncated archive: np.load tells them apart only by message
        raise DataError(where, f"not a readable NPZ file ({_first_line(error)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(where, "holds a single .npy array, not an NPZ archive of X and y")
    try:
        with archive:
            missing = [k for k in names if k not in archive.files]
            if missing:
                raise DataError(where, f"missing array(s) {', '.join(missing)}; expected {' and '.join(names)}")
            arrays = tuple(archive[k] for k in names)  # members are decompressed here, not at np.load
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataError(where, "holds Python object arrays, which are not loaded (pickles can run code); "
                                   "save numeric arrays") from None
        raise DataError(where, f"not a readable NPZ file ({_first_line(error)})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as error:
        raise DataError(where, f"not a readable NPZ file (truncated or corrupt: {_first_line(error)})") from None
    for name, array in zip(names, arrays):
        if array.dtype.hasobject:
            raise DataError(where, f"array {name} holds Python objects; save numeric arrays")
        if array.ndim == 0:
            raise DataError(where, f"array {name} is a single value; expected one row per sample")
        check_has_samples(len(array), where)
    return arrays


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_finite_training(history: list[dict], values: list[float]) -> None:
    """FloatingPointError when a network's loss went NaN or infinite, or a trial's value is not a
    number: the trial fails (the search goes on) instead of completing with an accuracy computed
    from NaN outputs, which would rank a broken configuration."""
    for row in history:
        for key in ("train_loss", "valid_loss"):
            if key in row and not np.isfinite(row[key]):
                raise FloatingPointError(f"{key} is {row[key]} at epoch {row.get('epoch', '?')}: the network diverged "
                                         "(lower train.lr, set train.grad_clip, or check the data's scale)")
    bad = [v for v in values if v is None or not np.isfinite(v)]
    if bad:
        raise FloatingPointError(f"the trial's value is {bad[0]}")
