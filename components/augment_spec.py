"""The ``augment`` section of the spec: image operations, tabular noise and mixup.

Image operations are keyed by name (``augment.image.rotate.p``), so every probability
and magnitude has a readable dotted path for ``--set`` and ``search.space``, and the
parameter-importance plots name what they measure. An operation with ``p: 0`` is off;
all of them are off unless the spec turns them on. They run in the order listed in
``IMAGE_OPS`` (geometry, then intensity, then occlusion), whatever the YAML order.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from tunaflow.components.spec_section import SpecSection as _Section


Probability = Field(default=0.0, ge=0, le=1, description="Probability of applying the operation to an image.")

# name -> (what the magnitude means, its upper bound, its default); flips have none
IMAGE_OPS: dict[str, tuple[str, float, float] | None] = {
    "rotate": ("largest angle in degrees (uniform in +-magnitude)", 180.0, 15.0),
    "translate": ("largest shift as a fraction of the image side, per axis", 0.5, 0.1),
    "scale": ("largest zoom in or out as a fraction (scale in 1 +- magnitude)", 0.5, 0.1),
    "hflip": None,
    "vflip": None,
    "elastic": ("typical elastic displacement as a fraction of the image side", 0.25, 0.05),
    "brightness_contrast": ("largest change of brightness and of contrast, a fraction of the range", 1.0, 0.2),
    "noise": ("largest std of gaussian noise, a fraction of the pixel range", 0.5, 0.05),
    "cutout": ("side of the square hole as a fraction of the image side", 0.75, 0.25),
}


class FlipOp(_Section):
    p: float = Probability


def _op_model(name: str, meaning: str, high: float, default: float) -> type[BaseModel]:
    return create_model(
        f"{name.title().replace('_', '')}Op",
        __base__=_Section,
        __doc__=f"Image operation {name!r}: magnitude is the {meaning}.",
        p=(float, Probability),
        magnitude=(float, Field(default=default, ge=0, le=high, description=meaning.capitalize() + ".")),
    )


_OP_MODELS = {name: FlipOp if info is None else _op_model(name, *info) for name, info in IMAGE_OPS.items()}

_ImageFields = create_model(
    "_ImageFields",
    __base__=_Section,
    **{name: (model, Field(default_factory=model)) for name, model in _OP_MODELS.items()},
)


class ImageAugmentSpec(_ImageFields):
    """Image operations by name, each with a probability ``p`` and a ``magnitude``."""

    @model_validator(mode="before")
    @classmethod
    def _known_operations(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [str(k) for k in data if k not in IMAGE_OPS]
            if unknown:
                raise ValueError(f"unknown operation {unknown[0]!r}; valid operations: {', '.join(IMAGE_OPS)}")
        return data

    def active(self) -> list[tuple[str, BaseModel]]:
        """The operations that can fire (p > 0), in application order."""
        return [(name, getattr(self, name)) for name in IMAGE_OPS if getattr(self, name).p > 0]


class TabularAugmentSpec(_Section):
    noise: float = Field(
        default=0.0, ge=0, description="Std of gaussian noise added to standardized features.")
    mixup: float = Field(
        default=0.0, ge=0, le=10,
        description="Mixup: alpha of the Beta(alpha, alpha) mixing weight; 0 turns it off.")


class AugmentSpec(_Section):
    """Train-time augmentation; applied to training batches only."""

    enabled: bool = True
    engine: Literal["vectorized", "albumentations"] = Field(
        default="vectorized",
        description="vectorized: the albumentations pipeline's operations run on whole batches in torch; "
                    "albumentations: albumentations itself, one image at a time, the next epoch built "
                    "in a background thread.")
    image: ImageAugmentSpec = Field(default_factory=ImageAugmentSpec)
    tabular: TabularAugmentSpec = Field(default_factory=TabularAugmentSpec)


def check_augment_fits(spec: AugmentSpec, kind: str, source: str, searched: set[str]) -> None:
    """Image operations need an image source; tabular noise and mixup a tabular one.

    A searched path counts as used: a trial could turn it on.
    """
    from tunaflow.components.errors import SpecError

    if kind != "image":
        used = [f"augment.image.{name}" for name, _ in spec.image.active()]
        used += sorted(p for p in searched if p.startswith("augment.image."))
        if used:
            raise SpecError(used[0], f"image operation on a tabular source ({source})")
    else:
        for name in ("noise", "mixup"):
            path = f"augment.tabular.{name}"
            if getattr(spec.tabular, name) > 0 or path in searched:
                raise SpecError(path, f"tabular {name} on an image source ({source})")
