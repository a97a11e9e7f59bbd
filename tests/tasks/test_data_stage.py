"""What the data stage records: class counts for classification, target statistics for regression."""

import numpy as np

from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.spec import DataSpec
from tunaflow.tasks.data import describe_data


def _splits(**fields):
    spec = DataSpec(**fields)
    return split_dataset(load_dataset(spec), spec, 0)


def test_regression_records_target_statistics_not_classes():
    splits = _splits(source="diabetes")
    record = describe_data(splits)
    assert record["task"] == "regression" and "class_counts" not in record
    assert record["target"]["train"]["mean"] == float(np.mean(splits.y_train))
    assert record["target"]["test"]["max"] == float(np.max(splits.y_test))
    assert record["columns"] == splits.columns


def test_classification_records_class_counts_and_notes(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    path = tmp_path / "t.csv"
    pd.DataFrame({"id": range(60), "x": rng.normal(size=60), "y": ["a", "b", "c"] * 20}).to_csv(path, index=False)
    record = describe_data(_splits(source=str(path), target="y"))
    assert sum(record["class_counts"]["train"].values()) > 0 and record["classes"] == ["a", "b", "c"]
    assert any("dropped column 'id'" in note for note in record["notes"])
