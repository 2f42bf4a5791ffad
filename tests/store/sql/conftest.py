"""SQL store fixtures: a throwaway PostgreSQL 15 cluster per session, fresh databases, MLflow-written references.

Every test that takes ``db_uri`` runs twice, on SQLite and on PostgreSQL. MLflow's
SqlAlchemyStore is the oracle; it is given the psycopg 3 driver explicitly
(``postgresql+psycopg://``), which is mlscope's PostgreSQL driver too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.store.sql.pg_cluster import PostgresCluster, PostgresMissing


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
    except PostgresMissing as exc:
        pytest.fail(str(exc))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def mlflow_uri(uri: str) -> str:
    """The same database for MLflow's SqlAlchemyStore (psycopg 3, not its default psycopg2)."""
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """new_db() makes an empty database of the test's dialect and returns its URI (plain postgresql:// or sqlite:///)."""
    count = iter(range(1000))

    def make() -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'db{next(count)}.sqlite'}"
        return request.getfixturevalue("pg_cluster").database()

    return make


@pytest.fixture
def db_uri(new_db: Callable[[], str]) -> str:
    return new_db()


def mlflow_store(uri: str, artifact_root: str) -> Any:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return SqlAlchemyStore(mlflow_uri(uri), artifact_root)


@dataclass
class MlflowDatabase:
    """A database written by MLflow 3.17.2's SqlAlchemyStore (the search tests' reference data)."""

    uri: str
    store: Any  # mlflow SqlAlchemyStore
    experiment_ids: list[str]
    artifact_root: Path


def _write_reference(uri: str, artifact_root: Path) -> MlflowDatabase:
    from tests.search.conftest import _populate

    store = mlflow_store(uri, str(artifact_root))
    experiment_ids = _populate(store)
    return MlflowDatabase(uri, store, experiment_ids, artifact_root)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def mlflow_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowDatabase]:
    """The search tests' reference runs, written by MLflow into SQLite and into PostgreSQL; treat as read-only."""
    root = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    if request.param == "sqlite":
        uri = f"sqlite:///{root / 'mlflow.db'}"
    else:
        uri = request.getfixturevalue("pg_cluster").database()
    database = _write_reference(uri, root / "artifacts")
    yield database
    database.store.engine.dispose()


os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
