"""Training a module through skorch, on a tensor data path that batches by slicing."""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass, field
from typing import Callable, Generator

import numpy as np
import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import EpochTimer, GradientNormClipping
from skorch.dataset import Dataset as SkorchDataset
from skorch.helper import predefined_split

from tunaflow.components.batch_scores import BatchAccuracy, BatchRegressionError
from tunaflow.components.devices import resolve_device
from tunaflow.components.errors import SpecError
from tunaflow.components.lean_steps import LeanSteps
from tunaflow.components.lr_schedulers import schedule_callbacks
from tunaflow.components.models import weight_layers
from tunaflow.components.seeding import random_state, set_random_state
from tunaflow.components.sparse_optimizers import SPARSE_OPTIMIZERS, has_sparse_gradients
from tunaflow.components.spec import TrainSpec, per_layer
from tunaflow.components.stopping import PatienceStopping, best_epoch, stop_requested

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
    gives each epoch its own seeded batch transform. A last batch of one row joins the batch
    before it: batch norm cannot train on a single row (a fold of 385 rows in batches of 64).
    """

    def __init__(self, dataset, batch_size: int = 64, shuffle: bool = False,
                 generator: torch.Generator | None = None, transform=None):
        self.X = torch.as_tensor(dataset.X)
        self.y = None if dataset.y is None else torch.as_tensor(dataset.y)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.transform = transform

    def _bounds(self) -> list[tuple[int, int]]:
        n = len(self.X)
        starts = list(range(0, n, self.batch_size))
        if len(starts) > 1 and n - starts[-1] == 1:
            starts.pop()
        return list(zip(starts, starts[1:] + [n]))

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self):
        order = None
        if self.shuffle:  # drawn on the CPU (the seeded generator's), moved to the data once per epoch
            order = torch.randperm(len(self.X), generator=self.generator).to(self.X.device)
        augment = self.transform.start_epoch(self.X) if self.transform is not None else None
        for start, end in self._bounds():
            index = slice(start, end) if order is None else order[start:end]
            Xb, yb = self.X[index], None if self.y is None else self.y[index]
            if augment is not None:
                Xb, yb = augment(index, Xb, yb)
            yield Xb, yb


_REPORTED = ("train_loss", "valid_loss", "valid_acc", "valid_rmse", "valid_mae", "valid_r2", "dur", "lr")


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


class _Regularized(LeanSteps):
    """skorch's net with L1 and L2 penalties on weights (never biases), per layer,
    extended only through skorch's public hooks.

    ``l1``/``l2`` are one coefficient or one per linear/conv layer in order. The penalty
    is added to the training loss only (``get_loss``); validation losses stay comparable
    across trials.

    skorch calls every callback for every event of every batch, so the default callbacks
    are only those whose values tunaflow reads (``get_default_callbacks``): the epoch
    timer and a validation score counted batch by batch (``batch_scores``); no print log.
    The train and validation losses are recorded by the lean per-batch steps
    (``lean_steps.LeanSteps``: no optimizer closure, no per-batch history rows).
    ``fit_loop`` runs epoch by epoch and ends after an epoch whose history row asks to
    stop (``stopping.PatienceStopping``); no exception is part of it.
    """

    def __init__(self, *args, l1=0.0, l2=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l1 = l1
        self.l2 = l2

    def get_default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            self.score_callback(),
        ]

    def _penalized(self) -> list[tuple[torch.Tensor, float, float]]:
        layers = weight_layers(self.module_)
        l1, l2 = per_layer(self.l1, len(layers)), per_layer(self.l2, len(layers))
        return [(layer.weight, a, b) for layer, a, b in zip(layers, l1, l2) if a or b]

    def initialize_module(self):
        super().initialize_module()
        self.penalized_ = self._penalized()
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            for weight, l1, l2 in self.penalized_:
                if l1:
                    loss = loss + l1 * weight.abs().sum()
                if l2:
                    loss = loss + l2 * weight.pow(2).sum()
        return loss

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's fit loop one epoch at a time, ending early after an epoch that asks to stop."""
        for _ in range(self.max_epochs if epochs is None else epochs):
            super().fit_loop(X, y, epochs=1, **fit_params)
            if stop_requested(self):
                break
        return self


class RegularizedClassifier(_Regularized, NeuralNetClassifier):
    """The regularized net for classes: cross-entropy on logits, ``valid_acc`` per epoch."""

    def score_callback(self):
        return "valid_acc", BatchAccuracy(name="valid_acc")


class RegularizedRegressor(_Regularized, NeuralNetRegressor):
    """The regularized net for a standardized target shaped (N, 1): MSE or Huber loss;
    ``valid_rmse``, ``valid_mae`` (target units, via ``target_std``) and ``valid_r2`` per epoch."""

    def __init__(self, *args, target_std: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.target_std = target_std

    def score_callback(self):
        return "valid_rmse", BatchRegressionError(self.target_std)


_LOSSES = {"cross_entropy": torch.nn.CrossEntropyLoss, "mse": torch.nn.MSELoss, "huber": torch.nn.HuberLoss}


def loss_for(train: TrainSpec, task: str) -> type[torch.nn.Module]:
    """The criterion of ``train.loss`` (auto: cross-entropy for classes, MSE for a regression target)."""
    name = train.loss if train.loss != "auto" else ("mse" if task == "regression" else "cross_entropy")
    if (name == "cross_entropy") == (task == "regression"):
        fits = "mse or huber" if task == "regression" else "cross_entropy"
        raise SpecError("train.loss", f"{name} does not fit a {task} task; use auto or {fits}")
    return _LOSSES[name]


def build_classifier(module: torch.nn.Module, train: TrainSpec, *, seed: int,
                     valid: tuple[np.ndarray, np.ndarray] | None = None,
                     epochs: int | None = None, augmentation=None,
                     callbacks: list | None = None, task: str = "classification",
                     target_std: float = 1.0) -> NeuralNetClassifier | NeuralNetRegressor:
    """A skorch classifier for ``module`` on ``train.device`` (a regressor for ``task``
    regression, whose targets are standardized, ``target_std`` giving their scale);
    validation on ``valid`` when given.

    The validation tensors move to the device here, once.
    """
    criterion = loss_for(train, task)
    device = resolve_device(train.device)
    max_epochs = epochs or train.epochs
    generator = torch.Generator().manual_seed(seed)
    all_callbacks = schedule_callbacks(train.lr_schedule, train.lr, max_epochs, validated=valid is not None)
    if train.grad_clip:
        all_callbacks.append(("grad_clip", GradientNormClipping(train.grad_clip)))
    all_callbacks += list(callbacks or [])
    if valid is not None and train.early_stopping.enabled:
        stop = train.early_stopping
        if task == "regression" and stop.monitor == "valid_acc":
            raise SpecError("train.early_stopping.monitor", "valid_acc is for classification; use valid_loss")
        all_callbacks.append(("early_stopping", PatienceStopping(
            monitor=stop.monitor, patience=stop.patience, min_delta=stop.min_delta,
            lower_is_better=stop.monitor.endswith("loss"), restore_best=stop.restore_best,
        )))
    optimizer = _OPTIMIZERS[train.optimizer]
    if has_sparse_gradients(module):
        if train.optimizer not in SPARSE_OPTIMIZERS:
            raise SpecError("train.optimizer", f"{train.optimizer} cannot train sparse embeddings (text "
                                               f"networks); use {', '.join(SPARSE_OPTIMIZERS)}")
        optimizer = SPARSE_OPTIMIZERS[train.optimizer]
    net_class, extra = RegularizedClassifier, {}
    if task == "regression":
        net_class, extra = RegularizedRegressor, {"target_std": target_std}
    return net_class(
        module,
        l1=train.l1,
        l2=train.l2,
        **extra,
        criterion=criterion,
        optimizer=optimizer,
        lr=train.lr,
        max_epochs=max_epochs,
        batch_size=train.batch_size,
        iterator_train=TensorBatchLoader,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        iterator_train__transform=augmentation,
        iterator_valid=TensorBatchLoader,
        iterator_valid__batch_size=1024,
        train_split=None if valid is None else predefined_split(SkorchDataset(
            torch.as_tensor(valid[0]).to(device), torch.as_tensor(valid[1]).to(device))),
        callbacks=all_callbacks,
        verbose=0,
        device=device,
        **{f"optimizer__{k}": v for k, v in optimizer_params(train).items()},
    )


def _training_tensors(net: NeuralNetClassifier, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """X and y as tensors, on the net's device once for the whole fit (batches are slices).

    With an augmentation the data stay on the CPU, where the augmentation works; skorch
    moves each augmented batch.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if getattr(net, "iterator_train__transform", None) is None:
        X, y = X.to(net.device), y.to(net.device)
    return X, y


def fit_epochs(net: NeuralNetClassifier, X: np.ndarray, y: np.ndarray) -> Generator[tuple[int, dict], None, FitResult]:
    """Fit ``net`` one epoch at a time: yields (epoch, metrics) after each, returns the FitResult.

    It runs skorch's fit (initialize, ``on_train_begin``, the epochs, ``on_train_end``)
    with a pause after every epoch; early stopping ends it after the epoch that stops.
    A ``KeyboardInterrupt`` (Ctrl-C) is never caught: it ends the fit as an interruption.
    Other fits may run during a pause: this fit keeps its own global random state
    (dropout draws from it) from one epoch to the next, so fits run in turns train
    exactly as they would one after another. Closing the generator mid-fit skips
    ``on_train_end``.
    """
    X, y = _training_tensors(net, X, y)
    if not net.warm_start or not net.initialized_:
        net.initialize()
    net.notify("on_train_begin", X=X, y=y)
    seconds, state = 0.0, None
    for _ in range(net.max_epochs):
        start = time.perf_counter()
        if state is not None:
            set_random_state(state)
        net.fit_loop(X, y, epochs=1)
        state = random_state()
        seconds += time.perf_counter() - start
        yield int(net.history[-1]["epoch"]), epoch_metrics(net.history[-1])
        if stop_requested(net):
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
    return best_epoch([row[stop.monitor] for row in history], stop.monitor.endswith("loss"), stop.min_delta)
