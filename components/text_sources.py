"""Text sources: a folder of .txt files per class, a table's free-text column, the bundled corpora.

Each gives the documents as read and their labels; the data layer splits them and fits the
text encoder on the training split (components/text_encoder.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tunaflow.components.errors import DataError

TEXT_COLUMN = "text"  # the input column of a model trained on a folder or a bundled corpus


@dataclass
class TextSource:
    """Documents, their labels, and what the data layer reports about them."""

    texts: list[str]
    labels: list
    column: str = TEXT_COLUMN
    test_mask: np.ndarray | None = None
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_text_folder(path: Path) -> bool:
    """A folder whose class sub-folders hold .txt files and no images (an image folder may hold a note)."""
    from tunaflow.components.image_sources import IMAGE_SUFFIXES

    files = [p.suffix.lower() for p in path.glob("*/*")]
    return ".txt" in files and not any(suffix in IMAGE_SUFFIXES for suffix in files)


def load_text_folder(path: Path) -> TextSource:
    """One document per .txt file, labelled by its sub-folder's name (UTF-8; undecodable bytes replaced)."""
    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    texts, labels, empty = [], [], 0
    for name in classes:
        for file in sorted((path / name).glob("*.txt")):
            try:
                text = file.read_bytes().decode("utf-8", errors="replace")
            except OSError as error:
                raise DataError(str(file), f"cannot be read ({error.strerror or error})") from None
            if not text.strip():
                empty += 1
                continue
            texts.append(text)
            labels.append(name)
    if len(set(labels)) < 2:
        raise DataError(str(path), f"a text folder needs two or more class sub-folders of non-empty .txt files "
                                   f"(found {len(set(labels))})")
    notes = [f"skipped {empty} empty .txt file(s)"] if empty else []
    return TextSource(texts, labels, notes=notes)


def text_from_table(table, chosen: str | None, where: str) -> TextSource | None:
    """The text source of a table with a free-text column (None when it has none).

    A text model reads one column: ``chosen`` (``data.text``) or the only one typed text;
    the table's other feature columns are left out, with a note.
    """
    text_columns = [name for name, kind in table.kinds.items() if kind == "text"]
    if not text_columns:
        return None
    if chosen is None:
        if len(text_columns) > 1:
            raise DataError("data.text", f"columns {', '.join(text_columns[:5])} of {where} hold free text; "
                                         "name the one to train on")
        chosen = text_columns[0]
    others = [name for name in table.kinds if name != chosen]
    notes = list(table.notes)
    if others:
        notes.append(f"a text model reads column {chosen!r} alone; not used: {', '.join(others[:8])}"
                     f"{', ...' if len(others) > 8 else ''}")
    texts = table.features[chosen].map(lambda v: "" if v is None or v != v else str(v)).tolist()
    return TextSource(texts, table.target.tolist(), column=chosen, dropped=[*table.dropped, *others], notes=notes)
