import optuna
import pytest

from tunaflow.components.checks import check_experiment
from tunaflow.components.objective import evaluate_config
from tunaflow.components.spec import build_spec
from tests.conftest import tiny_spec_tree


@pytest.fixture(scope="module")
def spec_and_splits():
    spec = build_spec(tiny_spec_tree(train={"epochs": 4}))
    return spec, check_experiment(spec)


def test_same_seed_same_result(spec_and_splits):
    spec, splits = spec_and_splits
    a = evaluate_config(spec, splits, seed=11)
    b = evaluate_config(spec, splits, seed=11)
    timeless = lambda outcome: [{k: v for k, v in row.items() if k != "dur"} for row in outcome.history]
    assert a.value == b.value and timeless(a) == timeless(b)
    c = evaluate_config(spec, splits, seed=12)
    assert timeless(c) != timeless(a)


def test_it_learns_digits(spec_and_splits):
    spec, splits = spec_and_splits
    spec = build_spec({**spec.model_dump(), "train": {"epochs": 15, "early_stopping": {"enabled": False}}})
    outcome = evaluate_config(spec, splits, seed=1)
    assert outcome.value > 0.85
    assert outcome.best_epoch == 15 and len(outcome.history) == 15


def test_report_sees_every_epoch_and_can_stop_the_trial(spec_and_splits):
    spec, splits = spec_and_splits
    seen = []

    def report(epoch, metrics):
        seen.append((epoch, sorted(metrics)))
        if epoch == 2:
            raise optuna.TrialPruned()

    with pytest.raises(optuna.TrialPruned):
        evaluate_config(spec, splits, seed=1, report=report)
    assert [e for e, _ in seen] == [1, 2]
    assert {"train_loss", "valid_acc", "valid_loss"} <= set(seen[0][1])


def test_early_stopping_stops_and_keeps_the_best_epoch(spec_and_splits):
    spec, splits = spec_and_splits
    spec = build_spec({**spec.model_dump(), "train": {
        "epochs": 60, "lr": 0.05, "early_stopping": {"patience": 2, "monitor": "valid_loss"}}})
    outcome = evaluate_config(spec, splits, seed=1)
    assert len(outcome.history) < 60
    losses = [row["valid_loss"] for row in outcome.history]
    assert outcome.best_epoch == losses.index(min(losses)) + 1
