"""Every test runs with its own TUNAFLOW_HOME; no test touches ./.tunaflow or a user's MLflow."""

from __future__ import annotations

import contextlib
import os
import uuid

import psycopg
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(autouse=True)
def tunaflow_home(tmp_path, monkeypatch):
    home = tmp_path / "tunaflow-home"
    monkeypatch.setenv("TUNAFLOW_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return home


@contextlib.contextmanager
def module_home(tmp_path_factory, name: str):
    """A module fixture's own TUNAFLOW_HOME while the block runs.

    mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI, and a module fixture runs before
    the autouse fixture clears what an earlier test left there.
    """
    home = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNAFLOW_HOME", str(home))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield home


def tiny_spec_tree(**sections) -> dict:
    """A spec that trains in well under a second: digits, small MLP, two epochs, two trials."""
    tree = {
        "name": "tiny",
        "seed": 3,
        "data": {"source": "digits", "subsample": 0.5},
        "model": {"family": "mlp", "layers": 1, "units": [32]},
        "train": {"epochs": 2, "batch_size": 64, "learning_curve": {"fractions": [0.5, 1.0]}},
        "search": {"n_trials": 2, "pruner": "none",
                   "space": {"train.lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}}},
    }
    for key, value in sections.items():
        tree[key] = {**tree.get(key, {}), **value} if isinstance(value, dict) else value
    return tree


ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url():
    """A fresh database on the machine's PostgreSQL, dropped afterwards."""
    name = f"tunaflow_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN, autocommit=True)  # PostgreSQL runs on every machine, CI's too
    admin.execute(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
