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


def test_diabetes_is_a_bundled_regression_set():
    spec = DataSpec(source="diabetes")
    data = load_dataset(spec)
    assert data.task == "regression" and data.classes == [] and data.y.dtype == np.float32
    splits = split_dataset(data, spec, 0)
    assert splits.task == "regression" and splits.n_outputs == 1 and splits.y_train.dtype == np.float32
    assert splits.columns == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert len(splits.y_train) + len(splits.y_val) + len(splits.y_test) == 442
    assert set(splits.target_summary()) == {"train", "val", "test"}
    with pytest.raises(DataError, match="data.task: iris is a classification set"):
        load_dataset(DataSpec(source="iris", task="regression"))


def test_bundled_tables_keep_their_digest_and_values_through_the_encoder():
    from sklearn.datasets import load_wine

    from tunaflow.components.data import dataset_digest

    bunch = load_wine()
    splits = split_dataset(load_dataset(DataSpec(source="wine")), DataSpec(source="wine"), 0)
    assert splits.digest == dataset_digest(bunch.data.astype(np.float32), bunch.target.astype(np.int64))
    assert splits.X_train.shape[1] == 13 and splits.embedded == []
    assert np.isin(splits.X_test[:, 0], bunch.data[:, 0].astype(np.float32)).all()


def _priced(n=200, seed=0):
    rng = np.random.default_rng(seed)
    city = rng.choice(["oslo", "rome", "lima"], n)
    size = rng.normal(50, 10, n)
    frame = pd.DataFrame({"city": city, "size": size.round(2), "price": (3 * size + rng.normal(0, 1, n)).round(4)})
    frame.loc[::11, "size"] = np.nan
    frame.loc[::13, "city"] = None
    return frame


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_numeric_target_with_many_values_is_regression(tmp_path, suffix):
    path = tmp_path / f"houses.{suffix}"
    getattr(_priced(), f"to_{suffix}")(path, index=False)
    spec = DataSpec(source=str(path), target="price")
    data = load_dataset(spec)
    assert data.task == "regression" and data.classes == []
    assert data.extra["notes"][0].startswith("task: regression (target 'price' is numeric with ")
    splits = split_dataset(data, spec, 0)
    assert splits.encoder is not None and splits.columns == ["city", "size"]
    assert splits.feature_names[:2] == ["size", "size#missing"]  # numeric values, their indicators, one-hot
    assert sorted(splits.feature_names[2:5]) == ["city=lima", "city=oslo", "city=rome"]  # most frequent first
    assert splits.feature_names[5:] == ["city#missing"]
    assert np.isfinite(splits.X_train).all() and splits.y_train.dtype == np.float32
    assert splits.raw_test.shape == (len(splits.y_test), 2)
    assert np.array_equal(splits.encoder.transform(splits.raw_test), splits.X_test)


def test_task_detection_and_overrides(tmp_path):
    ratings = pd.DataFrame({"x": np.random.default_rng(0).normal(size=90), "stars": [1, 2, 3, 4, 5] * 18})
    path = _csv(tmp_path, ratings)
    data = load_dataset(DataSpec(source=path, target="stars"))
    assert data.task == "classification" and data.classes == [1, 2, 3, 4, 5]
    assert "task: classification (target 'stars' has 5 distinct values)" in data.extra["notes"][0]
    forced = load_dataset(DataSpec(source=path, target="stars", task="regression"))
    assert forced.task == "regression" and forced.extra["notes"] == []
    prices = _csv(tmp_path, _priced())
    as_classes = load_dataset(DataSpec(source=prices, target="price", task="classification"))
    assert as_classes.task == "classification" and len(as_classes.classes) > 100
    labels = _csv(tmp_path, ratings.assign(y=["a", "b", "c"] * 30))
    with pytest.raises(DataError, match="data.task: regression needs a numeric target; 'y' holds values"):
        load_dataset(DataSpec(source=labels, target="y", task="regression"))


def test_the_encoder_sees_the_training_rows_only(tmp_path):
    frame = _priced()
    spec = DataSpec(source=_csv(tmp_path, frame), target="price")
    splits = split_dataset(load_dataset(spec), spec, 0)
    # the split depends on the targets alone: change the features of the test rows only
    test_rows = frame["price"].astype(np.float32).isin(splits.y_test)
    assert test_rows.sum() == len(splits.y_test)
    changed = frame.copy()
    changed.loc[test_rows, "size"] = 1e6
    changed.loc[test_rows, "city"] = "atlantis"
    spec2 = DataSpec(source=_csv(tmp_path, changed, "changed.csv"), target="price")
    splits2 = split_dataset(load_dataset(spec2), spec2, 0)
    assert splits2.encoder.to_dict() == splits.encoder.to_dict()
    assert np.array_equal(splits2.X_train, splits.X_train) and np.array_equal(splits2.X_val, splits.X_val)
    assert (splits2.X_test[:, splits.feature_names.index("size")] == 1e6).all()
    assert splits2.digest != splits.digest


def test_regression_splits_subsample_and_sizes(tmp_path):
    spec = DataSpec(source=_csv(tmp_path, _priced()), target="price", subsample=0.5)
    splits = split_dataset(load_dataset(spec), spec, 0)
    full = split_dataset(load_dataset(spec), spec.model_copy(update={"subsample": 1.0}), 0)
    assert abs(len(splits.y_train) - len(full.y_train) / 2) <= 1
    assert np.array_equal(splits.y_test, full.y_test)
    tiny = DataSpec(source=_csv(tmp_path, _priced(5)), target="price", task="regression")
    with pytest.raises(DataError, match="5 rows are too few"):
        split_dataset(load_dataset(tiny), tiny, 0)


def test_digest_is_deterministic_for_tables(tmp_path):
    spec = DataSpec(source=_csv(tmp_path, _priced()), target="price")
    assert split_dataset(load_dataset(spec), spec, 0).digest == split_dataset(load_dataset(spec), spec, 5).digest


def test_column_types_apply_to_bundled_tables_and_only_to_tables():
    spec = DataSpec(source="wine", columns={"alcohol": "drop", "magnesium": "categorical"})
    splits = split_dataset(load_dataset(spec), spec, 0)
    assert "alcohol" not in splits.columns and splits.encoder.kinds["magnesium"] == "categorical"
    assert splits.encoder.dropped == ["alcohol"] and splits.embedded  # magnesium: many values, a code
    with pytest.raises(DataError, match="data.columns.alcool: no such column in wine"):
        load_dataset(DataSpec(source="wine", columns={"alcool": "drop"}))
    with pytest.raises(DataError, match="data.columns: column types apply to tables"):
        load_dataset(DataSpec(source="digits", columns={"x": "drop"}))


def test_a_table_whose_values_no_two_training_rows_share_is_refused(tmp_path):
    """Once-seen categories count as unknown; a table left with nothing else is the user's to fix,
    one line before anything runs (it failed in the flow with a numpy traceback)."""
    path = tmp_path / "names.csv"
    names = [f"person {i}" for i in range(200)] + ["person 0"]  # one repeat: not an id, not a feature
    pd.DataFrame({"name": names, "y": [i % 2 for i in range(201)]}).to_csv(path, index=False)
    spec = DataSpec(source=str(path), target="y")
    with pytest.raises(DataError, match="no value of name is shared by two training rows"):
        split_dataset(load_dataset(spec), spec, seed=0)
