"""The image augmentation as an albumentations pipeline: built from the spec, saved, loaded.

The pipeline (albumentations' own serialized format) is what the augmentation stage
logs and what retraining reloads; both engines execute it. It works on float32 images
scaled to [0, 1] (the training data's range maps to it), so magnitudes mean the same
on digits (0..16) as on Fashion-MNIST (0..255).

albumentations (and OpenCV under it) is imported on first use: a run without image
augmentation never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunaflow.components.augment_ops import IMAGE_OPS
from tunaflow.components.augment_spec import ImageAugmentSpec

if TYPE_CHECKING:
    import albumentations as A

FORMAT = "albumentations"


def _albumentations():
    import albumentations

    return albumentations


def build_pipeline(spec: ImageAugmentSpec, image_shape: tuple[int, ...], seed: int | None = None) -> "A.Compose":
    """The spec's active operations, in order, for images of ``image_shape`` (H, W[, C])."""
    A = _albumentations()
    transforms = []
    for name, settings in spec.active():
        op = IMAGE_OPS[name]
        arguments = op.arguments(getattr(settings, "magnitude", 0.0), image_shape)
        transforms.append(getattr(A, op.transform)(**arguments, p=settings.p))
    return A.Compose(transforms, seed=seed)


def pipeline_to_dict(pipeline: "A.Compose") -> dict:
    return _albumentations().to_dict(pipeline)


def pipeline_from_dict(data: dict) -> "A.Compose":
    return _albumentations().from_dict(data)


def save_pipeline(data: dict, path: str) -> None:
    """A serialized pipeline to ``path`` as albumentations' own JSON (``A.save``)."""
    A = _albumentations()
    A.save(A.from_dict(data), path, data_format="json")


def load_pipeline(path: str) -> dict:
    """A pipeline saved by ``save_pipeline`` (or ``A.save``), serialized."""
    A = _albumentations()
    return A.to_dict(A.load(path, data_format="json"))


def transform_dicts(data: dict) -> list[dict]:
    """The serialized transforms of a saved pipeline, in order."""
    return list(data["transform"]["transforms"])
