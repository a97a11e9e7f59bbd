"""Ensemble selection on constructed predictions, and the out-of-sample predictions trials keep."""

import numpy as np
import optuna
import pytest

from tunaflow.components.ensemble_selection import choose_ensemble, greedy_counts, selection_loss, weighted_output
from tunaflow.components.fitted import FittedEnsemble
from tunaflow.components.metrics import validation_metrics
from tunaflow.components.objective import evaluate_config
from tunaflow.components.out_of_sample import (MAX_STORED_VALUES, decode_predictions, encode_predictions,
                                               out_of_sample_targets, storable)
from tunaflow.components.space import apply_params, suggest_params
from tunaflow.components.seeding import derive_seed
from tunaflow.components.errors import SpecError
from tunaflow.components.spec import build_spec
from tests.components.synthetic_splits import table_splits
from tests.conftest import tiny_spec_tree

Y = np.array([0, 0, 0, 1, 1, 1])


def _binary(p_correct) -> np.ndarray:
    """Probabilities (6, 2) giving the true class of Y the probability ``p_correct`` per row."""
    p = np.asarray(p_correct, dtype=float)
    right = np.where(Y == 1, p, 1 - p)
    return np.stack([1 - right, right], axis=1)


# A knows the first half, B the second; C is the best alone but knows nothing the pair does not
A, B, C = _binary([0.9] * 3 + [0.4] * 3), _binary([0.4] * 3 + [0.9] * 3), _binary([0.62] * 6)


def test_greedy_selection_starts_from_the_best_single_and_adds_the_complementary_pair():
    counts = greedy_counts([C, A, B], Y, "classification", rounds=20)
    assert sum(counts) == 20
    assert counts[1] > 0 and counts[2] > 0 and abs(counts[1] - counts[2]) <= 1  # the pair, balanced
    assert counts[1] + counts[2] > counts[0]
    ensemble = weighted_output([C, A, B], counts)
    assert selection_loss(ensemble, Y, "classification") < min(selection_loss(p, Y, "classification") for p in (A, B, C))
    assert np.allclose(ensemble.sum(axis=1), 1.0)


def test_selection_follows_the_loss_it_is_given():
    """Another loss (here: the error on the first half's rows only) picks by that loss, and the
    choice is judged by it: A alone knows those rows, so A is picked every round."""
    def first_half(output, y, task):
        return selection_loss(output[:3], y[:3], task)

    assert greedy_counts([C, A, B], Y, "classification", rounds=5, loss=first_half) == [0, 5, 0]
    choice = choose_ensemble([C, A, B], Y, "classification", 5, "valid_acc", 2, loss=first_half)
    assert choice.counts == [0, 5, 0] and choice.loss == pytest.approx(first_half(A, Y, "classification"))


def test_equal_candidates_tie_to_the_first_and_a_single_member_is_no_ensemble():
    counts = greedy_counts([C, C.copy(), A], Y, "classification", rounds=1)
    assert counts == [1, 0, 0]
    choice = choose_ensemble([C, C.copy()], Y, "classification", 10, "valid_loss", 2)
    assert choice.counts == [10, 0] and choice.members == [0] and not choice.improves


def test_regression_members_with_opposite_bias_alternate_and_average_to_the_truth():
    y = np.linspace(10, 20, 8)
    counts = greedy_counts([y + 1, y - 1, y + 3], y, "regression", rounds=10)
    assert counts == [5, 5, 0]  # of the equal first two, the first; then each cancels the other
    assert np.allclose(weighted_output([y + 1, y - 1, y + 3], counts), y)
    choice = choose_ensemble([y + 1, y - 1, y + 3], y, "regression", 10, "valid_rmse", 1)
    assert choice.improves and choice.score == pytest.approx(0, abs=1e-9) and choice.single_score == pytest.approx(1)


def test_the_ensemble_is_judged_by_its_selection_loss_and_reports_the_studys_metric():
    choice = choose_ensemble([C, A, B], Y, "classification", 20, "valid_acc", 2)
    assert choice.loss < choice.single_loss and choice.improves
    assert choice.score == validation_metrics("classification", Y, weighted_output([C, A, B], choice.counts), 2)[
        "valid_acc"]
    # a candidate that only hurts is never picked: one member, no ensemble
    worse = choose_ensemble([C, _binary([0.3] * 6)], Y, "classification", 10, "valid_acc", 2)
    assert worse.counts == [10, 0] and not worse.improves


class _Constant:
    def __init__(self, output):
        self.output, self.n_params = np.asarray(output), 1

    def predict_output(self, X):
        return self.output[: len(X)]


def test_a_fitted_ensemble_is_the_weighted_average_of_its_members():
    ensemble = FittedEnsemble([_Constant(A), _Constant(B)], [3, 1])
    assert np.allclose(ensemble.predict_output(np.zeros((6, 1))), 0.75 * A + 0.25 * B)
    assert ensemble.n_params == 2


def test_predictions_survive_their_text_encoding_and_large_ones_are_not_stored():
    values = np.random.default_rng(0).normal(size=(50, 3))
    back = decode_predictions(encode_predictions(values))
    assert back.shape == (50, 3) and np.allclose(back, values, atol=1e-6)
    assert decode_predictions(encode_predictions(values[:, 0])).shape == (50,)
    assert storable(values) and not storable(np.zeros(MAX_STORED_VALUES + 1)) and not storable(None)


def _spec(family: str, validation: str, mode: str = "on", task_metric: str = "valid_acc"):
    tree = tiny_spec_tree(search={"metric": task_metric, "validation": {"scheme": validation, "folds": 3},
                                  "ensemble": {"mode": mode}})
    tree["model"] = {"family": "auto"}
    tree["search"]["space"] = {"model.family": {"type": "categorical", "choices": ["rf", "ridge", "mlp"]}}
    base = build_spec(tree)
    params = suggest_params(optuna.trial.FixedTrial({"model.family": family}), base.search.searched)
    settings = {"rf": {"model.n_estimators": 20}, "mlp": {"model.layers": 1}}.get(family, {})
    return apply_params(base, {**params, **settings})


@pytest.mark.parametrize("family", ["rf", "mlp"])
@pytest.mark.parametrize("validation", ["holdout", "kfold"])
def test_a_trial_keeps_one_out_of_sample_prediction_per_row_in_a_fixed_order(family, validation):
    splits = table_splits("classification", n=150)
    outcome = evaluate_config(_spec(family, validation), splits, seed=1)
    y = out_of_sample_targets(splits, validation)
    assert outcome.predictions.shape == (len(y), 3) and not np.isnan(outcome.predictions).any()
    pooled = validation_metrics("classification", y, outcome.predictions, 3)["valid_acc"]
    if validation == "holdout":  # the very predictions the trial was scored on
        assert pooled == pytest.approx(outcome.metrics["valid_acc"])
    else:  # every row predicted by the fold model that did not see it: the folds' mean, pooled
        assert pooled == pytest.approx(outcome.metrics["valid_acc"], abs=0.02)
    assert evaluate_config(_spec(family, validation, "off"), splits, seed=1).predictions is None


def test_a_regression_trial_keeps_values_in_the_targets_units():
    splits = table_splits("regression", n=150)
    outcome = evaluate_config(_spec("ridge", "kfold", task_metric="valid_rmse"), splits, seed=1)
    y = out_of_sample_targets(splits, "kfold")
    assert outcome.predictions.shape == (len(y),)
    assert np.sqrt(np.mean((outcome.predictions - y) ** 2)) == pytest.approx(outcome.metrics["valid_rmse"], rel=0.1)


def _repeated(family: str, repeats: int):
    spec = _spec(family, "kfold", task_metric="valid_rmse" if family == "ridge" else "valid_acc")
    tree = spec.model_dump(mode="json")
    tree["search"]["validation"]["repeats"] = repeats
    return build_spec(tree)


def test_repeated_kfold_keeps_each_rows_mean_over_the_repeats_and_scores_every_fold():
    from tunaflow.components.objective import _folds, fit_sklearn

    splits = table_splits("regression", n=150)
    once, twice = _repeated("ridge", 1), _repeated("ridge", 2)
    X, y, pairs = _folds(twice, splits, 1)
    assert len(pairs) == 6 and [v.tolist() for _, v in _folds(once, splits, 1)[2]] == [v.tolist() for _, v in pairs[:3]]
    assert [v.tolist() for _, v in pairs[:3]] != [v.tolist() for _, v in pairs[3:]]  # another partition
    by_repeat = np.zeros((2, len(y)))
    for k, (train, val) in enumerate(pairs, start=1):
        by_repeat[(k - 1) // 3, val] = fit_sklearn(twice, splits, X[train], y[train], derive_seed(1, "fold", k)).predict_output(X[val])
    outcome = evaluate_config(twice, splits, seed=1)
    assert np.allclose(outcome.predictions, by_repeat.mean(axis=0))
    assert len(outcome.history) == 6  # each fold of each repeat scored; the value is their mean
    assert outcome.value == pytest.approx(np.mean([row["fold_valid_rmse"] for row in outcome.history]))
    assert np.allclose(evaluate_config(once, splits, seed=1).predictions, by_repeat[0])


def test_repeated_kfold_networks_train_every_fold_and_average_their_probabilities():
    splits = table_splits("classification", n=150)
    outcome = evaluate_config(_repeated("mlp", 2), splits, seed=1)
    assert len(outcome.history) == 6
    assert outcome.predictions.shape == (len(out_of_sample_targets(splits, "kfold")), 3)
    assert not np.isnan(outcome.predictions).any() and np.allclose(outcome.predictions.sum(axis=1), 1.0)
    single = evaluate_config(_repeated("mlp", 1), splits, seed=1).predictions
    assert not np.allclose(outcome.predictions, single)  # the second partition's models count too


def test_repeats_need_kfold_and_stay_within_their_bounds():
    for validation, message in [({"scheme": "holdout", "repeats": 2}, "use scheme: kfold"),
                                ({"scheme": "kfold", "repeats": 0}, "between 1 and 10"),
                                ({"scheme": "kfold", "repeats": 11}, "between 1 and 10")]:
        with pytest.raises(SpecError, match=message):
            build_spec(tiny_spec_tree(search={"validation": validation}))
    assert build_spec(tiny_spec_tree(search={"validation": {"scheme": "kfold"}})).search.validation.fits == 5
