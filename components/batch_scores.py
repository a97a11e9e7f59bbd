"""Validation scores counted batch by batch from what skorch hands each callback.

skorch's ``EpochScoring`` caches every batch, predicts again through the net and scores
with scikit-learn at the epoch's end: on the digits MLP of ``bench/training_loop.py`` that
cost 5% of the samples per second. These callbacks keep running tensor sums instead (no
device sync per batch) and record the epoch's value in the history.
"""

from __future__ import annotations

import math

from skorch.callbacks import Callback


class BatchAccuracy(Callback):
    """Validation accuracy from each batch's logits (argmax of the logits is argmax of their softmax)."""

    def __init__(self, name: str = "valid_acc", on_train: bool = False):
        self.name = name
        self.on_train = on_train

    def on_epoch_begin(self, net, **kwargs):
        self.correct_, self.count_ = 0, 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training == self.on_train and batch[1] is not None:
            self.correct_ = self.correct_ + (y_pred.argmax(1) == batch[1].to(y_pred.device)).sum()
            self.count_ += len(batch[1])

    def on_epoch_end(self, net, **kwargs):
        if self.count_:
            net.history.record(self.name, float(self.correct_) / self.count_)


class BatchRegressionError(Callback):
    """Validation ``valid_rmse``, ``valid_mae`` (in the target's units) and ``valid_r2`` of a
    network trained on the standardized target: errors are summed in standard units and
    scaled by ``target_std`` at the epoch's end; R² is scale-free."""

    def __init__(self, target_std: float = 1.0):
        self.target_std = target_std

    def on_epoch_begin(self, net, **kwargs):
        self.sums_, self.count_ = None, 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training or batch[1] is None:
            return
        y = batch[1].to(y_pred.device).reshape(-1)
        error = y_pred.reshape(-1) - y
        sums = (error.pow(2).sum(), error.abs().sum(), y.sum(), y.pow(2).sum())
        self.sums_ = sums if self.sums_ is None else tuple(a + b for a, b in zip(self.sums_, sums))
        self.count_ += len(y)

    def on_epoch_end(self, net, **kwargs):
        if not self.count_:
            return
        sse, sae, sy, syy = (float(s) for s in self.sums_)
        n = self.count_
        spread = syy - sy * sy / n
        net.history.record("valid_rmse", math.sqrt(sse / n) * self.target_std)
        net.history.record("valid_mae", sae / n * self.target_std)
        net.history.record("valid_r2", 1 - sse / spread if spread > 1e-12 else 0.0)
