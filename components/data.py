"""Data sources and seeded train/validation/test splits. Plain arrays and frames in, arrays out.

Tables (CSV, Parquet, the bundled tabular sets) keep their raw columns until the split: the
TableEncoder is fitted on the training rows only and turns every split into a float matrix.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from tunaflow.components import image_sources
from tunaflow.components.errors import DataError
from tunaflow.components.numeric_checks import check_float32_range, read_npz_arrays
from tunaflow.components.spec import BUILTIN_SOURCES, DataSpec
from tunaflow.components.table_encoder import TableEncoder, fit_encoder, number_block
from tunaflow.components.tables import TABLE_SUFFIXES, load_table
from tunaflow.components.targets import detect_task, encode_labels, regression_targets
from tunaflow.components.back_translate import BackTranslations
from tunaflow.components.text_corpora import TEXT_SOURCES, load_text_corpus
from tunaflow.components.text_encoder import fit_text_encoder
from tunaflow.components.text_sources import TextSource, is_text_folder, load_text_folder, text_from_table

REGRESSION_SETS = ("diabetes",)
MIN_REGRESSION_SPLIT = 2  # rows in each split of a regression set (r2 needs two)


@dataclass
class Dataset:
    """Features and targets of one source, before the split.

    Arrays: ``X`` float32 (tabular (N, F); images (N, H, W) or (N, H, W, C)). Tables: ``frame``
    holds the raw feature columns (``kinds``: numeric or categorical) and ``X`` is None; text
    likewise, one column of documents (``kinds``: text).
    Classification ``y`` holds class indices into ``classes``; regression ``y`` is float32.
    """

    X: np.ndarray | None
    y: np.ndarray
    classes: list
    kind: str  # "tabular", "image" or "text"
    feature_names: list[str] | None = None
    source: str = ""
    test_mask: np.ndarray | None = None  # a set's own test split (Fashion-MNIST's 10,000)
    extra: dict = field(default_factory=dict)
    task: str = "classification"
    frame: pd.DataFrame | None = None
    kinds: dict[str, str] | None = None
    dropped: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.frame.shape[1],) if self.X is None else tuple(self.X.shape[1:])


@dataclass
class DataSplits:
    """Train, validation and test arrays of one data set, and what describes them."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list
    kind: str
    feature_names: list[str] | None = None  # of the matrix columns (encoded ones for a table)
    source: str = ""
    digest: str = ""
    extra: dict = field(default_factory=dict)
    task: str = "classification"
    encoder: TableEncoder | None = None
    columns: list[str] | None = None  # the raw columns a caller of the model passes (tables)
    # cardinalities of the last len() X columns; text: [vocabulary size], every column a token id
    embedded: list[int] = field(default_factory=list)
    raw_test: pd.DataFrame | None = None  # the test rows as read (tables): what the model is given
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # each split's row positions in the loaded set
    # text: the training and validation documents, translated when back-translation is asked for
    back_translations: BackTranslations | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_outputs(self) -> int:
        return 1 if self.task == "regression" else self.n_classes

    def class_counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {str(self.classes[c]): int(n) for c, n in enumerate(np.bincount(y, minlength=self.n_classes))}
            for name, y in (("train", self.y_train), ("val", self.y_val), ("test", self.y_test))
        }

    def target_summary(self) -> dict[str, dict[str, float]]:
        """Regression: the target's mean, std, min and max per split."""
        return {name: {"mean": float(np.mean(y)), "std": float(np.std(y)), "min": float(np.min(y)),
                       "max": float(np.max(y))}
                for name, y in (("train", self.y_train), ("val", self.y_val), ("test", self.y_test))}


def _check_finite(X: np.ndarray, where: str, names: list[str] | None = None) -> None:
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    if names is not None and X.ndim == 2:
        cols = [names[i] for i in np.flatnonzero(bad.any(axis=0))]
        listed = ", ".join(cols[:5]) + (", ..." if len(cols) > 5 else "")
        raise DataError(where, f"NaN or infinite values in feature column(s) {listed}")
    raise DataError(where, f"{int(bad.sum())} NaN or infinite feature values")


def _load_builtin(name: str, task: str, overrides: dict[str, str]) -> Dataset:
    from sklearn import datasets

    if name == "digits":
        bunch = datasets.load_digits()
        X = bunch.images.astype(np.float32)  # (N, 8, 8), values 0..16
        return Dataset(X, bunch.target.astype(np.int64), list(range(10)), "image", source=name)
    bunch = getattr(datasets, f"load_{name}")()
    X = bunch.data.astype(np.float32)
    names = [str(n) for n in bunch.feature_names]
    natural = "regression" if name in REGRESSION_SETS else "classification"
    if task == "regression" and natural != "regression":
        raise DataError("data.task", f"{name} is a classification set; its target holds class ids")
    if (task if task != "auto" else natural) == "regression":
        y, classes = regression_targets(bunch.target, name), []
    elif natural == "regression":
        y, classes = encode_labels(bunch.target, name)
    else:
        y, classes = bunch.target.astype(np.int64), [str(n) for n in bunch.target_names]
    frame, kinds, dropped = pd.DataFrame(X, columns=names), dict.fromkeys(names, "numeric"), []
    for column, kind in overrides.items():
        if column not in kinds:
            raise DataError(f"data.columns.{column}", f"no such column in {name} ({', '.join(names[:6])}, ...)")
        if kind == "text":
            raise DataError(f"data.columns.{column}", f"{name}'s columns are numbers, not text")
        if kind == "drop":
            del kinds[column]
            dropped.append(column)
        else:
            kinds[column] = kind
    if not kinds:
        raise DataError("data.columns", f"every column of {name} is dropped; no feature left")
    return Dataset(None if dropped else X, y, classes, "tabular", feature_names=list(kinds), source=name,
                   task="regression" if classes == [] else "classification",
                   frame=frame[list(kinds)], kinds=kinds, dropped=dropped)


def _refuse_column_types(spec: DataSpec) -> None:
    if spec.columns:
        raise DataError("data.columns", f"column types apply to tables (CSV, Parquet, the bundled tables); "
                                        f"{spec.source} is not one")


def _load_table(path: Path, spec: DataSpec) -> Dataset:
    overrides = dict(spec.columns)
    if spec.text is not None:
        if spec.text in overrides and overrides[spec.text] != "text":
            raise DataError("data.text", f"column {spec.text!r} is typed {overrides[spec.text]} in data.columns")
        overrides[spec.text] = "text"
    table = load_table(path, spec.target, overrides)
    if (text := text_from_table(table, spec.text, str(path))) is not None:
        return _text_dataset(text, spec, str(path))
    numeric = [name for name, kind in table.kinds.items() if kind == "numeric"]
    check_float32_range(number_block(table.features, numeric), numeric, str(path))
    task, note = detect_task(table.target, spec.task, spec.target)
    if task == "regression":
        y, classes = regression_targets(table.target, str(path)), []
    else:
        y, classes = encode_labels(table.target.to_numpy(), str(path))
    notes = ([note] if note else []) + table.notes
    return Dataset(None, y, classes, "tabular", feature_names=list(table.kinds), source=str(path),
                   extra={"notes": notes}, task=task, frame=table.features, kinds=table.kinds,
                   dropped=table.dropped)


def _text_dataset(source: TextSource, spec: DataSpec, where: str) -> Dataset:
    if spec.task == "regression":
        raise DataError("data.task", f"text sources are classified; {where} holds text")
    y, classes = encode_labels(np.asarray(source.labels, dtype=object), where)
    frame = pd.DataFrame({source.column: source.texts})
    return Dataset(None, y, classes, "text", feature_names=[source.column], source=where, test_mask=source.test_mask,
                   extra={"notes": source.notes}, frame=frame, kinds={source.column: "text"}, dropped=source.dropped)


def _load_text(spec: DataSpec) -> Dataset:
    """A bundled corpus or a folder of .txt files per class."""
    _refuse_column_types(spec)
    if spec.text is not None:
        raise DataError("data.text", f"names a column of a table; {spec.source} is not one")
    if spec.source in TEXT_SOURCES:
        texts, labels, test = load_text_corpus(spec.source)
        return _text_dataset(TextSource(texts, labels, test_mask=test), spec, spec.source)
    return _text_dataset(load_text_folder(Path(spec.source)), spec, spec.source)


def _load_npz(path: Path, spec: DataSpec) -> Dataset:
    X, y_raw = read_npz_arrays(path)
    if X.ndim not in (2, 3, 4) or (X.ndim == 4 and X.shape[-1] not in (1, 3, 4)):
        raise DataError(str(path), f"X has shape {X.shape}; expected (N, F), (N, H, W) or (N, H, W, C)")
    if y_raw.ndim != 1 or len(y_raw) != len(X):
        raise DataError(str(path), f"y has shape {y_raw.shape}; expected ({len(X)},)")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(str(path), f"X has non-numeric dtype {X.dtype}")
    check_float32_range(X, None, str(path))
    X = X.astype(np.float32)
    _check_finite(X, str(path))
    if X.ndim != 2:
        if spec.task == "regression":
            raise DataError("data.task", f"regression needs a tabular source; {path} holds images")
        y, classes = encode_labels(y_raw, str(path))
        return Dataset(X, y, classes, "image", source=str(path))
    task, note = detect_task(y_raw, spec.task, "y")
    if task == "regression":
        y, classes = regression_targets(y_raw, str(path)), []
    else:
        y, classes = encode_labels(y_raw, str(path))
    return Dataset(X, y, classes, "tabular", [f"x{i}" for i in range(X.shape[1])], str(path),
                   extra={"notes": [note] if note else []}, task=task)


def _load_image_set(spec: DataSpec) -> Dataset:
    if spec.task == "regression":
        raise DataError("data.task", f"regression needs a tabular source; {spec.source} holds images")
    if spec.source == "fashion_mnist":
        X, y, test = image_sources.load_fashion_mnist()
        return Dataset(X, y, list(image_sources.FASHION_MNIST_CLASSES), "image", source="fashion_mnist",
                       test_mask=test)
    if spec.source == "mnist":
        X, y = image_sources.load_mnist_subset()
        return Dataset(X, y, list(range(10)), "image", source="mnist")
    X, y, classes, skipped = image_sources.load_image_folder(
        Path(spec.source), tuple(spec.image_size), spec.color, spec.skip_bad_files)
    return Dataset(X, y, classes, "image", source=spec.source, extra={"skipped_files": skipped})


def load_dataset(spec: DataSpec) -> Dataset:
    """Read the source named by the spec; DataError for anything unusable."""
    source = spec.source
    if source in TEXT_SOURCES or (Path(source).is_dir() and is_text_folder(Path(source))):
        return _load_text(spec)
    if source in ("mnist", "fashion_mnist") or Path(source).is_dir():
        _refuse_column_types(spec)
        return _load_image_set(spec)
    if source in BUILTIN_SOURCES:
        if source == "digits":
            _refuse_column_types(spec)
            if spec.task == "regression":
                raise DataError("data.task", "digits is a classification set of images")
        return _load_builtin(source, spec.task, spec.columns)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (*TABLE_SUFFIXES, ".npz"):
        raise DataError(
            "data.source",
            f"unknown data set {source!r}; use one of {', '.join((*BUILTIN_SOURCES, *TEXT_SOURCES))}, a "
            ".csv/.parquet/.npz file or a folder of class folders",
        )
    if not path.is_file():
        raise DataError("data.source", f"file not found: {source}")
    if suffix == ".npz":
        _refuse_column_types(spec)
        return _load_npz(path, spec)
    return _load_table(path, spec)


def dataset_digest(X: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:16]


def _data_digest(data: Dataset) -> str:
    if data.frame is None:
        return dataset_digest(data.X, data.y)
    if set(data.kinds.values()) == {"numeric"} and not data.frame.isna().any().any():
        # an all-number table digests as its matrix did before tables had encoders
        return dataset_digest(data.frame.to_numpy(dtype=np.float32), data.y)
    digest = hashlib.sha256(repr(sorted(data.kinds.items())).encode())
    digest.update(np.ascontiguousarray(pd.util.hash_pandas_object(data.frame, index=False).to_numpy()).tobytes())
    digest.update(np.ascontiguousarray(data.y).tobytes())
    return digest.hexdigest()[:16]


def _split_sizes(n: int, spec: DataSpec) -> tuple[int, int, int]:
    n_test = math.ceil(spec.test_fraction * n)
    n_val = math.ceil(spec.val_fraction * n)
    return n - n_test - n_val, n_val, n_test


def _check_split_sizes(data: Dataset, spec: DataSpec) -> None:
    y, n = data.y, len(data.y)
    if data.task == "regression":
        if min(_split_sizes(n, spec)) < MIN_REGRESSION_SPLIT:
            raise DataError("data", f"{n} rows are too few for val_fraction={spec.val_fraction} and "
                                    f"test_fraction={spec.test_fraction}: every split needs "
                                    f"{MIN_REGRESSION_SPLIT} rows")
        return
    n_classes = int(y.max()) + 1
    smallest = int(np.bincount(y).min())
    if min(_split_sizes(n, spec)) < n_classes or smallest < 3:
        raise DataError(
            "data",
            f"{n} samples (smallest class: {smallest}) are too few for val_fraction="
            f"{spec.val_fraction} and test_fraction={spec.test_fraction} with {n_classes} classes: "
            "every split needs each class at least once",
        )


def split_dataset(data: Dataset, spec: DataSpec, seed: int) -> DataSplits:
    """Seeded train/val/test splits (stratified for classification); ``subsample`` thins the training split.

    A set with its own test split keeps it (``test_fraction`` does not apply), and the
    validation split is ``val_fraction`` of the rest. A table's encoder is fitted on the
    training rows and encodes all three splits.
    """
    from sklearn.model_selection import train_test_split

    _check_split_sizes(data, spec)
    stratified = data.task == "classification"
    idx = np.arange(len(data.y))
    if data.test_mask is not None:
        rest, test = idx[~data.test_mask], idx[data.test_mask]
        val_share = spec.val_fraction
    else:
        rest, test = train_test_split(idx, test_size=spec.test_fraction, random_state=seed,
                                      stratify=data.y if stratified else None)
        val_share = spec.val_fraction / (1 - spec.test_fraction)
    train, val = train_test_split(rest, test_size=val_share, random_state=seed + 1,
                                  stratify=data.y[rest] if stratified else None)
    if spec.subsample < 1:
        train = subsample_indices(data.y, train, spec.subsample, seed + 2)
    common = dict(classes=data.classes, kind=data.kind, source=data.source, digest=_data_digest(data),
                  extra=dict(data.extra), task=data.task, rows={"train": train, "val": val, "test": test})
    if data.kind == "text":
        return _split_text(data, spec, train, val, test, common)
    if data.frame is None:
        return DataSplits(data.X[train], data.y[train], data.X[val], data.y[val], data.X[test], data.y[test],
                          feature_names=data.feature_names, **common)
    encoder = fit_encoder(data.frame.iloc[train], data.kinds, data.dropped)
    if not encoder.feature_names:  # every value of every column held by one training row only
        raise DataError("data.source", f"nothing to learn from: no value of {', '.join(encoder.columns)} "
                                       "is shared by two training rows")
    X_train, X_val, X_test = (encoder.transform(data.frame.iloc[rows]) for rows in (train, val, test))
    return DataSplits(X_train, data.y[train], X_val, data.y[val], X_test, data.y[test],
                      feature_names=encoder.feature_names, encoder=encoder, columns=encoder.columns,
                      embedded=encoder.embedded, raw_test=data.frame.iloc[test].reset_index(drop=True),
                      **common)


def _split_text(data: Dataset, spec: DataSpec, train, val, test, common: dict) -> DataSplits:
    """Token-id splits; the vocabulary and width come from the training documents only."""
    column = data.feature_names[0]
    encoder, documents = fit_text_encoder(data.frame[column].iloc[train].tolist(), column, min_freq=spec.min_freq,
                                          max_size=spec.vocab_size, max_tokens=spec.max_tokens, dropped=data.dropped)
    X_val, X_test = (encoder.transform(data.frame.iloc[rows]) for rows in (val, test))
    texts = BackTranslations(data.frame[column].iloc[np.concatenate([train, val])].tolist(), encoder)
    return DataSplits(encoder.encode(documents), data.y[train], X_val, data.y[val], X_test, data.y[test],
                      feature_names=encoder.feature_names, encoder=encoder, columns=encoder.columns,
                      embedded=[encoder.vocab_size], raw_test=data.frame.iloc[test].reset_index(drop=True),
                      back_translations=texts, **common)


def subsample_indices(y: np.ndarray, idx: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A share of ``idx``: stratified, keeping every class at least once, for class indices;
    a plain random share for a regression target (floats)."""
    rng = np.random.default_rng(seed)
    if not np.issubdtype(y.dtype, np.integer):
        k = max(2, round(fraction * len(idx)))
        return np.sort(rng.choice(idx, size=min(k, len(idx)), replace=False))
    keep = []
    for c in np.unique(y[idx]):
        members = idx[y[idx] == c]
        k = max(1, round(fraction * len(members)))
        keep.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(keep))


def search_splits(splits: DataSplits, fraction: float, seed: int) -> DataSplits:
    """The splits a search trial sees: a (stratified) ``fraction`` of the training split."""
    if fraction >= 1:
        return splits
    keep = subsample_indices(splits.y_train, np.arange(len(splits.y_train)), fraction, seed)
    return replace(splits, X_train=splits.X_train[keep], y_train=splits.y_train[keep])
