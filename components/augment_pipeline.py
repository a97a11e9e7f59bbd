"""The image augmentation as an albumentations pipeline: built from the spec, saved, loaded.

The pipeline (albumentations' own serialized format) is what the augmentation stage
logs and what retraining reloads; both engines execute it. It works on float32 images
scaled to [0, 1] (the training data's range maps to it), so magnitudes mean the same
on digits (0..16) as on Fashion-MNIST (0..255).
"""

from __future__ import annotations

import math

import albumentations as A

from tunaflow.components.augment_spec import ImageAugmentSpec

FORMAT = "albumentations"


def elastic_parameters(magnitude: float, image_shape: tuple[int, ...]) -> tuple[float, float]:
    """albumentations' (alpha, sigma) for a typical displacement of ``magnitude`` x the side.

    Unit gaussian noise smoothed by a gaussian of ``sigma`` pixels has a standard
    deviation of about 1 / (2 sqrt(pi) sigma); alpha undoes that so the magnitude reads
    as a displacement, whatever the image size.
    """
    side = min(image_shape[:2])
    sigma = max(1.0, side / 8)
    return magnitude * side * 2 * math.sqrt(math.pi) * sigma, sigma


def _transform(name: str, op, image_shape: tuple[int, ...]) -> A.BasicTransform:
    m = getattr(op, "magnitude", 0.0)
    if name == "rotate":
        return A.Affine(rotate=(-m, m), keep_ratio=True, fill=0, p=op.p)
    if name == "translate":
        return A.Affine(translate_percent=(-m, m), fill=0, p=op.p)
    if name == "scale":
        return A.Affine(scale=(1 - m, 1 + m), keep_ratio=True, fill=0, p=op.p)
    if name == "hflip":
        return A.HorizontalFlip(p=op.p)
    if name == "vflip":
        return A.VerticalFlip(p=op.p)
    if name == "brightness_contrast":
        return A.RandomBrightnessContrast(brightness_limit=m, contrast_limit=m, p=op.p)
    if name == "noise":
        return A.GaussNoise(std_range=(0.0, m), p=op.p)
    if name == "elastic":
        alpha, sigma = elastic_parameters(m, image_shape)
        return A.ElasticTransform(alpha=alpha, sigma=sigma, fill=0, p=op.p)
    if name == "cutout":
        return A.CoarseDropout(num_holes_range=(1, 1), hole_height_range=(m, m), hole_width_range=(m, m),
                               fill=0, p=op.p)
    raise ValueError(f"unknown image operation {name!r}")


def build_pipeline(spec: ImageAugmentSpec, image_shape: tuple[int, ...], seed: int | None = None) -> A.Compose:
    """The spec's active operations, in order, for images of ``image_shape`` (H, W[, C])."""
    return A.Compose([_transform(name, op, image_shape) for name, op in spec.active()], seed=seed)


def pipeline_to_dict(pipeline: A.Compose) -> dict:
    return A.to_dict(pipeline)


def pipeline_from_dict(data: dict) -> A.Compose:
    return A.from_dict(data)


def transform_dicts(data: dict) -> list[dict]:
    """The serialized transforms of a saved pipeline, in order."""
    return list(data["transform"]["transforms"])
