"""Every seed derives from the spec's one seed and a label (and numbers such as a trial's)."""

from __future__ import annotations

import hashlib
import random

import numpy as np


def derive_seed(seed: int, *labels: object) -> int:
    """A stable 31-bit seed for ``labels`` under ``seed``; independent of PYTHONHASHSEED."""
    text = ":".join([str(seed), *map(str, labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def random_state() -> tuple:
    """The global random states (Python, NumPy, torch) that training draws from."""
    import torch

    return random.getstate(), np.random.get_state(), torch.random.get_rng_state()


def set_random_state(state: tuple) -> None:
    """Restore what ``random_state`` returned."""
    import torch

    python, numpy, torch_state = state
    random.setstate(python)
    np.random.set_state(numpy)
    torch.random.set_rng_state(torch_state)
