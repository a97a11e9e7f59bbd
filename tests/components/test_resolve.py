"""Resolution and the default space: what a minimal spec searches, how long, and that it is stable."""

from types import SimpleNamespace

import numpy as np
import optuna
import pytest

from tunaflow.components.checks import prepare_experiment
from tunaflow.components.default_space import (DataProfile, family_defaults, family_space, suggested_families)
from tunaflow.components.distributions import CategoricalDistribution
from tunaflow.components.errors import SpecError
from tunaflow.components.model_spec import HGBSpec, MLPSpec, RFSpec
from tunaflow.components.resolve import (DEFAULT_TIMEOUT_S, DEFAULT_TRIAL_CAP, describe_resolution, kfold_repeats,
                                         resolve_experiment)
from tunaflow.components.space import (apply_params, check_space, count_configurations, format_space,
                                       suggest_params)
from tunaflow.components import resolve as resolve_module
from tunaflow.components.spec import build_spec


def _splits(kind="tabular", task="classification", rows=300, shape=(6,), val_rows=None):
    """Splits as resolution reads them: shapes, kind and task (no values needed)."""
    val_rows = rows // 8 if val_rows is None else val_rows
    return SimpleNamespace(kind=kind, task=task, X_train=np.zeros((rows, *shape), np.float32),
                           y_train=np.zeros(rows), y_val=np.zeros(val_rows),
                           classes=[0, 1] if task == "classification" else [])


def _spec(**sections):
    return build_spec({"name": "r", "data": {"source": "iris"}, **sections})


AUTO = {"model": {"family": "auto"}}
TABLES = DataProfile("tabular", "classification", 300, 6)
IMAGES = DataProfile("image", "classification", 1000, 64, image_side=8)


@pytest.mark.parametrize("family,profile", [(f, TABLES) for f in ("mlp", "hgb", "rf", "logreg", "svc")]
                         + [("ridge", DataProfile("tabular", "regression", 300, 6)), ("cnn", IMAGES),
                            ("mlp", IMAGES), ("rf", DataProfile("tabular", "classification", 4000, 784)),
                            ("rf", DataProfile("tabular", "regression", 4000, 784))])
def test_each_family_has_a_space_that_holds_its_default(family, profile):
    space = family_space(family, profile)
    defaults = family_defaults(family, profile)
    assert space and set(defaults) == set(space)
    # the default configuration lies inside every range: a search starts from it
    for path, value in defaults.items():
        dist = space[path]
        if isinstance(dist, CategoricalDistribution):
            assert value in dist.choices, path
        else:
            assert dist.low <= value <= dist.high, path


def test_network_spaces_search_the_practice_of_training():
    mlp = family_space("mlp", TABLES)
    assert {"model.layers", "model.units", "model.activation", "model.dropout", "model.batch_norm",
            "train.optimizer", "train.lr", "train.weight_decay", "train.batch_size",
            "train.lr_schedule.type"} <= set(mlp)
    assert mlp["train.lr"].log and mlp["train.weight_decay"].log
    cnn = family_space("cnn", IMAGES)
    assert any(p.startswith("augment.image.") for p in cnn) and "model.channels.0" in cnn


def test_on_wide_data_a_forest_classifier_weighs_no_more_features_per_split_than_its_default():
    # a fraction of 784 pixels per split made one trial outlast the default budget
    wide = family_space("rf", DataProfile("tabular", "classification", 4000, 784))["model.max_features"]
    assert set(wide.choices) == {"sqrt", "log2"}
    assert {0.5, 1.0} <= set(family_space("rf", TABLES)["model.max_features"].choices)
    # a regressor's default weighs them all: its fractions cost no more than it
    regression = family_space("rf", DataProfile("tabular", "regression", 4000, 784))["model.max_features"]
    assert 1.0 in regression.choices


def test_default_families_follow_task_modality_and_size():
    assert suggested_families(TABLES) == ["hgb", "rf", "logreg", "svc", "mlp"]
    assert suggested_families(DataProfile("tabular", "regression", 300, 6)) == ["hgb", "rf", "ridge", "svc", "mlp"]
    assert "svc" not in suggested_families(DataProfile("tabular", "classification", 50_000, 6))
    assert suggested_families(IMAGES) == ["svc", "cnn", "mlp"]
    assert suggested_families(DataProfile("image", "classification", 50_000, 784, 28)) == ["cnn", "mlp"]


@pytest.mark.parametrize("source,sections", [("iris", AUTO), ("digits", AUTO), ("wine", {"model": {"family": "rf"}}),
                                             ("diabetes", AUTO), ("digits", {"model": {"family": "cnn"}})])
def test_resolved_default_space_is_valid_and_resolution_is_idempotent(source, sections):
    spec = build_spec({"name": "r", "data": {"source": source}, **sections})
    resolved, splits = prepare_experiment(spec)  # runs check_space on every entry and branch
    assert resolved.search.space and spec.search.space is None
    again = resolve_experiment(resolved, splits)
    assert again == resolved and again.study_digest() == resolved.study_digest()
    assert resolve_experiment(spec, splits) == resolved  # deterministic
    assert resolved.search.n_trials == DEFAULT_TRIAL_CAP and resolved.search.timeout == DEFAULT_TIMEOUT_S


def test_family_auto_is_a_categorical_branch_per_family():
    resolved = resolve_experiment(_spec(**AUTO), _splits())
    entry = resolved.search.space["model.family"]
    assert isinstance(entry, CategoricalDistribution)
    assert entry.choices == ["hgb", "rf", "logreg", "svc", "mlp"]
    assert "model.learning_rate" in entry.branch_for("hgb") and "train.lr" in entry.branch_for("mlp")
    assert "train.lr" not in resolved.search.space  # a network's fields only under its branch
    # each family's default configuration is tried first
    first = resolved.search.warm_start.params
    assert [p["model.family"] for p in first] == entry.choices
    assert first[0]["model.learning_rate"] == 0.1 and first[1]["model.max_depth"] is None


def test_a_chosen_family_replaces_the_auto_model():
    resolved = resolve_experiment(_spec(**AUTO), _splits())
    trial = optuna.trial.FixedTrial({"model.family": "rf", "model.n_estimators": 70, "model.max_depth": 8,
                                     "model.min_samples_leaf": 2, "model.max_features": 0.5})
    params = suggest_params(trial, resolved.search.space)
    assert set(params) == {"model.family", "model.n_estimators", "model.max_depth", "model.min_samples_leaf",
                           "model.max_features"}  # no other family's fields sampled
    model = apply_params(resolved, params).model
    assert isinstance(model, RFSpec) and model.n_estimators == 70 and model.max_features == 0.5
    # the order of the values does not matter: the family is set first
    reordered = dict(reversed(list({"model.family": "hgb", "model.max_iter": 50}.items())))
    assert isinstance(apply_params(resolved, reordered).model, HGBSpec)
    assert isinstance(apply_params(resolved, {"model.family": "mlp", "model.units": 40}).model, MLPSpec)


def test_study_samples_every_family_of_the_auto_space():
    resolved = resolve_experiment(_spec(**AUTO), _splits())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(40):
        trial = study.ask()
        params = suggest_params(trial, resolved.search.space)
        apply_params(resolved, params)  # every sampled configuration is a valid spec
        seen.add(params["model.family"])
        study.tell(trial, 0.0)
    assert seen == {"hgb", "rf", "logreg", "svc", "mlp"}


def test_regression_resolves_metrics_and_the_linear_family():
    resolved = resolve_experiment(_spec(**AUTO), _splits(task="regression"))
    assert resolved.data.task == "regression" and resolved.search.metric == "valid_rmse"
    assert resolved.search.direction == "minimize" and resolved.tracking.promotion_metric == "rmse"
    assert "ridge" in resolved.search.space["model.family"].choices
    classification = resolve_experiment(_spec(), _splits())
    assert classification.search.metric == "valid_acc" and classification.tracking.promotion_metric == "accuracy"


@pytest.mark.parametrize("sections,task,message", [
    ({"search": {"metric": "valid_acc"}}, "regression", r"search\.metric: valid_acc does not score regression"),
    ({"tracking": {"promotion_metric": "rmse"}}, "classification", r"tracking\.promotion_metric: rmse"),
    ({"model": {"family": "logreg"}}, "regression", r"model\.family: logreg is a classifier"),
    ({"model": {"family": "auto", "families": ["hgb", "cnn"]}}, "classification", r"model\.families: cnn needs"),
    ({"search": {"sampler": "grid"}}, "classification", r"search\.sampler: grid needs a written search\.space"),
])
def test_settings_that_do_not_fit_the_data_are_spec_errors(sections, task, message):
    with pytest.raises(SpecError, match=message):
        resolve_experiment(_spec(**sections), _splits(task=task))


def test_a_written_space_is_kept_and_gets_the_family_entry_under_auto():
    written = {"train.lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}}
    resolved = resolve_experiment(_spec(search={"space": written}, model={"family": "mlp"}), _splits())
    assert list(resolved.search.space) == ["train.lr"] and not resolved.search.warm_start.params
    under_auto = resolve_experiment(_spec(search={"space": written}, model={"family": "auto", "families": ["mlp", "hgb"]}),
                                    _splits())
    assert list(under_auto.search.space) == ["model.family", "train.lr"]
    assert under_auto.search.space["model.family"].choices == ["mlp", "hgb"]


@pytest.mark.parametrize("space,n_trials,expected", [
    ({}, None, 1),  # nothing to choose: one trial, not a default budget of them
    ({}, 20, 1),
    ({"train.batch_size": {"type": "categorical", "choices": [16, 32]},
      "model.layers": {"type": "int", "low": 1, "high": 3}}, None, 6),
    ({"model.activation": {"type": "categorical", "choices": ["relu", "tanh"], "branches": {
        "tanh": {"model.dropout": {"type": "float", "low": 0.0, "high": 0.4, "step": 0.2}}}}}, 50, 4),
    ({"train.lr": {"type": "float", "low": 1e-3, "high": 1e-1}}, 7, 7),  # endless: the budget as given
])
def test_a_finite_space_caps_the_budget_at_its_configurations(space, n_trials, expected):
    resolved = resolve_experiment(_spec(search={"space": space, "n_trials": n_trials}, model={"family": "mlp"}),
                                  _splits())
    assert resolved.search.trial_budget == expected
    assert count_configurations(resolved.search.space) in (expected, None)
    check_space(resolved)


def test_the_minimal_spec_chooses_the_family():
    resolved = resolve_experiment(_spec(), _splits())
    assert resolved.model.family == "auto" and "model.family" in resolved.search.space


def test_a_given_timeout_keeps_the_default_trial_count():
    resolved = resolve_experiment(_spec(search={"timeout": 30}), _splits())
    assert resolved.search.timeout == 30 and resolved.search.n_trials is None


def test_resolution_is_described_in_one_line_and_the_space_one_line_per_path():
    resolved = resolve_experiment(_spec(**AUTO), _splits())
    line = describe_resolution(resolved)
    assert line.startswith("searching ") and "hgb, rf, logreg, svc, mlp" in line
    assert f"{DEFAULT_TIMEOUT_S:g} s / {DEFAULT_TRIAL_CAP} trial(s)" in line
    lines = format_space(resolved.search.space)
    assert lines[0].startswith("  model.family: categorical [hgb, rf")
    assert "    hgb:" in lines and any(line.startswith("      model.learning_rate: float 0.01..0.3 log")
                                       for line in lines)


@pytest.mark.parametrize("profile", [TABLES, DataProfile("tabular", "regression", 300, 6), IMAGES])
def test_a_path_has_one_distribution_across_family_branches(profile):
    """Optuna refuses one parameter name with two kinds of distribution (or two sets of choices)."""
    seen = {}
    for family in suggested_families(profile):
        for path, dist in family_space(family, profile).items():
            assert seen.setdefault(path, dist) == dist, f"{path} differs in {family}"


def test_the_default_budget_skips_the_learning_curve_unless_the_spec_asks_for_it():
    assert not resolve_experiment(_spec(), _splits()).train.learning_curve.enabled
    asked = _spec(train={"learning_curve": {"enabled": True}})
    assert resolve_experiment(asked, _splits()).train.learning_curve.enabled
    budgeted = _spec(search={"n_trials": 5})
    assert resolve_experiment(budgeted, _splits()).train.learning_curve.enabled


def test_a_minimal_spec_on_a_small_table_scores_trials_by_cross_validation():
    small = resolve_experiment(_spec(), _splits(rows=300))
    assert (small.search.validation.scheme, small.search.validation.folds) == ("kfold", 5)
    assert "5-fold" in describe_resolution(small)
    assert resolve_experiment(small, _splits(rows=300)) == small  # idempotent
    assert resolve_experiment(_spec(), _splits(rows=5000)).search.validation.scheme == "holdout"
    # a spec that sets a budget or a validation scheme keeps its own
    assert resolve_experiment(_spec(search={"n_trials": 5}), _splits(rows=300)).search.validation.scheme == "holdout"
    written = _spec(search={"validation": {"scheme": "holdout"}})
    assert resolve_experiment(written, _splits(rows=300)).search.validation.scheme == "holdout"


@pytest.mark.parametrize("rows, val_rows, repeats", [(300, 40, 3), (800, 200, 3), (1300, 200, 2), (1800, 200, 2)])
def test_with_a_cap_of_3_a_small_table_repeats_its_folds_the_more_the_smaller_it_is(rows, val_rows, repeats,
                                                                                     monkeypatch):
    monkeypatch.setattr(resolve_module, "KFOLD_MAX_REPEATS", 3)
    resolved = resolve_experiment(_spec(), _splits(rows=rows, val_rows=val_rows))
    validation = resolved.search.validation
    assert (validation.scheme, validation.folds, validation.repeats) == ("kfold", 5, repeats)
    assert validation.fits == 5 * repeats
    assert f"5-fold cross-validation repeated {repeats} times" in describe_resolution(resolved)
    assert resolve_experiment(resolved, _splits(rows=rows, val_rows=val_rows)) == resolved  # idempotent
    assert kfold_repeats(rows + val_rows) == repeats


def test_auto_repeats_are_one_pass_by_default_and_written_repeats_hold():
    default = resolve_experiment(_spec(), _splits(rows=300)).search.validation
    assert (default.scheme, default.repeats, default.fits) == ("kfold", 1, 5)  # the cap measured no gain
    assert "repeated" not in describe_resolution(resolve_experiment(_spec(), _splits(rows=300)))


def test_repeats_are_one_pass_unless_the_default_budget_sizes_them(monkeypatch):
    monkeypatch.setattr(resolve_module, "KFOLD_MAX_REPEATS", 3)
    assert resolve_experiment(_spec(), _splits(rows=5000)).search.validation.repeats == 1  # holdout
    budgeted = _spec(search={"n_trials": 5, "validation": {"scheme": "kfold"}})
    assert resolve_experiment(budgeted, _splits(rows=300)).search.validation.repeats == 1
    written = _spec(search={"validation": {"scheme": "kfold", "repeats": 2}})
    assert resolve_experiment(written, _splits(rows=300)).search.validation.repeats == 2
    kfold_default_budget = _spec(search={"validation": {"scheme": "kfold", "folds": 3}})
    assert resolve_experiment(kfold_default_budget, _splits(rows=300)).search.validation.repeats == 3
