"""Which store `mlscope ui|server` opens by default (MLflow's order), and how a database it cannot serve is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.cli.sql_store import default_store_uri, open_sql_app
from mlscope.cli.usage import UsageError
from mlscope.server.settings import ServerSettings


def test_the_tracking_uri_variable_wins_also_for_databases(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://u@db:5432/mlflow")
    (tmp_path / "mlruns").mkdir()
    assert default_store_uri(tmp_path) == "postgresql://u@db:5432/mlflow"


def test_without_the_variable_mlruns_comes_before_mlflow_db(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "mlflow.db").write_bytes(b"")
    assert default_store_uri(tmp_path) == "sqlite:///mlflow.db"
    (tmp_path / "mlruns").mkdir()
    assert default_store_uri(tmp_path) == "./mlruns"


def test_with_neither_the_default_is_mlruns(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_store_uri(tmp_path) == "./mlruns"


def test_a_remote_tracking_uri_is_not_a_store_to_open(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert default_store_uri(tmp_path) == "./mlruns"


def test_a_new_sqlite_database_is_created_and_described(tmp_path: Path) -> None:
    app, description = open_sql_app(f"sqlite:///{tmp_path / 'new.db'}", ServerSettings())
    assert description.startswith(f"SQLite database {tmp_path / 'new.db'} (MLflow schema dc11669786a5, read-write, schema created")
    app.state.index.close()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("mysql://u@h/db", "mlscope serves SQLite and PostgreSQL databases, not 'mysql'"),
        ("sqlite:////nonexistent-dir/x.db", "cannot open sqlite:////nonexistent-dir/x.db"),
        ("postgresql://u:secret@127.0.0.1:1/db", "cannot open postgresql://u:***@127.0.0.1:1/db"),
    ],
)
def test_a_database_that_cannot_be_served_is_one_clear_line_without_its_password(uri: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        open_sql_app(uri, ServerSettings())
    assert message in str(error.value) and "secret" not in str(error.value)
    assert "\n" not in str(error.value)


def test_a_database_of_an_unknown_schema_version_is_served_read_only(tmp_path: Path) -> None:
    import sqlalchemy as sa

    uri = f"sqlite:///{tmp_path / 'newer.db'}"
    app, _ = open_sql_app(uri, ServerSettings())
    app.state.index.close()
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    engine.dispose()
    app, description = open_sql_app(uri, ServerSettings())
    assert "read-only" in description and "ffffffffffff" in description
    assert app.state.settings.read_only
    app.state.index.close()
