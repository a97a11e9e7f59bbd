import pytest

from tunaflow.components.paths import get_path, has_path, set_path


def test_get_and_set_nested_paths_without_mutating():
    tree = {"model": {"units": [64, 32]}, "train": {"lr": 0.1}}
    new = set_path(tree, "train.lr", 0.5)
    assert get_path(new, "train.lr") == 0.5 and tree["train"]["lr"] == 0.1
    assert get_path(set_path(tree, "model.units.1", 8), "model.units") == [64, 8]


def test_setting_past_the_end_grows_a_list_with_its_last_item():
    assert set_path({"u": [64, 32]}, "u.3", 5)["u"] == [64, 32, 32, 5]


def test_has_path():
    tree = {"model": {"units": [64]}}
    assert has_path(tree, "model.units.0") and has_path(tree, "model.units.1")
    assert not has_path(tree, "model.width") and not has_path(tree, "model.units.x")
    with pytest.raises(KeyError):
        get_path(tree, "model.nope")
