"""Tiny labelled text made up for tests: two topics told apart by their words."""

from __future__ import annotations

import numpy as np

SPORT = ["match", "goal", "team", "coach", "season", "league", "striker", "referee"]
COOKING = ["recipe", "oven", "flour", "butter", "sauce", "garlic", "simmer", "kitchen"]
FILLER = ["the", "a", "was", "very", "really", "today", "we", "saw", "and", "then"]


def sentences(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` sentences of 6-12 words, half about sport, half about cooking, and their labels."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = "sport" if i % 2 == 0 else "cooking"
        topic = SPORT if label == "sport" else COOKING
        words = [str(rng.choice(topic if rng.random() < 0.5 else FILLER)) for _ in range(rng.integers(6, 13))]
        texts.append(" ".join(words).capitalize() + rng.choice([".", "!", "?"]))
        labels.append(label)
    return texts, labels
