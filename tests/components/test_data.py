import numpy as np
import pandas as pd
import pytest

from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.errors import DataError
from tunaflow.components.spec import DataSpec


@pytest.mark.parametrize("name,kind,shape", [
    ("digits", "image", (8, 8)), ("wine", "tabular", (13,)),
    ("breast_cancer", "tabular", (30,)), ("iris", "tabular", (4,)),
])
def test_bundled_sets(name, kind, shape):
    data = load_dataset(DataSpec(source=name))
    assert data.kind == kind and data.input_shape == shape
    assert data.X.dtype == np.float32 and len(data.classes) >= 2


def test_splits_are_stratified_disjoint_and_seeded():
    data = load_dataset(DataSpec(source="iris"))
    spec = DataSpec(source="iris", val_fraction=0.2, test_fraction=0.2)
    a, b = split_dataset(data, spec, 1), split_dataset(data, spec, 1)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 150
    assert set(np.bincount(a.y_test)) == {10}  # 30 test rows, 10 per class
    c = split_dataset(data, spec, 2)
    assert not np.array_equal(a.y_train, c.y_train) or not np.array_equal(a.X_train, c.X_train)


def test_subsample_thins_only_the_training_split():
    data = load_dataset(DataSpec(source="digits"))
    full = split_dataset(data, DataSpec(source="digits"), 0)
    half = split_dataset(data, DataSpec(source="digits", subsample=0.5), 0)
    assert abs(len(half.y_train) - len(full.y_train) / 2) <= 10
    assert np.array_equal(half.y_test, full.y_test)
    assert set(half.y_train) == set(range(10))


def _csv(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_csv_source_with_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60),
                          "label": ["cat", "dog", "eel"] * 20})
    data = load_dataset(DataSpec(source=_csv(tmp_path, frame), target="label"))
    assert data.feature_names == ["a", "b"] and data.classes == ["cat", "dog", "eel"]


@pytest.mark.parametrize("frame,target,message", [
    (pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}), "label", "no target column 'label'"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": [1, 1, 1]}), "y", "single class"),
    (pd.DataFrame({"a": [1.0, 2.0], "y": [np.nan, np.nan]}), "y", "target column 'y' is empty"),
    (pd.DataFrame({"a": [1.0, 1.0, 1.0], "y": [0, 1, 0]}), "y", "no feature column left"),
])
def test_bad_csv_is_a_data_error_naming_the_file(tmp_path, frame, target, message):
    path = _csv(tmp_path, frame)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(DataSpec(source=path, target=target))
    assert path in str(info.value)


def test_missing_file_and_unknown_set():
    with pytest.raises(DataError, match="file not found"):
        load_dataset(DataSpec(source="/nope/x.csv", target="y"))
    with pytest.raises(DataError, match="unknown data set 'mnist-huge'"):
        load_dataset(DataSpec(source="mnist-huge"))


def test_too_few_samples_for_the_splits(tmp_path):
    frame = pd.DataFrame({"a": np.arange(6.0), "y": [0, 1] * 3})
    spec = DataSpec(source=_csv(tmp_path, frame), target="y")
    with pytest.raises(DataError, match="too few"):
        split_dataset(load_dataset(spec), spec, 0)


def test_npz_images_and_missing_arrays(tmp_path):
    path = tmp_path / "imgs.npz"
    np.savez(path, X=np.zeros((30, 6, 5, 3), np.uint8), y=np.repeat([0, 1, 2], 10))
    data = load_dataset(DataSpec(source=str(path)))
    assert data.kind == "image" and data.input_shape == (6, 5, 3)
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.zeros((3, 2)))
    with pytest.raises(DataError, match="missing array"):
        load_dataset(DataSpec(source=str(bad)))
