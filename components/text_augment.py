"""Text augmentation of training batches: EDA's four operations on token ids.

Wei and Zou (2019): replace words by WordNet synonyms, insert a synonym of a word at a
random place, swap words, delete words. They run on the batch's token-id rows (the
vocabulary gives each id's synonyms that the vocabulary also holds), after the loader
slices the batch, so validation and test documents never see them. Each batch draws from
the epoch's seeded generator: a trial replays exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from tunaflow.components.errors import SpecError
from tunaflow.components.translators import translator_missing
from tunaflow.components.wordnet import check_wordnet, synonyms


def check_text_resources(used: list[str]) -> None:
    """SpecError naming the first operation whose resource is missing (WordNet, a translator)."""
    for path in used:
        if path.startswith(("augment.text.synonym", "augment.text.insert")):
            check_wordnet(path)
        if path.startswith("augment.text.back_translate") and (missing := translator_missing()):
            raise SpecError("augment.text.back_translate", missing)


def synonym_table(vocabulary: list[str]) -> dict[int, np.ndarray]:
    """Token id -> ids of its WordNet synonyms in ``vocabulary`` (word i has id i + 2)."""
    ids = {word: i + 2 for i, word in enumerate(vocabulary)}
    table = {}
    wordnet = synonyms()
    for word, token in ids.items():
        found = sorted(ids[s] for s in wordnet.get(word, ()) if s in ids)
        if found:
            table[token] = np.asarray(found, dtype=np.int64)
    return table


def _synonym(doc: list[int], n: int, table: dict, rng) -> list[int]:
    places = [k for k, token in enumerate(doc) if token in table]
    for k in rng.permutation(places)[:n]:
        doc[k] = int(rng.choice(table[doc[k]]))
    return doc


def _insert(doc: list[int], n: int, table: dict, rng) -> list[int]:
    for _ in range(n):
        words = [token for token in doc if token in table]
        if not words:
            break
        word = int(rng.choice(table[words[rng.integers(len(words))]]))
        doc.insert(int(rng.integers(len(doc) + 1)), word)
    return doc


def _swap(doc: list[int], n: int, table: dict, rng) -> list[int]:
    for _ in range(n if len(doc) > 1 else 0):
        a, b = rng.integers(len(doc), size=2)
        doc[a], doc[b] = doc[b], doc[a]
    return doc


def _delete(doc: list[int], strength: float, rng) -> list[int]:
    keep = rng.random(len(doc)) >= strength
    if not keep.any():
        keep[rng.integers(len(doc))] = True
    return [token for token, kept in zip(doc, keep) if kept]


_CHANGES = {"synonym": _synonym, "insert": _insert, "swap": _swap}


@dataclass
class TextEDA:
    """The active EDA operations, in order: (name, probability, strength) each."""

    ops: list[tuple[str, float, float]]
    table: dict[int, np.ndarray] = field(default_factory=dict)

    def augment_rows(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augmented copies of token-id rows (0-padded), as wide as ``rows``."""
        out = np.zeros_like(rows)
        width = rows.shape[1]
        for r, row in enumerate(rows.astype(np.int64)):
            doc = row[row > 0].tolist()
            for name, p, strength in self.ops:
                if doc and rng.random() < p:
                    n = max(1, round(strength * len(doc)))
                    doc = _delete(doc, strength, rng) if name == "delete" else _CHANGES[name](doc, n, self.table, rng)
            out[r, :min(len(doc), width)] = doc[:width]
        return out

    def __call__(self, X, y, generator):
        rng = np.random.default_rng(int(torch.randint(2 ** 31, (1,), generator=generator)))
        return torch.as_tensor(self.augment_rows(X.cpu().numpy(), rng), dtype=X.dtype), y

    def describe(self) -> dict:
        return {"op": "text_eda", "operations": [{"name": n, "p": p, "strength": s} for n, p, s in self.ops],
                "words_with_synonyms": len(self.table)}


def build_text_eda(spec, vocabulary: list[str] | None) -> TextEDA | None:
    """The spec's EDA operations for a model of ``vocabulary``; None when none is on."""
    ops = [(name, op.p, op.strength) for name, op in spec.active()]
    if not ops:
        return None
    needs_synonyms = any(name in ("synonym", "insert") for name, _, _ in ops)
    table = synonym_table(list(vocabulary or [])) if needs_synonyms else {}
    return TextEDA(ops, table)


def decode(row: np.ndarray, vocabulary: list[str]) -> str:
    """A token-id row as words (``<unk>`` for unknown ones), for the record."""
    words = {i + 2: word for i, word in enumerate(vocabulary)}
    return " ".join(words.get(int(t), "<unk>") for t in row if t > 0)
