"""Raw table rows -> the float matrix a model reads, fitted on the training rows only.

Numeric columns keep their units with missing cells set to the training median (and a 0/1
indicator column where training rows had gaps). A categorical column with few categories
is one-hot (an unknown or missing value: all zeros, plus an indicator where training had
gaps); one with many becomes an integer code column for an embedding: 0 for missing,
unknown or rare values, 1..K for the K most frequent training categories. A value that only
one training row holds counts as unknown, not as a category (MIN_CATEGORY_ROWS). Dense columns
come first and code columns last, so a network finds its embeddings' inputs at the end.

The encoder is part of the registered model: it serializes to plain JSON, no pickle.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tunaflow.components.tables import to_numbers

ONE_HOT_MAX = 16  # categories up to which a column is one-hot; above, an embedding code
EMBED_MAX = 256  # most frequent categories an embedding keeps; rarer ones share code 0
# a value seen in fewer training rows is coded as unknown: a category of one row teaches a model
# only that row (a name, a serial number that repeats a few times), which nothing else shares
MIN_CATEGORY_ROWS = 2
FORMAT = 1


@dataclass
class EncodedColumn:
    """How one raw column becomes matrix columns."""

    name: str
    kind: str  # numeric | categorical
    indicator: bool = False  # a 0/1 "was missing" column is added
    median: float = 0.0  # numeric: what a missing cell becomes
    categories: list[str] | None = None  # categorical: in code order (code i+1 / one-hot column i)
    one_hot: bool = True  # categorical: one-hot, or one embedding code column

    @property
    def embedded(self) -> bool:
        return self.kind == "categorical" and not self.one_hot

    def output_names(self) -> list[str]:
        """A categorical column's matrix columns (numeric ones are laid out as a block)."""
        if not self.one_hot:
            return [f"{self.name}#code"]
        return [f"{self.name}={c}" for c in self.categories] + ([f"{self.name}#missing"] if self.indicator else [])

    def encode_categories(self, series: pd.Series) -> np.ndarray:
        keys = category_keys(series)
        codes = pd.Index(self.categories, dtype=object).get_indexer(keys).astype(np.int64)  # -1: unknown
        if not self.one_hot:
            return (codes + 1)[:, None].astype(np.float32)
        block = np.zeros((len(series), len(self.categories) + self.indicator), np.float32)
        known = codes >= 0
        block[np.flatnonzero(known), codes[known]] = 1.0
        if self.indicator:
            block[:, -1] = keys.isna().to_numpy()
        return block


class TableEncoder:
    """Fitted per-column encodings of a table; ``transform`` accepts raw rows."""

    def __init__(self, columns: list[EncodedColumn], dropped: list[str] | None = None):
        self.raw = list(columns)  # the table's order
        # the matrix: numeric values, their missing indicators, one-hot blocks, embedding codes last
        self.numeric = [c for c in columns if c.kind == "numeric"]
        self.categorical = ([c for c in columns if c.kind == "categorical" and c.one_hot]
                            + [c for c in columns if c.embedded])
        self.dropped = list(dropped or [])
        self._medians = np.array([c.median for c in self.numeric], np.float64)
        self._indicators = np.array([c.indicator for c in self.numeric], bool)

    @property
    def columns(self) -> list[str]:
        """The raw columns a caller passes (in the table's order)."""
        return [c.name for c in self.raw]

    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.raw}

    @property
    def feature_names(self) -> list[str]:
        return ([c.name for c in self.numeric] + [f"{c.name}#missing" for c in self.numeric if c.indicator]
                + [name for column in self.categorical for name in column.output_names()])

    @property
    def embedded(self) -> list[int]:
        """Cardinality (codes 0..K) of each embedding code column, in matrix order."""
        return [len(c.categories) + 1 for c in self.categorical if c.embedded]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The float32 matrix of ``frame``'s rows; other columns than the encoder's are ignored."""
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(frame)
        frame = frame.rename(columns=str)
        missing = [name for name in self.columns if name not in frame.columns]
        if missing:
            raise ValueError(f"missing input column(s): {', '.join(missing[:8])}"
                             f"{', ...' if len(missing) > 8 else ''}")
        blocks = []
        if self.numeric:
            values = number_block(frame, [c.name for c in self.numeric])
            missing = np.isnan(values)
            blocks += [np.where(missing, self._medians, values), missing[:, self._indicators]]
        blocks += [c.encode_categories(frame[c.name].reset_index(drop=True)) for c in self.categorical]
        if not blocks:
            return np.zeros((len(frame), 0), np.float32)
        return np.concatenate([block.astype(np.float32) for block in blocks], axis=1)

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
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    values = number_block(frame, numeric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no value in training: median 0
        medians = np.nan_to_num(np.nanmedian(values, axis=0)) if len(frame) else np.zeros(len(numeric))
    gaps = np.isnan(values).any(axis=0)
    fitted = {name: EncodedColumn(name, "numeric", indicator=bool(gap), median=float(median))
              for name, median, gap in zip(numeric, medians, gaps)}
    columns = []
    for name, kind in kinds.items():
        if kind == "numeric":
            columns.append(fitted[name])
            continue
        keys = category_keys(frame[name])
        counts = keys.value_counts()
        # most frequent first, ties by name: the same data gives the same codes
        ranked = sorted(((key, n) for key, n in counts.items() if n >= MIN_CATEGORY_ROWS),
                        key=lambda item: (-item[1], item[0]))
        one_hot = len(ranked) <= one_hot_max
        categories = [key for key, _ in (ranked if one_hot else ranked[:embed_max])]
        columns.append(EncodedColumn(name, "categorical", indicator=one_hot and bool(keys.isna().any()),
                                     categories=categories, one_hot=one_hot))
    return TableEncoder(columns, dropped)


def number_block(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The ``names`` columns as one float64 matrix, NaN where a cell is missing or not a number."""
    if not names:
        return np.zeros((len(frame), 0))
    sub = frame[names]
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in sub.dtypes):
        values = sub.to_numpy(dtype=np.float64, na_value=np.nan)  # one copy for a wide all-number table
    else:
        values = np.column_stack([to_numbers(sub[name]).to_numpy() for name in names])
    return np.where(np.isfinite(values), values, np.nan)


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
