"""Text networks on token-id matrices (components/text_encoder.py): fastText and Kim's CNN.

Their input is the float32 id matrix every split holds (0 pads, 1 is an unknown word);
each casts it to ids itself. Embeddings are sparse: a batch updates only the rows of the
words it holds (components/sparse_optimizers.py trains them).
"""

from __future__ import annotations

import torch
from torch import nn

from tunaflow.components.model_spec import FastTextSpec, TextCNNSpec

# bigram (a, b) -> bucket (a * _MIX + b) mod buckets: integer arithmetic, the same in every
# process and on every machine (Python's hash of a tuple is salted per process for strings)
_MIX = 1_000_003


def _ids(x: torch.Tensor, max_length: int | None) -> torch.Tensor:
    if max_length is not None:
        x = x[:, :max_length]
    return x.long().clamp(min=0)


def hashed_bigrams(ids: torch.Tensor, vocab_size: int, buckets: int) -> torch.Tensor:
    """The id (past the vocabulary) of each pair of neighbouring words; 0 where either is padding."""
    left, right = ids[:, :-1], ids[:, 1:]
    bucket = (left * _MIX + right) % buckets + vocab_size
    return torch.where((left > 0) & (right > 0), bucket, torch.zeros_like(bucket))


class FastTextNetwork(nn.Module):
    """Mean of word (and bigram) embeddings -> dropout -> the output layer."""

    def __init__(self, vocab_size: int, n_outputs: int, spec: FastTextSpec, task: str = "classification"):
        from tunaflow.components.models import output_layers

        super().__init__()
        self.vocab_size, self.max_length = vocab_size, spec.max_length
        self.buckets = spec.buckets if spec.bigrams else 0
        self.embedding = nn.EmbeddingBag(vocab_size + self.buckets, spec.dim, mode="mean", sparse=True,
                                         padding_idx=0)
        nn.init.uniform_(self.embedding.weight, -1.0 / spec.dim, 1.0 / spec.dim)
        rate = spec.dropout if isinstance(spec.dropout, float) else (spec.dropout or [0.0])[0]
        self.head = nn.Sequential(*([nn.Dropout(rate)] if rate > 0 else []),
                                  *output_layers(spec.dim, n_outputs, spec, task))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = _ids(x, self.max_length)
        if self.buckets and ids.shape[1] > 1:
            ids = torch.cat([ids, hashed_bigrams(ids, self.vocab_size, self.buckets)], dim=1)
        return self.head(self.embedding(ids))


class TextCNNNetwork(nn.Module):
    """Embeddings -> one convolution per kernel size -> activation, max over time -> dropout -> head."""

    def __init__(self, vocab_size: int, n_outputs: int, spec: TextCNNSpec, task: str = "classification"):
        from tunaflow.components.models import make_activation, output_layers

        super().__init__()
        self.max_length = spec.max_length
        self.shortest = max(spec.kernel_sizes)
        self.embedding = nn.Embedding(vocab_size, spec.dim, padding_idx=0, sparse=True)
        self.convs = nn.ModuleList(nn.Conv1d(spec.dim, spec.channels, k) for k in spec.kernel_sizes)
        self.activation = make_activation(spec.activation)
        width = spec.channels * len(spec.kernel_sizes)
        self.head = nn.Sequential(*([nn.Dropout(spec.dropout)] if spec.dropout > 0 else []),
                                  *output_layers(width, n_outputs, spec, task))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = _ids(x, self.max_length)
        if ids.shape[1] < self.shortest:  # a document shorter than the widest kernel
            ids = nn.functional.pad(ids, (0, self.shortest - ids.shape[1]))
        h = self.embedding(ids).transpose(1, 2)
        pooled = [self.activation(conv(h)).amax(dim=2) for conv in self.convs]
        return self.head(torch.cat(pooled, dim=1))


def build_text_network(spec, vocab_size: int, n_outputs: int, task: str) -> nn.Module:
    network = FastTextNetwork if spec.family == "fasttext" else TextCNNNetwork
    return network(vocab_size, n_outputs, spec, task)
