"""Train-time augmentation of batches. Never applied to validation or test data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from components.spec import AugmentSpec


@dataclass
class TabularNoise:
    """Gaussian noise of ``noise`` standard deviations of each feature."""

    noise: float
    scale: torch.Tensor

    def __call__(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return X + torch.randn(X.shape, generator=generator) * (self.noise * self.scale)

    def describe(self) -> dict:
        return {"op": "gaussian_noise", "std": self.noise}


def build_augmentation(spec: AugmentSpec, kind: str, feature_std: np.ndarray):
    """A batch transform ``(X, generator) -> X`` or None for the identity."""
    if not spec.enabled:
        return None
    if kind == "tabular" and spec.tabular.noise > 0:
        return TabularNoise(spec.tabular.noise, torch.as_tensor(feature_std, dtype=torch.float32))
    return None


def describe_augmentation(augmentation) -> dict:
    """What the stage decided, as a plain dict to log."""
    if augmentation is None:
        return {"pipeline": "identity"}
    return {"pipeline": [augmentation.describe()]}
