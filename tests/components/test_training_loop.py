"""The training loop on skorch's public API: early stopping without exceptions, a real
Ctrl-C that propagates, LR schedules through torch's schedulers, the training device."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from skorch.callbacks import Callback, LRScheduler
from torch.optim import lr_scheduler

from tunaflow.components.devices import resolve_device
from tunaflow.components.errors import SpecError
from tunaflow.components.schedules import scheduled_lr
from tunaflow.components.spec import build_spec
from tunaflow.components.stopping import best_epoch
from tunaflow.components.trainer import prepare_module, train_model
from tunaflow.components.training import RegularizedClassifier, build_classifier, fit_epochs, kept_epoch
from tests.conftest import tiny_spec_tree


def _data(n=96, features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


TRAIN, VALID = _data(), _data(48, seed=1)


def _spec(**train):
    return build_spec(tiny_spec_tree(model={"family": "mlp", "layers": 1, "units": [8]},
                                     train={"batch_size": 32, **train}))


def _net(spec, callbacks=(), valid=True, epochs=None):
    module = prepare_module(spec, TRAIN[0], 2, "tabular", 0)
    return build_classifier(module, spec.train, seed=0, callbacks=list(callbacks), epochs=epochs,
                            valid=VALID if valid else None)


def _run(net):
    steps = fit_epochs(net, *TRAIN)
    epochs = []
    while True:
        try:
            epochs.append(next(steps)[0])
        except StopIteration as done:
            return epochs, done.value


class InterruptAt(Callback):
    """A Ctrl-C arriving in the middle of a given epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            raise KeyboardInterrupt


# Ctrl-C and early stopping --------------------------------------------------------------

def test_a_keyboard_interrupt_inside_a_fit_propagates_out_of_fit_epochs():
    net = _net(_spec(epochs=6, early_stopping={"patience": 1}), callbacks=[("ctrl_c", InterruptAt(3))])
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for epoch, _ in fit_epochs(net, *TRAIN):
            seen.append(epoch)
    assert seen == [1, 2] and len(net.history) == 3


class InterruptingAugmentation:
    """An augmentation whose third epoch is interrupted: a Ctrl-C from inside train_model's fit."""

    def __init__(self):
        self.epochs, self.closed = 0, False

    def start_epoch(self, X):
        self.epochs += 1
        if self.epochs == 3:
            raise KeyboardInterrupt
        return lambda index, Xb, yb: (Xb, yb)

    def close(self):
        self.closed = True


def test_a_keyboard_interrupt_inside_train_model_propagates_and_cleans_up():
    augmentation, reports = InterruptingAugmentation(), []
    with pytest.raises(KeyboardInterrupt):
        train_model(_spec(epochs=6), *TRAIN, n_classes=2, kind="tabular", seed=0, valid=VALID,
                    augmentation=augmentation, report=lambda epoch, metrics: reports.append(epoch))
    assert reports == [1, 2] and augmentation.closed


def test_a_trial_interrupted_by_ctrl_c_is_not_recorded_as_complete():
    import optuna

    def objective(trial):
        _, fit = train_model(_spec(epochs=6), *TRAIN, n_classes=2, kind="tabular", seed=0, valid=VALID,
                             augmentation=InterruptingAugmentation())
        return fit.history[-1]["valid_acc"]

    study = optuna.create_study(direction="maximize")
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=1)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]


def _stalling_spec(**stop):
    # a rate this high makes the validation loss stop improving within a few epochs
    return _spec(epochs=40, optimizer="sgd", lr=5.0, momentum=0.0,
                 early_stopping={"patience": 2, **stop})


def test_early_stopping_ends_the_loop_and_restores_the_best_weights():
    net = _net(_stalling_spec())
    epochs, fit = _run(net)
    losses = [row["valid_loss"] for row in fit.history]
    assert len(epochs) < 40 and epochs == list(range(1, len(epochs) + 1))
    best = losses.index(min(losses)) + 1
    assert len(epochs) == best + 2  # patience 2: two epochs without improvement
    assert kept_epoch(fit.history, _stalling_spec().train, validated=True) == best
    # the module ends with the best epoch's weights: its validation loss is that epoch's
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(VALID[0]))
        loss = float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(VALID[1])))
    assert loss == pytest.approx(losses[best - 1], rel=1e-5)


def test_skorchs_own_fit_stops_early_too():
    net = _net(_stalling_spec())
    net.fit(torch.as_tensor(TRAIN[0]), torch.as_tensor(TRAIN[1]))
    assert len(net.history) < 40 and net.history[-1].get("event_stop")


def test_min_delta_counts_only_real_improvements_and_keeps_their_epoch():
    assert best_epoch([1.0, 0.5, 0.45, 0.44, 0.2], lower_is_better=True, min_delta=0.1) == 5
    assert best_epoch([1.0, 0.5, 0.45, 0.44, 0.43], lower_is_better=True, min_delta=0.1) == 2
    assert best_epoch([0.5, 0.7, 0.75], lower_is_better=False, min_delta=0.1) == 2
    spec = _stalling_spec(min_delta=0.05)
    net = _net(spec)
    _, fit = _run(net)
    stopper = dict(net.callbacks_)["early_stopping"]
    assert kept_epoch(fit.history, spec.train, validated=True) == stopper.best_epoch_


def test_valid_acc_counted_per_batch_is_the_accuracy_of_the_predictions():
    net = _net(_spec(epochs=3, early_stopping={"enabled": False}))
    _, fit = _run(net)
    predicted = net.module_(torch.as_tensor(VALID[0])).argmax(1).numpy()
    assert fit.history[-1]["valid_acc"] == pytest.approx(float((predicted == VALID[1]).mean()), abs=1e-12)
    assert "print_log" not in dict(net.callbacks_)


class BatchLosses(Callback):
    """Each batch's loss and size as skorch hands them to ``on_batch_end``, per epoch and phase."""

    def initialize(self):
        self.epochs = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs.append({True: [], False: []})

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        self.epochs[-1][training].append((loss.item(), len(batch[0])))


def test_epoch_losses_are_the_batch_size_weighted_means_of_the_batch_losses():
    seen = BatchLosses()
    net = _net(_spec(epochs=3, batch_size=40, early_stopping={"enabled": False}), callbacks=[("seen", seen)])
    _run(net)
    for row, phases in zip(net.history, seen.epochs):
        assert row["train_batch_count"] == 3 and [n for _, n in phases[True]] == [40, 40, 16]
        for training, key in ((True, "train_loss"), (False, "valid_loss")):
            pairs = phases[training]
            assert row[key] == pytest.approx(sum(v * n for v, n in pairs) / sum(n for _, n in pairs), rel=1e-9)


class GradientsSeen(Callback):
    def initialize(self):
        self.calls = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.calls.append([name for name, _ in named_parameters])


def test_on_grad_computed_is_announced_once_per_batch_with_the_parameters():
    seen = GradientsSeen()
    net = _net(_spec(epochs=2, early_stopping={"enabled": False}), callbacks=[("grads", seen)])
    _run(net)
    assert len(seen.calls) == 2 * math.ceil(len(TRAIN[1]) / 32)
    assert seen.calls[0] == [name for name, _ in net.module_.named_parameters()]


def test_an_optimizer_that_evaluates_the_loss_several_times_gets_skorchs_closure_step():
    seen = GradientsSeen()
    module = prepare_module(_spec(), TRAIN[0], 2, "tabular", 0)
    net = RegularizedClassifier(module, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.LBFGS,
                                optimizer__max_iter=4, lr=0.5, max_epochs=3, batch_size=len(TRAIN[1]),
                                train_split=None, callbacks=[("grads", seen)], verbose=0)
    net.fit(torch.as_tensor(TRAIN[0]), torch.as_tensor(TRAIN[1]))
    assert len(seen.calls) > 3  # the closure ran more than once per step (one batch per epoch)
    losses = list(net.history[:, "train_loss"])
    assert losses[-1] < losses[0]


# learning-rate schedules ----------------------------------------------------------------

def _rates(spec, **options):
    net = _net(spec, **options)
    _run(net)
    return net, list(net.history[:, "lr"])


@pytest.mark.parametrize("schedule,policy", [
    ({"type": "step", "drop": 0.5, "epochs_drop": 3}, lr_scheduler.LambdaLR),
    ({"type": "exponential", "gamma": 0.8, "warmup_epochs": 2}, lr_scheduler.ExponentialLR),
    ({"type": "cosine", "min_lr": 0.01, "warmup_epochs": 3}, lr_scheduler.CosineAnnealingLR),
    ({"type": "cosine", "restart_epochs": 2, "restart_mult": 2, "min_lr": 0.001},
     lr_scheduler.CosineAnnealingWarmRestarts),
    ({"type": "none", "warmup_epochs": 4}, None),
])
def test_formula_schedules_run_on_torch_schedulers_and_apply_the_formula(schedule, policy):
    spec = _spec(epochs=14, optimizer="sgd", lr=0.1, lr_schedule=schedule, early_stopping={"enabled": False})
    net, lrs = _rates(spec)
    expected = [scheduled_lr(spec.train.lr_schedule, epoch, 0.1, 14) for epoch in range(14)]
    assert lrs == pytest.approx(expected, rel=1e-9, abs=1e-12)
    scheduler = dict(net.callbacks_).get("lr_scheduler")
    assert (scheduler is None) if policy is None else type(scheduler.lr_scheduler_) is policy


def test_step_decay_is_the_classic_formula_by_hand():
    spec = _spec(epochs=9, optimizer="sgd", lr=0.2, early_stopping={"enabled": False},
                 lr_schedule={"type": "step", "drop": 0.25, "epochs_drop": 2, "warmup_epochs": 2})
    _, lrs = _rates(spec)
    by_hand = [0.2 * 0.25 ** math.floor((1 + e) / 2) * (min(e + 1, 2) / 2) for e in range(9)]
    assert lrs == pytest.approx(by_hand, rel=1e-12)


class BatchRates(Callback):
    def initialize(self):
        self.rates = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.rates.append(net.optimizer_.param_groups[0]["lr"])


def test_one_cycle_steps_torchs_scheduler_every_batch():
    spec = _spec(epochs=5, optimizer="sgd", lr=0.01, early_stopping={"enabled": False},
                 lr_schedule={"type": "one_cycle", "max_lr": 0.3, "pct_start": 0.4})
    seen = BatchRates()
    net, lrs = _rates(spec, callbacks=[("seen", seen)])
    batches = math.ceil(len(TRAIN[1]) / 32)
    reference = LRScheduler(lr_scheduler.OneCycleLR, max_lr=0.3, epochs=5, steps_per_epoch=batches,
                            pct_start=0.4).simulate(5 * batches, 0.01)
    assert seen.rates == pytest.approx(list(reference), rel=1e-9)
    assert lrs == pytest.approx(list(reference[::batches]), rel=1e-9)  # each epoch's first batch


def test_plateau_warms_up_then_reduces_on_the_validation_loss():
    spec = _spec(epochs=16, optimizer="sgd", lr=2.0, momentum=0.0, early_stopping={"enabled": False},
                 lr_schedule={"type": "plateau", "factor": 0.5, "patience": 0, "warmup_epochs": 2})
    net, lrs = _rates(spec)
    assert type(dict(net.callbacks_)["lr_scheduler"].lr_scheduler_) is lr_scheduler.ReduceLROnPlateau
    losses = list(net.history[:, "valid_loss"])
    assert lrs[0] == 1.0 and lrs[1] == 2.0  # warm-up: half the rate, then the rate (epoch 1 always improves)
    # then the rate halves exactly after each epoch whose validation loss did not beat the best
    # before it (ReduceLROnPlateau's default relative threshold 1e-4, patience 0)
    for epoch in range(2, 16):
        stalled = not losses[epoch - 1] < min(losses[:epoch - 1]) * (1 - 1e-4)
        assert lrs[epoch] == (lrs[epoch - 1] / 2 if stalled else lrs[epoch - 1]), (epoch, losses, lrs)
    assert min(lrs) < 2.0


# devices ---------------------------------------------------------------------------------

def test_auto_resolves_to_what_torch_sees_and_cpu_here():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert resolve_device("auto") == expected
    assert resolve_device("cpu") == "cpu"
    net = _net(_spec(epochs=1, device="auto"))
    assert net.device == expected and isinstance(net, RegularizedClassifier)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_a_spec_error():
    with pytest.raises(SpecError, match=r"^train\.device: cuda was asked for"):
        resolve_device("cuda")
    with pytest.raises(SpecError, match=r"^train\.device"):
        _net(_spec(epochs=1, device="cuda"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_validate_refuses_cuda_without_a_gpu_in_one_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec_tree()))
    cli = str(Path(sys.executable).parent / "tunaflow")
    proc = subprocess.run([cli, "validate", str(path), "--set", "train.device=cuda"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "train.device: cuda was asked for" in lines[0], proc.stderr
    ok = subprocess.run([cli, "validate", str(path), "--set", "train.device=auto"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr


# Batches ---------------------------------------------------------------------------------

def test_a_last_batch_of_one_row_joins_the_one_before_so_batch_norm_trains():
    # 97 rows in batches of 32: 32, 32, 33 (batch norm cannot train on a batch of one row)
    spec = build_spec(tiny_spec_tree(model={"family": "mlp", "layers": 1, "units": [8], "batch_norm": True},
                                     train={"batch_size": 32, "epochs": 2}))
    X, y = _data(97)
    net = build_classifier(prepare_module(spec, X, 2, "tabular", 0), spec.train, seed=0, valid=VALID)
    loader = net.iterator_train(net.get_dataset(torch.as_tensor(X), torch.as_tensor(y)), batch_size=32, shuffle=True,
                                generator=torch.Generator().manual_seed(0))
    sizes = [len(yb) for _, yb in loader]
    assert sizes == [32, 32, 33] and len(loader) == 3
    assert sorted(torch.cat([yb for _, yb in loader]).tolist()) == sorted(y.tolist())
    net.fit(torch.as_tensor(X), torch.as_tensor(y))
    assert len(net.history) == 2
