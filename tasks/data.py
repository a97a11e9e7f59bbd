"""Stage: load and split the data, and record what was loaded."""

from __future__ import annotations

import mlflow
import numpy as np
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.checks import check_experiment
from tunaflow.components.data import DataSplits
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_dict_artifact, stage_run


@task(name="load data", cache_policy=NO_CACHE)
def load_data(spec: ExperimentSpec, ctx: TrackingContext) -> DataSplits:
    splits = check_experiment(spec)
    logger = get_run_logger()
    # what tunaflow decided about the data without being told (task, dropped columns) is said once
    for note in splits.extra.get("notes", []):
        logger.warning(f"{spec.data.source}: {note}")
    with stage_run(ctx, "data"):
        for name, X, y in (("train", splits.X_train, splits.y_train), ("validation", splits.X_val, splits.y_val),
                           ("test", splits.X_test, splits.y_test)):
            dataset = mlflow.data.from_numpy(X, targets=y, name=f"{spec.data.source}-{name}")
            mlflow.log_input(dataset, context=name)
        extra = {k: v for k, v in splits.extra.items() if k != "notes"}
        mlflow.log_params({
            "source": spec.data.source, "kind": splits.kind, "task": splits.task, "digest": splits.digest,
            "input_shape": list(splits.input_shape), "n_outputs": splits.n_outputs,
            "n_train": len(splits.y_train), "n_val": len(splits.y_val), "n_test": len(splits.y_test),
            **({"n_classes": splits.n_classes} if splits.task == "classification" else {}),
            **({"n_columns": len(splits.columns), "n_embedded": len(splits.embedded)} if splits.encoder else {}),
            **extra,
        })
        if splits.extra.get("skipped_files"):
            logger.warning(f"{spec.data.source}: skipped {splits.extra['skipped_files']} unreadable image file(s)")
        log_dict_artifact(describe_data(splits), "data.json")
        if splits.encoder is not None:
            logger.info(f"{spec.data.source}: {_column_line(splits)}")
            log_dict_artifact(splits.encoder.summary(), "encoder.json")
    return splits


def describe_data(splits: DataSplits) -> dict:
    """What data.json records: targets (class counts or target statistics), features and notes."""
    targets = ({"classes": splits.classes, "class_counts": splits.class_counts()}
               if splits.task == "classification" else {"target": splits.target_summary()})
    return {"task": splits.task, **targets, "columns": splits.columns, "feature_names": splits.feature_names,
            "feature_range": [float(np.min(splits.X_train)), float(np.max(splits.X_train))],
            "notes": splits.extra.get("notes", [])}


def _column_line(splits: DataSplits) -> str:
    if splits.kind == "text":
        encoder = splits.encoder
        return (f"text column {encoder.column!r}: {len(encoder.vocabulary)} words in the training vocabulary, "
                f"{encoder.width} tokens per document")
    kinds = splits.encoder.kinds
    numeric = sum(kind == "numeric" for kind in kinds.values())
    line = (f"{len(kinds)} columns ({numeric} numeric, {len(kinds) - numeric} categorical) -> "
            f"{splits.X_train.shape[1]} features")
    if splits.embedded:
        line += f", {len(splits.embedded)} embedded (categories: {', '.join(map(str, splits.embedded))})"
    return line
