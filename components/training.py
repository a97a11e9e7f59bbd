"""Training a module through skorch, on a tensor data path that batches by slicing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import Dataset as SkorchDataset
from skorch.helper import predefined_split

from components.spec import TrainSpec

_OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}


class TensorBatchLoader:
    """Batches a skorch Dataset of tensors by slicing: no per-sample Python.

    skorch calls ``iterator_train(dataset, batch_size=..., shuffle=...)`` each epoch;
    the optional ``transform`` augments training batches only.
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
        for start in range(0, n, self.batch_size):
            if order is None:
                Xb = self.X[start:start + self.batch_size]
                yb = None if self.y is None else self.y[start:start + self.batch_size]
            else:
                index = order[start:start + self.batch_size]
                Xb, yb = self.X[index], None if self.y is None else self.y[index]
            if self.transform is not None:
                Xb = self.transform(Xb, self.generator)
            yield Xb, yb


class EpochReport(Callback):
    """Hands each epoch's scalar metrics to ``report(epoch, metrics)``; it may raise to stop."""

    def __init__(self, report: Callable[[int, dict], None]):
        self.report = report

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        metrics = {k: float(v) for k, v in row.items()
                   if k in ("train_loss", "valid_loss", "valid_acc", "dur", "lr")}
        self.report(int(row["epoch"]), metrics)


@dataclass
class FitResult:
    """What a fit produced, in plain values."""

    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    samples_per_second: float = 0.0


def build_classifier(module: torch.nn.Module, train: TrainSpec, *, seed: int,
                     valid: tuple[np.ndarray, np.ndarray] | None = None,
                     epochs: int | None = None, augmentation=None,
                     callbacks: list | None = None) -> NeuralNetClassifier:
    """A skorch classifier for ``module``; validation on ``valid`` when given."""
    generator = torch.Generator().manual_seed(seed)
    optimizer_kwargs = {"weight_decay": train.weight_decay}
    if train.optimizer in ("sgd", "rmsprop"):
        optimizer_kwargs["momentum"] = train.momentum
    all_callbacks = list(callbacks or [])
    if valid is not None and train.early_stopping.enabled:
        stop = train.early_stopping
        all_callbacks.append(("early_stopping", EarlyStopping(
            monitor=stop.monitor, patience=stop.patience, threshold=stop.min_delta,
            threshold_mode="abs", lower_is_better=stop.monitor.endswith("loss"),
            load_best=stop.restore_best, sink=lambda *_: None,
        )))
    return NeuralNetClassifier(
        module,
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
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
    )


def fit_classifier(net: NeuralNetClassifier, X: np.ndarray, y: np.ndarray) -> FitResult:
    """Fit ``net`` on tensors; its per-epoch history and throughput come back."""
    start = time.perf_counter()
    net.fit(torch.as_tensor(X), torch.as_tensor(y))
    seconds = time.perf_counter() - start
    keys = ("epoch", "train_loss", "valid_loss", "valid_acc", "dur")
    history = [{k: float(row[k]) for k in keys if k in row} for row in net.history]
    return FitResult(history=history, seconds=seconds,
                     samples_per_second=len(X) * len(history) / max(seconds, 1e-9))


def kept_epoch(history: list[dict], train: TrainSpec, validated: bool) -> int:
    """The 1-based epoch whose weights the fit keeps (early stopping may restore one)."""
    stop = train.early_stopping
    if not (validated and stop.enabled and stop.restore_best):
        return len(history)
    values = [row[stop.monitor] for row in history]
    pick = np.argmin if stop.monitor.endswith("loss") else np.argmax
    return int(pick(values)) + 1
