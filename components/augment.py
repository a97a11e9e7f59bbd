"""Train-time augmentation of batches. Never applied to validation or test data.

An ``Augmentation`` is handed to the training loader, which asks it once per epoch for
that epoch's batch transform ``(index, X, y) -> (X, y)``. Each epoch draws from its own
generator, seeded from the fit's seed (the spec's seed and the trial number) and the
epoch number, so a trial replays exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from components.augment_pipeline import build_pipeline, pipeline_to_dict, transform_dicts
from components.augment_prefetch import PrefetchedEpochs
from components.augment_spec import AugmentSpec
from components.augment_vectorized import VectorizedPipeline
from components.seeding import derive_seed

BatchTransform = Callable[[torch.Tensor, torch.Tensor | None, torch.Generator], tuple]


@dataclass
class TabularNoise:
    """Gaussian noise of ``noise`` standard deviations of each feature."""

    noise: float
    scale: torch.Tensor

    def __call__(self, X, y, generator):
        return X + torch.randn(X.shape, generator=generator) * (self.noise * self.scale), y

    def describe(self) -> dict:
        return {"op": "gaussian_noise", "std": self.noise}


@dataclass
class Mixup:
    """Each sample mixed with a random partner of the batch, labels mixed alike (soft targets).

    The weight is drawn from Beta(alpha, alpha) per sample; the loss (cross-entropy)
    takes the class probabilities as its target.
    """

    alpha: float
    n_classes: int

    def __call__(self, X, y, generator):
        if y is None or len(X) < 2:
            return X, y
        rng = np.random.default_rng(int(torch.randint(2 ** 31, (1,), generator=generator)))
        lam = torch.as_tensor(rng.beta(self.alpha, self.alpha, len(X)), dtype=torch.float32)
        partner = torch.randperm(len(X), generator=generator)
        target = y if y.dim() == 2 else torch.nn.functional.one_hot(y, self.n_classes).float()
        shape = (-1,) + (1,) * (X.dim() - 1)
        X = lam.view(shape) * X + (1 - lam.view(shape)) * X[partner]
        return X, lam[:, None] * target + (1 - lam[:, None]) * target[partner]

    def describe(self) -> dict:
        return {"op": "mixup", "alpha": self.alpha}


@dataclass
class ImageAugmentation:
    """An albumentations pipeline on images scaled from ``value_range`` to [0, 1]."""

    pipeline: dict  # albumentations' serialized Compose
    value_range: tuple[float, float]
    engine: str = "vectorized"
    seed: int = 0
    vectorized: VectorizedPipeline | None = field(default=None, init=False)
    prefetch: PrefetchedEpochs | None = field(default=None, init=False)

    def __post_init__(self):
        if self.engine == "vectorized":
            self.vectorized = VectorizedPipeline(transform_dicts(self.pipeline))
        else:
            self.prefetch = PrefetchedEpochs(self.pipeline, self.seed)
        self._images: tuple[int, np.ndarray] | None = None

    def to_unit(self, X: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        return (X - low) / max(high - low, 1e-12)

    def from_unit(self, X: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        return X * max(high - low, 1e-12) + low

    def apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Vectorized engine: a batch of raw images (N, H, W[, C]) -> augmented raw images."""
        x = self.to_unit(X.float())
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
        x = self.vectorized(x, generator)
        x = x.squeeze(1) if X.dim() == 3 else x.permute(0, 2, 3, 1)
        return self.from_unit(x)

    def epoch_images(self, X: torch.Tensor, epoch: int) -> torch.Tensor:
        """albumentations engine: the whole training set augmented for ``epoch``, raw scale."""
        if self._images is None or self._images[0] != id(X):
            unit = self.to_unit(X.float()).numpy()
            self._images = (id(X), np.ascontiguousarray(unit if unit.ndim == 4 else unit[..., None]))
        out = self.prefetch.epoch(self._images[1], epoch)
        return self.from_unit(out.reshape(X.shape))

    def close(self) -> None:
        if self.prefetch is not None:
            self.prefetch.close()


class Augmentation:
    """What the training loader applies: image operations, then batch operations (noise, mixup)."""

    def __init__(self, seed: int, image: ImageAugmentation | None = None, batch_ops: list | None = None):
        self.seed, self.image, self.batch_ops = seed, image, list(batch_ops or [])
        self.epoch = 0

    def start_epoch(self, X: torch.Tensor):
        """The next epoch's transform ``(index, Xb, yb) -> (Xb, yb)`` for batches of ``X``."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        generator = torch.Generator().manual_seed(derive_seed(self.seed, "augment", epoch))
        source = None
        if self.image is not None and self.image.prefetch is not None:
            source = self.image.epoch_images(X, epoch)

        def transform(index, Xb, yb):
            if source is not None:
                Xb = source[index]
            elif self.image is not None:
                Xb = self.image.apply(Xb, generator)
            for op in self.batch_ops:
                Xb, yb = op(Xb, yb, generator)
            return Xb, yb

        return transform

    def close(self) -> None:
        if self.image is not None:
            self.image.close()


def image_value_range(X: np.ndarray) -> tuple[float, float]:
    return float(np.min(X)), float(np.max(X))


def build_augmentation(spec: AugmentSpec, kind: str, X: np.ndarray, *, seed: int,
                       n_classes: int, feature_std: np.ndarray | None = None) -> Augmentation | None:
    """The spec's augmentation for training data ``X``, or None for the identity."""
    if not spec.enabled:
        return None
    image, ops = None, []
    if kind == "image" and spec.image.active():
        pipeline = pipeline_to_dict(build_pipeline(spec.image, X.shape[1:]))
        image = ImageAugmentation(pipeline, image_value_range(X), spec.engine, seed)
    if kind == "tabular" and spec.tabular.noise > 0:
        std = feature_std if feature_std is not None else X.std(axis=0)
        ops.append(TabularNoise(spec.tabular.noise, torch.as_tensor(std, dtype=torch.float32)))
    if kind == "tabular" and spec.tabular.mixup > 0:
        ops.append(Mixup(spec.tabular.mixup, n_classes))
    if image is None and not ops:
        return None
    return Augmentation(seed, image, ops)


def describe_augmentation(augmentation: Augmentation | None) -> dict:
    """What the stage decided, as a plain dict to log."""
    if augmentation is None:
        return {"pipeline": "identity"}
    out: dict = {"pipeline": [op.describe() for op in augmentation.batch_ops]}
    if augmentation.image is not None:
        image = augmentation.image
        out.update(engine=image.engine, value_range=list(image.value_range),
                   image_pipeline=[t["__class_fullname__"] for t in transform_dicts(image.pipeline)])
    return out
