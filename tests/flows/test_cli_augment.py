"""Bad augmentation and image-source input on the command line: exit 2, one line, nothing written."""

import pytest

from tunaflow.cli import main
from tests.conftest import tiny_spec_tree
from tests.flows.test_cli import _assert_nothing_written, _write

CASES = {
    "unknown operation": (tiny_spec_tree(augment={"image": {"shear": {"p": 0.5}}}),
                          "augment.image: unknown operation 'shear'; valid operations: rotate, translate, scale, "
                          "hflip, vflip, elastic, brightness_contrast, noise, cutout"),
    "probability above one": (tiny_spec_tree(augment={"image": {"noise": {"p": 1.2}}}),
                              "augment.image.noise.p: Input should be less than or equal to 1"),
    "magnitude out of range": (tiny_spec_tree(augment={"image": {"cutout": {"p": 0.2, "magnitude": 0.9}}}),
                               "augment.image.cutout.magnitude: Input should be less than or equal to 0.75"),
    "image operation on tabular": (tiny_spec_tree(data={"source": "wine"}, augment={"image": {"hflip": {"p": 0.5}}}),
                                   "augment.image.hflip: image operation on a tabular source (wine)"),
    "searched probability out of range": (
        tiny_spec_tree(search={"space": {"augment.image.rotate.p": {"type": "float", "low": 0.5, "high": 1.5}}}),
        "search.space.augment.image.rotate.p: value 1.5 does not fit"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_augmentation_exits_2_with_one_line(case, command, tmp_path, tunaflow_home, capsys):
    tree, message = CASES[case]
    assert main([command, _write(tmp_path, tree)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    _assert_nothing_written(tunaflow_home)


def test_missing_fashion_mnist_and_corrupt_images_exit_2(tmp_path, tunaflow_home, capsys, monkeypatch):
    monkeypatch.setenv("TUNAFLOW_FASHION_MNIST_DIR", str(tmp_path / "none"))
    assert main(["run", _write(tmp_path, tiny_spec_tree(data={"source": "fashion_mnist"}))]) == 2
    assert "install the Debian package dataset-fashion-mnist" in capsys.readouterr().err
    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        (tmp_path / "images" / label / "x.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    assert main(["run", _write(tmp_path, tiny_spec_tree(data={"source": str(tmp_path / "images")}))]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'images' / 'a' / 'x.jpg'}: cannot be read as an image" in err
    assert len(err.strip().splitlines()) == 1
    _assert_nothing_written(tunaflow_home)
