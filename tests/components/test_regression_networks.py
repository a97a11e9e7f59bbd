"""Networks for regression: a linear output on the standardized target, scores in its units,
and category codes through embeddings."""

import numpy as np
import pytest
import torch

from tunaflow.components.errors import SpecError
from tunaflow.components.family_checks import check_model_fits
from tunaflow.components.fitted import FittedNetwork
from tunaflow.components.models import CategoryEmbedding, build_module, input_statistics
from tunaflow.components.spec import build_spec
from tunaflow.components.trainer import fit_options, train_model
from tests.components.synthetic_splits import table_splits
from tests.conftest import tiny_spec_tree


def _spec(**train):
    return build_spec(tiny_spec_tree(model={"family": "mlp", "layers": 1, "units": [32]},
                                     train={"batch_size": 32, "lr": 0.01, "epochs": 25, **train}))


def _train(spec, splits):
    return train_model(spec, splits.X_train, splits.y_train, seed=0, valid=(splits.X_val, splits.y_val),
                       **fit_options(splits))


@pytest.fixture(scope="module")
def regression():
    splits = table_splits("regression", cards=(4,))
    module, fit = _train(_spec(early_stopping={"enabled": False}), splits)
    return splits, module, fit


def test_loss_goes_down_and_predictions_come_back_in_target_units(regression):
    splits, module, fit = regression
    losses = [row["train_loss"] for row in fit.history]
    assert losses[-1] < 0.2 * losses[0]
    predicted = FittedNetwork(module, "regression").predict_output(splits.X_test)
    assert predicted.shape == (len(splits.y_test),)
    rmse = float(np.sqrt(np.mean((predicted - splits.y_test) ** 2)))
    # the target is ~1000 +- 100: standardized outputs (~0) would miss by a thousand
    assert rmse < 0.3 * splits.y_test.std()
    assert module.target_mean.item() == pytest.approx(splits.y_train.mean(), rel=1e-5)


def test_epoch_scores_are_those_of_the_predictions_in_target_units(regression):
    splits, module, fit = regression
    last = fit.history[-1]
    predicted = FittedNetwork(module, "regression").predict_output(splits.X_val)
    error = predicted - splits.y_val
    assert last["valid_rmse"] == pytest.approx(np.sqrt(np.mean(error ** 2)), rel=1e-3)
    assert last["valid_mae"] == pytest.approx(np.mean(np.abs(error)), rel=1e-3)
    r2 = 1 - np.sum(error ** 2) / np.sum((splits.y_val - splits.y_val.mean()) ** 2)
    assert last["valid_r2"] == pytest.approx(r2, abs=1e-3)
    assert "valid_acc" not in last


def test_huber_loss_trains_and_differs_from_mse(regression):
    splits, _, mse_fit = regression
    _, fit = _train(_spec(loss="huber", early_stopping={"enabled": False}, epochs=5), splits)
    assert fit.history[-1]["train_loss"] != mse_fit.history[4]["train_loss"]
    assert fit.history[-1]["valid_rmse"] < fit.history[0]["valid_rmse"]


def test_early_stopping_on_valid_loss_restores_the_best_epoch():
    splits = table_splits("regression")
    _, fit = _train(_spec(epochs=60, lr=0.05, early_stopping={"patience": 2}), splits)
    assert len(fit.history) < 60


def test_training_settings_that_cannot_fit_regression_are_refused():
    regression = table_splits("regression")
    for train, field in [({"early_stopping": {"monitor": "valid_acc"}}, "train.early_stopping.monitor"),
                         ({"loss": "cross_entropy"}, "train.loss")]:
        with pytest.raises(SpecError) as error:
            check_model_fits(_spec(**train), "regression")
        assert error.value.where == field
        with pytest.raises(SpecError) as error:  # and at training time, the same line
            _train(_spec(epochs=1, **train), regression)
        assert error.value.where == field
    with pytest.raises(SpecError, match="train.loss: mse does not fit a classification task"):
        check_model_fits(_spec(loss="mse"), "classification")
    sigmoid = build_spec(tiny_spec_tree(model={"family": "mlp", "output": "sigmoid"}))
    with pytest.raises(SpecError, match="model.output"):
        check_model_fits(sigmoid, "regression")
    # a scikit-learn family trains no network: its train section is not judged
    tree = tiny_spec_tree(train={"loss": "cross_entropy"})
    check_model_fits(build_spec({**tree, "model": {"family": "ridge"}}), "regression")


def test_code_columns_are_embedded_not_standardized():
    splits = table_splits("classification", cards=(6, 3))
    mean, std = input_statistics(splits.X_train, "tabular", 2)
    assert mean[-2:].tolist() == [0, 0] and std[-2:].tolist() == [1, 1] and (mean[:4] != 0).all()
    module = build_module(_spec().model, (6,), 3, "tabular", mean, std, embedded=(6, 3))
    embedding = module.network.layers[0]
    assert isinstance(embedding, CategoryEmbedding)
    assert [e.num_embeddings for e in embedding.embeddings] == [6, 3]
    assert module.network.layers[1].in_features == 4 + 3 + 2
    # an out-of-range code (a category never seen) is clamped, not an index error
    x = torch.as_tensor(np.array([[0, 0, 0, 0, 9, -1]], np.float32))
    assert module(x).shape == (1, 3)


def test_embeddings_learn_a_category_signal():
    # y is the code column alone: the dense features carry nothing
    rng = np.random.default_rng(0)
    splits = table_splits("classification", cards=(5,), n=400)
    codes = rng.integers(0, 5, len(splits.y_train) + len(splits.y_val))
    splits.X_train[:, -1], splits.X_val[:, -1] = codes[:len(splits.y_train)], codes[len(splits.y_train):]
    splits.y_train, splits.y_val = (codes[:len(splits.y_train)] % 3), (codes[len(splits.y_train):] % 3)
    _, fit = _train(_spec(epochs=30, early_stopping={"enabled": False}), splits)
    assert fit.history[-1]["valid_acc"] > 0.95
