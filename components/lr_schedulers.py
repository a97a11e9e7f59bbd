"""The spec's learning-rate schedules as torch schedulers, stepped by skorch's ``LRScheduler``.

- step decay: ``LambdaLR`` with ``drop ** floor((1 + epoch) / epochs_drop)``;
- exponential: ``ExponentialLR``; cosine: ``CosineAnnealingLR`` over the fit's epochs, or
  ``CosineAnnealingWarmRestarts`` with ``restart_epochs``/``restart_mult``;
- plateau: ``ReduceLROnPlateau`` on the validation loss (the training loss without one);
- one-cycle: ``OneCycleLR``, stepped after every training batch.

Warm-up (``warmup_epochs``) scales the scheduled rate of the first epochs by
``(epoch + 1) / warmup_epochs`` and hands the unscaled rate back before the scheduler
steps, so chained schedulers (exponential, cosine, plateau) continue from the schedule,
not from the warmed rate. One-cycle has a warm-up of its own (``pct_start``) and ignores it.
What each epoch applies equals ``schedules.scheduled_lr`` for the formula schedules.
"""

from __future__ import annotations

import math
from functools import partial

from skorch.callbacks import Callback, LRScheduler
from torch.optim import lr_scheduler

from tunaflow.components.schedules import (
    CosineSchedule, ExponentialSchedule, OneCycleSchedule, PlateauSchedule, StepDecaySchedule,
)


def step_decay_factor(epoch: int, drop: float, epochs_drop: int) -> float:
    """The classic step decay as a multiple of the initial rate, for ``LambdaLR``."""
    return drop ** math.floor((1 + epoch) / epochs_drop)


class LinearWarmUp(Callback):
    """Scales the rate of each of the first ``epochs`` epochs by ``(epoch + 1) / epochs``.

    Placed before the ``LRScheduler`` callback: it scales at the epoch's start and restores
    the scheduler's own rate at its end, before the scheduler steps.
    """

    def __init__(self, epochs: int):
        self.epochs = epochs

    def initialize(self):
        self.unscaled_ = None
        return self

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        if epoch < self.epochs:
            groups = net.optimizer_.param_groups
            self.unscaled_ = [group["lr"] for group in groups]
            for group, lr in zip(groups, self.unscaled_):
                group["lr"] = lr * (epoch + 1) / self.epochs

    def on_epoch_end(self, net, **kwargs):
        if self.unscaled_ is not None:
            for group, lr in zip(net.optimizer_.param_groups, self.unscaled_):
                group["lr"] = lr
            self.unscaled_ = None


class EpochLearningRate(Callback):
    """Records the rate each epoch starts with as ``lr`` in the history (what tasks log)."""

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])


class BatchCountedLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` for a policy that needs the batches per epoch (one-cycle):
    they are counted from the training data when training begins."""

    def on_train_begin(self, net, X=None, **kwargs):
        self.steps_per_epoch = max(1, -(-len(X) // net.batch_size))
        super().on_train_begin(net, X=X, **kwargs)


def lr_scheduler_callback(schedule, lr: float, epochs: int, validated: bool) -> LRScheduler | None:
    """skorch's ``LRScheduler`` driving torch's scheduler for ``schedule``; None for a constant rate."""
    if isinstance(schedule, StepDecaySchedule):
        factor = partial(step_decay_factor, drop=schedule.drop, epochs_drop=schedule.epochs_drop)
        return LRScheduler(lr_scheduler.LambdaLR, event_name=None, lr_lambda=factor)
    if isinstance(schedule, ExponentialSchedule):
        return LRScheduler(lr_scheduler.ExponentialLR, event_name=None, gamma=schedule.gamma)
    if isinstance(schedule, CosineSchedule):
        if schedule.restart_epochs is None:
            return LRScheduler(lr_scheduler.CosineAnnealingLR, event_name=None, T_max=max(1, epochs),
                               eta_min=schedule.min_lr)
        return LRScheduler(lr_scheduler.CosineAnnealingWarmRestarts, event_name=None,
                           T_0=schedule.restart_epochs, T_mult=schedule.restart_mult, eta_min=schedule.min_lr)
    if isinstance(schedule, PlateauSchedule):
        # skorch passes ReduceLROnPlateau the monitored value of the epoch's history row;
        # the scoring callbacks that write it run before this one (skorch's defaults come first)
        return LRScheduler(lr_scheduler.ReduceLROnPlateau, monitor="valid_loss" if validated else "train_loss",
                           event_name=None, mode="min", factor=schedule.factor, patience=schedule.patience,
                           min_lr=schedule.min_lr)
    if isinstance(schedule, OneCycleSchedule):
        return BatchCountedLRScheduler(lr_scheduler.OneCycleLR, event_name=None, step_every="batch",
                                       max_lr=schedule.max_lr or 10 * lr, epochs=epochs,
                                       pct_start=schedule.pct_start)
    return None


def schedule_callbacks(schedule, lr: float, epochs: int, validated: bool) -> list[tuple[str, Callback]]:
    """The callbacks that apply ``train.lr_schedule`` over a fit of ``epochs`` and record ``lr``.

    Order matters: the warm-up scales before the rate is recorded and restores before the
    scheduler steps.
    """
    callbacks: list[tuple[str, Callback]] = []
    if schedule.warmup_epochs and not isinstance(schedule, OneCycleSchedule):
        callbacks.append(("lr_warmup", LinearWarmUp(schedule.warmup_epochs)))
    scheduler = lr_scheduler_callback(schedule, lr, epochs, validated)
    if scheduler is not None:
        callbacks.append(("lr_scheduler", scheduler))
    callbacks.append(("lr_record", EpochLearningRate()))
    return callbacks
