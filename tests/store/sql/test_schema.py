"""mlscope creates MLflow's schema on an empty database, checks a database's version, and refuses what it cannot serve."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from mlscope.store.sql.engine import SchemaError, engine_for
from mlscope.store.sql.schema import HEAD_REVISION, open_schema
from mlscope.store.sql.store import SqlStore

from .conftest import mlflow_store, mlflow_uri


def _check(sqltext: str) -> str:
    """A CHECK's text, with PostgreSQL's two spellings of ``col IN (...)`` made one.

    pg_dump re-parses ``col::text = ANY (ARRAY['a'::varchar, ...]::text[])`` into
    ``ANY (ARRAY['a'::varchar::text, ...])``: the same set of values, cast in another place.
    """
    match = re.fullmatch(r"\(*(\w+)::text = ANY \(+ARRAY\[(.*)\]\)*(::text\[\])?\)*", sqltext)
    if match is None:
        return sqltext
    values = sorted(re.findall(r"'([^']*)'", match.group(2)))
    return f"{match.group(1)} IN {values}"


def _shape(uri: str) -> dict[str, Any]:
    """Every table's columns, keys, indexes and checks, as SQLAlchemy's inspector reports them."""
    engine = sa.create_engine(mlflow_uri(uri))
    try:
        inspector = sa.inspect(engine)
        shape = {}
        for table in inspector.get_table_names():
            shape[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "fks": sorted((f["constrained_columns"], f["referred_table"], f["referred_columns"], str(f.get("options"))) for f in inspector.get_foreign_keys(table)),
                "indexes": sorted((i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)),
                "uniques": sorted((u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)),
                "checks": sorted(_check(str(c["sqltext"])) for c in inspector.get_check_constraints(table)),
            }
        with engine.connect() as conn:
            shape["_seed"] = {
                "alembic_version": conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all(),
                "workspaces": conn.execute(sa.text("SELECT name FROM workspaces")).scalars().all(),
            }
        return shape
    finally:
        engine.dispose()


def test_schema_mlscope_creates_is_the_schema_mlflow_creates(new_db: Callable[[], str], tmp_path) -> None:
    ours, theirs = new_db(), new_db()
    SqlStore(ours, str(tmp_path / "artifacts")).close()
    mlflow_store(theirs, str(tmp_path / "artifacts")).engine.dispose()
    assert _shape(ours) == _shape(theirs)


def test_mlflow_opens_a_database_mlscope_created_without_migrating(db_uri: str, tmp_path) -> None:
    from mlflow.store.db.utils import _all_tables_exist, _get_latest_schema_revision, _get_schema_version

    store = SqlStore(db_uri, str(tmp_path / "artifacts"))
    assert store.status.created and store.status.writable
    store.close()
    engine = sa.create_engine(mlflow_uri(db_uri))
    # The two checks SqlAlchemyStore makes before it would run migrations or refuse the database.
    assert _all_tables_exist(engine)
    assert _get_schema_version(engine) == _get_latest_schema_revision() == HEAD_REVISION
    engine.dispose()
    mlflow = mlflow_store(db_uri, str(tmp_path / "artifacts"))
    experiment_id = mlflow.create_experiment("made-by-mlflow")
    assert [e.name for e in mlflow.search_experiments()] == ["made-by-mlflow", "Default"]
    assert mlflow.get_experiment(experiment_id).artifact_location == f"{tmp_path / 'artifacts'}/{experiment_id}"


def test_a_created_database_has_mlflows_default_experiment(db_uri: str, tmp_path) -> None:
    store = SqlStore(db_uri, str(tmp_path / "art"))
    [default] = store.experiments()
    assert (default.experiment_id, default.name, default.artifact_location) == ("0", "Default", f"{tmp_path / 'art'}/0")


def test_a_database_mlflow_created_is_opened_read_write(db_uri: str, tmp_path) -> None:
    mlflow_store(db_uri, str(tmp_path)).engine.dispose()
    store = SqlStore(db_uri, str(tmp_path))
    assert (store.status.revision, store.status.writable, store.status.created, store.status.warning) == (HEAD_REVISION, True, False, None)


def test_an_unknown_schema_version_is_served_read_only_with_a_warning(db_uri: str, tmp_path, caplog) -> None:
    SqlStore(db_uri, str(tmp_path)).close()
    engine = engine_for(db_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    status = open_schema(engine)
    assert not status.writable
    assert status.warning is not None and "ffffffffffff" in status.warning and "read-only" in status.warning
    assert "read-only" in caplog.text
    store = SqlStore(db_uri, str(tmp_path))
    assert store.writer is None
    with pytest.raises(Exception, match="read-only"):
        store.require_writer()


def test_an_unknown_version_missing_columns_mlscope_reads_is_refused(db_uri: str, tmp_path) -> None:
    SqlStore(db_uri, str(tmp_path)).close()
    engine = engine_for(db_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
        conn.execute(sa.text("ALTER TABLE runs DROP COLUMN deleted_time"))
    with pytest.raises(SchemaError, match="runs: deleted_time"):
        open_schema(engine)


def test_a_database_of_something_else_is_refused(db_uri: str) -> None:
    engine = engine_for(db_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaError, match="does not hold MLflow's tracking tables"):
        open_schema(engine)


def test_an_empty_database_opened_read_only_is_refused_not_written(db_uri: str) -> None:
    engine = engine_for(db_uri)
    with pytest.raises(SchemaError, match="empty"):
        open_schema(engine, read_only=True)
    assert sa.inspect(engine).get_table_names() == []


@pytest.mark.parametrize("uri", ["mysql://u@h/db", "mssql://u@h/db", "postgresql+psycopg2://u@h/db"])
def test_unsupported_database_uris_are_refused_clearly(uri: str) -> None:
    with pytest.raises(SchemaError, match="SQLite and PostgreSQL|psycopg 3"):
        engine_for(uri)
