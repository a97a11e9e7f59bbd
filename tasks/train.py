"""Stage: train the final model on train+validation with the best parameters, and log it."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from torch import nn

from tunaflow.components.data import DataSplits
from tunaflow.components.models import count_parameters
from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import apply_params
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import spec_augmentation, train_model
from tunaflow.tasks.augment import log_augmentation
from tunaflow.tasks.mlflow.pyfunc import log_classifier, split_input
from tunaflow.tasks.search import SearchResult
from tunaflow.tasks.mlflow.tracking import TrackingContext, epoch_metrics, log_batch, stage_run


@dataclass
class FinalModel:
    """The trained final network and where MLflow keeps it."""

    module: nn.Module
    model_uri: str
    run_id: str
    epochs: int
    spec: ExperimentSpec


@task(name="train final model", cache_policy=NO_CACHE)
def train_final(spec: ExperimentSpec, best: SearchResult, splits: DataSplits, ctx: TrackingContext) -> FinalModel:
    final_spec = apply_params(spec, best.best_params)
    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    seed = derive_seed(spec.seed, "final")
    # the best trial's augmentation, logged here so retraining can reload what this model saw
    augmentation = spec_augmentation(final_spec, X, splits.n_classes, splits.kind, seed)
    logger = get_run_logger()

    def progress(epoch: int, metrics: dict) -> None:  # a long final training is not silent
        logger.info(f"final training epoch {epoch}/{best.best_epoch}: train_loss {metrics['train_loss']:.4f}"
                    f"  {metrics['dur']:.1f}s")

    with stage_run(ctx, "final_training") as run:
        log_augmentation(augmentation)
        module, fit = train_model(final_spec, X, y, n_classes=splits.n_classes, kind=splits.kind,
                                  seed=seed, epochs=best.best_epoch, augmentation=augmentation,
                                  report=progress)
        log_batch(run.info.run_id, metrics=epoch_metrics(fit.history),
                  params={**best.best_params, "epochs": best.best_epoch, "n_samples": len(y)})
        mlflow.log_metrics({"n_params": count_parameters(module), "samples_per_second": fit.samples_per_second})
        with tempfile.TemporaryDirectory(prefix="tunaflow-") as workdir:
            info = log_classifier(module, final_spec, kind=splits.kind, classes=splits.classes,
                                  input_shape=splits.input_shape, feature_names=splits.feature_names,
                                  example=splits.X_test[:5], workdir=Path(workdir),
                                  encoder=splits.encoder, raw_example=split_input(splits, 5))
    return FinalModel(module, info.model_uri, run.info.run_id, best.best_epoch, final_spec)
