"""The image augmentation operations, each described once.

An operation has a name (its key under ``augment.image`` in the spec), what its
magnitude means and how far it may go, the albumentations transform it builds and that
transform's arguments for a magnitude, and the vectorized engine's step that runs the
same transform on whole batches. The spec's fields, the albumentations pipeline and the
vectorized engine all read this table.

Transforms and steps are named, not imported: albumentations (and OpenCV under it) is
imported only by whoever builds a pipeline, and torch only by the vectorized engine, so
reading the spec imports neither. Operations run in the table's order (geometry, then
intensity, then occlusion), whatever the YAML order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Magnitude:
    meaning: str  # completes "magnitude is the ..."
    high: float
    default: float


@dataclass(frozen=True)
class ImageOp:
    name: str
    magnitude: Magnitude | None  # None: only a probability (flips)
    transform: str  # albumentations' class, also the name its serialized form carries
    arguments: Callable[[float, tuple[int, ...]], dict]  # (magnitude, image shape) -> the transform's arguments
    step: str  # the class in augment_steps that runs ``transform`` on a batch


def elastic_parameters(magnitude: float, image_shape: tuple[int, ...]) -> tuple[float, float]:
    """albumentations' (alpha, sigma) for a typical displacement of ``magnitude`` x the side.

    Unit gaussian noise smoothed by a gaussian of ``sigma`` pixels has a standard
    deviation of about 1 / (2 sqrt(pi) sigma); alpha undoes that so the magnitude reads
    as a displacement, whatever the image size.
    """
    side = min(image_shape[:2])
    sigma = max(1.0, side / 8)
    return magnitude * side * 2 * math.sqrt(math.pi) * sigma, sigma


def _elastic(m: float, image_shape: tuple[int, ...]) -> dict:
    alpha, sigma = elastic_parameters(m, image_shape)
    return dict(alpha=alpha, sigma=sigma, fill=0)


_OPS = [
    ImageOp("rotate", Magnitude("largest angle in degrees (uniform in +-magnitude)", 180.0, 15.0),
            "Affine", lambda m, _: dict(rotate=(-m, m), keep_ratio=True, fill=0), "AffineStep"),
    ImageOp("translate", Magnitude("largest shift as a fraction of the image side, per axis", 0.5, 0.1),
            "Affine", lambda m, _: dict(translate_percent=(-m, m), fill=0), "AffineStep"),
    ImageOp("scale", Magnitude("largest zoom in or out as a fraction (scale in 1 +- magnitude)", 0.5, 0.1),
            "Affine", lambda m, _: dict(scale=(1 - m, 1 + m), keep_ratio=True, fill=0), "AffineStep"),
    ImageOp("hflip", None, "HorizontalFlip", lambda m, _: {}, "HorizontalFlipStep"),
    ImageOp("vflip", None, "VerticalFlip", lambda m, _: {}, "VerticalFlipStep"),
    ImageOp("elastic", Magnitude("typical elastic displacement as a fraction of the image side", 0.25, 0.05),
            "ElasticTransform", _elastic, "ElasticStep"),
    ImageOp("brightness_contrast",
            Magnitude("largest change of brightness and of contrast, a fraction of the range", 1.0, 0.2),
            "RandomBrightnessContrast", lambda m, _: dict(brightness_limit=m, contrast_limit=m),
            "BrightnessContrastStep"),
    ImageOp("noise", Magnitude("largest std of gaussian noise, a fraction of the pixel range", 0.5, 0.05),
            "GaussNoise", lambda m, _: dict(std_range=(0.0, m)), "GaussNoiseStep"),
    ImageOp("cutout", Magnitude("side of the square hole as a fraction of the image side", 0.75, 0.25),
            "CoarseDropout",
            lambda m, _: dict(num_holes_range=(1, 1), hole_height_range=(m, m), hole_width_range=(m, m), fill=0),
            "CoarseDropoutStep"),
]

IMAGE_OPS: dict[str, ImageOp] = {op.name: op for op in _OPS}


def transform_steps() -> dict[str, str]:
    """albumentations class -> the step that runs it, for every transform the table builds."""
    steps: dict[str, str] = {}
    for op in _OPS:
        if steps.setdefault(op.transform, op.step) != op.step:
            raise ValueError(f"{op.transform} has two steps: {steps[op.transform]} and {op.step}")
    return steps
