"""Prefect's temporary server, started the way `tunaflow run` starts it."""

from tunaflow.tasks.prefect.server import TemporaryServer


def test_the_server_starts_where_prefect_home_does_not_exist_yet(tmp_path, monkeypatch):
    home = tmp_path / "not" / "yet"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    server = TemporaryServer()
    try:
        server.wait_ready(timeout=120)  # exited with code 3 (SQLite could not open its file) before
    finally:
        server.stop(grace=0)
    assert home.is_dir()
