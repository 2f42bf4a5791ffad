"""Connections to MLflow's database: SQLAlchemy engines for SQLite and PostgreSQL (psycopg 3), and write transactions.

SQLite: every transaction is opened by mlscope (``BEGIN``, or ``BEGIN IMMEDIATE``
for writes, so two writers queue on the busy timeout instead of failing
halfway on a lock upgrade), with MLflow's session pragmas: foreign keys
enforced, a 20 s busy timeout. PostgreSQL: psycopg 3, a small pool per process,
READ COMMITTED (every write is a single atomic upsert or a checked insert).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from ..errors import StoreError

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
WRITE_OPTION = "mlscope_write"


class SchemaError(StoreError):
    """The database cannot be served: an unsupported URI, not MLflow's schema, or missing what mlscope reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "INTERNAL_ERROR")


def is_sql_uri(uri: str) -> bool:
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    return scheme in ("sqlite", "postgresql", "postgres")


def engine_for(uri: str, *, pool_size: int = 10, sqlite_busy_ms: int = 20_000) -> Engine:
    """An engine for sqlite:///... or postgresql://... (psycopg 3 is the PostgreSQL driver)."""
    url = make_url(uri)
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend not in SUPPORTED_DIALECTS:
        raise SchemaError(f"mlscope serves SQLite and PostgreSQL databases, not {url.drivername!r}")
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise SchemaError("mlscope talks to PostgreSQL through psycopg 3: use postgresql:// or postgresql+psycopg://")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise SchemaError("PostgreSQL needs psycopg 3: pip install 'mlscope[postgres]'") from None
        url = url.set(drivername="postgresql+psycopg")
        return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": sqlite_busy_ms / 1000, "check_same_thread": False})
    sa.event.listen(engine, "connect", lambda dbapi, record: _sqlite_connect(dbapi, record, sqlite_busy_ms))
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record, busy_ms: int) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # the driver's own transaction handling skips DDL; _sqlite_begin opens them
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that writes: committed when the block ends, rolled back when it raises.

    A database that cannot take the write now (locked past the busy timeout, a lost connection, a
    serialization failure) is TEMPORARILY_UNAVAILABLE (503), as MLflow's store answers: the client may retry.
    """
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            yield conn
    except sa.exc.OperationalError as exc:
        raise StoreError(f"the database could not take the write now: {str(exc.orig).splitlines()[0]}", "TEMPORARILY_UNAVAILABLE") from exc


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent snapshot for several reads (ended with a rollback: nothing to commit)."""
    with engine.connect() as conn:
        yield conn
