"""Stage: the learning curve of the best configuration, and whether more data would help."""

from __future__ import annotations

import mlflow
from mlflow.entities import Metric
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.learning_curve import curve_figure, learning_curve, still_rising
from tunaflow.components.seeding import derive_seed
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_batch, log_figure_artifact, stage_run
from tunaflow.tasks.train import FinalModel
from tunaflow.tasks import tags as keys


@task(name="learning curve", cache_policy=NO_CACHE)
def learning_curve_stage(final: FinalModel, splits: DataSplits, ctx: TrackingContext) -> dict:
    points = learning_curve(final.spec, splits, derive_seed(final.spec.seed, "learning-curve"))
    rising = still_rising(points)
    with stage_run(ctx, "learning_curve") as run:
        stamp = 0
        metric = points[0].metric if points else "acc"  # acc for classes, rmse for regression
        metrics = [Metric(name, value, stamp, p.n_samples) for p in points
                   for name, value in ((f"curve_valid_{metric}", p.valid_score),
                                       (f"curve_train_{metric}", p.train_score),
                                       ("curve_valid_loss", p.valid_loss))]
        log_batch(run.info.run_id, metrics=metrics, tags={keys.MORE_DATA_HELPS: str(rising).lower()})
        mlflow.log_dict([p.__dict__ for p in points], "learning_curve.json")
        log_figure_artifact(curve_figure(points, rising), "learning_curve.png")
    verdict = "still improving at full size: more data would likely help" if rising else "flat at full size"
    get_run_logger().info("learning curve: " + ", ".join(
        f"{p.n_samples} samples {p.metric} {p.valid_score:.4f}" for p in points) + f"; {verdict}")
    return {"points": [p.__dict__ for p in points], "more_data_helps": rising}
