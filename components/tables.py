"""Tables from files: read a CSV or Parquet file, type its columns, drop what cannot be a feature.

Typing is a guess from the values (``data.columns`` overrides it): numbers are numeric,
strings and booleans categorical, long many-valued strings free text (the text modality's),
and a column that cannot help a model (empty, constant, a unique id) is dropped with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tunaflow.components.errors import DataError
from tunaflow.components.extras import missing_package

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
# below this many rows "every value distinct" is no evidence of an id column
MIN_ROWS_FOR_ID = 20
# a string column of long, mostly distinct, several-word values is prose, not categories
TEXT_MEAN_CHARS = 30
TEXT_MEAN_WORDS = 4
TEXT_DISTINCT_SHARE = 0.5
# a string column whose cells are numbers but for a few placeholder tokens ('?', 'n/a')
NUMERIC_SHARE = 0.95
PLACEHOLDER_TOKENS = 3
MAX_DROP_NOTES = 5  # dropped columns named one per line; more sharing a reason get one line
_ID_NAME = re.compile(r"(^|[_\W])(id|uuid|guid|key|index)$|^unnamed: ?0$", re.IGNORECASE)


@dataclass
class Table:
    """The feature columns kept (raw values), their kinds, and what was dropped and why."""

    features: pd.DataFrame
    target: pd.Series
    kinds: dict[str, str]  # kept column -> numeric | categorical | text, in the frame's order
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_table(path: str | Path) -> pd.DataFrame:
    """The rows of a CSV or Parquet file; DataError for an unreadable or row-less file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataError(str(path), "empty file: no header and no data rows") from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
            raise DataError(str(path), f"not a readable CSV file ({_first_line(error)})") from None
    else:
        frame = _read_parquet(path)
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        repeated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(str(path), f"repeated column name(s): {', '.join(repeated[:5])}")
    if len(frame) == 0:
        raise DataError(str(path), f"no data rows (only the header: {', '.join(frame.columns[:8])})")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow  # noqa: F401  (pandas reads Parquet through it)
    except ImportError as error:
        raise missing_package(str(path), "a Parquet source", error, DataError) from None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(str(path), f"not a readable Parquet file ({_first_line(error)})") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def load_table(path: str | Path, target: str | None, overrides: dict[str, str]) -> Table:
    """Read ``path`` and split it into typed feature columns and the target (rows without one dropped)."""
    if not target:
        raise DataError("data.target", f"a table source needs the name of its target column ({path})")
    return prepare_table(read_table(path), target, overrides, str(path))


def prepare_table(frame: pd.DataFrame, target: str, overrides: dict[str, str], where: str) -> Table:
    if target not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:10]))
        raise DataError(where, f"no target column {target!r} (columns: {shown})")
    _check_overrides(frame, target, overrides, where)
    notes: list[str] = []
    labels = frame[target]
    missing = labels.isna() | labels.map(lambda v: isinstance(v, str) and not v.strip())
    if missing.all():
        raise DataError(where, f"target column {target!r} is empty: no row has a value")
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} of {len(frame)} rows whose target {target!r} is missing")
        frame = frame.loc[~missing].reset_index(drop=True)
        labels = frame[target]
    kinds: dict[str, str] = {}
    dropped: list[str] = []
    features = {}
    reasons: dict[str, list[tuple[str, str]]] = {}  # why columns were dropped -> (column, detail)
    for name in frame.columns:
        if name == target:
            continue
        kind, values, note = _column_kind(frame[name], name, overrides.get(name), where)
        if isinstance(note, tuple):
            reasons.setdefault(note[0], []).append((name, note[1]))
        elif note:
            notes.append(note)
        if kind == "drop":
            dropped.append(name)
        else:
            kinds[name] = kind
            features[name] = values
    notes += [line for reason, columns in reasons.items() for line in _drop_notes(reason, columns)]
    if not kinds:
        reason = f" (dropped: {', '.join(dropped[:8])})" if dropped else ""
        raise DataError(where, f"no feature column left besides the target {target!r}{reason}")
    return Table(pd.DataFrame(features), labels.reset_index(drop=True), kinds, dropped, notes)


def _drop_notes(reason: str, columns: list[tuple[str, str]]) -> list[str]:
    """One line per dropped column, or one line per reason when many share it (a wide table's
    blank pixel columns would otherwise fill the log)."""
    if len(columns) <= MAX_DROP_NOTES:
        return [f"dropped column {name!r}: {reason}{f' ({detail})' if detail else ''}" for name, detail in columns]
    names = ", ".join(name for name, _ in columns[:MAX_DROP_NOTES]) + ", ..."
    return [f"dropped {len(columns)} columns: {reason} ({names})"]


def _check_overrides(frame: pd.DataFrame, target: str, overrides: dict[str, str], where: str) -> None:
    for name, kind in overrides.items():
        if name == target:
            raise DataError(f"data.columns.{name}", "is the target column (data.target), not a feature")
        if name not in frame.columns:
            raise DataError(f"data.columns.{name}", f"no such column in {where}")


def _column_kind(series: pd.Series, name: str, override: str | None,
                 where: str) -> tuple[str, pd.Series, str | tuple[str, str] | None]:
    """(kind, values to keep, note): the kind a column gets; a dropped column's note is (reason, detail)."""
    if override == "drop":
        return "drop", series, None
    if override == "categorical":
        return "categorical", series, None
    if override == "text":
        return "text", series, None
    if override == "numeric":
        values = to_numbers(series)
        if values.isna().all():
            raise DataError(f"data.columns.{name}", "set to numeric, but none of its values is a number")
        return "numeric", values, None
    present = series.dropna()
    if len(present) == 0:
        return "drop", series, ("empty", "no values")
    if series.nunique(dropna=False) == 1:
        return "drop", series, ("constant", f"every row {_show(present.iloc[0])}")
    if pd.api.types.is_datetime64_any_dtype(series):
        return "drop", series, ("dates are not used as features yet", "")
    if pd.api.types.is_bool_dtype(series):
        return "categorical", series, None
    if pd.api.types.is_numeric_dtype(series):
        if _is_integer_id(series, name):
            return "drop", series, ("an id", f"all {len(series)} integers distinct")
        return "numeric", series, None
    return _string_column_kind(series, present, name, where)


def _string_column_kind(series: pd.Series, present: pd.Series, name: str,
                        where: str) -> tuple[str, pd.Series, str | tuple[str, str] | None]:
    text = present.astype(str)
    numbers = pd.to_numeric(text.str.strip(), errors="coerce")
    bad = text[numbers.isna()]
    if len(present) and 1 - len(bad) / len(present) >= NUMERIC_SHARE and bad.str.strip().nunique() <= PLACEHOLDER_TOKENS:
        shown = ", ".join(repr(v) for v in sorted(bad.str.strip().unique())[:PLACEHOLDER_TOKENS])
        note = f"column {name!r}: {len(bad)} non-numeric cell(s) ({shown}) read as missing" if len(bad) else None
        return "numeric", to_numbers(series), note
    distinct = text.nunique()
    if (text.str.len().mean() >= TEXT_MEAN_CHARS and text.str.split().str.len().mean() >= TEXT_MEAN_WORDS
            and distinct >= TEXT_DISTINCT_SHARE * len(text)):
        return "text", series, None
    if len(series) >= MIN_ROWS_FOR_ID and distinct == len(series):
        return "drop", series, ("an id", f"all {len(series)} values distinct")
    return "categorical", series, None


def _is_integer_id(series: pd.Series, name: str) -> bool:
    if not pd.api.types.is_integer_dtype(series) or len(series) < MIN_ROWS_FOR_ID:
        return False
    if series.nunique() != len(series):
        return False
    # distinct integers alone may be a genuine measurement; a row number or an id-like name is not
    consecutive = int(series.max()) - int(series.min()) + 1 == len(series)
    return consecutive or bool(_ID_NAME.search(name))


def to_numbers(series: pd.Series) -> pd.Series:
    """A column as float64: numbers written as strings parsed, anything else (and infinities) missing."""
    if pd.api.types.is_bool_dtype(series):
        values = series.astype(np.float64)
    elif pd.api.types.is_numeric_dtype(series):
        values = series.astype(np.float64)
    else:
        values = pd.to_numeric(series.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
        values = values.astype(np.float64)
    return values.where(np.isfinite(values))


def _show(value) -> str:
    text = repr(value.item() if hasattr(value, "item") else value)
    return text if len(text) <= 30 else text[:27] + "..."
