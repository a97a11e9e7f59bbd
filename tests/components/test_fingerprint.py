"""The study fingerprint covers what changes a trial's value, and nothing else."""

import pytest

from tests.conftest import tiny_spec_tree
from tunaflow.components.fingerprint import (changed_settings, differing_parts, fingerprint_parts, legacy_digest,
                                             resumable_settings, study_fingerprint)
from tunaflow.components.spec import build_spec

BASE = build_spec(tiny_spec_tree())


def _spec(**sections):
    return build_spec(tiny_spec_tree(**sections))


@pytest.mark.parametrize("sections", [
    {"search": {"sampler": "random"}}, {"search": {"pruner": "hyperband"}}, {"search": {"patience": 3}},
    {"search": {"selection": "knee"}}, {"search": {"n_trials": 50, "timeout": 60}}, {"search": {"workers": 4}},
    {"search": {"heartbeat": 3, "cluster": "tcp://h:8786", "storage": "sqlite:///x.db"}},
    {"search": {"warm_start": {"params": [{"train.lr": 0.003}]}}},
    {"train": {"learning_curve": {"enabled": False}}}, {"tracking": {"alias": "best"}},
    {"name": "renamed"},
], ids=str)
def test_settings_that_change_no_trial_value_keep_the_fingerprint(sections):
    assert study_fingerprint(_spec(**sections)) == study_fingerprint(BASE)


@pytest.mark.parametrize("sections,part", [
    ({"train": {"epochs": 3}}, "train"),
    ({"train": {"early_stopping": {"patience": 2}}}, "train"),  # it changes the trained network
    ({"train": {"lr": 0.05}}, "train"),
    ({"model": {"units": [64]}}, "model"),
    ({"data": {"subsample": 0.4}}, "data"),
    ({"augment": {"tabular": {"noise": 0.1}}}, "augment"),
    ({"seed": 4}, "seed"),
    ({"search": {"metric": "valid_loss"}}, "search.objectives"),
    ({"search": {"validation": {"scheme": "kfold"}}}, "search.validation"),
    ({"search": {"validation": {"scheme": "kfold", "repeats": 3}}}, "search.validation"),
    ({"search": {"space": {"train.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}}}, "search.space"),
], ids=str)
def test_settings_that_change_a_trial_value_change_the_fingerprint_and_name_their_part(sections, part):
    other = _spec(**sections)
    assert study_fingerprint(other) != study_fingerprint(BASE)
    assert differing_parts(fingerprint_parts(BASE), fingerprint_parts(other)) == [part]


def test_one_pass_of_kfold_keeps_the_fingerprint_it_had_before_repeats_existed():
    kfold = _spec(search={"validation": {"scheme": "kfold"}})
    once = _spec(search={"validation": {"scheme": "kfold", "repeats": 1}})
    assert study_fingerprint(once) == study_fingerprint(kfold) and legacy_digest(once) == legacy_digest(kfold)
    tree = kfold.model_dump(mode="json")
    del tree["search"]["validation"]["repeats"]  # a spec as recorded before the field
    assert study_fingerprint(build_spec(tree)) == study_fingerprint(kfold)
    assert study_fingerprint(_spec(search={"validation": {"scheme": "kfold", "repeats": 2}})) != study_fingerprint(kfold)


def test_one_objective_is_the_same_whichever_way_it_is_written():
    assert study_fingerprint(_spec(search={"metric": "valid_loss"})) == \
        study_fingerprint(_spec(search={"objectives": [{"metric": "valid_loss", "direction": "minimize"}]}))


def test_changed_settings_name_each_path_with_both_values_and_mask_passwords():
    other = _spec(search={"sampler": "random", "n_trials": 5, "storage": "postgresql://u:hunter2@h/db"},
                  train={"learning_curve": {"enabled": False, "fractions": [0.5, 1.0]}})
    recorded, current = resumable_settings(BASE), resumable_settings(other)
    assert "hunter2" not in str(current)
    assert changed_settings(recorded, current) == [
        "search.n_trials 2 -> 5", "search.sampler tpe -> random",
        "search.storage null -> postgresql://u:***@h/db", "train.learning_curve.enabled true -> false"]
    assert changed_settings(recorded, resumable_settings(BASE)) == []
    # a setting an older version did not record is not reported
    assert changed_settings({}, current) == []


def test_the_legacy_digest_ignores_the_budget_but_not_the_sampler():
    assert legacy_digest(_spec(search={"n_trials": 9})) == legacy_digest(BASE)
    assert legacy_digest(_spec(search={"sampler": "random"})) != legacy_digest(BASE)
    assert legacy_digest(BASE) != study_fingerprint(BASE)
