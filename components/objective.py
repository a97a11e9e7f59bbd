"""The objective of one trial: train, score on validation (holdout or k-fold), and measure."""

from __future__ import annotations

import statistics
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from tunaflow.components.data import DataSplits
from tunaflow.components.models import count_parameters
from tunaflow.components.seeding import derive_seed
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import train_model, train_steps
from tunaflow.components.training import kept_epoch


@dataclass
class TrialOutcome:
    """A finished trial's objective values and what it took to get there."""

    values: list[float]
    metrics: dict[str, float]
    best_epoch: int
    history: list[dict] = field(default_factory=list)
    n_params: int = 0
    seconds: float = 0.0
    samples_per_second: float = 0.0

    @property
    def value(self) -> float:
        return self.values[0]


def inference_latency_ms(module: torch.nn.Module, X: np.ndarray, repeats: int = 5) -> float:
    """Median milliseconds to predict one sample, measured in batches of up to 256."""
    batch = torch.as_tensor(X[:256])
    module.eval()
    timings = []
    with torch.inference_mode():
        module(batch)
        for _ in range(repeats):
            start = time.perf_counter()
            module(batch)
            timings.append((time.perf_counter() - start) * 1000 / len(batch))
    return statistics.median(timings)


def _kept_score(fit, spec: ExperimentSpec) -> tuple[int, dict[str, float]]:
    """The epoch whose weights a fit keeps and that epoch's validation metrics."""
    epoch = kept_epoch(fit.history, spec.train, validated=True)
    row = fit.history[epoch - 1]
    return epoch, {"valid_acc": row["valid_acc"], "valid_loss": row["valid_loss"]}


def _fit_once(spec, X, y, valid, n_classes, kind, seed, report):
    module, fit = train_model(spec, X, y, n_classes=n_classes, kind=kind, seed=seed, valid=valid, report=report)
    return module, fit, *_kept_score(fit, spec)


def _kfold(spec: ExperimentSpec, splits: DataSplits, seed: int, report):
    """Stratified k-fold on train+validation, the folds trained in turns, one epoch each.

    After every epoch ``report`` sees the mean over the folds of that epoch's validation
    metrics (a fold that early stopping ended counts its kept epoch's), so pruners judge
    k-fold trials per epoch, as holdout ones. Each fold trains as it would alone.
    """
    from sklearn.model_selection import StratifiedKFold

    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    folds = StratifiedKFold(spec.search.validation.folds, shuffle=True, random_state=derive_seed(seed, "folds"))
    runs = [train_steps(spec, X[train], y[train], n_classes=splits.n_classes, kind=splits.kind,
                        seed=derive_seed(seed, "fold", k), valid=(X[val], y[val]))
            for k, (train, val) in enumerate(folds.split(X, y), start=1)]
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
                    kept, latest[k] = _kept_score(fit, spec)
                    finished[k] = (module, fit, kept, latest[k])
            if report and epoch is not None:
                report(epoch, {name: statistics.mean(m[name] for m in latest) for name in ("valid_acc", "valid_loss")})
    modules, fits, epochs, scores = zip(*(finished[k] for k in range(len(runs))))
    history = [{"epoch": k, **{f"fold_{name}": value for name, value in score.items()}}
               for k, score in enumerate(scores, start=1)]
    mean = {name: statistics.mean(s[name] for s in scores) for name in scores[0]}
    return (modules[-1], mean, int(statistics.median(epochs)), history, sum(fit.seconds for fit in fits),
            statistics.mean(fit.samples_per_second for fit in fits))


def evaluate_config(
    spec: ExperimentSpec,
    splits: DataSplits,
    *,
    seed: int,
    report: Callable[[int, dict], None] | None = None,
) -> TrialOutcome:
    """Train ``spec``'s network and return its objective values (``search.objectives``).

    Validation metrics are those of the weights the fit keeps. ``report(step, metrics)``
    sees every epoch (under k-fold, the mean over the folds), and may raise to stop the
    trial (a pruner).
    """
    if spec.search.validation.scheme == "kfold":
        module, metrics, epoch, history, seconds, rate = _kfold(spec, splits, seed, report)
    else:
        module, fit, epoch, metrics = _fit_once(spec, splits.X_train, splits.y_train, (splits.X_val, splits.y_val),
                                                splits.n_classes, splits.kind, seed, report)
        history, seconds, rate = fit.history, fit.seconds, fit.samples_per_second
    metrics["n_params"] = float(count_parameters(module))
    if any(o.metric == "latency_ms" for o in spec.search.objective_specs):
        metrics["latency_ms"] = inference_latency_ms(module, splits.X_val)
    return TrialOutcome(
        values=[metrics[o.metric] for o in spec.search.objective_specs], metrics=metrics, best_epoch=epoch,
        history=history, n_params=int(metrics["n_params"]), seconds=seconds, samples_per_second=rate,
    )
