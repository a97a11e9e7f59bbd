"""Which trials ensemble selection may pick from: the chosen one first, each family's best, then the rest."""

import optuna

from tunaflow.tasks.ensemble import ensemble_candidates
from tunaflow.tasks.optuna.duplicates import DUPLICATE_OF
from tunaflow.tasks.optuna.objective import PREDICTIONS


def _study(trials: list[tuple[str, float, dict]]) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for family, value, attrs in trials:
        study.add_trial(optuna.trial.create_trial(
            value=value, params={}, distributions={},
            user_attrs={"family": family, PREDICTIONS: "1:AAAA", **attrs}))
    return study


def test_each_familys_best_comes_before_the_leading_familys_variants():
    study = _study([("rf", 0.83, {}), ("rf", 0.82, {}), ("rf", 0.81, {}), ("svc", 0.80, {}),
                    ("logreg", 0.78, {}), ("rf", 0.84, {})])
    assert [t.number for t in ensemble_candidates(study, 5, 4)] == [5, 3, 4, 0]
    assert [t.number for t in ensemble_candidates(study, 5, 10)] == [5, 3, 4, 0, 1, 2]


def test_repeats_and_trials_without_predictions_are_no_candidates_and_the_chosen_one_must_have_them():
    study = _study([("rf", 0.9, {}), ("hgb", 0.8, {DUPLICATE_OF: 0}), ("svc", 0.7, {})])
    study.add_trial(optuna.trial.create_trial(value=0.95, params={}, distributions={}, user_attrs={"family": "mlp"}))
    assert [t.number for t in ensemble_candidates(study, 0, 10)] == [0, 2]
    # the chosen trial kept no predictions: no ensemble
    assert ensemble_candidates(study, 3, 10) == []
