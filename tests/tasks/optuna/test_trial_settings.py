"""The settings a trial run logs: the base spec's, flattened once, with what the trial changed read from
its spec; the same as flattening the whole trial spec."""

import pytest

from tests.conftest import tiny_spec_tree
from tunaflow.components.checks import check_experiment
from tunaflow.components.spec import build_spec
from tunaflow.tasks.mlflow.tracking import flatten_spec
from tunaflow.tasks.optuna.objective import TrialObjective

SPACE = {
    "model.layers": {"type": "categorical", "choices": [1, 3], "branches": {
        3: {"model.units.2": {"type": "int", "low": 8, "high": 64}}}},
    "train.lr_schedule.type": {"type": "categorical", "choices": ["none", "step", "cosine"], "branches": {
        "step": {"train.lr_schedule.drop": {"type": "float", "low": 0.1, "high": 0.9}}}},
    "train.lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
}


@pytest.mark.parametrize("params", [
    {"model.layers": 3, "model.units.2": 16, "train.lr_schedule.type": "step", "train.lr_schedule.drop": 0.3,
     "train.lr": 0.01},
    {"model.layers": 1, "train.lr_schedule.type": "cosine", "train.lr": 0.002},
    {},
], ids=["grown-step", "cosine", "nothing-searched"])
def test_trial_settings_match_the_whole_trial_spec_flattened(params):
    spec = build_spec(tiny_spec_tree(search={"space": SPACE}))
    objective = TrialObjective(spec, check_experiment(spec), recorder=None)
    trial_spec = objective.specs.build(params)
    expected = flatten_spec(trial_spec.model_dump(mode="json", include={"model", "train", "augment"}))
    assert objective.trial_settings(trial_spec, params) == expected
