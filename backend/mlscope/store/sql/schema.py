"""Open a database holding MLflow's schema: connect, check its version, create it when empty.

The database's ``alembic_version`` decides what mlscope may do. The version of
MLflow 3.17.2's migrations (the schema ``tables.py`` describes) is read and
written; any other version is served read-only with a warning, as long as the
columns mlscope reads are there; an empty database gets MLflow's full schema
(all 65 tables, made by MLflow's own DDL in ``schema_<dialect>.sql``) so that
MLflow 3.17.2 then opens it without migrating.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import tables
from .engine import SchemaError, write_transaction

log = logging.getLogger("mlscope")

HEAD_REVISION = "dc11669786a5"  # MLflow 3.17.2's newest migration
MLFLOW_VERSION = "3.17.2"
STATEMENT_END = "\n;\n"
SCHEMA_LOCK_KEY = 0x6D6C73636F7065  # "mlscope": the advisory lock creators of the schema take on PostgreSQL


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    revision: str
    writable: bool
    created: bool = False
    warning: str | None = None


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables.alembic_version.c.version_num)).scalars().all()
    if len(rows) > 1:
        raise SchemaError(f"alembic_version holds several versions ({', '.join(rows)}): a half-finished migration?")
    return rows[0] if rows else None


def open_schema(engine: Engine, *, read_only: bool = False) -> SchemaStatus:
    """Check (or, on an empty database, create) MLflow's schema; how mlscope may use it."""
    names = table_names(engine)
    created = False
    if not (names - {"alembic_version"}):
        if read_only:
            raise SchemaError("the database is empty and mlscope was asked not to write: nothing to serve")
        created = create_schema(engine)
        names = table_names(engine)
    missing_tables = {t.name for t in tables.metadata.sorted_tables} - names
    if "experiments" in missing_tables or "runs" in missing_tables:
        raise SchemaError("this database does not hold MLflow's tracking tables (no experiments or runs table)")
    revision = current_revision(engine) if "alembic_version" in names else None
    if revision == HEAD_REVISION and not missing_tables:
        return SchemaStatus(revision, writable=not read_only, created=created)
    _check_columns(engine)
    warning = (
        f"database schema version {revision or 'unknown'} is not MLflow {MLFLOW_VERSION}'s ({HEAD_REVISION}): "
        "serving it read-only"
    )
    log.warning("mlscope: %s", warning)
    return SchemaStatus(revision or "", writable=False, warning=warning)


def _check_columns(engine: Engine) -> None:
    """An unknown version is served only if every column mlscope reads exists."""
    inspector = sa.inspect(engine)
    names = set(inspector.get_table_names())
    problems = []
    for table in tables.metadata.sorted_tables:
        if table.name not in names:
            continue  # optional tables (e.g. logged models on an old schema) are read as empty
        present = {c["name"] for c in inspector.get_columns(table.name)}
        lacking = [c.name for c in table.columns if c.name not in present and c.name != "workspace"]
        if lacking:
            problems.append(f"{table.name}: {', '.join(lacking)}")
    if problems:
        raise SchemaError("the database's MLflow schema lacks columns mlscope reads (" + "; ".join(problems) + ")")


def mlflow_ddl(dialect: str) -> list[str]:
    """MLflow's schema-creating statements for one dialect (from its migrations, see tests/store/sql/schema_snapshot.py)."""
    text = resources.files(__package__).joinpath(f"schema_{dialect}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("-- "))
    return [s.strip() for s in (body + "\n").split(STATEMENT_END) if s.strip()]


def create_schema(engine: Engine) -> bool:
    """MLflow's schema on an empty database, in one transaction; False if another process made it first."""
    statements = mlflow_ddl(engine.dialect.name)
    try:
        with write_transaction(engine) as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})  # one creator at a time
            if _user_tables(sa.inspect(conn).get_table_names()):
                return False
            for statement in statements:
                conn.exec_driver_sql(statement)
    except sa.exc.SQLAlchemyError as exc:
        if table_names(engine) - {"alembic_version"}:
            return False  # a concurrent creator won the race
        raise SchemaError(f"could not create MLflow's schema: {exc}") from exc
    log.info("mlscope: created MLflow %s's schema (%s)", MLFLOW_VERSION, HEAD_REVISION)
    return True


def _user_tables(names: list[str]) -> bool:
    return any(name != "alembic_version" and not name.startswith("sqlite_") for name in names)
