"""The objective of one trial: train, score on validation (holdout or k-fold), and measure.

Networks train epoch by epoch (each epoch reported); a scikit-learn family fits once and
reports one step, so pruners and progress lines treat every family alike.
"""

from __future__ import annotations

import statistics
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from tunaflow.components.data import DataSplits
from tunaflow.components.fitted import FittedEstimator, FittedNetwork, flat_rows, primary_score
from tunaflow.components.metrics import validation_metrics
from tunaflow.components.model_spec import SKLEARN_FAMILIES
from tunaflow.components.out_of_sample import MAX_STORED_VALUES, empty_predictions
from tunaflow.components.seeding import derive_seed
from tunaflow.components.sklearn_models import build_estimator, fit_estimator
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import fit_options, train_model, train_steps
from tunaflow.components.training import kept_epoch

CLASSIFICATION_SCORES = ("valid_acc", "valid_loss")
REGRESSION_SCORES = ("valid_rmse", "valid_mae", "valid_r2", "valid_loss")


@dataclass
class TrialOutcome:
    """A finished trial's objective values and what it took to get there.

    ``test_score`` (accuracy, or RMSE for regression) is the trial model's score on the test
    split: the leaderboard shows it; selection never reads it.
    """

    values: list[float]
    metrics: dict[str, float]
    best_epoch: int
    history: list[dict] = field(default_factory=list)
    n_params: int = 0
    seconds: float = 0.0
    samples_per_second: float = 0.0
    test_score: float | None = None
    family: str = ""
    predictions: np.ndarray | None = None  # out-of-sample (components/out_of_sample.py), when asked for

    @property
    def value(self) -> float:
        return self.values[0]


def inference_latency_ms(fitted, X: np.ndarray, repeats: int = 5) -> float:
    """Median milliseconds to predict one sample (``fitted.predict_output``), in batches of up to 256."""
    batch = X[:256]
    fitted.predict_output(batch)
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fitted.predict_output(batch)
        timings.append((time.perf_counter() - start) * 1000 / len(batch))
    return statistics.median(timings)


def score_names(task: str) -> tuple[str, ...]:
    return REGRESSION_SCORES if task == "regression" else CLASSIFICATION_SCORES


def _kept_score(fit, spec: ExperimentSpec, task: str) -> tuple[int, dict[str, float]]:
    """The epoch whose weights a fit keeps and that epoch's validation metrics."""
    epoch = kept_epoch(fit.history, spec.train, validated=True)
    row = fit.history[epoch - 1]
    return epoch, {name: row[name] for name in score_names(task)}


def _folds(spec: ExperimentSpec, splits: DataSplits, seed: int):
    """(X, y, fold index pairs) of k-fold on train+validation, stratified for classes: the folds of
    each repeat in turn, each repeat partitioning the rows with its own seed (the first as before
    repeats existed)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    kind = KFold if splits.task == "regression" else StratifiedKFold
    validation = spec.search.validation
    pairs = []
    for repeat in range(validation.fold_repeats):
        partition_seed = derive_seed(seed, "folds", *((repeat,) if repeat else ()))
        pairs += kind(validation.folds, shuffle=True, random_state=partition_seed).split(X, y)
    return X, y, pairs


def _averaged(predictions: np.ndarray, val: np.ndarray, output: np.ndarray, counts: np.ndarray) -> None:
    """Add one fold's ``output`` for rows ``val`` to the running mean over repeats (NaN until predicted)."""
    seen = counts[val] > 0
    fresh = np.where(seen.reshape(-1, *[1] * (output.ndim - 1)), predictions[val], 0.0)
    counts[val] += 1
    weight = counts[val].reshape(-1, *[1] * (output.ndim - 1))
    predictions[val] = fresh + (output - fresh) / weight


def _network_kfold(spec: ExperimentSpec, splits: DataSplits, seed: int, report):
    """Network folds trained in turns, one epoch each.

    After every epoch ``report`` sees the mean over the folds of that epoch's validation
    metrics (a fold that early stopping ended counts its kept epoch's), so pruners judge
    k-fold trials per epoch, as holdout ones. Each fold trains as it would alone.
    """
    X, y, folds = _folds(spec, splits, seed)
    names = score_names(splits.task)
    runs = [train_steps(spec, X[train], y[train], seed=derive_seed(seed, "fold", k), valid=(X[val], y[val]),
                        **fit_options(splits))
            for k, (train, val) in enumerate(folds, start=1)]
    latest: list[dict] = [{} for _ in runs]
    finished: dict[int, tuple] = {}
    with ExitStack() as stack:
        for run in runs:
            stack.enter_context(closing(run))
        while len(finished) < len(runs):
            epoch = None
            for k, run in enumerate(runs):
                if k in finished:
                    continue
                try:
                    epoch, latest[k] = next(run)
                except StopIteration as done:
                    module, fit = done.value
                    kept, latest[k] = _kept_score(fit, spec, splits.task)
                    finished[k] = (module, fit, kept, latest[k])
            if report and epoch is not None:
                report(epoch, {name: statistics.mean(m[name] for m in latest) for name in names})
    modules, fits, epochs, scores = zip(*(finished[k] for k in range(len(runs))))
    history = _fold_history(scores)
    mean = {name: statistics.mean(s[name] for s in scores) for name in scores[0]}
    predictions = None
    if _keeps_predictions(spec, splits, len(y)):
        predictions, counts = empty_predictions(len(y), splits.task, splits.n_outputs), np.zeros(len(y))
        for module, (_, val) in zip(modules, folds):  # under repeats, each row's mean over them
            _averaged(predictions, val, FittedNetwork(module, splits.task).predict_output(X[val]), counts)
    return (FittedNetwork(modules[-1], splits.task, spec.model.family), mean, int(statistics.median(epochs)),
            history, sum(fit.seconds for fit in fits), statistics.mean(fit.samples_per_second for fit in fits),
            predictions)


def _keeps_predictions(spec: ExperimentSpec, splits: DataSplits, n_rows: int) -> bool:
    """Out-of-sample predictions are kept for ensemble selection, which needs one objective, and
    only while they are small enough to store with the trial."""
    return (spec.search.ensemble.mode == "on" and not spec.search.multi_objective
            and n_rows * splits.n_outputs <= MAX_STORED_VALUES)


def _fold_history(scores) -> list[dict]:
    return [{"epoch": k, **{f"fold_{name}": value for name, value in score.items()}}
            for k, score in enumerate(scores, start=1)]


def _network(spec: ExperimentSpec, splits: DataSplits, seed: int, report):
    if spec.search.validation.scheme == "kfold":
        return _network_kfold(spec, splits, seed, report)
    module, fit = train_model(spec, splits.X_train, splits.y_train, seed=seed, valid=(splits.X_val, splits.y_val),
                              report=report, **fit_options(splits))
    epoch, metrics = _kept_score(fit, spec, splits.task)
    fitted = FittedNetwork(module, splits.task, spec.model.family)
    predictions = fitted.predict_output(splits.X_val) if _keeps_predictions(spec, splits, len(splits.y_val)) else None
    return fitted, metrics, epoch, fit.history, fit.seconds, fit.samples_per_second, predictions


def fit_sklearn(spec: ExperimentSpec, splits: DataSplits, X: np.ndarray, y: np.ndarray, seed: int,
                single_thread: bool = False) -> FittedEstimator:
    """The spec's scikit-learn family fitted on (X, y) of ``splits``' kind and encoding."""
    X = flat_rows(X)
    estimator = build_estimator(spec.model, splits.task, X.shape[1], splits.embedded or (), derive_seed(seed, "fit"))
    fit_estimator(estimator, X, y, single_thread)
    return FittedEstimator(estimator, splits.task, spec.model.family, splits.n_outputs)


def _sklearn(spec: ExperimentSpec, splits: DataSplits, seed: int, report):
    """One fit on train scored on validation, or one per fold on train+validation; one report."""
    single_thread = spec.search.workers > 1  # the workers fill the cores
    if spec.search.validation.scheme == "kfold":
        X, y, pairs = _folds(spec, splits, seed)
    else:
        X = np.concatenate([splits.X_train, splits.X_val])
        y = np.concatenate([splits.y_train, splits.y_val])
        n = len(splits.y_train)
        pairs = [(np.arange(n), np.arange(n, len(y)))]
    scores, seconds = [], 0.0
    predictions, counts = empty_predictions(len(y), splits.task, splits.n_outputs), np.zeros(len(y))
    for k, (train, val) in enumerate(pairs, start=1):
        start = time.perf_counter()
        fitted = fit_sklearn(spec, splits, X[train], y[train], derive_seed(seed, "fold", k), single_thread)
        seconds += time.perf_counter() - start
        output = fitted.predict_output(X[val])
        _averaged(predictions, val, output, counts)  # under repeats, each row's mean over them
        scores.append(validation_metrics(splits.task, y[val], output, splits.n_outputs))
    metrics = {name: statistics.mean(s[name] for s in scores) for name in scores[0]}
    if report:
        report(1, dict(metrics))
    history = _fold_history(scores) if len(scores) > 1 else [{"epoch": 1, **metrics}]
    rows = sum(len(train) for train, _ in pairs)
    if spec.search.validation.scheme != "kfold":
        predictions = predictions[len(splits.y_train):]  # the validation rows (out_of_sample_targets' order)
    return (fitted, metrics, 1, history, seconds, rows / max(seconds, 1e-9),
            predictions if _keeps_predictions(spec, splits, len(predictions)) else None)


def evaluate_config(
    spec: ExperimentSpec,
    splits: DataSplits,
    *,
    seed: int,
    report: Callable[[int, dict], None] | None = None,
) -> TrialOutcome:
    """Train ``spec``'s model (a network or a scikit-learn family) and return its objective
    values (``search.objectives``).

    A network's validation metrics are those of the weights the fit keeps, and
    ``report(step, metrics)`` sees every epoch (under k-fold, the mean over the folds); a
    scikit-learn family reports once, at step 1. ``report`` may raise to stop the trial (a pruner).
    """
    family = spec.model.family
    if family == "auto":
        raise ValueError("model.family: auto is resolved by the search space; a trial needs a concrete family")
    run = _sklearn if family in SKLEARN_FAMILIES else _network
    fitted, metrics, epoch, history, seconds, rate, predictions = run(spec, splits, seed, report)
    metrics["n_params"] = float(fitted.n_params)
    if any(o.metric == "latency_ms" for o in spec.search.objective_specs):
        metrics["latency_ms"] = inference_latency_ms(fitted, splits.X_val)
    missing = [o.metric for o in spec.search.objective_specs if o.metric not in metrics]
    if missing:
        raise ValueError(f"search.metric: {missing[0]} is not a {splits.task} metric")
    test_score = primary_score(splits.task, splits.y_test, fitted.predict_output(splits.X_test))
    metrics["test_score"] = test_score  # where the trial's stored metrics carry it to the leaderboard
    return TrialOutcome(
        values=[metrics[o.metric] for o in spec.search.objective_specs], metrics=metrics, best_epoch=epoch,
        history=history, n_params=int(metrics["n_params"]), seconds=seconds, samples_per_second=rate,
        test_score=test_score, family=family, predictions=predictions,
    )
