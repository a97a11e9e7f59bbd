"""Each training strategy takes effect: a test per knob that fails when the knob is ignored."""

import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from tunaflow.components.checks import check_experiment
from tunaflow.components.errors import SpecError
from tunaflow.components.models import build_module, count_parameters, weight_layers
from tunaflow.components.spec import ACTIVATIONS, CNNSpec, MLPSpec, build_spec
from tunaflow.components.trainer import prepare_module
from tunaflow.components.training import build_classifier
from tests.conftest import tiny_spec_tree


@pytest.fixture(scope="module")
def splits():
    return check_experiment(build_spec(tiny_spec_tree(data={"source": "digits", "subsample": 1.0})))


def _spec(model=None, **train):
    tree = tiny_spec_tree(train={"early_stopping": {"enabled": False}, **train})
    if model is not None:
        tree["model"] = model
    return build_spec(tree)


class AppliedRates(Callback):
    """Records the learning rate of every training batch, as the optimizer has it."""

    def initialize(self):
        self.rates = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.rates.append((len(net.history), net.optimizer_.param_groups[0]["lr"]))


def _fit(spec, splits, seed=0, callbacks=(), valid=True):
    module = prepare_module(spec, splits.X_train, splits.n_classes, splits.kind, seed)
    net = build_classifier(module, spec.train, seed=seed, callbacks=list(callbacks),
                           valid=(splits.X_val, splits.y_val) if valid else None)
    net.fit(torch.as_tensor(splits.X_train), torch.as_tensor(splits.y_train))
    return net


# regularization -------------------------------------------------------------------------

def _near_zero(net, layer=0, tol=1e-3):
    return float((weight_layers(net.module_)[layer].weight.abs() < tol).float().mean())


def test_l1_drives_more_weights_near_zero(splits):
    model = {"family": "mlp", "layers": 2, "units": [64, 64]}
    plain = _fit(_spec(model, epochs=8, optimizer="sgd", lr=0.05), splits)
    sparse = _fit(_spec(model, epochs=8, optimizer="sgd", lr=0.05, l1=1e-3), splits)
    assert _near_zero(sparse) > 2 * _near_zero(plain) + 0.05


def test_l1_per_layer_touches_only_its_layer(splits):
    model = {"family": "mlp", "layers": 2, "units": [64, 64]}
    plain = _fit(_spec(model, epochs=8, optimizer="sgd", lr=0.05), splits)
    first = _fit(_spec(model, epochs=8, optimizer="sgd", lr=0.05, l1=[1e-3, 0.0, 0.0]), splits)
    assert _near_zero(first, 0) > 2 * _near_zero(plain, 0) + 0.05
    assert abs(_near_zero(first, 1) - _near_zero(plain, 1)) < 0.05


def test_l2_penalty_shrinks_weights_but_not_biases(splits):
    model = {"family": "mlp", "layers": 1, "units": [64]}
    plain = _fit(_spec(model, epochs=6, optimizer="sgd", lr=0.05), splits)
    decayed = _fit(_spec(model, epochs=6, optimizer="sgd", lr=0.05, l2=1e-2), splits)
    norm = lambda net: float(sum(l.weight.detach().pow(2).sum() for l in weight_layers(net.module_)))
    assert norm(decayed) < 0.7 * norm(plain)
    penalized = [w for w, _, _ in decayed.penalized_]
    assert all(w.dim() > 1 for w in penalized)  # weights only, never biases


def test_dropout_per_layer_and_batch_norm_position():
    spec = MLPSpec(layers=2, units=[16, 8], dropout=[0.1, 0.3], batch_norm=True, batch_norm_position="after")
    module = build_module(spec, (4,), 2, "tabular", np.zeros(4), np.ones(4))
    layers = list(module.network.layers)
    assert [m.p for m in layers if isinstance(m, nn.Dropout)] == [0.1, 0.3]
    kinds = [type(m).__name__ for m in layers]
    assert kinds[1:5] == ["Linear", "ReLU", "BatchNorm1d", "Dropout"]
    before = build_module(spec.model_copy(update={"batch_norm_position": "before"}), (4,), 2, "tabular",
                          np.zeros(4), np.ones(4))
    assert [type(m).__name__ for m in before.network.layers][1:4] == ["Linear", "BatchNorm1d", "ReLU"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_is_built(name):
    expected = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "selu": nn.SELU, "gelu": nn.GELU,
                "silu": nn.SiLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[name]
    for spec, shape in ((MLPSpec(activation=name), (4,)), (CNNSpec(activation=name), (8, 8))):
        module = build_module(spec, shape, 2, "image" if len(shape) == 2 else "tabular", np.zeros(()), np.ones(()))
        assert any(isinstance(m, expected) for m in module.modules())


# optimizers ----------------------------------------------------------------------------

@pytest.mark.parametrize("train,cls,checks", [
    ({"optimizer": "sgd", "momentum": 0.8, "nesterov": True}, torch.optim.SGD, {"momentum": 0.8, "nesterov": True}),
    ({"optimizer": "adam", "betas": [0.8, 0.99]}, torch.optim.Adam, {"betas": (0.8, 0.99)}),
    ({"optimizer": "adamw", "weight_decay": 0.01}, torch.optim.AdamW, {"weight_decay": 0.01}),
    ({"optimizer": "rmsprop", "alpha": 0.9, "momentum": 0.5}, torch.optim.RMSprop, {"alpha": 0.9, "momentum": 0.5}),
])
def test_optimizer_and_its_parameters(splits, train, cls, checks):
    net = _fit(_spec(epochs=1, **train), splits)
    assert type(net.optimizer_) is cls
    group = net.optimizer_.param_groups[0]
    for key, value in checks.items():
        assert group[key] == value


def test_gradient_clipping_bounds_each_step(splits):
    model = {"family": "mlp", "layers": 1, "units": [32]}
    start = prepare_module(_spec(model), splits.X_train, splits.n_classes, splits.kind, 0)
    before = torch.cat([p.detach().flatten() for p in start.parameters()]).clone()
    change = {}
    for clip in (None, 1e-3):
        net = _fit(_spec(model, epochs=1, optimizer="sgd", momentum=0.0, lr=1.0, grad_clip=clip), splits)
        after = torch.cat([p.detach().flatten() for p in net.module_.parameters()])
        change[clip] = float((after - before).norm())
    batches = math.ceil(len(splits.y_train) / 64)
    assert change[1e-3] <= batches * 1e-3 * 1.0001
    assert change[None] > 10 * change[1e-3]


# learning-rate schedules ---------------------------------------------------------------

def test_step_decay_applies_the_classic_formula(splits):
    spec = _spec(epochs=50, optimizer="sgd", lr=0.1, lr_schedule={"type": "step", "drop": 0.5, "epochs_drop": 10})
    applied = AppliedRates()
    net = _fit(spec, splits, callbacks=[("applied", applied)])
    expected = [0.1 * 0.5 ** math.floor((1 + epoch) / 10) for epoch in range(50)]
    per_epoch = {epoch: lr for epoch, lr in applied.rates}
    assert [per_epoch[e + 1] for e in range(50)] == pytest.approx(expected, rel=1e-12)
    assert len({lr for e, lr in applied.rates if e == 9}) == 1  # constant within an epoch
    assert list(net.history[:, "lr"]) == pytest.approx(expected, rel=1e-12)  # what gets logged


@pytest.mark.parametrize("schedule,formula", [
    ({"type": "exponential", "gamma": 0.9}, lambda e: 0.1 * 0.9 ** e),
    ({"type": "cosine", "min_lr": 0.01}, lambda e: 0.01 + 0.09 * (1 + math.cos(math.pi * e / 12)) / 2),
    ({"type": "cosine", "restart_epochs": 4}, lambda e: 0.1 * (1 + math.cos(math.pi * (e % 4) / 4)) / 2),
    ({"type": "step", "drop": 0.5, "epochs_drop": 4, "warmup_epochs": 3},
     lambda e: 0.1 * 0.5 ** math.floor((1 + e) / 4) * min(1.0, (e + 1) / 3)),
])
def test_formula_schedules(splits, schedule, formula):
    net = _fit(_spec(epochs=12, optimizer="sgd", lr=0.1, lr_schedule=schedule), splits)
    assert list(net.history[:, "lr"]) == pytest.approx([formula(e) for e in range(12)], rel=1e-9, abs=1e-12)


def test_one_cycle_rises_then_anneals(splits):
    applied = AppliedRates()
    _fit(_spec(epochs=6, optimizer="sgd", lr=0.01, lr_schedule={"type": "one_cycle", "max_lr": 0.5}),
         splits, callbacks=[("applied", applied)])
    rates = [lr for _, lr in applied.rates]
    peak = int(np.argmax(rates))
    assert 0 < peak < len(rates) - 1 and max(rates) == pytest.approx(0.5, rel=0.02)
    assert rates[0] < 0.05 and rates[-1] < rates[0]


def test_reduce_on_plateau_lowers_the_rate_when_validation_stalls(splits):
    spec = _spec(epochs=12, optimizer="sgd", lr=2.0, lr_schedule={"type": "plateau", "factor": 0.5, "patience": 0})
    lrs = list(_fit(spec, splits).history[:, "lr"])
    assert lrs[0] == 2.0 and min(lrs) < 2.0
    assert all(b in (a, a * 0.5) for a, b in zip(lrs, lrs[1:]))


# architectures and budget --------------------------------------------------------------

def test_mlp_shrinking_widths_and_cnn_blocks():
    assert MLPSpec(layers=3, units=[256], shrink=0.5).units == [256, 128, 64]
    cnn = CNNSpec(blocks=3, channels=[8, 16])
    assert cnn.channels == [8, 16, 16]
    small = build_module(CNNSpec(blocks=1, channels=[4]), (8, 8), 10, "image", np.zeros(()), np.ones(()))
    large = build_module(cnn, (8, 8), 10, "image", np.zeros(()), np.ones(()))
    assert sum(isinstance(m, nn.Conv2d) for m in large.modules()) == 3
    assert count_parameters(large) != count_parameters(small)


def test_batch_size_and_epochs_are_searchable(splits):
    from tunaflow.components.space import apply_params, check_space

    spec = build_spec(tiny_spec_tree(search={"space": {
        "train.batch_size": {"type": "categorical", "choices": [16, 128]},
        "train.epochs": {"type": "int", "low": 1, "high": 3}}}))
    check_space(spec)
    net = _fit(apply_params(spec, {"train.batch_size": 16, "train.epochs": 3}).model_copy(), splits)
    assert len(net.history) == 3 and net.history[0, "train_batch_count"] == math.ceil(len(splits.y_train) / 16)


# bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("section,values,message", [
    ("model", {"activation": "swish"}, r"model\.activation: .*'relu'"),
    ("train", {"optimizer": "lbfgs"}, r"train\.optimizer: .*'sgd'.*'adam'"),
    ("train", {"lr_schedule": {"type": "triangle"}}, r"train\.lr_schedule: unknown name 'triangle'.*'step'"),
    ("model", {"dropout": 1.0}, r"model\.dropout: Input should be less than 1"),
    ("train", {"l1": -0.1}, r"train\.l1: Input should be greater than or equal to 0"),
    ("train", {"l2": [0.1, -1]}, r"train\.l2"),
    ("train", {"lr_schedule": {"type": "step", "drop": 0}}, r"train\.lr_schedule\.drop: Input should be greater than 0"),
    ("train", {"nesterov": True, "optimizer": "adam"}, "nesterov needs optimizer sgd"),
])
def test_nonsense_settings_name_the_field(section, values, message):
    with pytest.raises(SpecError, match=message):
        build_spec(tiny_spec_tree(**{section: values}))
