"""Write MLflow's tracking tables with MLflow's semantics, each operation one transaction.

The rules are SqlAlchemyStore's (MLflow 3.17.2): params never change (the same
value again is fine), ``latest_metrics`` keeps the max by (step, timestamp,
value) of what was logged, NaN is stored as 0 with ``is_nan`` and infinities
as ±1.797e308, an exact duplicate metric row is dropped, setting the
``mlflow.runName`` tag renames the run, writes to deleted runs are refused.
Races between writers are settled in the database (upserts with a condition,
inserts that ignore an existing identical row), not by reading first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ...names import generate_run_name
from ..errors import StoreError
from ..model import ACTIVE, DELETED, RUN_STATUSES, DatasetInput, Experiment
from ..paths import local_path
from . import reads, run_links
from . import tables as t
from .changes import send_notices
from .engine import read_transaction, write_transaction
from .points import MetricPoint, insert_metrics

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"



def now_ms() -> int:
    import time

    return int(time.time() * 1000)


def append_uri(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


@dataclass
class Touched:
    """The runs and experiments one transaction wrote."""

    run_ids: list[str] = field(default_factory=list)
    experiment_ids: list[str] = field(default_factory=list)

    def note(self, run_ids: Sequence[str] = (), experiment_ids: Sequence[str] = ()) -> None:
        self.run_ids.extend(run_ids)
        self.experiment_ids.extend(str(e) for e in experiment_ids)

    def __bool__(self) -> bool:
        return bool(self.run_ids or self.experiment_ids)


class SqlWriter:
    """Every write operation of the tracking API on one database holding MLflow's schema."""

    def __init__(self, engine: Engine, default_artifact_root: str, on_change: Callable[..., None] | None = None) -> None:
        self.engine = engine
        self.default_artifact_root = default_artifact_root
        self.on_change = on_change  # on_change(run_ids=[...], experiment_ids=[...]) after each commit
        self.sender = uuid.uuid4().hex[:12]  # names this writer in its NOTIFY payloads

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(table)

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Connection, Touched]]:
        """One writing transaction; what it touched is announced: to other replicas inside it (PostgreSQL
        NOTIFY, delivered on commit), to this process's index after the commit."""
        touched = Touched()
        with write_transaction(self.engine) as conn:
            yield conn, touched
            if touched and self.engine.dialect.name == "postgresql":
                send_notices(conn, touched.run_ids, touched.experiment_ids, self.sender)
        if touched and self.on_change is not None:
            self.on_change(run_ids=touched.run_ids, experiment_ids=touched.experiment_ids)

    # ---------------------------------------------------------- experiments

    def ensure_default_experiment(self) -> None:
        """Experiment 0 'Default', as MLflow's store creates it when opening a database without it."""
        with self._transaction() as (conn, touched):
            created = now_ms()
            statement = self._insert(t.experiments).values(
                experiment_id=DEFAULT_EXPERIMENT_ID,
                name=DEFAULT_EXPERIMENT_NAME,
                artifact_location=append_uri(self.default_artifact_root, "0"),
                lifecycle_stage=ACTIVE,
                creation_time=created,
                last_update_time=created,
                workspace=t.DEFAULT_WORKSPACE,
            )
            created_id = conn.execute(statement.on_conflict_do_nothing().returning(t.experiments.c.experiment_id)).scalar()
            if created_id is not None:  # (RETURNING, not rowcount: psycopg reports -1 for inserts that skip on conflict)
                touched.note(experiment_ids=["0"])

    def create_experiment(self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None) -> str:
        if not name:
            raise StoreError("Invalid experiment name: ''. Experiment name must be a non-empty string.")
        location = _resolve_uri_if_local(artifact_location) if artifact_location else None
        created = now_ms()
        e = t.experiments.c
        with self._transaction() as (conn, touched):
            existing = conn.execute(sa.select(e.lifecycle_stage).where(e.name == name, e.workspace == t.DEFAULT_WORKSPACE)).first()
            if existing is not None:
                raise StoreError(f"Experiment(name={name}) already exists.", "RESOURCE_ALREADY_EXISTS")
            try:
                experiment_id = conn.execute(
                    sa.insert(t.experiments)
                    .values(name=name, artifact_location=location, lifecycle_stage=ACTIVE, creation_time=created, last_update_time=created, workspace=t.DEFAULT_WORKSPACE)
                    .returning(e.experiment_id)
                ).scalar_one()
            except sa.exc.IntegrityError:
                raise StoreError(f"Experiment(name={name}) already exists.", "RESOURCE_ALREADY_EXISTS") from None
            if location is None:
                conn.execute(
                    sa.update(t.experiments)
                    .where(e.experiment_id == experiment_id)
                    .values(artifact_location=append_uri(self.default_artifact_root, str(experiment_id)))
                )
            if tags:
                conn.execute(sa.insert(t.experiment_tags), [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in tags.items()])
            touched.note(experiment_ids=[str(experiment_id)])
        return str(experiment_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with read_transaction(self.engine) as conn:
            return self._experiment(conn, experiment_id)

    def list_experiments(self) -> list[Experiment]:
        with read_transaction(self.engine) as conn:
            return reads.experiments(conn)

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        with read_transaction(self.engine) as conn:
            e = t.experiments.c
            found = conn.execute(sa.select(e.experiment_id).where(e.name == name, e.workspace == t.DEFAULT_WORKSPACE)).scalar()
            return reads.experiments(conn, [found])[0] if found is not None else None

    def _experiment(self, conn: Connection, experiment_id: str, stage: str | None = None) -> Experiment:
        number = reads.experiment_id_or_none(experiment_id)
        found = reads.experiments(conn, [number]) if number is not None else []
        if not found or (stage is not None and found[0].lifecycle_stage != stage):
            raise StoreError(f"No Experiment with id={experiment_id} exists", "RESOURCE_DOES_NOT_EXIST")
        return found[0]

    def _active_experiment(self, conn: Connection, experiment_id: str) -> Experiment:
        experiment = self._experiment(conn, experiment_id)
        if experiment.lifecycle_stage != ACTIVE:
            raise StoreError(
                f"The experiment {experiment_id} must be in the 'active' state. Current state is {experiment.lifecycle_stage}."
            )
        return experiment

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        if not new_name:
            raise StoreError("Invalid experiment name: ''. Experiment name must be a non-empty string.")
        with self._transaction() as (conn, touched):
            experiment = self._experiment(conn, experiment_id)
            if experiment.lifecycle_stage != ACTIVE:
                raise StoreError("Cannot rename a non-active experiment.", "INVALID_STATE")
            try:
                conn.execute(
                    sa.update(t.experiments)
                    .where(t.experiments.c.experiment_id == int(experiment_id))
                    .values(name=new_name, last_update_time=now_ms())
                )
            except sa.exc.IntegrityError:
                raise StoreError(f"Experiment(name={new_name}) already exists.", "RESOURCE_ALREADY_EXISTS") from None
            touched.note(experiment_ids=[str(experiment_id)])

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete, as MLflow: the experiment and all its runs become 'deleted'."""
        self._set_experiment_stage(experiment_id, ACTIVE, DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, DELETED, ACTIVE)

    def _set_experiment_stage(self, experiment_id: str, current: str, new: str) -> None:
        stamp = now_ms()
        with self._transaction() as (conn, touched):
            self._experiment(conn, experiment_id, stage=current)
            number = int(experiment_id)
            conn.execute(sa.update(t.experiments).where(t.experiments.c.experiment_id == number).values(lifecycle_stage=new, last_update_time=stamp))
            r = t.runs.c
            run_ids = list(conn.execute(sa.select(r.run_uuid).where(r.experiment_id == number)).scalars())
            conn.execute(
                sa.update(t.runs).where(r.experiment_id == number).values(lifecycle_stage=new, deleted_time=stamp if new == DELETED else None)
            )
            touched.note(run_ids, [str(experiment_id)])

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        with self._transaction() as (conn, touched):
            self._active_experiment(conn, experiment_id)
            statement = self._insert(t.experiment_tags).values(experiment_id=int(experiment_id), key=key, value=value)
            conn.execute(statement.on_conflict_do_update(index_elements=["key", "experiment_id"], set_={"value": value}))
            touched.note(experiment_ids=[str(experiment_id)])

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._transaction() as (conn, touched):
            self._active_experiment(conn, experiment_id)
            et = t.experiment_tags.c
            deleted = conn.execute(sa.delete(t.experiment_tags).where(et.experiment_id == int(experiment_id), et.key == key)).rowcount
            if not deleted:
                raise StoreError(f"No tag with name: {key} in experiment with id {experiment_id}", "RESOURCE_DOES_NOT_EXIST")
            touched.note(experiment_ids=[str(experiment_id)])

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int | None = None,
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """A RUNNING run; named at random when neither run_name nor the mlflow.runName tag names it."""
        tags = dict(tags or {})
        name_tag = tags.get(RUN_NAME_TAG)
        if run_name and name_tag and run_name != name_tag:
            raise StoreError(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
                f"(run_name='{run_name}', mlflow.runName='{name_tag}')."
            )
        run_name = run_name or name_tag or generate_run_name()
        tags[RUN_NAME_TAG] = run_name
        run_id = uuid.uuid4().hex
        with self._transaction() as (conn, touched):
            experiment = self._active_experiment(conn, experiment_id or "0")
            conn.execute(
                sa.insert(t.runs).values(
                    run_uuid=run_id,
                    name=run_name,
                    artifact_uri=append_uri(experiment.artifact_location, run_id, "artifacts"),
                    experiment_id=int(experiment.experiment_id),
                    source_type="UNKNOWN",
                    source_name="",
                    entry_point_name="",
                    user_id=user_id,
                    status="RUNNING",
                    start_time=start_time if start_time is not None else now_ms(),
                    end_time=None,
                    deleted_time=None,
                    source_version="",
                    lifecycle_stage=ACTIVE,
                )
            )
            conn.execute(sa.insert(t.tags), [{"run_uuid": run_id, "key": k, "value": v} for k, v in tags.items()])
            touched.note([run_id])
        return run_id

    def _run_row(self, conn: Connection, run_id: str, *, active: bool = True) -> sa.Row:
        r = t.runs.c
        query = sa.select(r.run_uuid, r.lifecycle_stage, r.experiment_id, r.artifact_uri).where(r.run_uuid == run_id)
        if active and self.engine.dialect.name == "postgresql":
            query = query.with_for_update(read=True)  # the run cannot be deleted under this write
        row = conn.execute(query).first()
        if row is None:
            raise StoreError(f"Run with id={run_id} not found", "RESOURCE_DOES_NOT_EXIST")
        if active and row.lifecycle_stage != ACTIVE:
            raise StoreError(f"The run {run_id} must be in the 'active' state. Current state is {row.lifecycle_stage}.")
        return row

    def check_active(self, run_id: str) -> None:
        with read_transaction(self.engine) as conn:
            self._run_row(conn, run_id)

    def update_run_info(
        self, run_id: str, status: str | None = None, end_time: int | None = None, run_name: str | None = None, *, clear_end_time: bool = False
    ) -> None:
        if status is not None and status not in RUN_STATUSES:
            raise StoreError(f"Invalid run status {status!r}")
        with self._transaction() as (conn, touched):
            self._run_row(conn, run_id)
            self._update_run(conn, run_id, status, end_time, run_name, clear_end_time)
            touched.note([run_id])

    def _update_run(self, conn: Connection, run_id: str, status: str | None, end_time: int | None, run_name: str | None, clear_end_time: bool = False) -> None:
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if end_time is not None or clear_end_time:
            values["end_time"] = end_time
        if run_name:
            values["name"] = run_name
            self._upsert_tags(conn, run_id, {RUN_NAME_TAG: run_name})
        if values:
            conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(**values))

    def delete_run(self, run_id: str) -> None:
        with self._transaction() as (conn, touched):
            self._run_row(conn, run_id, active=False)
            conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(lifecycle_stage=DELETED, deleted_time=now_ms()))
            touched.note([run_id])

    def restore_run(self, run_id: str) -> None:
        with self._transaction() as (conn, touched):
            self._run_row(conn, run_id, active=False)
            conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(lifecycle_stage=ACTIVE, deleted_time=None))
            touched.note([run_id])

    # --------------------------------------------------- params, metrics, tags

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self.log_batch(run_id, params={key: value})

    def log_metrics(self, run_id: str, points: Iterable[MetricPoint]) -> None:
        self.log_batch(run_id, metrics=points)

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.log_batch(run_id, tags={key: value})

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[MetricPoint] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Params, metrics and tags of one run in one transaction: all of them land, or none."""
        points = list(metrics)
        with self._transaction() as (conn, touched):
            run = self._run_row(conn, run_id)
            if params:
                self._insert_params(conn, run_id, params)
            if points:
                insert_metrics(conn, self._insert, run_id, points, run.experiment_id)
            if tags:
                other = {k: v for k, v in tags.items() if k != RUN_NAME_TAG}
                if other:
                    self._upsert_tags(conn, run_id, other)
                if RUN_NAME_TAG in tags:
                    self._update_run(conn, run_id, None, None, tags[RUN_NAME_TAG])
            touched.note([run_id])

    def _insert_params(self, conn: Connection, run_id: str, params: dict[str, str]) -> None:
        """New keys are inserted; a key logged before must have the same value (checked after the insert, so racing writers are caught too)."""
        p = t.params.c
        statement = self._insert(t.params).on_conflict_do_nothing()
        conn.execute(statement, [{"run_uuid": run_id, "key": k, "value": v} for k, v in params.items()])
        stored = {k: v for part in reads.chunks(list(params)) for k, v in conn.execute(sa.select(p.key, p.value).where(p.run_uuid == run_id, p.key.in_(part)))}
        conflicts = [{"key": k, "old_value": stored[k], "new_value": v} for k, v in params.items() if k in stored and stored[k] != v]
        if len(conflicts) == 1 and len(params) == 1:
            c = conflicts[0]
            raise StoreError(
                f"Changing param values is not allowed. Param with key='{c['key']}' was already logged with "
                f"value='{c['old_value']}' for run ID='{run_id}'. Attempted logging new value '{c['new_value']}'."
            )
        if conflicts:
            raise StoreError(f"Changing param values is not allowed. Params were already logged='{conflicts}' for run ID='{run_id}'.")

    def _upsert_tags(self, conn: Connection, run_id: str, tags: dict[str, str]) -> None:
        statement = self._insert(t.tags)
        statement = statement.on_conflict_do_update(index_elements=["key", "run_uuid"], set_={"value": statement.excluded.value})
        conn.execute(statement, [{"run_uuid": run_id, "key": k, "value": v} for k, v in sorted(tags.items())])

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._transaction() as (conn, touched):
            self._run_row(conn, run_id)
            tc = t.tags.c
            if not conn.execute(sa.delete(t.tags).where(tc.run_uuid == run_id, tc.key == key)).rowcount:
                raise StoreError(f"No tag with name: {key} in run with id {run_id}", "RESOURCE_DOES_NOT_EXIST")
            touched.note([run_id])

    # ------------------------------------------------------ inputs, outputs

    def log_inputs(self, run_id: str, datasets: Iterable[DatasetInput] = (), models: Iterable[str] = ()) -> None:
        """Datasets (one row per experiment, name and digest) linked to the run with their tags; logged models as inputs."""
        with self._transaction() as (conn, touched):
            experiment_id = self._run_row(conn, run_id).experiment_id
            run_links.link_inputs(conn, self._insert, experiment_id, run_id, datasets, models)
            touched.note([run_id])

    def log_outputs(self, run_id: str, models: Iterable[tuple[str, int]]) -> None:
        """Logged models (model_id, step) as outputs of a run."""
        with self._transaction() as (conn, touched):
            self._run_row(conn, run_id)
            run_links.link_outputs(conn, self._insert, run_id, models)
            touched.note([run_id])

    def artifact_dir(self, run_id: str) -> Path:
        """The run's local artifact folder (its artifact_uri must be a local path or file: URI)."""
        with read_transaction(self.engine) as conn:
            uri = self._run_row(conn, run_id, active=False).artifact_uri or ""
        try:
            return local_path(uri)
        except ValueError:
            raise StoreError(f"The artifact URI '{uri}' of run {run_id} is not local; mlscope can only write local artifacts.") from None


def _resolve_uri_if_local(uri: str) -> str:
    """MLflow's resolve_uri_if_local: a relative local path (or file: URI) is made absolute from the cwd; others stay."""
    try:
        path = local_path(uri)
    except ValueError:
        return uri
    if path.is_absolute():
        return uri
    absolute = (Path.cwd() / path).as_posix()
    return f"file:{absolute}" if uri.lower().startswith("file:") else absolute
