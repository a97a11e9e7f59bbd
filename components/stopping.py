"""Early stopping as a skorch callback that asks the epoch loop to stop, without an exception.

skorch's own ``EarlyStopping`` raises ``KeyboardInterrupt`` to leave its fit loop, which
makes a real Ctrl-C during a fit indistinguishable from a normal end. Here the callback
records ``event_stop`` in the epoch's history row; tunaflow's epoch loop
(``RegularizedClassifier.fit_loop`` and ``fit_epochs``) ends after such an epoch, and a
``KeyboardInterrupt`` is never caught.
"""

from __future__ import annotations

from copy import deepcopy

import numpy as np
from skorch.callbacks import Callback

STOP_EVENT = "event_stop"


def stop_requested(net) -> bool:
    """Whether a callback asked to stop after the net's last epoch."""
    return bool(len(net.history) and net.history[-1].get(STOP_EVENT))


def improves(score: float, best: float, lower_is_better: bool, min_delta: float) -> bool:
    """Whether ``score`` beats ``best`` by more than ``min_delta`` (absolute)."""
    return score < best - min_delta if lower_is_better else score > best + min_delta


def best_epoch(values: list[float], lower_is_better: bool, min_delta: float = 0.0) -> int:
    """The 1-based epoch of the last improvement (by more than ``min_delta``): the one restored."""
    best, epoch = (np.inf if lower_is_better else -np.inf), 1
    for i, value in enumerate(values, start=1):
        if improves(value, best, lower_is_better, min_delta):
            best, epoch = value, i
    return epoch


class PatienceStopping(Callback):
    """Stop after ``patience`` epochs in a row without an improvement of ``monitor`` by more
    than ``min_delta``; with ``restore_best``, the module ends with the weights of the epoch
    of the last improvement (``best_epoch``).
    """

    def __init__(self, monitor: str = "valid_loss", patience: int = 5, min_delta: float = 0.0,
                 lower_is_better: bool = True, restore_best: bool = True):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.lower_is_better = lower_is_better
        self.restore_best = restore_best

    def __getstate__(self):
        # a pickled net keeps its module's weights once, not twice
        return {**self.__dict__, "best_weights_": None}

    def on_train_begin(self, net, **kwargs):
        self.misses_ = 0
        self.best_score_ = np.inf if self.lower_is_better else -np.inf
        self.best_epoch_ = 0
        self.best_weights_ = None

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        if improves(score, self.best_score_, self.lower_is_better, self.min_delta):
            self.misses_, self.best_score_ = 0, score
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.restore_best:
                self.best_weights_ = deepcopy(net.module_.state_dict())
        else:
            self.misses_ += 1
        if self.misses_ >= self.patience:
            net.history.record(STOP_EVENT, True)

    def on_train_end(self, net, **kwargs):
        if (self.restore_best and self.best_weights_ is not None
                and self.best_epoch_ != net.history[-1, "epoch"]):
            net.module_.load_state_dict(self.best_weights_)
