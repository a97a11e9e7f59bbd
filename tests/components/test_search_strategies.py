"""Samplers, pruners, budgets, selection and validation schemes, on small studies."""

import math

import numpy as np
import optuna
import pytest
from sklearn.model_selection import StratifiedKFold

from tunaflow.components.checks import check_experiment
from tunaflow.components.errors import SpecError
from tunaflow.components.models import build_module
from tunaflow.components.objective import evaluate_config
from tunaflow.components.seeding import derive_seed
from tunaflow.components.selection import select_trial
from tunaflow.components.space import suggest_params
from tunaflow.components.spec import MLPSpec, SAMPLERS, build_spec
from tunaflow.components.strategy import StopWhenStalled, build_pruner, build_sampler
from tunaflow.components.trainer import train_model
from tests.conftest import tiny_spec_tree

SPACE = {
    "train.lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "model.units.0": {"type": "int", "low": 8, "high": 64, "step": 8},
    "model.activation": {"type": "categorical", "choices": ["relu", "tanh"]},
}
GRID_SPACE = {
    "train.batch_size": {"type": "categorical", "choices": [10, 20, 40]},
    "train.epochs": {"type": "categorical", "choices": [10, 20]},
    "train.optimizer": {"type": "categorical", "choices": ["adam", "rmsprop"]},
}
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _toy(params):
    # a smooth function of the sampled values: the best lr is 1e-2, width 32, tanh
    return -(math.log10(params["train.lr"]) + 2) ** 2 - ((params["model.units.0"] - 32) / 32) ** 2 \
        - (0.5 if params["model.activation"] == "relu" else 0)


@pytest.mark.parametrize("sampler", [s for s in SAMPLERS if s != "grid"])
def test_every_sampler_runs_a_small_study(sampler):
    spec = build_spec(tiny_spec_tree(search={"sampler": sampler, "n_trials": 12, "space": SPACE}))
    study = optuna.create_study(direction="maximize", sampler=build_sampler(spec.search, spec.seed))
    study.optimize(lambda t: _toy(suggest_params(t, spec.search.space)), n_trials=12)
    assert len(study.trials) == 12 and study.best_value <= 0
    expected = {"tpe": "TPESampler", "random": "RandomSampler", "cmaes": "CmaEsSampler", "gp": "GPSampler",
                "qmc": "QMCSampler", "nsga2": "NSGAIISampler"}[sampler]
    assert type(study.sampler).__name__ == expected


def test_samplers_are_seeded():
    spec = build_spec(tiny_spec_tree(search={"n_trials": 12, "space": SPACE}))

    def run():
        study = optuna.create_study(direction="maximize", sampler=build_sampler(spec.search, spec.seed))
        study.optimize(lambda t: _toy(suggest_params(t, spec.search.space)), n_trials=12)
        return [t.params for t in study.trials]

    assert run() == run()


def test_grid_sampler_is_exhaustive():
    spec = build_spec(tiny_spec_tree(search={"sampler": "grid", "space": GRID_SPACE}))
    study = optuna.create_study(sampler=build_sampler(spec.search, spec.seed))
    study.optimize(lambda t: float(len(suggest_params(t, spec.search.space))), n_trials=100)
    combos = {tuple(sorted(t.params.items())) for t in study.trials}
    assert len(study.trials) == 12 and len(combos) == 12  # grid exhausted, then the study stops


def _rising(epochs: int = 20):
    def objective(trial):
        """Per-epoch reports rising to the trial's quality, stopped when the pruner says so."""
        quality = trial.suggest_float("q", 0, 1)
        for step in range(1, epochs + 1):
            trial.report(quality * step / epochs, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return quality

    return objective


@pytest.mark.parametrize("pruner,cls", [("none", "NopPruner"), ("median", "MedianPruner"),
                                        ("successive_halving", "SuccessiveHalvingPruner"),
                                        ("hyperband", "HyperbandPruner")])
def test_pruners_prune_bad_trials_from_reports(pruner, cls):
    spec = build_spec(tiny_spec_tree(search={"pruner": pruner}))
    built = build_pruner(spec.search, 20)
    assert type(built).__name__ == cls
    study = optuna.create_study(direction="maximize", pruner=built, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(_rising(), n_trials=30)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    assert (pruned == 0) if pruner == "none" else (pruned > 0)


@pytest.mark.parametrize("pruner", ["median", "successive_halving", "hyperband"])
@pytest.mark.parametrize("epochs,first", [(8, 2), (20, 5), (60, 5)])
def test_no_trial_is_judged_on_its_first_epochs(pruner, epochs, first):
    # early accuracy favours fast starters: nothing is judged before epoch 5 (a quarter of
    # shorter trials), and longer trials are judged from epoch 5 as well
    spec = build_spec(tiny_spec_tree(search={"pruner": pruner}))
    study = optuna.create_study(direction="maximize", pruner=build_pruner(spec.search, epochs),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(_rising(epochs), n_trials=30)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and min(len(t.intermediate_values) for t in pruned) == first


def test_stop_when_stalled():
    study = optuna.create_study(direction="maximize")
    values = iter([1.0, 2.0, 3.0] + [0.0] * 50)
    study.optimize(lambda t: next(values), n_trials=50, callbacks=[StopWhenStalled(4)])
    assert len(study.trials) == 7  # best at trial 2, then four without improvement


def test_selection_rules():
    values = [[0.99, 50000], [0.98, 5000], [0.90, 500]]
    directions = ["maximize", "minimize"]
    assert select_trial(values, directions, "primary") == 0
    assert select_trial(values, directions, "knee") == 1


def test_several_objectives_are_measured(tmp_path):
    spec = build_spec(tiny_spec_tree(search={"pruner": "none", "objectives": [
        {"metric": "valid_acc"}, {"metric": "n_params"}, {"metric": "latency_ms"}]}))
    assert spec.search.directions == ["maximize", "minimize", "minimize"]
    outcome = evaluate_config(spec, check_experiment(spec), seed=0)
    assert outcome.values[1] == outcome.n_params and outcome.values[2] > 0


KFOLD = {"validation": {"scheme": "kfold", "folds": 3}}


def test_kfold_reports_the_mean_over_the_folds_every_epoch():
    spec = build_spec(tiny_spec_tree(search=KFOLD, train={"epochs": 4, "early_stopping": {"enabled": False}}))
    reports = []
    outcome = evaluate_config(spec, check_experiment(spec), seed=0,
                              report=lambda step, m: reports.append((step, m["valid_acc"])))
    folds = [row["fold_valid_acc"] for row in outcome.history]
    assert len(folds) == 3 and outcome.value == pytest.approx(np.mean(folds))
    # per epoch, as under holdout, so pruners judge k-fold trials by epochs
    assert [s for s, _ in reports] == [1, 2, 3, 4] and reports[-1][1] == pytest.approx(outcome.value)


def test_kfold_folds_trained_in_turns_train_as_each_would_alone():
    # dropout draws from the global random state: each fold keeps its own across turns
    spec = build_spec(tiny_spec_tree(search=KFOLD, model={"dropout": 0.3},
                                     train={"epochs": 3, "early_stopping": {"enabled": False}}))
    splits = check_experiment(spec)
    outcome = evaluate_config(spec, splits, seed=5, report=lambda step, m: None)
    X, y = np.concatenate([splits.X_train, splits.X_val]), np.concatenate([splits.y_train, splits.y_val])
    folds = StratifiedKFold(3, shuffle=True, random_state=derive_seed(5, "folds")).split(X, y)
    alone = [train_model(spec, X[train], y[train], n_classes=splits.n_classes, kind=splits.kind,
                         seed=derive_seed(5, "fold", k), valid=(X[val], y[val]))[1].history[-1]
             for k, (train, val) in enumerate(folds, start=1)]
    assert [row["fold_valid_loss"] for row in outcome.history] == [row["valid_loss"] for row in alone]


def test_kfold_pruning_stops_every_fold_at_that_epoch():
    spec = build_spec(tiny_spec_tree(search=KFOLD, train={"epochs": 6, "early_stopping": {"enabled": False}}))
    steps = []

    def report(step, metrics):
        steps.append(step)
        if step == 2:
            raise optuna.TrialPruned()

    with pytest.raises(optuna.TrialPruned):
        evaluate_config(spec, check_experiment(spec), seed=0, report=report)
    assert steps == [1, 2]


def test_kfold_with_early_stopping_reports_until_the_last_fold_stops():
    spec = build_spec(tiny_spec_tree(search=KFOLD, train={
        "epochs": 40, "lr": 0.05, "early_stopping": {"patience": 2, "monitor": "valid_loss"}}))
    reports = []
    outcome = evaluate_config(spec, check_experiment(spec), seed=0, report=lambda step, m: reports.append(step))
    # folds stop on their own; the trial reports each epoch until the last one stops, and
    # scores each fold by the epoch it kept (patience: two past it)
    assert reports == list(range(1, len(reports) + 1)) and outcome.best_epoch + 2 <= len(reports) < 40
    assert outcome.value == pytest.approx(np.mean([row["fold_valid_acc"] for row in outcome.history]))


@pytest.mark.parametrize("search,message", [
    ({"pruner": "median", "objectives": [{"metric": "valid_acc"}, {"metric": "n_params"}]},
     "pruning needs a single objective"),
    ({"pruner": "none", "sampler": "cmaes", "objectives": [{"metric": "valid_acc"}, {"metric": "n_params"}]},
     "cmaes optimizes one objective"),
    ({"sampler": "annealing"}, r"search\.sampler"),
    ({"pruner": "patient"}, r"search\.pruner"),
    ({"validation": {"scheme": "kfold", "folds": 1}}, r"search\.validation\.folds"),
])
def test_bad_search_settings(search, message):
    with pytest.raises(SpecError, match=message):
        build_spec(tiny_spec_tree(search=search))


def test_sigmoid_output_for_two_classes():
    module = build_module(MLPSpec(units=[8], output="sigmoid"), (4,), 2, "tabular", np.zeros(4), np.ones(4))
    import torch

    logits = module(torch.randn(5, 4))
    assert logits.shape == (5, 2) and torch.all(logits[:, 0] == 0)
    with pytest.raises(ValueError, match="sigmoid needs two classes"):
        build_module(MLPSpec(units=[8], output="sigmoid"), (4,), 3, "tabular", np.zeros(4), np.ones(4))


class _Watched(optuna.samplers.BaseSampler):
    """A sampler that delegates to ``inner`` through Optuna's public sampler interface and records
    how many trials the study it is shown holds and whether ``inner`` modelled the space."""

    def __init__(self, inner: optuna.samplers.BaseSampler):
        self.inner, self.shown, self.modelled = inner, [], []

    def infer_relative_search_space(self, study, trial):
        self.shown.append(len(study.get_trials(deepcopy=False)))
        return self.inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        params = self.inner.sample_relative(study, trial, search_space)
        self.modelled.append(bool(params))
        return params

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self.inner.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self.inner.after_trial(study, trial, state, values)


def _models_after(sampler: optuna.samplers.BaseSampler, study: optuna.Study) -> tuple[bool, int]:
    """Whether ``sampler`` models the space (no random start-up) for the study's next trial, and
    how many trials the study it was shown held."""
    study.sampler = watched = _Watched(sampler)
    study.ask().suggest_float("q", 0, 1)
    return watched.modelled[-1], watched.shown[-1]


def test_tpe_under_hyperband_starts_modelling_sooner():
    # hyperband makes random start-up trials cheap; few of them are needed (bench/REPORT.md)
    def models_after_three(pruner: str) -> bool:
        sampler = build_sampler(build_spec(tiny_spec_tree(search={"n_trials": 30, "pruner": pruner})).search, 0)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda trial: trial.suggest_float("q", 0, 1), n_trials=3)
        return _models_after(sampler, study)[0]

    assert models_after_three("hyperband") and not models_after_three("median")


def test_tpe_under_hyperband_models_every_brackets_trials():
    # strategy._startup_trials counts on it: Optuna hands the sampler a bracket's view of
    # the study, yet TPE's history is the whole study
    spec = build_spec(tiny_spec_tree(search={"n_trials": 30, "pruner": "hyperband"}))
    study = optuna.create_study(direction="maximize", pruner=build_pruner(spec.search, 20),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(_rising(), n_trials=30)
    # a TPE that waits for more trials than the bracket it is shown holds, fewer than the study's
    tpe = optuna.samplers.TPESampler(seed=0, multivariate=True, group=True, n_startup_trials=28)
    modelled, shown = _models_after(tpe, study)
    assert shown < 28  # the view it is shown: one bracket of the study's 31 trials
    assert modelled  # yet it counted all 30 finished trials: its history is the whole study


def test_equal_accuracies_are_broken_by_the_lower_log_loss_then_the_first():
    from tunaflow.components.selection import best_trial_index

    values = [1.0, 0.9, 1.0, 1.0]
    metrics = [{"valid_loss": 0.30}, {"valid_loss": 0.01}, {"valid_loss": 0.05}, {"valid_loss": 0.05}]
    assert best_trial_index(values, metrics, "valid_acc", "maximize") == 2
    # no tie-breaker for the metric, or none recorded: the first of the best
    assert best_trial_index(values, metrics, "valid_loss", "maximize") == 0
    assert best_trial_index(values, [{}, {}, {}, {}], "valid_acc", "maximize") == 0
    assert best_trial_index([3.0, 2.0, 2.0], [{}, {}, {}], "valid_rmse", "minimize") == 1
