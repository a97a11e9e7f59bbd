import numpy as np
import pytest
import torch

from tunaflow.components.models import build_module, count_parameters, input_statistics, predict_proba
from tunaflow.components.spec import CNNSpec, MLPSpec


def test_mlp_on_tabular_standardizes_inside_the_module():
    X = np.random.default_rng(0).normal(50, 10, size=(40, 5)).astype(np.float32)
    mean, std = input_statistics(X, "tabular")
    module = build_module(MLPSpec(layers=2, units=[16, 8]), (5,), 3, "tabular", mean, std)
    standardized = module.transform(torch.as_tensor(X))
    assert abs(float(standardized.mean())) < 1e-4 and abs(float(standardized.std()) - 1) < 0.05
    assert module(torch.as_tensor(X)).shape == (40, 3)
    assert count_parameters(module) == 5 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1), (10, 12, 3)])
def test_cnn_takes_raw_images_with_or_without_channel_axis(shape):
    X = np.random.default_rng(0).uniform(0, 255, size=(6, *shape)).astype(np.float32)
    mean, std = input_statistics(X, "image")
    spec = CNNSpec(channels=[4, 8], batch_norm=True, dropout=0.1)
    module = build_module(spec, shape, 4, "image", mean, std)
    proba = predict_proba(module, X)
    assert proba.shape == (6, 4) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_cnn_needs_images():
    with pytest.raises(ValueError, match="cnn needs an image source"):
        build_module(CNNSpec(), (5,), 2, "tabular", np.zeros(5), np.ones(5))


def test_batch_norm_and_dropout_layers_appear_when_asked():
    plain = build_module(MLPSpec(units=[8]), (4,), 2, "tabular", np.zeros(4), np.ones(4))
    regular = build_module(MLPSpec(units=[8], batch_norm=True, dropout=0.3), (4,), 2, "tabular",
                           np.zeros(4), np.ones(4))
    kinds = lambda m: {type(x).__name__ for x in m.modules()}
    assert {"BatchNorm1d", "Dropout"} <= kinds(regular)
    assert not {"BatchNorm1d", "Dropout"} & kinds(plain)
