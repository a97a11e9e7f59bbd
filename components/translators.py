"""Machine translators for back-translation: a small protocol, and Debian's Apertium built in.

A translator turns a list of texts in one language into the same number of texts in
another (``translate(texts, src, dst)``, ISO 639-3 codes as Apertium names its pairs:
``eng``, ``spa``). Another one (a service, a neural model) plugs in with
``use_translator``; with none plugged in, Apertium (``apertium`` and ``apertium-eng-spa``,
Debian packages) runs as one process per batch of many documents: the documents go in
one per line, separated by a marker line that Apertium passes through untouched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

APERTIUM_PACKAGES = "apertium and apertium-eng-spa"
APERTIUM_MODES = Path("/usr/share/apertium/modes")
MARKER = "@@@"  # a line of its own between two documents; Apertium leaves it as it is
BATCH_DOCUMENTS = 2000
BATCH_CHARACTERS = 1_000_000


class Translator(Protocol):
    """What back-translation needs of a translator; ``name`` keys its cached translations."""

    name: str

    def translate(self, texts: list[str], src: str, dst: str) -> list[str]:
        """``texts`` in ``src`` -> as many texts in ``dst``, in order."""


class ApertiumTranslator:
    """Apertium's rule-based pairs; ``binary`` defaults to ``$TUNAFLOW_APERTIUM`` or ``apertium``."""

    name = "apertium"

    def __init__(self, binary: str | None = None, modes: Path = APERTIUM_MODES):
        self.binary = binary or os.environ.get("TUNAFLOW_APERTIUM") or "apertium"
        self.modes = Path(modes)

    def missing(self, src: str = "eng", pivot: str = "spa") -> str | None:
        """Why this translator cannot make the round trip ``src`` -> ``pivot`` -> ``src`` (None: it can)."""
        if shutil.which(self.binary) is None:
            return f"needs a translator: install the Debian packages {APERTIUM_PACKAGES} ({self.binary} not found)"
        for pair in (f"{src}-{pivot}", f"{pivot}-{src}"):
            if not (self.modes / f"{pair}.mode").is_file():
                return (f"needs a translator: install the Debian packages {APERTIUM_PACKAGES} "
                        f"({pair}.mode not in {self.modes})")
        return None

    def translate(self, texts: list[str], src: str, dst: str) -> list[str]:
        out: list[str] = []
        for batch in _batches([_one_line(text) for text in texts]):
            out += self._translate_batch(batch, f"{src}-{dst}")
        return out

    def _run(self, text: str, pair: str) -> str:
        proc = subprocess.run([shutil.which(self.binary) or self.binary, "-u", pair], input=text,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"apertium {pair} failed ({proc.returncode}): {proc.stderr.strip()[:200]}")
        return proc.stdout

    def _translate_batch(self, batch: list[str], pair: str) -> list[str]:
        separator = f"\n{MARKER}\n"
        parts = self._run(separator.join(batch) + "\n", pair).rstrip("\n").split(separator)
        if len(parts) == len(batch):
            return [part.strip() for part in parts]
        # a document that Apertium split or merged with the marker: one process per document
        return [self._run(doc + "\n", pair).strip() for doc in batch]


def _one_line(text) -> str:
    """A document on one line, without the marker (an empty one stays empty)."""
    return " ".join(str(text or "").replace(MARKER, " ").split())


def _batches(texts: list[str]):
    batch, size = [], 0
    for text in texts:
        if batch and (len(batch) >= BATCH_DOCUMENTS or size + len(text) > BATCH_CHARACTERS):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += len(text) + len(MARKER) + 2
    if batch:
        yield batch


_plugged: Translator | None = None


def use_translator(translator: Translator | None) -> None:
    """Back-translate with ``translator`` in this process from now on (None: Apertium again)."""
    global _plugged
    _plugged = translator


def current_translator() -> Translator:
    """The plugged-in translator, or Apertium."""
    return _plugged if _plugged is not None else ApertiumTranslator()


def translator_missing(src: str = "eng", pivot: str = "spa") -> str | None:
    """Why no translator can make the round trip (None when one can): a line naming what to install."""
    translator = current_translator()
    missing = getattr(translator, "missing", None)
    return missing(src, pivot) if missing is not None else None
