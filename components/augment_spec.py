"""The ``augment`` section of the spec: image operations, tabular noise and mixup.

Image operations are keyed by name (``augment.image.rotate.p``), so every probability
and magnitude has a readable dotted path for ``--set`` and ``search.space``, and the
parameter-importance plots name what they measure. An operation with ``p: 0`` is off;
all of them are off unless the spec turns them on. The operations, what their magnitudes
mean and their order are in ``augment_ops.IMAGE_OPS``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from tunaflow.components.augment_ops import IMAGE_OPS, Magnitude
from tunaflow.components.spec_section import SpecSection as _Section


Probability = Field(default=0.0, ge=0, le=1, description="Probability of applying the operation to an image.")


class FlipOp(_Section):
    p: float = Probability


def _op_model(name: str, magnitude: Magnitude) -> type[BaseModel]:
    meaning = magnitude.meaning
    return create_model(
        f"{name.title().replace('_', '')}Op",
        __base__=_Section,
        __doc__=f"Image operation {name!r}: magnitude is the {meaning}.",
        p=(float, Probability),
        magnitude=(float, Field(default=magnitude.default, ge=0, le=magnitude.high,
                                description=meaning.capitalize() + ".")),
    )


_OP_MODELS = {name: FlipOp if op.magnitude is None else _op_model(name, op.magnitude)
              for name, op in IMAGE_OPS.items()}

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


class TextOp(_Section):
    """An EDA operation (Wei and Zou 2019) on a training document."""

    p: float = Field(default=0.0, ge=0, le=1, description="Probability of applying the operation to a document.")
    strength: float = Field(default=0.1, gt=0, le=0.5, description="Share of the document's words it changes.")


class BackTranslateOp(_Section):
    p: float = Field(default=0.0, ge=0, le=1, description="Probability of replacing a document by its round "
                                                          "trip through another language.")


TEXT_OPS = ("synonym", "insert", "swap", "delete")


class TextAugmentSpec(_Section):
    """Text operations on training documents: WordNet synonyms, insertion of a synonym, swaps,
    deletions (each a probability and a strength), and back-translation."""

    synonym: TextOp = Field(default_factory=TextOp)
    insert: TextOp = Field(default_factory=TextOp)
    swap: TextOp = Field(default_factory=TextOp)
    delete: TextOp = Field(default_factory=TextOp)
    back_translate: BackTranslateOp = Field(default_factory=BackTranslateOp)

    def active(self) -> list[tuple[str, TextOp]]:
        """The EDA operations that can fire (p > 0), in application order."""
        return [(name, getattr(self, name)) for name in TEXT_OPS if getattr(self, name).p > 0]


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
    text: TextAugmentSpec = Field(default_factory=TextAugmentSpec)


def check_augment_fits(spec: AugmentSpec, kind: str, source: str, searched: set[str]) -> None:
    """Image operations need an image source; tabular noise and mixup a tabular one.

    A searched path counts as used: a trial could turn it on.
    """
    from tunaflow.components.errors import SpecError

    if kind != "image":
        used = [f"augment.image.{name}" for name, _ in spec.image.active()]
        used += sorted(p for p in searched if p.startswith("augment.image."))
        if used:
            raise SpecError(used[0], f"image operation on a {kind} source ({source})")
    text_used = [f"augment.text.{name}" for name, _ in spec.text.active()]
    text_used += [p for p in ("augment.text.back_translate",) if spec.text.back_translate.p > 0]
    text_used += sorted(p for p in searched if p.startswith("augment.text."))
    if text_used and kind != "text":
        raise SpecError(text_used[0], f"text operation on {'an' if kind == 'image' else 'a'} {kind} source ({source})")
    if text_used and spec.enabled:
        from tunaflow.components.text_augment import check_text_resources

        check_text_resources(text_used)
    if kind != "tabular":
        for name in ("noise", "mixup"):
            path = f"augment.tabular.{name}"
            if getattr(spec.tabular, name) > 0 or path in searched:
                raise SpecError(path, f"tabular {name} on {'an' if kind == 'image' else 'a'} {kind} source ({source})")
