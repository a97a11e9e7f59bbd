"""Train-time augmentation of batches. Never applied to validation or test data.

An ``Augmentation`` is handed to the training loader, which asks it once per epoch for
that epoch's batch transform ``(index, X, y) -> (X, y)``. Each epoch draws from its own
generator, seeded from the fit's seed (the spec's seed and the trial number) and the
epoch number, so a trial replays exactly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from tunaflow.components.augment_pipeline import build_pipeline, pipeline_from_dict, pipeline_to_dict, transform_dicts
from tunaflow.components.augment_prefetch import PrefetchedEpochs
from tunaflow.components.augment_spec import AugmentSpec
from tunaflow.components.augment_vectorized import VectorizedPipeline
from tunaflow.components.back_translate import BackTranslations, build_back_translate
from tunaflow.components.seeding import derive_seed
from tunaflow.components.text_augment import build_text_eda

# a batch operation (noise, mixup): (X, y, generator) -> (X, y)
BatchOp = Callable[[torch.Tensor, torch.Tensor | None, torch.Generator], tuple]


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
    """An albumentations pipeline on images scaled from ``value_range`` to [0, 1].

    It builds a whole epoch's augmented copy of the training images at once (in chunks),
    one epoch ahead: per batch, a tensor operation's fixed cost on 64 tiny images would
    exceed the work.
    """

    pipeline: dict  # albumentations' serialized Compose
    value_range: tuple[float, float]
    engine: str = "vectorized"
    seed: int = 0
    chunk: int = 4096

    def __post_init__(self):
        self.vectorized = VectorizedPipeline(transform_dicts(self.pipeline)) if self.engine == "vectorized" else None
        self.prefetch = PrefetchedEpochs(self._build)
        self._images: tuple[int, object] | None = None

    def to_unit(self, X: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        return (X - low) / max(high - low, 1e-12)

    def from_unit(self, X: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        return X * max(high - low, 1e-12) + low

    def _layout(self, X: torch.Tensor):
        """Unit-scaled images as the engine takes them: (N, C, H, W) tensor or (N, H, W, C) array."""
        x = self.to_unit(X.float())
        x = x.unsqueeze(-1) if x.dim() == 3 else x
        return x.permute(0, 3, 1, 2).contiguous() if self.vectorized is not None else x.numpy()

    def _build(self, images, epoch: int, stop) -> torch.Tensor:
        """Epoch ``epoch``'s augmentation of unit-scaled ``images``, as (N, H, W, C) in [0, 1]."""
        seed = derive_seed(self.seed, "augment", epoch)
        if self.vectorized is not None:
            generator = torch.Generator().manual_seed(seed)
            parts = []
            for start in range(0, len(images), self.chunk):
                if stop.is_set():
                    break
                parts.append(self.vectorized(images[start:start + self.chunk], generator))
            return torch.cat(parts).permute(0, 2, 3, 1) if parts else images.permute(0, 2, 3, 1)
        compose = pipeline_from_dict(self.pipeline)
        compose.set_random_seed(seed)
        out = np.empty_like(images)
        for i, image in enumerate(images):
            if stop.is_set():
                break
            out[i] = compose(image=image)["image"].reshape(image.shape)
        return torch.from_numpy(out)

    def epoch_images(self, X: torch.Tensor, epoch: int) -> torch.Tensor:
        """The training images ``X`` (raw scale) augmented for ``epoch``, shaped like ``X``."""
        if self._images is None or self._images[0] != id(X):
            self._images = (id(X), self._layout(X))
        return self.from_unit(self.prefetch.epoch(self._images[1], epoch).reshape(X.shape))

    def preview(self, X: np.ndarray, variants: int, seed: int) -> np.ndarray:
        """``variants`` augmented draws of each image in ``X``: (len(X), variants, H, W[, C]), raw scale."""
        repeated = torch.as_tensor(np.repeat(X, variants, axis=0), dtype=torch.float32)
        out = self._build(self._layout(repeated), seed, threading.Event())
        return self.from_unit(out).reshape(len(X), variants, *X.shape[1:]).numpy()

    def close(self) -> None:
        self.prefetch.close()


class Augmentation:
    """What the training loader applies: image operations, then batch operations (noise, mixup)."""

    def __init__(self, seed: int, image: ImageAugmentation | None = None, batch_ops: list[BatchOp] | None = None):
        self.seed, self.image, self.batch_ops = seed, image, list(batch_ops or [])
        self.epoch = 0

    def start_epoch(self, X: torch.Tensor):
        """The next epoch's transform ``(index, Xb, yb) -> (Xb, yb)`` for batches of ``X``."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        generator = torch.Generator().manual_seed(derive_seed(self.seed, "augment", epoch))
        source = self.image.epoch_images(X, epoch) if self.image is not None else None

        def transform(index, Xb, yb):
            if source is not None:
                Xb = source[index]
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
                       n_classes: int, feature_std: np.ndarray | None = None,
                       vocabulary: list[str] | None = None,
                       back_translations: BackTranslations | None = None) -> Augmentation | None:
    """The spec's augmentation for training data ``X``, or None for the identity (``vocabulary``:
    the text encoder's, for text operations; ``back_translations``: the documents, for back-translation)."""
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
    if kind == "text" and spec.text.back_translate.p > 0:  # first: EDA then changes the round trip too
        ops.append(build_back_translate(spec.text.back_translate.p, back_translations))
    if kind == "text" and (eda := build_text_eda(spec.text, vocabulary)) is not None:
        ops.append(eda)
    if image is None and not ops:
        return None
    return Augmentation(seed, image, ops)


def image_augmentation_from_pipeline(pipeline: dict, value_range, engine: str, seed: int) -> Augmentation:
    """An augmentation that runs a saved albumentations pipeline (reloaded from a run)."""
    return Augmentation(seed, ImageAugmentation(pipeline, tuple(value_range), engine, seed))


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
