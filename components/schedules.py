"""Learning-rate schedules: the spec's sections, and each formula schedule as a function
of the epoch (``scheduled_lr``), the reference what training applies is checked against.

``epoch`` is 0-based. Step decay follows the classic recipe exactly:
``lr = initial_lr * drop ** floor((1 + epoch) / epochs_drop)``.
Training applies every schedule through torch's schedulers (``components.lr_schedulers``);
one-cycle and reduce-on-plateau depend on batches or on validation and have no formula here.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warmup_epochs: int = Field(default=0, ge=0, description="Linear warm-up from lr/warmup_epochs to lr.")


class ConstantSchedule(_Schedule):
    type: Literal["none"] = "none"


class StepDecaySchedule(_Schedule):
    type: Literal["step"] = "step"
    drop: float = Field(default=0.5, gt=0, le=1, description="Factor applied every epochs_drop epochs.")
    epochs_drop: int = Field(default=10, ge=1)


class ExponentialSchedule(_Schedule):
    type: Literal["exponential"] = "exponential"
    gamma: float = Field(default=0.95, gt=0, le=1, description="lr = initial_lr * gamma ** epoch.")


class CosineSchedule(_Schedule):
    type: Literal["cosine"] = "cosine"
    min_lr: float = Field(default=0.0, ge=0)
    restart_epochs: int | None = Field(
        default=None, ge=1, description="Warm restarts: the first cycle's length (SGDR); none anneals once.")
    restart_mult: int = Field(default=1, ge=1, description="Each cycle is this many times longer.")


class OneCycleSchedule(_Schedule):
    type: Literal["one_cycle"] = "one_cycle"
    max_lr: float | None = Field(default=None, gt=0, description="Peak lr; default 10x train.lr.")
    pct_start: float = Field(default=0.3, gt=0, lt=1)


class PlateauSchedule(_Schedule):
    type: Literal["plateau"] = "plateau"
    factor: float = Field(default=0.5, gt=0, lt=1)
    patience: int = Field(default=3, ge=0)
    min_lr: float = Field(default=0.0, ge=0)


LRSchedule = Annotated[
    Union[ConstantSchedule, StepDecaySchedule, ExponentialSchedule, CosineSchedule, OneCycleSchedule,
          PlateauSchedule],
    Field(discriminator="type"),
]
SCHEDULES = ("none", "step", "exponential", "cosine", "one_cycle", "plateau")


def _cosine(schedule: CosineSchedule, epoch: int, lr: float, epochs: int) -> float:
    if schedule.restart_epochs is None:
        position, length = epoch, max(1, epochs)
    else:
        position, length = epoch, schedule.restart_epochs
        while position >= length:
            position -= length
            length *= schedule.restart_mult
    return schedule.min_lr + (lr - schedule.min_lr) * (1 + math.cos(math.pi * position / length)) / 2


def scheduled_lr(schedule, epoch: int, lr: float, epochs: int) -> float:
    """The learning rate of 0-based ``epoch`` for formula schedules (warm-up included)."""
    if isinstance(schedule, StepDecaySchedule):
        value = lr * schedule.drop ** math.floor((1 + epoch) / schedule.epochs_drop)
    elif isinstance(schedule, ExponentialSchedule):
        value = lr * schedule.gamma ** epoch
    elif isinstance(schedule, CosineSchedule):
        value = _cosine(schedule, epoch, lr, epochs)
    else:
        value = lr
    if epoch < schedule.warmup_epochs:
        value *= (epoch + 1) / schedule.warmup_epochs
    return value

