"""A trial's spec is built once from a base tree dumped once: sampled values validated, validators run."""

import pytest

from tests.conftest import tiny_spec_tree
from tunaflow.components.errors import SpecError
from tunaflow.components.space import TrialSpecBuilder
from tunaflow.components.spec import build_spec


def _builder(**sections):
    return TrialSpecBuilder(build_spec(tiny_spec_tree(**sections)))


def test_a_sampled_value_that_does_not_fit_its_field_is_a_spec_error():
    with pytest.raises(SpecError, match=r"search.space: train.lr: Input should be greater than 0"):
        _builder().build({"train.lr": -1.0})


def test_building_a_trial_leaves_the_base_tree_and_spec_as_they_were():
    builder = _builder()
    before = builder.spec.model_dump(mode="json")
    trial = builder.build({"model.layers": 3, "model.units.2": 16, "train.lr": 0.05})
    assert trial.model.units == [32, 32, 16] and trial.train.lr == 0.05  # the validator grew units
    assert builder.tree == before == builder.spec.model_dump(mode="json")
    assert builder.build({}) is builder.spec


def test_changed_parts_are_the_models_holding_each_sampled_path_as_the_trial_has_them():
    builder = _builder()
    trial = builder.build({"model.layers": 2, "train.lr_schedule.type": "cosine", "train.lr_schedule.min_lr": 1e-5})
    parts = builder.changed_parts(trial, {"model.layers": 2, "train.lr_schedule.type": "cosine",
                                          "train.lr_schedule.min_lr": 1e-5})
    assert set(parts) == {"model", "train.lr_schedule"}
    assert parts["model"]["units"] == [32, 32]
    assert parts["train.lr_schedule"] == trial.train.lr_schedule.model_dump(mode="json")  # defaults filled
