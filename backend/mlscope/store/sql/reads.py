"""Read MLflow's tracking tables into the store's records (Experiment, Run, Metric, ...).

Values come back as MLflow's SqlAlchemyStore returns them: NaN for rows with
``is_nan``, infinities as the ±1.797e308 MLflow stored in their place, run
names from the ``mlflow.runName`` tag when the column is empty. Bulk reads
fetch a table once for many runs (``IN`` lists of at most ``CHUNK`` ids), never
one query per run.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..model import ACTIVE, DatasetInput, Experiment, LoggedModel, Metric, ModelMetric, ModelRef, Run, RunInfo
from ..paths import NotLocalError, local_path
from . import tables as t

CHUNK = 500  # ids per IN list: far below every dialect's bound-parameter limit
SCAN_BATCH = 5000  # rows per fetch of a bulk read
SHARED_LENGTH = 64  # values up to this long are interned
NAN = float("nan")
LOGGED_MODEL_STATUS = {0: "LOGGED_MODEL_STATUS_UNSPECIFIED", 1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY", 3: "LOGGED_MODEL_UPLOAD_FAILED"}
NO_PATH = Path("/nonexistent/mlscope-sql-store")  # records of a SQL store whose artifacts are not local


def chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def local_dir(uri: str | None) -> Path:
    """The local folder behind an artifact location, for code that looks beside a run's artifacts."""
    try:
        return local_path(uri or "")
    except NotLocalError:
        return NO_PATH


# ---------------------------------------------------------------- experiments


def experiments(conn: Connection, ids: Iterable[int] | None = None) -> list[Experiment]:
    """Experiments with their tags, by id (all when ids is None)."""
    query = sa.select(t.experiments).order_by(t.experiments.c.experiment_id)
    tag_query = sa.select(t.experiment_tags)
    if ids is not None:
        wanted = list(ids)
        query = query.where(t.experiments.c.experiment_id.in_(wanted))
        tag_query = tag_query.where(t.experiment_tags.c.experiment_id.in_(wanted))
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for row in conn.execute(tag_query):
        tags[row.experiment_id][row.key] = row.value if row.value is not None else ""
    return [
        Experiment(
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location or "",
            lifecycle_stage=row.lifecycle_stage or ACTIVE,
            creation_time=row.creation_time,
            last_update_time=row.last_update_time,
            tags=dict(tags.get(row.experiment_id, {})),
            path=local_dir(row.artifact_location),
        )
        for row in conn.execute(query)
    ]


def experiment_id_or_none(experiment_id: str) -> int | None:
    """MLflow's SQL experiment ids are integers; anything else names no experiment."""
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------- runs

RUN_COLUMNS = (
    t.runs.c.run_uuid, t.runs.c.experiment_id, t.runs.c.name, t.runs.c.user_id, t.runs.c.status,
    t.runs.c.start_time, t.runs.c.end_time, t.runs.c.lifecycle_stage, t.runs.c.artifact_uri, t.runs.c.deleted_time,
)  # fmt: skip


def run_info(row: Sequence[Any]) -> RunInfo:
    """A RunInfo from a row of RUN_COLUMNS, in their order (values shared by many runs are interned)."""
    run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri, deleted_time = row
    intern = sys.intern
    return RunInfo(
        run_id=run_uuid,
        experiment_id=intern(str(experiment_id)),
        run_name=name or "",
        user_id=intern(user_id or ""),
        status=intern(status or "RUNNING"),
        start_time=start_time,
        end_time=end_time,
        lifecycle_stage=intern(lifecycle_stage or ACTIVE),
        artifact_uri=artifact_uri or "",
        deleted_time=deleted_time,
    )


_scan_ids = itertools.count()  # names of PostgreSQL's server-side cursors, unique per process


def scan(conn: Connection, query: sa.Select, *, whole_table: bool = False) -> Iterator[tuple[Any, ...]]:
    """The query's rows as the driver's plain tuples, in the connection's transaction.

    Whole-table reads (an index build: hundreds of thousands of rows) spend most
    of their time wrapping rows; the driver's cursor is about 4x faster. The
    statement's few literals (constants, run ids) are rendered inline by SQLAlchemy.
    ``whole_table`` reads on PostgreSQL go through a server-side cursor:
    psycopg's default cursor takes the whole result into client memory at once
    (a million params rows left a 100,000-run replica's heap ~150 MB bigger for
    good); this one brings SCAN_BATCH rows per round trip.
    """
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    driver = conn.connection.driver_connection
    if whole_table and conn.dialect.name == "postgresql":
        cursor = driver.cursor(name=f"mlscope_scan_{next(_scan_ids)}")  # type: ignore[union-attr]
    else:
        cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(SCAN_BATCH):
            yield from batch
    finally:
        cursor.close()


def run_infos(conn: Connection, run_ids: Sequence[str] | None = None) -> list[RunInfo]:
    """Run rows (all when run_ids is None), without params/tags/metrics."""
    if run_ids is None:
        return [run_info(row) for row in scan(conn, sa.select(*RUN_COLUMNS), whole_table=True)]
    found: list[RunInfo] = []
    for part in chunks(list(run_ids)):
        found.extend(run_info(row) for row in scan(conn, sa.select(*RUN_COLUMNS).where(t.runs.c.run_uuid.in_(part))))
    return found


def metric_value(value: float, is_nan: bool) -> float:
    return NAN if is_nan else value


def _shared(text: str) -> str:
    """Keys and short values repeat across thousands of runs: one string object each (the index holds them all)."""
    return sys.intern(text) if len(text) <= SHARED_LENGTH else text


class RunDetails:
    """Params, tags, latest metrics and inputs/outputs of many runs, each table read once.

    Strings that repeat are shared and identical dataset inputs are one object,
    so an index of 100,000 runs holds each distinct value once.
    """

    def __init__(self, folders: RunFolders | None = None) -> None:
        self.folders = folders or RunFolders()
        self._inputs: dict[tuple[Any, ...], DatasetInput] = {}
        self.params: dict[str, dict[str, str]] = defaultdict(dict)
        self.tags: dict[str, dict[str, str]] = defaultdict(dict)
        self.metrics: dict[str, dict[str, Metric]] = defaultdict(dict)
        self.datasets: dict[str, list[DatasetInput]] = defaultdict(list)
        self.model_inputs: dict[str, list[ModelRef]] = defaultdict(list)
        self.model_outputs: dict[str, list[ModelRef]] = defaultdict(list)

    def load(self, conn: Connection, run_ids: Sequence[str] | None) -> RunDetails:
        """Details of run_ids (of every run when None: whole-table scans, for building an index)."""
        parts: Iterable[Sequence[str] | None] = [None] if run_ids is None else chunks(list(run_ids))
        for part in parts:
            self._load_part(conn, part)
        return self

    def _load_part(self, conn: Connection, part: Sequence[str] | None) -> None:
        def where(query: sa.Select, column: sa.ColumnElement) -> sa.Select:
            return query if part is None else query.where(column.in_(part))

        intern = sys.intern
        whole = part is None
        for run_id, key, value in scan(conn, where(sa.select(t.params.c.run_uuid, t.params.c.key, t.params.c.value), t.params.c.run_uuid), whole_table=whole):
            self.params[run_id][intern(key)] = _shared(value)
        for run_id, key, value in scan(conn, where(sa.select(t.tags.c.run_uuid, t.tags.c.key, t.tags.c.value), t.tags.c.run_uuid), whole_table=whole):
            self.tags[run_id][intern(key)] = _shared(value) if value is not None else ""
        lm = t.latest_metrics.c
        for run_id, key, value, timestamp, step, is_nan in scan(
            conn,
            where(sa.select(lm.run_uuid, lm.key, lm.value, lm.timestamp, lm.step, lm.is_nan), lm.run_uuid),
            whole_table=whole,
        ):
            key = intern(key)
            self.metrics[run_id][key] = Metric(key, metric_value(float(value), bool(is_nan)), timestamp or 0, step)
        self._load_inputs(conn, part)

    def _load_inputs(self, conn: Connection, part: Sequence[str] | None) -> None:
        i, d, it = t.inputs.c, t.datasets.c, t.input_tags.c
        query = (
            sa.select(i.input_uuid, i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile)
            .select_from(t.inputs.join(t.datasets, i.source_id == d.dataset_uuid))
            .where(i.destination_type == "RUN", i.source_type == "DATASET")
        )
        if part is not None:
            query = query.where(i.destination_id.in_(part))
        rows = list(scan(conn, query, whole_table=part is None))
        input_tags: dict[str, dict[str, str]] = defaultdict(dict)
        input_ids = [row[0] for row in rows]
        tag_query = sa.select(it.input_uuid, it.name, it.value)
        tag_parts: Iterable[Sequence[str] | None] = [None] if part is None else chunks(input_ids)
        for tag_part in tag_parts:
            query_part = tag_query if tag_part is None else tag_query.where(it.input_uuid.in_(tag_part))
            for input_uuid, name, value in scan(conn, query_part, whole_table=tag_part is None):
                input_tags[input_uuid][name] = value
        for input_uuid, run_id, name, digest, source_type, source, schema, profile in rows:
            tags = input_tags.get(input_uuid, {})
            identity = (name, digest, source_type, source, schema, profile, tuple(sorted(tags.items())))
            dataset = self._inputs.get(identity)
            if dataset is None:
                dataset = self._inputs[identity] = DatasetInput(
                    name=name, digest=digest, source_type=source_type, source=source, schema=schema or "", profile=profile or "", tags=tags
                )
            self.datasets[run_id].append(dataset)
        model_query = sa.select(i.source_type, i.source_id, i.destination_id, i.step).where(i.source_type.in_(("RUN_INPUT", "RUN_OUTPUT")))
        if part is not None:
            model_query = model_query.where(i.source_id.in_(part))
        for source_type, run_id, model_id, step in conn.execute(model_query):
            if source_type == "RUN_INPUT":
                self.model_inputs[run_id].append(ModelRef(model_id))
            else:
                self.model_outputs[run_id].append(ModelRef(model_id, step))

    def run(self, info: RunInfo, path: Path | None = None) -> Run:
        """The run with its details; ``path``: its folder when the caller has it already."""
        rid = info.run_id
        tags = self.tags.get(rid, {})
        name_tag = tags.get("mlflow.runName")
        if not info.run_name and name_tag:
            info = replace(info, run_name=name_tag)
        elif name_tag == info.run_name and name_tag is not info.run_name:
            tags["mlflow.runName"] = info.run_name  # one string for both
        return Run(
            info=info,
            params=self.params.get(rid, {}),
            tags=tags,
            metrics=self.metrics.get(rid, {}),
            dataset_inputs=tuple(self.datasets.get(rid, ())),
            model_inputs=tuple(self.model_inputs.get(rid, ())),
            model_outputs=tuple(self.model_outputs.get(rid, ())),
            path=path or self.folders.run_dir(info),
        )


def run_dir(info: RunInfo) -> Path:
    """The run's folder beside its artifacts (``<...>/<run_id>`` of ``<...>/<run_id>/artifacts``) when local.

    Always named by the run id (histories are cached by it), under a path that does not exist otherwise.
    """
    folder = local_dir(info.artifact_uri)
    if folder.name == "artifacts" and folder.parent.name == info.run_id:
        return folder.parent
    return NO_PATH / info.run_id


class RunFolders:
    """``run_dir`` for many runs: runs' artifact URIs share a few prefixes (``<experiment location>/<run id>/artifacts``).

    Each prefix is parsed once (URI parsing and path building were a third of an index build), then a run's
    folder is the prefix's folder joined with its id: the same path ``run_dir`` finds.
    """

    def __init__(self) -> None:
        self._parents: dict[str, Path] = {}

    def run_dir(self, info: RunInfo) -> Path:
        rid, uri = info.run_id, info.artifact_uri
        tail = f"/{rid}/artifacts"
        if not uri.endswith(tail):
            return run_dir(info)
        prefix = uri[: -len(tail)]
        parent = self._parents.get(prefix)
        if parent is not None:
            return parent / rid
        folder = run_dir(info)
        if folder.name == rid:  # local, or NO_PATH / rid: the same for every run under this prefix
            self._parents[prefix] = folder.parent
        return folder


def runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Full runs (info, params, tags, latest metrics, inputs, outputs) in the order of run_ids; unknown ids are skipped."""
    infos = {info.run_id: info for info in run_infos(conn, run_ids)}
    details = RunDetails().load(conn, list(infos))
    return [details.run(infos[rid]) for rid in run_ids if rid in infos]


# -------------------------------------------------------------------- metrics


def metric_history(conn: Connection, run_id: str, key: str) -> list[Metric]:
    """Every logged point of one metric, in MLflow's order (timestamp, step, value)."""
    m = t.metrics.c
    query = (
        sa.select(m.value, m.timestamp, m.step, m.is_nan)
        .where(m.run_uuid == run_id, m.key == key)
        .order_by(m.timestamp, m.step, m.value)
    )
    return [Metric(key, metric_value(value, is_nan), timestamp, step) for value, timestamp, step, is_nan in conn.execute(query)]


def metric_histories(conn: Connection, run_ids: Sequence[str], key: str) -> dict[str, list[Metric]]:
    """One metric's history for many runs (MLflow's get-history-bulk), each in MLflow's order."""
    m = t.metrics.c
    found: dict[str, list[Metric]] = {rid: [] for rid in run_ids}
    for part in chunks(list(run_ids)):
        query = (
            sa.select(m.run_uuid, m.value, m.timestamp, m.step, m.is_nan)
            .where(m.run_uuid.in_(part), m.key == key)
            .order_by(m.run_uuid, m.timestamp, m.step, m.value)
        )
        for run_id, value, timestamp, step, is_nan in conn.execute(query):
            found[run_id].append(Metric(key, metric_value(value, is_nan), timestamp, step))
    return found


# -------------------------------------------------------------- logged models


def logged_models(conn: Connection, experiment_ids: Sequence[int] | None = None) -> list[LoggedModel]:
    """MLflow 3 logged models with params, tags and metrics, newest first (all experiments when None)."""
    lm = t.logged_models.c
    query = sa.select(t.logged_models).order_by(lm.creation_timestamp_ms.desc(), lm.model_id)
    if experiment_ids is not None:
        query = query.where(lm.experiment_id.in_(experiment_ids))
    rows = [row for row in conn.execute(query) if (row.lifecycle_stage or ACTIVE) == ACTIVE]
    return logged_model_records(conn, rows, experiment_ids)


def logged_model_records(conn: Connection, rows: Sequence[Any], experiment_ids: Sequence[int] | None = None) -> list[LoggedModel]:
    """Rows of ``logged_models`` as records, with their params, tags and every ``logged_model_metrics`` row.

    The metrics are what SqlAlchemyStore's ``LoggedModel.metrics`` holds: every point logged with the
    model's id (NaN stored as 0, as MLflow stores it there), not only the latest per key.
    The side tables are read by experiment (one query each) when experiment_ids is given, else by model id;
    params and tags come sorted by key, so every read gives one model the same answer.
    """
    if not rows:
        return []
    mp, mt, mm = t.logged_model_params.c, t.logged_model_tags.c, t.logged_model_metrics.c
    params: dict[str, dict[str, str]] = defaultdict(dict)
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    metrics: dict[str, list[ModelMetric]] = defaultdict(list)
    metric_columns = (mm.model_id, mm.metric_name, mm.metric_value, mm.metric_timestamp_ms, mm.metric_step, mm.run_id, mm.dataset_name, mm.dataset_digest)
    order = (mm.model_id, mm.metric_timestamp_ms, mm.metric_step, mm.metric_name, mm.run_id)
    if experiment_ids is not None:
        wheres = [(mp.experiment_id.in_(experiment_ids), mt.experiment_id.in_(experiment_ids), mm.experiment_id.in_(experiment_ids))]
    else:
        ids = [row.model_id for row in rows]
        wheres = [(mp.model_id.in_(part), mt.model_id.in_(part), mm.model_id.in_(part)) for part in chunks(ids)]
    for on_params, on_tags, on_metrics in wheres:
        for model_id, key, value in conn.execute(sa.select(mp.model_id, mp.param_key, mp.param_value).where(on_params).order_by(mp.model_id, mp.param_key)):
            params[model_id][key] = value
        for model_id, key, value in conn.execute(sa.select(mt.model_id, mt.tag_key, mt.tag_value).where(on_tags).order_by(mt.model_id, mt.tag_key)):
            tags[model_id][key] = value
        for model_id, key, value, timestamp, step, run_id, dataset_name, dataset_digest in conn.execute(sa.select(*metric_columns).where(on_metrics).order_by(*order)):
            metrics[model_id].append(ModelMetric(key, NAN if value is None else value, timestamp, step, run_id, dataset_name, dataset_digest))
    return [
        LoggedModel(
            model_id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            source_run_id=row.source_run_id,
            status=LOGGED_MODEL_STATUS.get(row.status, str(row.status)),
            creation_timestamp=row.creation_timestamp_ms,
            last_updated_timestamp=row.last_updated_timestamp_ms,
            artifact_location=row.artifact_location,
            model_type=row.model_type,
            params=params.get(row.model_id, {}),
            tags=tags.get(row.model_id, {}),
            path=local_dir(row.artifact_location).parent,
            lifecycle_stage=row.lifecycle_stage or ACTIVE,
            metrics=tuple(metrics.get(row.model_id, ())),
        )
        for row in rows
    ]
