"""Stage: score the final model on the held-out test split."""

from __future__ import annotations

import mlflow
from prefect import task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.metrics import classification_metrics, confusion_figure, regression_metrics, scatter_figure
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_figure_artifact, stage_run
from tunaflow.tasks.train import FinalModel


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(spec: ExperimentSpec, final: FinalModel, splits: DataSplits, ctx: TrackingContext) -> dict:
    """Test metrics: accuracy, f1_macro, log_loss and a confusion matrix for classes; rmse, mae,
    r2 and a predicted-vs-true scatter for regression."""
    output = final.fitted.predict_output(splits.X_test)
    if splits.task == "regression":
        metrics = regression_metrics(splits.y_test, output)
        with stage_run(ctx, "evaluation"):
            mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items()})
            log_figure_artifact(scatter_figure(splits.y_test, output), "predicted_vs_true.png")
        return metrics
    metrics, matrix = classification_metrics(splits.y_test, output, splits.n_classes)
    with stage_run(ctx, "evaluation"):
        mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items()})
        mlflow.log_dict({"labels": [str(c) for c in splits.classes], "matrix": matrix.tolist()},
                        "confusion_matrix.json")
        log_figure_artifact(confusion_figure(matrix, splits.classes), "confusion_matrix.png")
    return metrics
