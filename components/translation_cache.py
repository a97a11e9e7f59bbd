"""Round trips through a pivot language, cached on disk per text.

Each text's round trip is a file named by the digest of the translator's name, the two
languages and the text, under ``cache_dir`` (two-character sub-folders); a second run, or
another worker, reads it instead of translating again. Only the texts not cached go to
the translator, in one call per direction. Files are written whole (a temporary file,
then a rename), so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from tunaflow.components.translators import Translator


def _digest(translator: Translator, src: str, pivot: str, text: str) -> str:
    key = "\0".join((translator.name, src, pivot, text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)


def round_trip(texts: list[str], translator: Translator, *, src: str = "eng", pivot: str = "spa",
               cache_dir: Path | None = None) -> list[str]:
    """Each of ``texts`` translated to ``pivot`` and back to ``src`` (the same text once per call)."""
    done: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for text in dict.fromkeys(texts):
        if cache_dir is not None:
            digest = _digest(translator, src, pivot, text)
            path = paths[text] = Path(cache_dir) / digest[:2] / f"{digest}.txt"
            if path.is_file():
                done[text] = path.read_text(encoding="utf-8")
    todo = [text for text in dict.fromkeys(texts) if text not in done]
    if todo:
        there = translator.translate(todo, src, pivot)
        back = translator.translate(list(there), pivot, src)
        if len(back) != len(todo):
            raise RuntimeError(f"translator {translator.name} returned {len(back)} texts for {len(todo)}")
        for text, result in zip(todo, back):
            done[text] = result
            if cache_dir is not None:
                _write(paths[text], result)
    return [done[text] for text in texts]
