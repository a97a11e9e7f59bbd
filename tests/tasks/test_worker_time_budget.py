"""Under a time budget a worker starts no trial it would most likely not finish."""

import datetime as dt

import optuna

from tunaflow.tasks.optuna.duplicates import DUPLICATE_OF
from tunaflow.tasks.worker import typical_trial_seconds


def _trial(seconds: float, state=optuna.trial.TrialState.COMPLETE, **attrs):
    start = dt.datetime(2026, 1, 1)
    return optuna.trial.FrozenTrial(
        number=0, state=state, value=None, datetime_start=start, datetime_complete=start + dt.timedelta(seconds=seconds),
        params={}, distributions={}, user_attrs=attrs, system_attrs={}, intermediate_values={}, trial_id=0)


def test_the_typical_trial_is_the_median_of_those_that_trained():
    trials = [_trial(2), _trial(40), _trial(10, optuna.trial.TrialState.PRUNED),
              _trial(0.01, **{DUPLICATE_OF: 1}), _trial(0.01, **{DUPLICATE_OF: 1}), _trial(500, optuna.trial.TrialState.FAIL)]
    assert typical_trial_seconds(trials) == 10  # of 2, 10, 40: repeats and failures do not count
    assert typical_trial_seconds([]) == 0.0
