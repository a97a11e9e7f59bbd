"""Training a module through skorch, on a tensor data path that batches by slicing."""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass, field
from typing import Callable, Generator

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping
from skorch.dataset import Dataset as SkorchDataset
from skorch.helper import predefined_split
from skorch.utils import TeeGenerator

from tunaflow.components.models import weight_layers
from tunaflow.components.schedules import OneCycleSchedule, PlateauSchedule, is_formula, scheduled_lr
from tunaflow.components.seeding import random_state, set_random_state
from tunaflow.components.spec import TrainSpec, per_layer

_OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}


class TensorBatchLoader:
    """Batches a skorch Dataset of tensors by slicing: no per-sample Python.

    skorch calls ``iterator_train(dataset, batch_size=..., shuffle=...)`` each epoch;
    the optional ``transform`` (an ``Augmentation``) augments training batches only: it
    gives each epoch its own seeded batch transform.
    """

    def __init__(self, dataset, batch_size: int = 64, shuffle: bool = False,
                 generator: torch.Generator | None = None, transform=None):
        self.X = torch.as_tensor(dataset.X)
        self.y = None if dataset.y is None else torch.as_tensor(dataset.y)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.transform = transform

    def __len__(self) -> int:
        return (len(self.X) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.X)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        augment = self.transform.start_epoch(self.X) if self.transform is not None else None
        for start in range(0, n, self.batch_size):
            if order is None:
                index = slice(start, start + self.batch_size)
            else:
                index = order[start:start + self.batch_size]
            Xb, yb = self.X[index], None if self.y is None else self.y[index]
            if augment is not None:
                Xb, yb = augment(index, Xb, yb)
            yield Xb, yb


_REPORTED = ("train_loss", "valid_loss", "valid_acc", "dur", "lr")


def epoch_metrics(row) -> dict[str, float]:
    """The scalar metrics of one skorch history row that a report sees."""
    return {k: float(v) for k, v in row.items() if k in _REPORTED}


@dataclass
class FitResult:
    """What a fit produced, in plain values."""

    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    samples_per_second: float = 0.0


def optimizer_params(train: TrainSpec) -> dict:
    """The chosen optimizer's own parameters, as skorch ``optimizer__`` arguments."""
    params: dict = {"weight_decay": train.weight_decay, "eps": train.eps}
    if train.optimizer == "sgd":
        params = {"weight_decay": train.weight_decay, "momentum": train.momentum, "nesterov": train.nesterov}
    elif train.optimizer == "rmsprop":
        params.update(momentum=train.momentum, alpha=train.alpha)
    else:
        params["betas"] = tuple(train.betas)
    return params


class RegularizedClassifier(NeuralNetClassifier):
    """skorch's classifier with L1 and L2 penalties on weights (never biases), per layer,
    and a leaner per-batch path.

    ``l1``/``l2`` are one coefficient or one per linear/conv layer in order. The penalty
    is added to the training loss only; validation losses stay comparable across trials.

    Per batch, skorch calls every callback for every event and re-applies train/eval mode
    to the module; on small networks that Python costs as much as the arithmetic. Here an
    event goes only to callbacks that handle it, and the mode is set only when it changes.
    """

    def __init__(self, *args, l1=0.0, l2=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l1 = l1
        self.l2 = l2

    def _penalized(self) -> list[tuple[torch.Tensor, float, float]]:
        layers = weight_layers(self.module_)
        l1, l2 = per_layer(self.l1, len(layers)), per_layer(self.l2, len(layers))
        return [(layer.weight, a, b) for layer, a, b in zip(layers, l1, l2) if a or b]

    def initialize_module(self):
        super().initialize_module()
        self.penalized_ = self._penalized()
        return self

    def initialize_callbacks(self):
        super().initialize_callbacks()
        self.listeners_: dict[str, list] = {}
        return self

    def _listeners(self, method_name: str) -> list:
        listeners = self.listeners_.get(method_name)
        if listeners is None:
            default = getattr(Callback, method_name, None)
            listeners = [cb for _, cb in self.callbacks_ if getattr(type(cb), method_name, None) is not default]
            self.listeners_[method_name] = listeners
        return listeners

    def notify(self, method_name, **cb_kwargs):
        getattr(self, method_name)(self, **cb_kwargs)
        for callback in self._listeners(method_name):
            getattr(callback, method_name)(self, **cb_kwargs)

    def train_step(self, batch, **fit_params):
        # the optimizers here need no closure (LBFGS is not offered), so step them plainly
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        if self._listeners("on_grad_computed"):
            self.notify("on_grad_computed", named_parameters=TeeGenerator(self.get_all_learnable_params()),
                        batch=batch, training=True)
        self._step_optimizer(None)
        return step

    def _set_training(self, training=True):
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            for weight, l1, l2 in self.penalized_:
                if l1:
                    loss = loss + l1 * weight.abs().sum()
                if l2:
                    loss = loss + l2 * weight.pow(2).sum()
        return loss


class LearningRateSchedule(Callback):
    """Applies ``train.lr_schedule`` and records the learning rate of each epoch as ``lr``.

    Formula schedules set the rate at each epoch's start; one-cycle steps torch's
    OneCycleLR after every batch; plateau steps ReduceLROnPlateau on the validation loss.
    """

    def __init__(self, train: TrainSpec):
        self.train = train

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        schedule = self.train.lr_schedule
        self.scheduler_ = None
        if isinstance(schedule, OneCycleSchedule):
            steps = -(-len(X) // net.batch_size)
            self.scheduler_ = torch.optim.lr_scheduler.OneCycleLR(
                net.optimizer_, max_lr=schedule.max_lr or 10 * self.train.lr, epochs=net.max_epochs,
                steps_per_epoch=steps, pct_start=schedule.pct_start)
        elif isinstance(schedule, PlateauSchedule):
            self.scheduler_ = torch.optim.lr_scheduler.ReduceLROnPlateau(
                net.optimizer_, mode="min", factor=schedule.factor, patience=schedule.patience,
                min_lr=schedule.min_lr)

    def _set(self, net, lr: float) -> None:
        for group in net.optimizer_.param_groups:
            group["lr"] = lr

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        schedule = self.train.lr_schedule
        if is_formula(schedule):
            self._set(net, scheduled_lr(schedule, epoch, self.train.lr, net.max_epochs))
        elif isinstance(schedule, PlateauSchedule) and epoch < schedule.warmup_epochs:
            self._set(net, self.train.lr * (epoch + 1) / schedule.warmup_epochs)
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])

    def on_batch_end(self, net, training=False, **kwargs):
        if training and isinstance(self.scheduler_, torch.optim.lr_scheduler.OneCycleLR):
            if self.scheduler_.last_epoch + 1 < self.scheduler_.total_steps:
                self.scheduler_.step()

    def on_epoch_end(self, net, **kwargs):
        if isinstance(self.scheduler_, torch.optim.lr_scheduler.ReduceLROnPlateau):
            row = net.history[-1]
            self.scheduler_.step(row["valid_loss"] if "valid_loss" in row else row["train_loss"])


def build_classifier(module: torch.nn.Module, train: TrainSpec, *, seed: int,
                     valid: tuple[np.ndarray, np.ndarray] | None = None,
                     epochs: int | None = None, augmentation=None,
                     callbacks: list | None = None) -> NeuralNetClassifier:
    """A skorch classifier for ``module``; validation on ``valid`` when given."""
    generator = torch.Generator().manual_seed(seed)
    all_callbacks = [("lr_schedule", LearningRateSchedule(train))]
    if train.grad_clip:
        all_callbacks.append(("grad_clip", GradientNormClipping(train.grad_clip)))
    all_callbacks += list(callbacks or [])
    if valid is not None and train.early_stopping.enabled:
        stop = train.early_stopping
        all_callbacks.append(("early_stopping", EarlyStopping(
            monitor=stop.monitor, patience=stop.patience, threshold=stop.min_delta,
            threshold_mode="abs", lower_is_better=stop.monitor.endswith("loss"),
            load_best=stop.restore_best, sink=lambda *_: None,
        )))
    return RegularizedClassifier(
        module,
        l1=train.l1,
        l2=train.l2,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=_OPTIMIZERS[train.optimizer],
        lr=train.lr,
        max_epochs=epochs or train.epochs,
        batch_size=train.batch_size,
        iterator_train=TensorBatchLoader,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        iterator_train__transform=augmentation,
        iterator_valid=TensorBatchLoader,
        iterator_valid__batch_size=1024,
        train_split=None if valid is None else predefined_split(SkorchDataset(
            torch.as_tensor(valid[0]), torch.as_tensor(valid[1]))),
        callbacks=all_callbacks,
        verbose=0,
        device="cpu",
        **{f"optimizer__{k}": v for k, v in optimizer_params(train).items()},
    )


def fit_epochs(net: NeuralNetClassifier, X: np.ndarray, y: np.ndarray) -> Generator[tuple[int, dict], None, FitResult]:
    """Fit ``net`` one epoch at a time: yields (epoch, metrics) after each, returns the FitResult.

    It runs skorch's fit (initialize, ``on_train_begin``, the epochs, ``on_train_end``)
    with a pause after every epoch; early stopping ends it after the epoch that stops.
    Other fits may run during a pause: this fit keeps its own global random state
    (dropout draws from it) from one epoch to the next, so fits run in turns train
    exactly as they would one after another. Closing the generator mid-fit skips
    ``on_train_end``.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if not net.warm_start or not net.initialized_:
        net.initialize()
    net.notify("on_train_begin", X=X, y=y)
    seconds, state = 0.0, None
    for _ in range(net.max_epochs):
        start = time.perf_counter()
        if state is not None:
            set_random_state(state)
        try:
            net.fit_loop(X, y, epochs=1)
            stopped = False
        except KeyboardInterrupt:  # skorch's early stopping (or Ctrl-C, as in skorch's own fit)
            stopped = True
        state = random_state()
        seconds += time.perf_counter() - start
        yield int(net.history[-1]["epoch"]), epoch_metrics(net.history[-1])
        if stopped:
            break
    net.notify("on_train_end", X=X, y=y)
    keys = ("epoch", *_REPORTED)
    history = [{k: float(row[k]) for k in keys if k in row} for row in net.history]
    return FitResult(history=history, seconds=seconds,
                     samples_per_second=len(X) * len(history) / max(seconds, 1e-9))


def fit_classifier(net: NeuralNetClassifier, X: np.ndarray, y: np.ndarray) -> FitResult:
    """Fit ``net`` on tensors; its per-epoch history and throughput come back."""
    return drain(fit_epochs(net, X, y))


def drain(steps: Generator, each: Callable | None = None):
    """Run a generator to its end, handing each item it yields to ``each``; its return value.

    If ``each`` raises, the generator is closed (its ``finally`` blocks run) and the error
    propagates.
    """
    with closing(steps):
        while True:
            try:
                item = next(steps)
            except StopIteration as done:
                return done.value
            if each is not None:
                each(item)


def kept_epoch(history: list[dict], train: TrainSpec, validated: bool) -> int:
    """The 1-based epoch whose weights the fit keeps (early stopping may restore one)."""
    stop = train.early_stopping
    if not (validated and stop.enabled and stop.restore_best):
        return len(history)
    values = [row[stop.monitor] for row in history]
    pick = np.argmin if stop.monitor.endswith("loss") else np.argmax
    return int(pick(values)) + 1
