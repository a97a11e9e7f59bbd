"""Study storages: embedded SQLite, a real PostgreSQL, and unreachable URLs (masked)."""

import optuna
import pytest

from tunaflow.components.errors import UserInputError
from tunaflow.tasks.optuna.storage import open_storage

@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_study_round_trips_through_each_storage(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'o.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    study = optuna.create_study(storage=open_storage(url), study_name="s", direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    again = optuna.load_study(study_name="s", storage=open_storage(url))
    assert [t.params for t in again.trials] == [t.params for t in study.trials]


def test_sqlite_storage_runs_in_wal_mode(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'o.db'}")
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_unreachable_storage_is_bad_input_with_the_password_masked():
    url = "postgresql://tuna:s3cret-pw@127.0.0.1:1/nowhere"
    with pytest.raises(UserInputError) as info:
        open_storage(url)
    message = str(info.value)
    assert message.startswith("search.storage: cannot open postgresql://tuna:***@127.0.0.1:1/nowhere")
    assert "s3cret-pw" not in message
