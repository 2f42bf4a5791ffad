"""One SQL store: the database, what its schema allows, and the writer when it may be written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine, make_url

from ..errors import StoreError
from ..model import Experiment, LoggedModel, Metric, Run
from . import reads
from .engine import engine_for, read_transaction
from .schema import SchemaStatus, open_schema
from .writes import SqlWriter


class SqlStore:
    """MLflow's schema in SQLite or PostgreSQL; ``writer`` is None when the schema is served read-only."""

    def __init__(self, uri: str, default_artifact_root: str, *, read_only: bool = False, pool_size: int = 10) -> None:
        self.uri = uri
        self.engine: Engine = engine_for(uri, pool_size=pool_size)
        self.status: SchemaStatus = open_schema(self.engine, read_only=read_only)
        self.default_artifact_root = default_artifact_root
        self.writer: SqlWriter | None = None
        if self.status.writable:
            self.writer = SqlWriter(self.engine, default_artifact_root)
            self.writer.ensure_default_experiment()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        """Where the store is, for humans: the database without its password, and how it is served."""
        url = make_url(self.uri)
        where = f"SQLite database {url.database}" if self.dialect == "sqlite" else f"PostgreSQL database {url.render_as_string(hide_password=True)}"
        mode = "read-write" if self.writer is not None else "read-only"
        created = ", schema created" if self.status.created else ""
        return f"{where} (MLflow schema {self.status.revision or 'unknown'}, {mode}{created})"

    def require_writer(self) -> SqlWriter:
        if self.writer is None:
            raise StoreError(self.status.warning or "this database is served read-only", "PERMISSION_DENIED")
        return self.writer

    # Reads that need no index: one transaction each.

    def experiments(self) -> list[Experiment]:
        with read_transaction(self.engine) as conn:
            return reads.experiments(conn)

    def runs(self, run_ids: Sequence[str]) -> list[Run]:
        with read_transaction(self.engine) as conn:
            return reads.runs(conn, run_ids)

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        with read_transaction(self.engine) as conn:
            return reads.metric_history(conn, run_id, key)

    def metric_histories(self, run_ids: Sequence[str], key: str) -> dict[str, list[Metric]]:
        with read_transaction(self.engine) as conn:
            return reads.metric_histories(conn, run_ids, key)

    def logged_models(self, experiment_ids: Sequence[str] | None = None) -> list[LoggedModel]:
        ids = None if experiment_ids is None else [n for e in experiment_ids if (n := reads.experiment_id_or_none(e)) is not None]
        with read_transaction(self.engine) as conn:
            return reads.logged_models(conn, ids)

    def search_logged_models(
        self, experiment_ids: Sequence[str], filter_string: str | None, datasets: Any, order_by: Any, offset: int, max_results: int
    ) -> tuple[list[LoggedModel], bool]:
        """MLflow's logged-models/search as SqlAlchemyStore answers it: a page of models and whether more follow."""
        from . import model_search

        with read_transaction(self.engine) as conn:
            return model_search.search(conn, experiment_ids, filter_string, datasets, order_by, offset, max_results)

    def close(self) -> None:
        self.engine.dispose()
