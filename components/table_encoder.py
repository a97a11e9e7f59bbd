"""Raw table rows -> the float matrix a model reads, fitted on the training rows only.

Numeric columns keep their units with missing cells set to the training median (and a 0/1
indicator column where training rows had gaps). A categorical column with few categories
is one-hot (an unknown or missing value: all zeros, plus an indicator where training had
gaps); one with many becomes an integer code column for an embedding: 0 for missing,
unknown or rare values, 1..K for the K most frequent training categories. Dense columns
come first and code columns last, so a network finds its embeddings' inputs at the end.

The encoder is part of the registered model: it serializes to plain JSON, no pickle.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tunaflow.components.tables import to_numbers

ONE_HOT_MAX = 16  # categories up to which a column is one-hot; above, an embedding code
EMBED_MAX = 256  # most frequent categories an embedding keeps; rarer ones share code 0
FORMAT = 1


@dataclass
class EncodedColumn:
    """How one raw column becomes matrix columns."""

    name: str
    kind: str  # numeric | categorical
    indicator: bool = False  # a 0/1 "was missing" column follows
    median: float = 0.0  # numeric: what a missing cell becomes
    categories: list[str] | None = None  # categorical: in code order (code i+1 / one-hot column i)
    one_hot: bool = True  # categorical: one-hot, or one embedding code column

    @property
    def embedded(self) -> bool:
        return self.kind == "categorical" and not self.one_hot

    def output_names(self) -> list[str]:
        if self.kind == "numeric":
            names = [self.name]
        elif self.one_hot:
            names = [f"{self.name}={c}" for c in self.categories]
        else:
            return [f"{self.name}#code"]
        return names + ([f"{self.name}#missing"] if self.indicator else [])

    def encode(self, series: pd.Series) -> np.ndarray:
        if self.kind == "numeric":
            values = to_numbers(series).to_numpy()
            missing = np.isnan(values)
            dense = [np.where(missing, self.median, values)]
        else:
            keys = category_keys(series)
            missing = keys.isna().to_numpy()
            codes = pd.Index(self.categories, dtype=object).get_indexer(keys).astype(np.int64)  # -1: unknown
            if not self.one_hot:
                return (codes + 1)[:, None].astype(np.float32)
            block = np.zeros((len(series), len(self.categories)), np.float32)
            known = codes >= 0
            block[np.flatnonzero(known), codes[known]] = 1.0
            dense = [block]
        if self.indicator:
            dense.append(missing.astype(np.float32))
        return np.column_stack(dense).astype(np.float32)


class TableEncoder:
    """Fitted per-column encodings of a table; ``transform`` accepts raw rows."""

    def __init__(self, columns: list[EncodedColumn], dropped: list[str] | None = None):
        self.raw = list(columns)  # the table's order
        # dense columns first, embedding codes last (the order of the output matrix)
        self.encoded = [c for c in columns if not c.embedded] + [c for c in columns if c.embedded]
        self.dropped = list(dropped or [])

    @property
    def columns(self) -> list[str]:
        """The raw columns a caller passes (in the table's order)."""
        return [c.name for c in self.raw]

    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.raw}

    @property
    def feature_names(self) -> list[str]:
        return [name for column in self.encoded for name in column.output_names()]

    @property
    def embedded(self) -> list[int]:
        """Cardinality (codes 0..K) of each embedding code column, in matrix order."""
        return [len(c.categories) + 1 for c in self.encoded if c.embedded]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The float32 matrix of ``frame``'s rows; other columns than the encoder's are ignored."""
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(frame)
        frame = frame.rename(columns=str)
        missing = [name for name in self.columns if name not in frame.columns]
        if missing:
            raise ValueError(f"missing input column(s): {', '.join(missing[:8])}"
                             f"{', ...' if len(missing) > 8 else ''}")
        if not self.encoded:
            return np.zeros((len(frame), 0), np.float32)
        return np.concatenate([c.encode(frame[c.name].reset_index(drop=True)) for c in self.encoded], axis=1)

    def summary(self) -> dict:
        """What each column became, for the record (numeric median, categories and their encoding)."""
        return {
            "n_features": len(self.feature_names),
            "columns": {c.name: ({"kind": "numeric", "median": c.median, "missing_indicator": c.indicator}
                                 if c.kind == "numeric" else
                                 {"kind": "categorical", "encoding": "one_hot" if c.one_hot else "embedding",
                                  "n_categories": len(c.categories), "missing_indicator": c.indicator})
                        for c in self.raw},
            "dropped": self.dropped,
        }

    def to_dict(self) -> dict:
        return {"format": FORMAT, "columns": [asdict(c) for c in self.raw], "dropped": self.dropped}

    @classmethod
    def from_dict(cls, data: dict) -> "TableEncoder":
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown table encoder format {data.get('format')!r}; expected {FORMAT}")
        return cls([EncodedColumn(**c) for c in data["columns"]], data.get("dropped"))


def fit_encoder(frame: pd.DataFrame, kinds: dict[str, str], dropped: list[str] | None = None,
                one_hot_max: int = ONE_HOT_MAX, embed_max: int = EMBED_MAX) -> TableEncoder:
    """An encoder of the ``kinds`` columns fitted on ``frame`` (the training rows only)."""
    columns = []
    for name, kind in kinds.items():
        series = frame[name]
        if kind == "numeric":
            values = to_numbers(series)
            median = values.median()
            columns.append(EncodedColumn(name, "numeric", indicator=bool(values.isna().any()),
                                         median=0.0 if math.isnan(median) else float(median)))
            continue
        keys = category_keys(series)
        counts = keys.value_counts()
        # most frequent first, ties by name: the same data gives the same codes
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        one_hot = len(ranked) <= one_hot_max
        categories = [key for key, _ in (ranked if one_hot else ranked[:embed_max])]
        columns.append(EncodedColumn(name, "categorical", indicator=one_hot and bool(keys.isna().any()),
                                     categories=categories, one_hot=one_hot))
    return TableEncoder(columns, dropped)


def category_keys(series: pd.Series) -> pd.Series:
    """Each cell as the string that names its category; None for a missing cell.

    A category read as a number in one file and as text in another (1, 1.0, '1') is one key,
    and true/false are one spelling, so scoring files need not match training's dtypes.
    """
    values = series.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True).startswith("mixed"):
        # True == 1 == 1.0 as keys of pd.unique and dicts: mixed types are keyed cell by cell
        return values.map(_category_key).astype(object)
    mapping = {value: _category_key(value) for value in pd.unique(values)}
    return values.map(mapping).astype(object)


def _category_key(value) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Number):
        number = float(value)
        if math.isnan(number):
            return None
        return _number_key(number)
    text = str(value).strip()
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return _number_key(number) if math.isfinite(number) else text


def _number_key(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
