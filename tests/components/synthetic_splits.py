"""Small synthetic DataSplits for model tests: dense features, optional trailing category codes."""

from __future__ import annotations

import numpy as np

from tunaflow.components.data import DataSplits


def table_splits(task: str = "classification", n: int = 300, cards: tuple[int, ...] = (), seed: int = 0,
                 n_classes: int = 3) -> DataSplits:
    """A learnable table: y depends on two dense columns and (when given) the first code column.

    Regression targets are in large units (around 1000, spread ~100) so that a model that
    forgot to scale back would be far off.
    """
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n, 4)).astype(np.float32)
    codes = np.stack([rng.integers(0, card, n) for card in cards], axis=1).astype(np.float32) if cards \
        else np.zeros((n, 0), np.float32)
    signal = dense[:, 0] + 0.5 * dense[:, 1] + (codes[:, 0] / max(cards[0] - 1, 1) - 0.5 if cards else 0)
    X = np.hstack([dense, codes]).astype(np.float32)
    if task == "regression":
        y = (1000 + 100 * signal + rng.normal(scale=5, size=n)).astype(np.float32)
        classes = []
    else:
        edges = np.quantile(signal, np.linspace(0, 1, n_classes + 1)[1:-1])
        y = np.digitize(signal, edges).astype(np.int64)
        classes = [f"c{i}" for i in range(n_classes)]
    a, b = int(n * 0.6), int(n * 0.8)
    return DataSplits(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:], classes=classes, kind="tabular",
                      feature_names=[f"x{i}" for i in range(X.shape[1])], task=task, embedded=list(cards))
