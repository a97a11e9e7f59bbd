"""Back-translation of training documents: each replaced, with probability p, by its round trip
through another language (English -> Spanish -> English by default).

The documents a model may train on (the training split, and the validation split, which
the final model also trains on) are translated once, before any fit, and encoded with the
model's encoder; a training row's alternate is found by the row's token ids, so a fit on
any subset of the rows (a search subsample, a fold) finds its own. Translations are
cached on disk per text (``components/translation_cache.py``). Like the EDA operations,
the replacement runs on training batches only and draws from the batch's seeded generator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from tunaflow.components.home import cache_path
from tunaflow.components.text_encoder import TextEncoder, tokenize
from tunaflow.components.translation_cache import round_trip
from tunaflow.components.translators import Translator, current_translator

SOURCE, PIVOT = "eng", "spa"


@dataclass
class BackTranslations:
    """Documents and the encoder that reads them; ``table()`` translates them on first use."""

    documents: list
    encoder: TextEncoder
    _table: dict[bytes, np.ndarray] | None = field(default=None, repr=False)
    stats: dict = field(default_factory=dict)

    def table(self, translator: Translator | None = None, cache_dir: Path | None = None) -> dict[bytes, np.ndarray]:
        """Encoded row (its float32 bytes) -> the encoded round trip of its document."""
        if self._table is None:
            translator = translator or current_translator()
            tokens = [tokenize(doc) for doc in self.documents]  # as the encoder read them
            texts = [str(doc) if words else "" for doc, words in zip(self.documents, tokens)]
            start = time.perf_counter()
            trips = round_trip(texts, translator, src=SOURCE, pivot=PIVOT,
                               cache_dir=cache_path("translations") if cache_dir is None else cache_dir)
            seconds = time.perf_counter() - start
            originals = self.encoder.encode(tokens)
            alternates = self.encoder.encode([tokenize(text) for text in trips])
            table: dict[bytes, np.ndarray] = {}
            for original, alternate in zip(originals, alternates):
                table.setdefault(original.tobytes(), alternate)
            self.stats = {"translator": translator.name, "documents": len(texts), "seconds": round(seconds, 3),
                          "changed": int(sum(not np.array_equal(a, b) for a, b in zip(originals, alternates)))}
            self._table = table
        return self._table

    def alternate(self, row: np.ndarray) -> np.ndarray | None:
        """The round trip of the document encoded as ``row`` (None for a row of no known document)."""
        return self.table().get(np.asarray(row, dtype=np.float32).tobytes())


@dataclass
class BackTranslate:
    """A batch operation: each row replaced by its round trip with probability ``p``."""

    p: float
    translations: BackTranslations

    def replace_rows(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float32)
        out = rows.copy()
        for r in np.flatnonzero(rng.random(len(rows)) < self.p):
            alternate = self.translations.alternate(rows[r])
            if alternate is not None:
                out[r] = alternate
        return out

    def __call__(self, X, y, generator):
        rng = np.random.default_rng(int(torch.randint(2 ** 31, (1,), generator=generator)))
        return torch.as_tensor(self.replace_rows(X.cpu().numpy(), rng), dtype=X.dtype), y

    def describe(self) -> dict:
        self.translations.table()
        return {"op": "back_translate", "p": self.p, "pivot": PIVOT, **self.translations.stats}


def build_back_translate(p: float, translations: BackTranslations | None) -> BackTranslate:
    """The operation for a text model whose documents are ``translations``' (translated now, if not yet)."""
    if translations is None:
        raise ValueError("back-translation needs the training documents (DataSplits.back_translations)")
    translations.table()
    return BackTranslate(p, translations)


def back_translation_asked(augment, searched_paths) -> bool:
    """Whether a fit may back-translate: the spec's operation is on, or the search may turn it on."""
    return augment.enabled and (augment.text.back_translate.p > 0 or any(
        path.startswith("augment.text.back_translate") for path in searched_paths))
