"""The Makefile's venv holds exactly requirements.lock: what the tests run on is what a fresh clone gets."""

import os
from pathlib import Path

import pytest

from tests.lock import GPU_BUILD, differences, installed, past_bound, read_lock, upper_bounds


@pytest.mark.skipif(bool(os.environ.get("TUNAFLOW_UNLOCKED")), reason="make test-latest: newest releases on purpose")
def test_the_venv_holds_exactly_the_locked_versions():
    lock = read_lock()
    assert len(lock) > 100 and lock["torch"].endswith("+cpu")
    # `make venv TORCH=gpu` lets uv choose torch and its CUDA libraries; the rest stays locked
    unlocked_torch = (Path(os.sys.prefix) / ".torch-unlocked").exists()
    diff = differences(lock, installed(), ignore=lambda name: unlocked_torch and GPU_BUILD.match(name))
    assert not diff, f"installed versions differ from requirements.lock (run `make venv`): {diff}"


def test_every_locked_direct_dependency_is_inside_its_upper_bound():
    lock = read_lock()
    outside = {name: (lock[name], bound) for name, bound in upper_bounds().items()
               if name in lock and past_bound(lock[name], bound)}
    assert not outside, f"pyproject.toml's upper bounds exclude the locked versions: {outside}"
    assert upper_bounds().keys() >= {"torch", "mlflow", "optuna", "prefect", "skorch"}


@pytest.mark.parametrize("version, bound, past", [
    ("3.18.0", "<3.19", False), ("3.19.0", "<3.19", True), ("3.19.1", "<3.19", True),
    ("2.13.0+cpu", "<2.14", False), ("3.18.0", "<=3.18.0", False), ("3.18.1", "<=3.18.0", True),
])
def test_past_bound(version, bound, past):
    assert past_bound(version, bound) is past
