"""Runs a serialized albumentations pipeline on whole batches in torch.

albumentations transforms one image per call; with its per-call Python that is about
2,000-3,000 images/s, several times slower than a small CNN's epoch on 8x8 or 28x28
images (bench/REPORT.md). This engine reads the same serialized pipeline and draws each
image's own random parameters, but transforms the whole batch with a few tensor
operations: consecutive affine transforms fold into one ``grid_sample`` per batch.

Images come in as float tensors in [0, 1], shaped (N, C, H, W).
"""

from __future__ import annotations

import torch

from tunaflow.components import augment_steps
from tunaflow.components.augment_ops import transform_steps

_STEPS = transform_steps()  # albumentations class -> step class name in augment_steps
SUPPORTED = tuple(_STEPS)


class VectorizedPipeline:
    """A serialized albumentations Compose, applied to (N, C, H, W) batches in [0, 1]."""

    def __init__(self, transforms: list[dict]):
        self.steps = []
        for t in transforms:
            name = t["__class_fullname__"].rsplit(".", 1)[-1]
            if name not in _STEPS:
                raise ValueError(f"the vectorized engine cannot run {name}; it runs {', '.join(SUPPORTED)}")
            self.steps.append(getattr(augment_steps, _STEPS[name])(t))

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        pending = None  # consecutive affine steps: one warp for all of them
        for step in self.steps:
            if isinstance(step, augment_steps.AffineStep):
                m, on = step.forward_matrices(x.shape, generator)
                pending = (m, on, step.fill) if pending is None else (m @ pending[0], on | pending[1], step.fill)
                continue
            if pending is not None:
                x, pending = self._warp(x, *pending), None
            x = step(x, generator)
        return x if pending is None else self._warp(x, *pending)

    @staticmethod
    def _warp(x, matrices, on, fill):
        return augment_steps.apply_where(x, on, lambda chosen, mask: augment_steps.warp(chosen, matrices[mask], fill))
