"""MLflow's naming rules, written in tasks/mlflow/names.py (MLflow's own checks are private), refuse
what MLflow refuses and nothing else: the same names go through MLflow's public client on a fresh
store, so an MLflow release that changes a rule fails here rather than after a whole search."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tunaflow.components.errors import SpecError
from tunaflow.components.spec import build_spec
from tunaflow.tasks.mlflow.names import alias_problem, check_tracking_names, experiment_name_problem, model_name_problem
from tests.conftest import tiny_spec_tree

EXPERIMENTS = [" ", "", "x" * 500, "y" * 501,  # each one once: MLflow refuses a second experiment of a name
               "team/experiment", "digits mlp", "ünïcode"]
MODELS = ["a/b", "a:b", " ", ".", "..", "ok-name", "with space", "ünïcode", "x" * 300]
ALIASES = ["latest", "LaTeSt", "v3", "V12", "v", "v3a", "version3", "a b", "a.b", "", "x" * 255, "x" * 256,
           "champion", "_x-1", "ünï"]


def _mlflow_refuses(call, *args) -> bool:
    """Whether MLflow refuses the name (an invalid parameter), as opposed to accepting it or
    failing on something else (the model version an alias points at does not exist here)."""
    try:
        call(*args)
    except MlflowException as error:
        return error.error_code == "INVALID_PARAMETER_VALUE"
    return False


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    client = MlflowClient(f"sqlite:///{tmp_path_factory.mktemp('names') / 'mlflow.db'}")
    client.create_registered_model("aliased")
    return client


def test_experiment_names_are_refused_as_mlflow_refuses_them(client):
    for name in EXPERIMENTS:
        ours = experiment_name_problem(name) is not None
        assert ours == _mlflow_refuses(client.create_experiment, name), (name[:20], ours)


def test_registered_model_names_are_refused_as_mlflow_refuses_them(client):
    for name in MODELS:
        ours = model_name_problem(name) is not None
        assert ours == _mlflow_refuses(client.create_registered_model, name), (name[:20], ours)


def test_aliases_are_refused_as_mlflow_refuses_them(client):
    for alias in ALIASES:
        ours = alias_problem(alias) is not None
        assert ours == _mlflow_refuses(client.set_registered_model_alias, "aliased", alias, "1"), (alias[:20], ours)


@pytest.mark.parametrize("tracking,where", [
    ({"alias": "latest"}, "tracking.alias: 'latest' is not a name MLflow accepts: 'latest' alias name"),
    ({"alias": "v3"}, "tracking.alias: 'v3' is not a name MLflow accepts: version alias name 'v3' is reserved"),
    ({"registered_model": "team/model"}, "tracking.registered_model: 'team/model' is not a name MLflow accepts"),
    ({"experiment": " "}, "tracking.experiment: ' ' is not a name MLflow accepts"),
])
def test_a_refused_name_is_a_spec_error_naming_its_field(tracking, where):
    with pytest.raises(SpecError) as error:
        check_tracking_names(build_spec(tiny_spec_tree(tracking=tracking)))
    assert where in str(error.value)


def test_the_default_names_pass():
    check_tracking_names(build_spec(tiny_spec_tree()))
