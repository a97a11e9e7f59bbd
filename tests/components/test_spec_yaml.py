"""Spec YAML within limits: size, nesting, alias expansion, duplicate keys; --set paths within limits."""

import pytest

from tunaflow.components.errors import SpecError
from tunaflow.components.paths import MAX_LIST_INDEX, PathError, has_path, set_path
from tunaflow.components.spec import apply_overrides, parse_override, read_spec_file
from tunaflow.components.spec_yaml import MAX_DEPTH, MAX_VALUES, load_spec_yaml
from tests.conftest import tiny_spec_tree


def test_ordinary_yaml_with_anchors_and_merge_keys_reads_as_before():
    text = "base: &b {epochs: 2, lr: 0.1}\ntrain:\n  <<: *b\n  lr: 0.01\nlist: [*b, *b]\n"
    tree = load_spec_yaml(text, "s.yaml")
    assert tree["train"] == {"epochs": 2, "lr": 0.01} and tree["list"] == [tree["base"]] * 2


@pytest.mark.parametrize("depth,ok", [(MAX_DEPTH - 1, True), (MAX_DEPTH + 1, False)])
def test_nesting_limit(depth, ok):
    text = "[" * depth + "]" * depth
    if ok:
        assert load_spec_yaml(text, "s.yaml") is not None
    else:
        with pytest.raises(SpecError, match=f"s.yaml: nested deeper than {MAX_DEPTH} levels at line 1"):
            load_spec_yaml(text, "s.yaml")


def test_alias_expansion_is_counted_without_expanding():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]  # 10**9 values
    with pytest.raises(SpecError, match="expands to more than 100,000 values"):
        load_spec_yaml("\n".join(lines), "s.yaml")
    # just under the limit is fine: aliases are a feature, not the problem
    small = "\n".join(lines[:4])  # about 10**4 values
    assert len(load_spec_yaml(small, "s.yaml")["a3"]) == 10
    assert MAX_VALUES > 10**4


def test_duplicate_keys_and_unsafe_tags_and_huge_integers_are_refused():
    with pytest.raises(SpecError, match="duplicate key 'lr' .* at line 1, column 16"):
        load_spec_yaml("train: {lr: 1, lr: 2}", "s.yaml")
    with pytest.raises(SpecError, match="malformed YAML at line 1.*constructor"):
        load_spec_yaml("x: !!python/object/apply:os.system ['true']", "s.yaml")
    with pytest.raises(SpecError, match="a value cannot be read"):
        load_spec_yaml("seed: " + "9" * 5000, "s.yaml")


def test_spec_file_size_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n#" + "x" * (2 << 20))
    with pytest.raises(SpecError, match="big.yaml: larger than 1 MiB"):
        read_spec_file(path)
    with pytest.raises(SpecError, match="is a folder"):
        read_spec_file(tmp_path)
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match="not UTF-8"):
        read_spec_file(tmp_path / "bin.yaml")


def test_list_index_limit_in_set_path_and_has_path():
    tree = {"units": [8, 4]}
    assert set_path(tree, "units.3", 2)["units"] == [8, 4, 4, 2]
    assert set_path(tree, f"units.{MAX_LIST_INDEX}", 1)["units"][-1] == 1
    for index in (str(MAX_LIST_INDEX + 1), "2000000000", "9" * 5000):
        with pytest.raises(PathError, match="beyond the limit"):
            set_path(tree, f"units.{index}", 1)
        assert not has_path(tree, f"units.{index}")
    with pytest.raises(PathError, match="more than 64 dotted parts"):
        set_path(tree, ".".join(["a"] * 65), 1)


def test_set_errors_name_the_override():
    tree = tiny_spec_tree()
    with pytest.raises(SpecError, match=r"^--set model.units.2000000000: list index 2000000000 is beyond"):
        apply_overrides(tree, ["model.units.2000000000=8"])
    with pytest.raises(SpecError, match=r"^--set trian.epochs: no such field in the spec$"):
        apply_overrides(tree, ["trian.epochs=3"])
    with pytest.raises(SpecError, match=r"^--set train.epochs: Input should be greater than or equal to 1$"):
        apply_overrides(tree, ["train.epochs=0"])
    with pytest.raises(SpecError, match="--set model.units: expands to more than"):
        parse_override("model.units=[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
                       "&c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
                       "&e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]]")
    # text that is not YAML is meant as text; the file's own mistakes are not blamed on --set
    assert parse_override("name=a: b: c") == ("name", "a: b: c")
    assert apply_overrides({**tree, "train": {"epochs": -1}}, ["train.lr=0.1"])["train"]["lr"] == 0.1
