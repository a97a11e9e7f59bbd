"""Data sources and stratified, seeded splits. Plain arrays in, plain arrays out."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tunaflow.components import image_sources
from tunaflow.components.errors import DataError
from tunaflow.components.spec import BUILTIN_SOURCES, DataSpec


@dataclass
class Dataset:
    """Features as float32 (tabular: (N, F); images: (N, H, W) or (N, H, W, C)), encoded labels."""

    X: np.ndarray
    y: np.ndarray
    classes: list
    kind: str  # "tabular" or "image"
    feature_names: list[str] | None = None
    source: str = ""
    test_mask: np.ndarray | None = None  # a set's own test split (Fashion-MNIST's 10,000)
    extra: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X.shape[1:])


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
    feature_names: list[str] | None = None
    source: str = ""
    digest: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def class_counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {str(self.classes[c]): int(n) for c, n in enumerate(np.bincount(y, minlength=self.n_classes))}
            for name, y in (("train", self.y_train), ("val", self.y_val), ("test", self.y_test))
        }


def _encode(y_raw: np.ndarray, where: str) -> tuple[np.ndarray, list]:
    classes, y = np.unique(y_raw, return_inverse=True)
    if len(classes) < 2:
        raise DataError(where, f"the target has a single class ({classes[0]!r}); need at least two")
    return y.astype(np.int64), [c.item() if hasattr(c, "item") else c for c in classes]


def _check_finite(X: np.ndarray, where: str, names: list[str] | None = None) -> None:
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    if names is not None and X.ndim == 2:
        cols = [names[i] for i in np.flatnonzero(bad.any(axis=0))]
        listed = ", ".join(cols[:5]) + (", ..." if len(cols) > 5 else "")
        raise DataError(where, f"NaN or infinite values in feature column(s) {listed}")
    raise DataError(where, f"{int(bad.sum())} NaN or infinite feature values")


def _load_builtin(name: str) -> Dataset:
    from sklearn import datasets

    if name == "digits":
        bunch = datasets.load_digits()
        X = bunch.images.astype(np.float32)  # (N, 8, 8), values 0..16
        return Dataset(X, bunch.target.astype(np.int64), list(range(10)), "image", source=name)
    bunch = getattr(datasets, f"load_{name}")()
    return Dataset(
        bunch.data.astype(np.float32),
        bunch.target.astype(np.int64),
        [str(n) for n in bunch.target_names],
        "tabular",
        feature_names=[str(n) for n in bunch.feature_names],
        source=name,
    )


def _load_csv(path: Path, target: str | None) -> Dataset:
    import pandas as pd

    if not target:
        raise DataError("data.target", f"a CSV source needs the name of its target column ({path})")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(str(path), f"not a readable CSV file ({str(error).splitlines()[0]})") from None
    if target not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:10]))
        raise DataError(str(path), f"no target column {target!r} (columns: {shown})")
    features = frame.drop(columns=[target])
    non_numeric = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise DataError(str(path), f"non-numeric feature column(s): {', '.join(non_numeric[:5])}")
    if features.shape[1] == 0:
        raise DataError(str(path), "no feature columns besides the target")
    labels = frame[target]
    if labels.isna().any():
        raise DataError(str(path), f"target column {target!r} has missing values")
    names = [str(c) for c in features.columns]
    X = features.to_numpy(dtype=np.float64)
    _check_finite(X, str(path), names)
    y, classes = _encode(labels.to_numpy(), str(path))
    return Dataset(X.astype(np.float32), y, classes, "tabular", feature_names=names, source=str(path))


def _load_npz(path: Path) -> Dataset:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(str(path), f"not a readable NPZ file ({error})") from None
    missing = [k for k in ("X", "y") if k not in archive.files]
    if missing:
        raise DataError(str(path), f"missing array(s) {', '.join(missing)}; expected X and y")
    X, y_raw = archive["X"], archive["y"]
    if X.ndim not in (2, 3, 4) or (X.ndim == 4 and X.shape[-1] not in (1, 3, 4)):
        raise DataError(str(path), f"X has shape {X.shape}; expected (N, F), (N, H, W) or (N, H, W, C)")
    if y_raw.ndim != 1 or len(y_raw) != len(X):
        raise DataError(str(path), f"y has shape {y_raw.shape}; expected ({len(X)},)")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(str(path), f"X has non-numeric dtype {X.dtype}")
    X = X.astype(np.float32)
    _check_finite(X, str(path))
    y, classes = _encode(y_raw, str(path))
    if X.ndim == 2:
        return Dataset(X, y, classes, "tabular", [f"x{i}" for i in range(X.shape[1])], str(path))
    return Dataset(X, y, classes, "image", source=str(path))


def _load_image_set(spec: DataSpec) -> Dataset:
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
    if source in ("mnist", "fashion_mnist") or Path(source).is_dir():
        return _load_image_set(spec)
    if source in BUILTIN_SOURCES:
        return _load_builtin(source)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise DataError(
            "data.source",
            f"unknown data set {source!r}; use one of {', '.join(BUILTIN_SOURCES)}, a .csv/.npz file "
            "or a folder of class folders",
        )
    if not path.is_file():
        raise DataError("data.source", f"file not found: {source}")
    return _load_csv(path, spec.target) if suffix == ".csv" else _load_npz(path)


def dataset_digest(X: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:16]


def _check_split_sizes(y: np.ndarray, spec: DataSpec) -> None:
    n, n_classes = len(y), int(y.max()) + 1
    smallest = int(np.bincount(y).min())
    n_test = math.ceil(spec.test_fraction * n)
    n_val = math.ceil(spec.val_fraction * n)
    n_train = n - n_test - n_val
    if min(n_test, n_val, n_train) < n_classes or smallest < 3:
        raise DataError(
            "data",
            f"{n} samples (smallest class: {smallest}) are too few for val_fraction="
            f"{spec.val_fraction} and test_fraction={spec.test_fraction} with {n_classes} classes: "
            "every split needs each class at least once",
        )


def split_dataset(data: Dataset, spec: DataSpec, seed: int) -> DataSplits:
    """Stratified, seeded train/val/test splits; ``subsample`` thins the training split.

    A set with its own test split keeps it (``test_fraction`` does not apply), and the
    validation split is ``val_fraction`` of the rest.
    """
    from sklearn.model_selection import train_test_split

    _check_split_sizes(data.y, spec)
    idx = np.arange(len(data.y))
    if data.test_mask is not None:
        rest, test = idx[~data.test_mask], idx[data.test_mask]
        val_share = spec.val_fraction
    else:
        rest, test = train_test_split(idx, test_size=spec.test_fraction, stratify=data.y, random_state=seed)
        val_share = spec.val_fraction / (1 - spec.test_fraction)
    train, val = train_test_split(rest, test_size=val_share, stratify=data.y[rest], random_state=seed + 1)
    if spec.subsample < 1:
        train = subsample_indices(data.y, train, spec.subsample, seed + 2)
    return DataSplits(
        data.X[train], data.y[train], data.X[val], data.y[val], data.X[test], data.y[test],
        classes=data.classes, kind=data.kind, feature_names=data.feature_names,
        source=data.source, digest=dataset_digest(data.X, data.y), extra=dict(data.extra),
    )


def subsample_indices(y: np.ndarray, idx: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A stratified share of ``idx`` keeping every class at least once."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y[idx]):
        members = idx[y[idx] == c]
        k = max(1, round(fraction * len(members)))
        keep.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(keep))


def search_splits(splits: DataSplits, fraction: float, seed: int) -> DataSplits:
    """The splits a search trial sees: a stratified ``fraction`` of the training split."""
    if fraction >= 1:
        return splits
    keep = subsample_indices(splits.y_train, np.arange(len(splits.y_train)), fraction, seed)
    return replace(splits, X_train=splits.X_train[keep], y_train=splits.y_train[keep])
