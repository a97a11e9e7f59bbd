"""Numbers from users' files: float32 range, NPZ archives that are truncated, hold objects or no samples."""

import io
import zipfile

import numpy as np
import pytest

from tunaflow.components.errors import DataError
from tunaflow.components.numeric_checks import check_float32_range, read_npz_arrays


def test_float32_range_names_the_columns():
    X = np.array([[1.0, 1e39, 2.0], [3.0, 4.0, -1e300]])
    with pytest.raises(DataError, match=r"data.csv: value\(s\) beyond float32's range .* column\(s\) b, c; rescale"):
        check_float32_range(X, ["a", "b", "c"], "data.csv")
    with pytest.raises(DataError, match="2 value"):
        check_float32_range(X.reshape(3, 2, 1), None, "x.npz")
    # in range, NaN, infinities (another check's) and float32 input pass
    check_float32_range(np.array([[3e38, np.nan, np.inf]]), ["a", "b", "c"], "data.csv")
    check_float32_range(np.array([[1e30]], dtype=np.float32), ["a"], "data.csv")
    check_float32_range(np.array([[2**62]], dtype=np.int64), ["a"], "data.csv")


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_npz_reads_good_arrays(tmp_path):
    X, y = read_npz_arrays(_npz(tmp_path / "ok.npz", X=np.ones((5, 2)), y=np.arange(5)))
    assert X.shape == (5, 2) and list(y) == [0, 1, 2, 3, 4]


def test_npz_refusals_name_the_file(tmp_path):
    good = _npz(tmp_path / "good.npz", X=np.ones((50, 3)), y=np.arange(50)).read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="cut.npz: not a readable NPZ file"):
        read_npz_arrays(tmp_path / "cut.npz")
    with zipfile.ZipFile(tmp_path / "obj.npz", "w") as archive:
        with archive.open("X.npy", "w") as handle:
            np.lib.format.write_array(handle, np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True)
        with archive.open("y.npy", "w") as handle:
            np.lib.format.write_array(handle, np.arange(3))
    with pytest.raises(DataError, match="obj.npz: holds Python object arrays"):
        read_npz_arrays(tmp_path / "obj.npz")
    with pytest.raises(DataError, match="zero.npz: holds no samples"):
        read_npz_arrays(_npz(tmp_path / "zero.npz", X=np.zeros((0, 3)), y=np.zeros(0)))
    with pytest.raises(DataError, match="noy.npz: missing array"):
        read_npz_arrays(_npz(tmp_path / "noy.npz", X=np.ones((3, 3))))
    (tmp_path / "text.npz").write_bytes(b"hello")
    with pytest.raises(DataError, match="text.npz: not a readable NPZ"):
        read_npz_arrays(tmp_path / "text.npz")
    buffer = io.BytesIO()
    np.save(buffer, np.ones(3))
    (tmp_path / "bare.npz").write_bytes(buffer.getvalue())  # a .npy under an .npz name
    with pytest.raises(DataError, match="bare.npz"):
        read_npz_arrays(tmp_path / "bare.npz")


def test_a_network_whose_loss_goes_nan_fails_its_trial():
    """Training on a value that overflowed float32 gives NaN losses and an accuracy of NaN outputs;
    the trial path turns that into FloatingPointError, which the worker's catch makes a FAIL."""
    from tunaflow.components.data import load_dataset, split_dataset
    from tunaflow.components.numeric_checks import check_finite_training
    from tunaflow.components.objective import evaluate_config
    from tunaflow.components.spec import build_spec
    from tests.conftest import tiny_spec_tree

    tree = tiny_spec_tree(data={"source": "iris"}, train={"epochs": 2}, search={"metric": "valid_acc"})
    tree["search"]["space"] = {}
    spec = build_spec(tree)
    splits = split_dataset(load_dataset(spec.data), spec.data, 0)
    splits.X_train[3, 1] = np.float32(1e39)  # inf once cast, as a CSV cell of 1e39 was
    history = []
    outcome = evaluate_config(spec, splits, seed=0, report=lambda step, m: history.append({"epoch": step, **m}))
    assert np.isfinite(outcome.value)  # the accuracy alone would rank the broken trial
    with pytest.raises(FloatingPointError, match="train_loss is nan at epoch 1: the network diverged"):
        check_finite_training(history, outcome.values)
    with pytest.raises(FloatingPointError, match="value is nan"):
        check_finite_training([], [float("nan")])
    check_finite_training([{"epoch": 1, "train_loss": 0.5, "valid_loss": 0.4}], [0.9])
