import optuna
import pytest

from tunaflow.components.errors import SpecError
from tunaflow.components.space import apply_params, check_space, grid_values, suggest_params
from tunaflow.components.spec import build_spec
from tests.conftest import tiny_spec_tree

CONDITIONAL = {
    "model.layers": {"type": "categorical", "choices": [2, 3], "branches": {
        3: {"model.units.2": {"type": "int", "low": 8, "high": 64}},
    }},
    "model.units.0": {"type": "int", "low": 8, "high": 64},
    "train.lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
}


def _spec(space, **kw):
    return build_spec(tiny_spec_tree(search={"space": space, **kw}))


def test_fixed_trial_samples_every_path():
    spec = _spec(CONDITIONAL)
    trial = optuna.trial.FixedTrial({"model.layers": 3, "model.units.2": 16, "model.units.0": 40, "train.lr": 0.01})
    params = suggest_params(trial, spec.search.space)
    assert params == {"model.layers": 3, "model.units.2": 16, "model.units.0": 40, "train.lr": 0.01}
    applied = apply_params(spec, params)
    assert applied.model.units == [40, 32, 16] and applied.train.lr == 0.01


def test_branch_keys_are_not_sampled_when_their_branch_is_not_chosen():
    spec = _spec(CONDITIONAL)
    trial = optuna.trial.FixedTrial({"model.layers": 2, "model.units.0": 40, "train.lr": 0.01})
    params = suggest_params(trial, spec.search.space)
    assert "model.units.2" not in params
    assert apply_params(spec, params).model.units == [40, 40]  # the tiny spec has one width


def test_study_samples_conditional_space():
    spec = _spec(CONDITIONAL)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        params = suggest_params(trial, spec.search.space)
        seen.add(("model.units.2" in params, params["model.layers"]))
        study.tell(trial, 0.0)
    assert seen == {(False, 2), (True, 3)}


@pytest.mark.parametrize("space,message", [
    ({"train.lrate": {"type": "float", "low": 0.1, "high": 1}}, r"search\.space\.train\.lrate: no such field"),
    ({"model.dropout": {"type": "float", "low": 0.0, "high": 1.5}}, r"search\.space\.model\.dropout: value 1\.5"),
    ({"model.activation": {"type": "categorical", "choices": ["relu", "nope"]}}, "value 'nope'"),
    ({"seed": {"type": "int", "low": 0, "high": 3}}, "only data, augment, model and train"),
])
def test_check_space_names_the_path(space, message):
    with pytest.raises(SpecError, match=message):
        check_space(_spec(space))


@pytest.mark.parametrize("dist,message", [
    ({"type": "float", "low": 1.0, "high": 0.1}, "low .* must be less than high"),
    ({"type": "float", "low": 0.0, "high": 0.1, "log": True}, "log scale needs low > 0"),
])
def test_distribution_bounds_are_validated(dist, message):
    with pytest.raises(SpecError, match=message):
        _spec({"train.lr": dist})


def test_grid_values():
    spec = _spec({"train.batch_size": {"type": "categorical", "choices": [10, 20]},
                  "train.epochs": {"type": "int", "low": 1, "high": 3},
                  "model.dropout": {"type": "float", "low": 0.0, "high": 0.2, "step": 0.1}})
    assert grid_values(spec.search.space) == {
        "train.batch_size": [10, 20], "train.epochs": [1, 2, 3], "model.dropout": [0.0, 0.1, 0.2]}
    with pytest.raises(SpecError, match="grid sampler"):
        grid_values(_spec({"train.lr": {"type": "float", "low": 0.1, "high": 1}}).search.space)
