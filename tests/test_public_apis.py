"""tunaflow uses only the public APIs of its dependencies (tests/public_names.py says what counts).

Product code has no exceptions. Tests have their own list, each entry with its reason; an entry
no test needs any more fails too, so the list only shrinks. A self-test feeds the checker code
with each kind of private use, so that a checker broken into finding nothing cannot pass.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tests.public_names import defined_names, find_uses, names_defined_in, python_files

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("components", "tasks", "flows", "deployments", "tunaflow")

# (file relative to the repository, the reported name) -> why a test may use it. Keep it empty
# where possible: a test that reads a private attribute breaks on a minor release of the
# dependency without any change of behaviour; test the behaviour through the public API instead.
TESTS_ALLOWED: dict[tuple[str, str], str] = {}
# files not checked, with why: this one's snippets are private uses on purpose (the self-test)
NOT_CHECKED = {"tests/test_public_apis.py"}


def _uses(folders: tuple[str, ...], own_names: set[str]) -> list:
    files = [p for p in python_files(REPO, folders) if str(p.relative_to(REPO)) not in NOT_CHECKED]
    return [use for path in files for use in find_uses(path.read_text(), str(path.relative_to(REPO)), own_names)]


@pytest.fixture(scope="module")
def product_names() -> set[str]:
    return names_defined_in(python_files(REPO, PRODUCT))


def test_product_code_uses_no_private_name_of_a_dependency(product_names):
    uses = _uses(PRODUCT, product_names)
    assert not uses, "private names of dependencies (use their public API):\n" + "\n".join(map(str, uses))


def test_tests_use_no_private_name_of_a_dependency_beyond_their_list(product_names):
    own = product_names | names_defined_in(python_files(REPO, ("tests",)))
    uses = _uses(("tests",), own)
    unlisted = [use for use in uses if (use.path, use.name) not in TESTS_ALLOWED]
    assert not unlisted, "private names of dependencies in tests:\n" + "\n".join(map(str, unlisted))
    stale = set(TESTS_ALLOWED) - {(use.path, use.name) for use in uses}
    assert not stale, f"no test needs these any more; take them off TESTS_ALLOWED: {sorted(stale)}"


PRIVATE = textwrap.dedent('''
    """A docstring may name mlflow.utils.validation._validate_model_name and PREFECT__SERVER_FINAL."""
    import atexit
    import optuna._imports
    from optuna.study._optimize import _run_trial
    from mlflow.utils.validation import _validate_experiment_name
    import logging, os

    class Net(NeuralNet):
        def step(self, trial):
            self._set_training(True)
            atexit._run_exitfuncs()
            getattr(trial, "_trial_id")
            logging.getLogger("optuna.study._optimize")
            os.environ["PREFECT__SERVER_EPHEMERAL"] = "1"
            return "prefect.server.api.server:_private_factory"
''')

EXPECTED = {
    ("import", "optuna._imports"), ("import", "optuna.study._optimize"),
    ("import", "mlflow.utils.validation._validate_experiment_name"),
    ("attribute", "self._set_training"), ("attribute", "atexit._run_exitfuncs"), ("attribute", "trial._trial_id"),
    ("string", "optuna.study._optimize"), ("string", "PREFECT__SERVER_EPHEMERAL"),
    ("string", "prefect.server.api.server:_private_factory"),
}

PUBLIC = textwrap.dedent('''
    from __future__ import annotations
    import os
    from tunaflow.components.processes import _pid_alive
    from tests.flows.test_cli import _write
    from . import _sibling

    class Guard:
        def _handle(self, signum):
            self._count = signum
            os._exit(128 + signum)  # documented as public in the Python docs

        def __repr__(self):
            return f"{self._count} {self.__class__.__name__}"

    def run(guard):
        guard._handle(15)
        return "optuna.study", "PREFECT_UI_ENABLED", "tunaflow.tasks._private", "prefect.server.api.server:create_app"
''')


def test_the_checker_reports_each_kind_of_private_use():
    # what the PUBLIC snippet defines counts as our own: _handle and _count, not _set_training
    own = defined_names(ast.parse(PUBLIC))
    found = {(use.kind, use.name) for use in find_uses(PRIVATE, "snippet.py", own)}
    assert found == EXPECTED


def test_the_checker_leaves_public_and_own_names_alone():
    assert find_uses(PUBLIC, "snippet.py", defined_names(ast.parse(PUBLIC))) == []
