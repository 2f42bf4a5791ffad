"""MLflow 3 logged models in a SQL store: the file store's LoggedModelWrites methods, SqlAlchemyStore's rules.

``log_model`` in MLflow's client creates a PENDING model, uploads its files
under ``<experiment artifact location>/models/<model_id>/artifacts`` and
finalizes it READY; tags and params may be added later; deleting marks it
deleted (it disappears from reads). Each call is one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ...names import generate_run_name
from .. import validation
from ..errors import StoreError
from ..model import ACTIVE, DELETED, LoggedModel
from . import reads
from . import tables as t
from .engine import read_transaction, write_transaction
from .store import SqlStore
from .writes import append_uri, now_ms

STATUS_INT = {"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3}


def not_found(model_id: str) -> StoreError:
    return StoreError(f"Logged model with ID '{model_id}' not found.", "RESOURCE_DOES_NOT_EXIST")


class SqlLoggedModelWrites:
    """Create, finalize, tag, parametrize and delete the logged models of one SQL store."""

    def __init__(self, store: SqlStore, on_change: Callable[[], None] | None = None) -> None:
        self.store = store
        self.engine = store.engine
        self.on_change = on_change  # after each committed write (the index drops its cached models)

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        with write_transaction(self.engine) as conn:
            yield conn
        if self.on_change is not None:
            self.on_change()

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which has the upsert (ON CONFLICT) clause."""
        return postgresql.insert(table) if self.engine.dialect.name == "postgresql" else sqlite.insert(table)

    def models(self, experiment_ids: Sequence[str] | None = None) -> list[LoggedModel]:
        """Live models (newest first), of some experiments or of all."""
        return self.store.logged_models(experiment_ids)

    def get(self, model_id: str) -> LoggedModel:
        with read_transaction(self.engine) as conn:
            experiment_id = self._experiment_of(conn, model_id)
            found = [m for m in reads.logged_models(conn, [experiment_id]) if m.model_id == model_id]
        if not found:
            raise not_found(model_id)
        return found[0]

    def _experiment_of(self, conn: sa.Connection, model_id: str, *, live: bool = True) -> int:
        lm = t.logged_models.c
        row = conn.execute(sa.select(lm.experiment_id, lm.lifecycle_stage).where(lm.model_id == model_id)).first()
        if row is None or (live and row.lifecycle_stage == DELETED):
            raise not_found(model_id)
        return int(row.experiment_id)

    def create(
        self,
        experiment_id: str,
        name: str | None,
        model_type: str,
        source_run_id: str,
        params: Sequence[tuple[str, str]],
        tags: Sequence[tuple[str, str]],
    ) -> LoggedModel:
        validation.check_logged_model_name(name)
        params = [validation.check_param(k, v) for k, v in params]
        for key, _ in tags:
            validation.check_tag_name(key)
        writer = self.store.require_writer()
        model_id = f"m-{uuid.uuid4().hex}"
        created = now_ms()
        with self._transaction() as conn:
            experiment = writer._active_experiment(conn, experiment_id)  # the writer's check, MLflow's message
            number = int(experiment.experiment_id)
            conn.execute(
                sa.insert(t.logged_models).values(
                    model_id=model_id, experiment_id=number, name=name or generate_run_name(),
                    artifact_location=append_uri(experiment.artifact_location, "models", model_id, "artifacts"),
                    creation_timestamp_ms=created, last_updated_timestamp_ms=created, status=STATUS_INT["LOGGED_MODEL_PENDING"],
                    lifecycle_stage=ACTIVE, model_type=model_type or None, source_run_id=source_run_id or None,
                )
            )  # fmt: skip
            if params:
                rows = [{"model_id": model_id, "experiment_id": number, "param_key": k, "param_value": v} for k, v in dict(params).items()]
                conn.execute(sa.insert(t.logged_model_params), rows)
            if tags:
                rows = [{"model_id": model_id, "experiment_id": number, "tag_key": k, "tag_value": v} for k, v in dict(tags).items()]
                conn.execute(sa.insert(t.logged_model_tags), rows)
        return self.get(model_id)

    def finalize(self, model_id: str, status: str) -> LoggedModel:
        if status not in STATUS_INT:
            raise validation.invalid(f"Invalid logged model status {status!r}")
        with self._transaction() as conn:
            self._experiment_of(conn, model_id, live=False)
            conn.execute(
                sa.update(t.logged_models)
                .where(t.logged_models.c.model_id == model_id)
                .values(status=STATUS_INT[status], last_updated_timestamp_ms=now_ms())
            )
        return self.get(model_id)

    def set_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        for key, _ in tags:
            validation.check_tag_name(key)
        with self._transaction() as conn:
            experiment_id = self._experiment_of(conn, model_id, live=False)
            statement = self._insert(t.logged_model_tags)
            statement = statement.on_conflict_do_update(index_elements=["model_id", "tag_key"], set_={"tag_value": statement.excluded.tag_value})
            rows = [{"model_id": model_id, "experiment_id": experiment_id, "tag_key": k, "tag_value": v} for k, v in dict(tags).items()]
            if rows:
                conn.execute(statement, rows)

    def delete_tag(self, model_id: str, key: str) -> None:
        validation.check_tag_name(key)
        with self._transaction() as conn:
            self._experiment_of(conn, model_id, live=False)
            tags = t.logged_model_tags.c
            deleted = conn.execute(sa.delete(t.logged_model_tags).where(tags.model_id == model_id, tags.tag_key == key)).rowcount
            if not deleted:
                raise StoreError(f"No tag with key {key!r} found for model with ID {model_id!r}.", "RESOURCE_DOES_NOT_EXIST")

    def log_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        params = [validation.check_param(k, v) for k, v in params]
        with self._transaction() as conn:
            experiment_id = self._experiment_of(conn, model_id, live=False)
            rows = [{"model_id": model_id, "experiment_id": experiment_id, "param_key": k, "param_value": v} for k, v in dict(params).items()]
            if rows:
                try:
                    conn.execute(sa.insert(t.logged_model_params), rows)
                except sa.exc.IntegrityError:
                    raise validation.invalid(f"A param of logged model '{model_id}' was already logged") from None

    def delete(self, model_id: str) -> None:
        with self._transaction() as conn:
            self._experiment_of(conn, model_id, live=False)
            conn.execute(
                sa.update(t.logged_models)
                .where(t.logged_models.c.model_id == model_id)
                .values(lifecycle_stage=DELETED, last_updated_timestamp_ms=now_ms())
            )
