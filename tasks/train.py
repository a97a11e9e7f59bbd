"""Stage: train the final model on train+validation with the best parameters (or the ensemble's
members, each with its own), and log it."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.fitted import FittedEnsemble, FittedEstimator, FittedNetwork
from tunaflow.components.model_spec import SKLEARN_FAMILIES
from tunaflow.components.objective import fit_sklearn
from tunaflow.components.seeding import derive_seed
from tunaflow.components.shared_cores import SharedCores
from tunaflow.components.space import apply_params
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import fit_options, spec_augmentation, text_options, train_model
from tunaflow.tasks.augment import log_augmentation
from tunaflow.tasks.ensemble import EnsemblePlan
from tunaflow.tasks.mlflow.pyfunc import log_fitted_model, split_input
from tunaflow.tasks.search import SearchResult
from tunaflow.tasks.mlflow.tracking import TrackingContext, epoch_metrics, log_batch, stage_run


@dataclass
class FinalModel:
    """The trained final model (any family, ``components/fitted.py``) and where MLflow keeps it."""

    fitted: FittedNetwork | FittedEstimator | FittedEnsemble
    model_uri: str
    run_id: str
    epochs: int
    spec: ExperimentSpec
    seconds: float = 0.0  # the training of the model (every member's, for an ensemble)

    @property
    def module(self):
        """The network's module (None for a scikit-learn family)."""
        return getattr(self.fitted, "module", None)


def progress_due(epoch: int, epochs: int, quiet_seconds: float) -> bool:
    """Whether the final training says where it is: at the first and last epoch, every tenth of
    the epochs, and after 10 s without a line (a line per epoch of a 300-epoch fit is noise)."""
    return epoch in (1, epochs) or epoch % max(1, epochs // 10) == 0 or quiet_seconds >= 10.0


def _train_network(final_spec: ExperimentSpec, splits: DataSplits, X, y, seed: int, epochs: int, run_id: str,
                   beside_done: threading.Event | None = None):
    augmentation = spec_augmentation(final_spec, X, splits.n_outputs, splits.kind, seed, tuple(splits.embedded or ()),
                                     **text_options(splits))
    logger = get_run_logger()

    with SharedCores(beside_done) as cores:
        said = [time.monotonic()]

        def progress(epoch: int, metrics: dict) -> None:  # a long final training is not silent
            if progress_due(epoch, epochs, time.monotonic() - said[0]):
                logger.info(f"final training epoch {epoch}/{epochs}: train_loss {metrics['train_loss']:.4f}"
                            f"  {metrics['dur']:.1f}s")
                said[0] = time.monotonic()
            cores.reclaim()

        # the best trial's augmentation, logged here so retraining can reload what this model saw
        log_augmentation(augmentation)
        module, fit = train_model(final_spec, X, y, seed=seed, epochs=epochs, augmentation=augmentation,
                                  report=progress, **fit_options(splits))
    log_batch(run_id, metrics=epoch_metrics(fit.history))
    fitted = FittedNetwork(module, splits.task, final_spec.model.family)
    mlflow.log_metrics({"n_params": fitted.n_params, "samples_per_second": fit.samples_per_second})
    return fitted


def _train_estimator(final_spec: ExperimentSpec, splits: DataSplits, X, y, seed: int) -> FittedEstimator:
    start = time.perf_counter()
    fitted = fit_sklearn(final_spec, splits, X, y, seed)
    seconds = time.perf_counter() - start
    get_run_logger().info(f"final training: {final_spec.model.family} fitted on {len(y)} rows in {seconds:.1f}s")
    mlflow.log_metrics({"n_params": 0, "fit_seconds": seconds, "samples_per_second": len(y) / max(seconds, 1e-9)})
    return fitted


def fit_configuration(final_spec: ExperimentSpec, splits: DataSplits, X, y, seed: int, epochs: int, run_id: str,
                      beside_done: threading.Event | None = None) -> FittedNetwork | FittedEstimator:
    """One configuration (a trial's spec) fitted on (X, y): a scikit-learn family once, a network for ``epochs``."""
    if final_spec.model.family in SKLEARN_FAMILIES:
        return _train_estimator(final_spec, splits, X, y, seed)
    return _train_network(final_spec, splits, X, y, seed, epochs, run_id, beside_done)


def _fit_ensemble(spec: ExperimentSpec, plan: EnsemblePlan, splits: DataSplits, X, y, run_id: str,
                  beside_done: threading.Event | None) -> tuple[FittedEnsemble, list[ExperimentSpec]]:
    specs = [apply_params(spec, member.params) for member in plan.members]
    members = [fit_configuration(member_spec, splits, X, y, derive_seed(spec.seed, "final", member.trial),
                                 member.epochs, run_id, beside_done)
               for member_spec, member in zip(specs, plan.members)]
    mlflow.log_dict(plan.to_json(), "ensemble.json")
    return FittedEnsemble(members, [m.weight for m in plan.members], splits.task), specs


@task(name="train final model", cache_policy=NO_CACHE)
def train_final(spec: ExperimentSpec, best: SearchResult, splits: DataSplits, ctx: TrackingContext,
                beside_done: threading.Event | None = None, ensemble: EnsemblePlan | None = None) -> FinalModel:
    """The best configuration, or each member of ``ensemble``, refitted on train+validation.

    ``beside_done``: unset while other work of this process (the study's report) runs beside
    the training, which leaves it a core until then (components/shared_cores.py)."""
    final_spec = apply_params(spec, best.best_params)
    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    family = final_spec.model.family
    member_specs = None
    start = time.perf_counter()
    with stage_run(ctx, "final_training") as run:
        params = {**best.best_params, "family": family, "epochs": best.best_epoch, "n_samples": len(y)}
        if ensemble is not None:
            params.update(family="ensemble", ensemble_members=" ".join(
                f"#{m.trial}:{m.family}x{m.weight}" for m in ensemble.members))
        mlflow.log_params(params)
        if ensemble is None:
            fitted = fit_configuration(final_spec, splits, X, y, derive_seed(spec.seed, "final"), best.best_epoch,
                                       run.info.run_id, beside_done)
        else:
            fitted, member_specs = _fit_ensemble(spec, ensemble, splits, X, y, run.info.run_id, beside_done)
        seconds = time.perf_counter() - start
        with tempfile.TemporaryDirectory(prefix="tunaflow-") as workdir:
            info = log_fitted_model(fitted, final_spec, kind=splits.kind, classes=splits.classes,
                                    input_shape=splits.input_shape, feature_names=splits.feature_names,
                                    example=splits.X_test[:5], workdir=Path(workdir), encoder=splits.encoder,
                                    embedded=splits.embedded or (), raw_example=split_input(splits, 5),
                                    member_specs=member_specs)
    return FinalModel(fitted, info.model_uri, run.info.run_id, best.best_epoch, final_spec, seconds)
