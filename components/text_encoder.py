"""Raw text -> a matrix of token ids, fitted on the training rows only.

A regex tokenizer (no dependency: lower-cased runs of letters and digits, with inner
apostrophes, and ! ?), a vocabulary of the training split's words (those seen at least
``min_freq`` times, the ``max_size`` most frequent), and a width: each document becomes
its first ``width`` token ids, padded with 0 (1 is an unknown word). The ids are float32,
as every matrix tunaflow trains on; a model casts them back.

The encoder is part of the registered model (plain JSON, as the table encoder), so the
model reads raw strings. It has the table encoder's interface (``columns``, ``transform``,
``summary``, ``to_dict``), so the paths tables take carry text unchanged.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PAD, UNKNOWN = 0, 1
FORMAT = 1
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[!?]")


def tokenize(text) -> list[str]:
    """The lower-cased tokens of one document (a missing cell has none)."""
    if not isinstance(text, str):
        return [] if text is None or (isinstance(text, float) and np.isnan(text)) else tokenize(str(text))
    return _TOKEN.findall(text.lower())


def build_vocabulary(documents: list[list[str]], min_freq: int = 1, max_size: int | None = None) -> list[str]:
    """The words of ``documents`` seen at least ``min_freq`` times, most frequent first (ties by
    spelling, so the same data gives the same ids), at most ``max_size`` of them."""
    counts = Counter(token for doc in documents for token in doc)
    ranked = sorted((item for item in counts.items() if item[1] >= min_freq), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:max_size]]


@dataclass
class TextEncoder:
    """One text column -> (N, width) token ids; ``vocabulary[i]`` has id i + 2."""

    column: str
    vocabulary: list[str]
    width: int
    dropped: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._ids = {word: i + 2 for i, word in enumerate(self.vocabulary)}

    @property
    def columns(self) -> list[str]:
        return [self.column]

    @property
    def kinds(self) -> dict[str, str]:
        return {self.column: "text"}

    @property
    def vocab_size(self) -> int:
        """Ids in use, padding and unknown included: an embedding's rows."""
        return len(self.vocabulary) + 2

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.column}#{i}" for i in range(self.width)]

    @property
    def embedded(self) -> list[int]:
        return []

    def encode(self, documents: list[list[str]]) -> np.ndarray:
        """Token lists -> the id matrix."""
        out = np.zeros((len(documents), self.width), np.float32)
        ids = self._ids
        for row, doc in enumerate(documents):
            codes = [ids.get(token, UNKNOWN) for token in doc[:self.width]]
            out[row, :len(codes)] = codes
        return out

    def texts(self, frame) -> list:
        """The documents of raw input: a frame with the text column (or a single column), a
        series, or a list of strings."""
        if isinstance(frame, pd.DataFrame):
            frame = frame.rename(columns=str)
            if self.column in frame.columns:
                return frame[self.column].tolist()
            if frame.shape[1] == 1:
                return frame.iloc[:, 0].tolist()
            raise ValueError(f"missing input column: {self.column} (the text)")
        if isinstance(frame, str):
            return [frame]
        return list(pd.Series(frame).tolist())

    def transform(self, frame) -> np.ndarray:
        return self.encode([tokenize(text) for text in self.texts(frame)])

    def summary(self) -> dict:
        return {"n_features": self.width, "columns": {self.column: {"kind": "text", "vocabulary": len(self.vocabulary),
                                                                  "width": self.width}},
                "dropped": self.dropped}

    def to_dict(self) -> dict:
        return {"format": FORMAT, "type": "text", "column": self.column, "vocabulary": self.vocabulary,
                "width": self.width, "dropped": self.dropped}

    @classmethod
    def from_dict(cls, data: dict) -> "TextEncoder":
        if data.get("format") != FORMAT or data.get("type") != "text":
            raise ValueError(f"unknown text encoder format {data.get('format')!r}; expected {FORMAT}")
        return cls(data["column"], list(data["vocabulary"]), int(data["width"]), list(data.get("dropped", [])))


def fit_text_encoder(texts, column: str, *, min_freq: int, max_size: int, max_tokens: int,
                     dropped: list[str] | None = None) -> tuple[TextEncoder, list[list[str]]]:
    """An encoder fitted on the training documents ``texts`` (and their tokens, for reuse).

    The width is the longest training document, at most ``max_tokens``.
    """
    documents = [tokenize(text) for text in texts]
    longest = max((len(doc) for doc in documents), default=1)
    encoder = TextEncoder(column, build_vocabulary(documents, min_freq, max_size),
                          max(1, min(max_tokens, longest)), list(dropped or []))
    return encoder, documents


def encoder_from_dict(data: dict):
    """A logged encoder of either kind (text, or the table encoder)."""
    if data.get("type") == "text":
        return TextEncoder.from_dict(data)
    from tunaflow.components.table_encoder import TableEncoder

    return TableEncoder.from_dict(data)
