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
    with stage_run(ctx, "data"):
        for name, X, y in (("train", splits.X_train, splits.y_train), ("validation", splits.X_val, splits.y_val),
                           ("test", splits.X_test, splits.y_test)):
            dataset = mlflow.data.from_numpy(X, targets=y, name=f"{spec.data.source}-{name}")
            mlflow.log_input(dataset, context=name)
        mlflow.log_params({
            "source": spec.data.source, "kind": splits.kind, "digest": splits.digest,
            "input_shape": list(splits.input_shape), "n_classes": splits.n_classes,
            "n_train": len(splits.y_train), "n_val": len(splits.y_val), "n_test": len(splits.y_test),
            **splits.extra,
        })
        if splits.extra.get("skipped_files"):
            get_run_logger().warning(f"{spec.data.source}: skipped {splits.extra['skipped_files']} unreadable image file(s)")
        log_dict_artifact({"classes": splits.classes, "class_counts": splits.class_counts(),
                           "feature_names": splits.feature_names,
                           "feature_range": [float(np.min(splits.X_train)), float(np.max(splits.X_train))]},
                          "data.json")
    return splits
