"""Copy an mlruns tree into MLflow's SQL schema (what ``mlflow migrate-filestore`` does, in one transaction).

Everything FileStore keeps goes over: experiments (deleted ones too, with their
tags), runs with every meta.yaml field, params, tags, full metric histories
(``latest_metrics`` computed as MLflow's SQL store keeps it), datasets and
their links, model inputs and outputs, logged models (params, tags, metrics)
and the model registry. The copy is atomic: one transaction, so a failure
leaves the destination as it was. A history may hold exact duplicate lines,
which the schema's primary key forbids (``mlflow migrate-filestore`` aborts
there); they are dropped and counted. Rows go in by the driver's bulk paths
(sqlite3 ``executemany``, PostgreSQL ``COPY``). Traces are not copied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import reader
from ..errors import MalformedError, StoreError
from ..meta_yaml import read_yaml
from ..metric_files import metric_columns, parse_metric_line
from ..paths import key_files
from ..registry_reader import read_registry
from . import tables as t
from .bulk import Rows
from .engine import WRITE_OPTION
from .points import FLOAT_MAX, stored_value
from .store import SqlStore

SOURCE_TYPES = {1: "NOTEBOOK", 2: "JOB", 3: "PROJECT", 4: "LOCAL", 1000: "UNKNOWN"}
LOGGED_MODEL_STATUS = {"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3}
INF = float("inf")
INT32_MAX = 2**31 - 1  # PostgreSQL's INTEGER experiment ids


@dataclass
class CopyReport:
    """What was copied, what was dropped, what could not be read."""

    counts: Counter[str] = field(default_factory=Counter)
    duplicate_metric_points: int = 0
    renumbered_experiments: dict[str, str] = field(default_factory=dict)
    renamed_experiments: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    run_ids: set[str] = field(default_factory=set)


Progress = Callable[[str], None]


def tree_to_sql(root: Path, store: SqlStore, progress: Progress | None = None) -> CopyReport:
    """Copy the tree at root into an empty SQL store (only MLflow's Default experiment, no runs); returns what was done."""
    say = progress or (lambda message: None)
    writer = store.require_writer()
    report = CopyReport()
    experiment_dirs = _experiment_dirs(root)
    run_total = sum(len(reader.run_dirs(d)) for d in experiment_dirs)
    say(f"copying {len(experiment_dirs)} experiments and {run_total:,} runs from {root}")
    # One transaction (BEGIN IMMEDIATE on SQLite: the engine's write option); the bulk-load settings wrap it.
    with writer.engine.connect() as conn, _bulk_load_settings(conn), conn.execution_options(**{WRITE_OPTION: True}).begin():
        _require_empty(conn, replace_default=any(d.name == "0" for d in experiment_dirs))
        baseline = _row_counts(conn)
        rows = Rows(conn)
        ids = _copy_experiments(experiment_dirs, rows, report, conn.dialect.name)
        done = 0
        for exp_dir in experiment_dirs:
            experiment_id = ids.get(exp_dir.name)
            if experiment_id is None:
                continue
            datasets = _copy_datasets(exp_dir, experiment_id, rows, report)
            for run_dir in reader.run_dirs(exp_dir):
                _copy_run(run_dir, experiment_id, datasets, rows, report)
                done += 1
                if done % 1000 == 0:
                    rows.flush()
                    say(f"runs {done:,}/{run_total:,}")
            rows.flush()  # logged models reference the runs (foreign keys)
            _copy_logged_models(exp_dir, experiment_id, rows, report)
        rows.flush()
        _copy_registry(root, rows, report)
        rows.flush()
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), (SELECT max(experiment_id) FROM experiments))"))
        report.counts = rows.counts
    _verify(store, report, baseline)
    say(f"runs {done:,}/{run_total:,}: done")
    return report


@contextmanager
def _bulk_load_settings(conn: Connection) -> Iterator[None]:
    """SQLite, this connection only, set outside the transaction and reset after: a page cache that holds the
    indexes being filled (the metrics primary key is inserted out of order), and no fsync per page write (the
    copy is still one transaction; a power cut mid-copy may leave the new file unusable, to be copied again)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    for pragma in ("PRAGMA cache_size = -262144", "PRAGMA synchronous = OFF", "PRAGMA temp_store = MEMORY"):
        driver.execute(pragma)  # type: ignore[union-attr]
    try:
        yield
    finally:
        for pragma in ("PRAGMA cache_size = -2000", "PRAGMA synchronous = FULL", "PRAGMA temp_store = DEFAULT"):
            driver.execute(pragma)  # type: ignore[union-attr]


def _experiment_dirs(root: Path) -> list[Path]:
    active, trashed = reader.experiment_dirs(root)
    return [d for d in active + trashed if (d / "meta.yaml").is_file()]


def _require_empty(conn: Connection, *, replace_default: bool) -> None:
    if conn.execute(sa.select(sa.func.count()).select_from(t.runs)).scalar_one():
        raise StoreError("the destination database already holds runs: mlscope migrate copies into an empty database only", "INVALID_STATE")
    if conn.execute(sa.select(sa.func.count()).select_from(t.experiments).where(t.experiments.c.experiment_id != 0)).scalar_one():
        raise StoreError("the destination database already holds experiments: mlscope migrate copies into an empty database only", "INVALID_STATE")
    if replace_default:  # the tree's own experiment 0 replaces the database's Default
        conn.execute(sa.delete(t.experiment_tags).where(t.experiment_tags.c.experiment_id == 0))
        conn.execute(sa.delete(t.experiments).where(t.experiments.c.experiment_id == 0))


def _copy_experiments(experiment_dirs: list[Path], rows: Rows, report: CopyReport, dialect: str) -> dict[str, int]:
    ids: dict[str, int] = {}
    names: set[str] = set()
    next_small = 1 + max((int(d.name) for d in experiment_dirs if d.name.isdigit() and int(d.name) <= INT32_MAX), default=0)
    for exp_dir in experiment_dirs:
        try:
            experiment = reader.read_experiment(exp_dir)
        except MalformedError as exc:
            report.skipped.append(f"{exp_dir}: {exc}")
            continue
        if not experiment.experiment_id.isdigit():
            report.skipped.append(f"{exp_dir}: experiment id {experiment.experiment_id!r} is not a number (MLflow's SQL ids are)")
            continue
        number = int(experiment.experiment_id)
        if dialect == "postgresql" and number > INT32_MAX:
            number, next_small = next_small, next_small + 1
            report.renumbered_experiments[experiment.experiment_id] = str(number)
        name = experiment.name
        if name in names:
            name = f"{name} ({experiment.experiment_id})"
            report.renamed_experiments[experiment.experiment_id] = name
        names.add(name)
        ids[exp_dir.name] = number
        # (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace)
        rows.add("experiments", (number, name, experiment.artifact_location or None, experiment.lifecycle_stage,
                                 experiment.creation_time, experiment.last_update_time, t.DEFAULT_WORKSPACE))  # fmt: skip
        for key, value in experiment.tags.items():
            rows.add("experiment_tags", (key, value, number))
    rows.flush()
    return ids


def _copy_datasets(exp_dir: Path, experiment_id: int, rows: Rows, report: CopyReport) -> set[str]:
    """The experiment's dataset records, keyed by their folder id (kept as dataset_uuid)."""
    found = set()
    for folder in sorted((exp_dir / "datasets").glob("*/meta.yaml")):
        try:
            meta = read_yaml(folder)
        except MalformedError as exc:
            report.skipped.append(f"{folder}: {exc}")
            continue
        dataset_uuid = folder.parent.name
        found.add(dataset_uuid)
        rows.add("datasets", (dataset_uuid, experiment_id, str(meta.get("name", "")), str(meta.get("digest", "")),
                              str(meta.get("source_type", "")), str(meta.get("source", "")), meta.get("schema"), meta.get("profile")))  # fmt: skip
    return found


def _copy_run(run_dir: Path, experiment_id: int, datasets: set[str], rows: Rows, report: CopyReport) -> None:
    try:
        meta = read_yaml(run_dir / "meta.yaml")
        reader.check_run_layout(run_dir)
    except MalformedError as exc:
        report.skipped.append(f"{run_dir}: {exc}")
        return
    run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
    if run_id in report.run_ids:
        report.skipped.append(f"{run_dir}: run id {run_id} was already copied from another folder")
        return
    report.run_ids.add(run_id)
    source_type = meta.get("source_type")
    source_type = SOURCE_TYPES.get(source_type, "LOCAL") if isinstance(source_type, int) else str(source_type or "LOCAL")
    # (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time,
    #  source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
    rows.add("runs", (
        run_id, meta.get("run_name") or meta.get("name") or None, source_type, str(meta.get("source_name") or ""),
        str(meta.get("entry_point_name") or ""), meta.get("user_id"), reader.status_name(meta.get("status")),
        meta.get("start_time"), meta.get("end_time"), str(meta.get("source_version") or ""),
        str(meta.get("lifecycle_stage") or "active"), meta.get("artifact_uri"), experiment_id, meta.get("deleted_time"),
    ))  # fmt: skip
    for key, value in reader.read_key_values(run_dir / "params").items():
        rows.add("params", (key, value, run_id))
    for key, value in reader.read_key_values(run_dir / "tags").items():
        rows.add("tags", (key, value, run_id))
    for key, path in key_files(run_dir / "metrics"):
        _copy_history(key, path, run_id, rows, report)
    _copy_links(run_dir, run_id, datasets, rows, report)
    rows.maybe_flush()


def _copy_history(key: str, path: str, run_id: str, rows: Rows, report: CopyReport) -> None:
    """One metric file's points as rows (exact duplicates dropped), and its latest point by MLflow's SQL rule."""
    metrics = rows.pending["metrics"]
    seen: set[tuple[int, int, float, bool]] = set()
    latest: tuple[int, float, int, bool] | None = None  # (step, value, timestamp, is_nan): max by (step, timestamp, value)
    before = len(metrics)
    for timestamp, raw, step in _points(key, path, report):
        if raw != raw:
            value, is_nan = 0.0, True
        elif raw in (INF, -INF):
            value, is_nan = (FLOAT_MAX if raw > 0 else -FLOAT_MAX), False
        else:
            value, is_nan = raw, False
        identity = (timestamp, step, value, is_nan)
        if identity in seen:
            report.duplicate_metric_points += 1
            continue
        seen.add(identity)
        metrics.append((key, value, timestamp, run_id, step, is_nan))  # the metrics table's column order
        if latest is None or (step, timestamp, value) > (latest[0], latest[2], latest[1]):
            latest = (step, value, timestamp, is_nan)
    rows.size += len(metrics) - before
    if latest is not None:
        step, value, timestamp, is_nan = latest
        rows.add("latest_metrics", (key, value, timestamp, step, is_nan, run_id))


def _points(key: str, path: str, report: CopyReport) -> Iterator[tuple[int, float, int]]:
    """(timestamp, value, step) of every complete line; column-wise in C when every line is ``ts value step``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        report.skipped.append(f"{path}: {exc.strerror}")
        return
    columns = metric_columns(data)
    if columns is not None:
        yield from zip(*columns, strict=True)
        return
    for line in data.decode("utf-8", errors="replace").split("\n"):
        if not line.strip():
            continue
        try:
            point = parse_metric_line(key, line)
        except MalformedError as exc:
            report.skipped.append(f"{path}: {exc}")
            continue
        yield point.timestamp, point.value, point.step


def _copy_links(run_dir: Path, run_id: str, datasets: set[str], rows: Rows, report: CopyReport) -> None:
    for meta_path in sorted((run_dir / "inputs").glob("*/meta.yaml")):
        try:
            link = read_yaml(meta_path)
        except MalformedError as exc:
            report.skipped.append(f"{meta_path}: {exc}")
            continue
        source_type, source_id = str(link.get("source_type", "")).upper(), str(link.get("source_id", ""))
        input_uuid = meta_path.parent.name
        if source_type == "DATASET" and source_id in datasets:
            # (input_uuid, source_type, source_id, destination_type, destination_id, step)
            rows.add("inputs", (input_uuid, "DATASET", source_id, "RUN", run_id, 0))
            for name, value in (link.get("tags") or {}).items():
                rows.add("input_tags", (input_uuid, str(name), str(value)))
        elif source_type in ("MODEL", "RUN_INPUT") or source_type.endswith("MODEL_INPUT"):
            model_id = source_id if source_type != "RUN_INPUT" else str(link.get("destination_id", ""))
            rows.add("inputs", (input_uuid, "RUN_INPUT", run_id, "MODEL_INPUT", model_id, 0))
    for meta_path in sorted((run_dir / "outputs").glob("*/meta.yaml")):
        try:
            link = read_yaml(meta_path)
        except MalformedError as exc:
            report.skipped.append(f"{meta_path}: {exc}")
            continue
        model_id = str(link.get("destination_id") or meta_path.parent.name)
        rows.add("inputs", (meta_path.parent.name, "RUN_OUTPUT", run_id, "MODEL_OUTPUT", model_id, int(link.get("step") or 0)))


def _copy_logged_models(exp_dir: Path, experiment_id: int, rows: Rows, report: CopyReport) -> None:
    for meta_path in sorted((exp_dir / "models").glob("*/meta.yaml")):
        model_dir = meta_path.parent
        try:
            meta = read_yaml(meta_path)
        except MalformedError as exc:
            report.skipped.append(f"{meta_path}: {exc}")
            continue
        model_id = str(meta.get("model_id") or model_dir.name)
        status = meta.get("status")
        status = status if isinstance(status, int) else LOGGED_MODEL_STATUS.get(str(status), 0)
        # (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms,
        #  status, lifecycle_stage, model_type, source_run_id, status_message)
        rows.add("logged_models", (
            model_id, experiment_id, str(meta.get("name") or ""), str(meta.get("artifact_location") or ""),
            meta.get("creation_timestamp") or 0, meta.get("last_updated_timestamp") or 0, status,
            str(meta.get("lifecycle_stage") or "active"), meta.get("model_type"), meta.get("source_run_id"), meta.get("status_message"),
        ))  # fmt: skip
        for key, value in reader.read_key_values(model_dir / "params").items():
            rows.add("logged_model_params", (model_id, experiment_id, key, value))
        for key, value in reader.read_key_values(model_dir / "tags").items():
            rows.add("logged_model_tags", (model_id, experiment_id, key, value))
        seen: set[tuple[Any, ...]] = set()
        for key, path in key_files(model_dir / "metrics"):
            for line in _lines(path):
                parts = line.split()
                if len(parts) < 4:
                    report.skipped.append(f"{path}: a model metric line without a run id: {line[:80]!r}")
                    continue
                number, _ = stored_value(float(parts[1]))
                identity = (key, int(parts[0]), int(parts[2]), parts[3])
                if identity in seen:
                    report.duplicate_metric_points += 1
                    continue
                seen.add(identity)
                if parts[3] not in report.run_ids:
                    report.skipped.append(f"{path}: a point of run {parts[3]}, which is not in the tree")
                    continue
                dataset_name, dataset_digest = (" ".join(parts[4:-1]), parts[-1]) if len(parts) >= 6 else (None, None)
                # (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id,
                #  dataset_uuid, dataset_name, dataset_digest)
                rows.add("logged_model_metrics", (model_id, key, int(parts[0]), int(parts[2]), number, experiment_id, parts[3], None, dataset_name, dataset_digest))


def _lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return [line for line in handle.read().split("\n") if line.strip()]
    except OSError:
        return []


def _copy_registry(root: Path, rows: Rows, report: CopyReport) -> None:
    models, problems = read_registry(root)
    report.skipped.extend(f"{p.path}: {p.reason}" for p in problems)
    ws = t.DEFAULT_WORKSPACE
    for model in models:
        # (workspace, name, creation_time, last_updated_time, description)
        rows.add("registered_models", (ws, model.name, model.creation_timestamp, model.last_updated_timestamp, model.description))
        for key, value in model.tags.items():
            rows.add("registered_model_tags", (ws, key, value, model.name))  # (workspace, key, value, name)
        for version in model.versions:
            # (workspace, name, version, creation_time, last_updated_time, description, user_id, current_stage,
            #  source, run_id, status, status_message, run_link, storage_location)
            rows.add("model_versions", (
                ws, model.name, version.version, version.creation_timestamp, version.last_updated_timestamp,
                version.description, version.user_id, version.current_stage, version.source, version.run_id,
                version.status, version.status_message, version.run_link, version.storage_location,
            ))  # fmt: skip
            for key, value in version.tags.items():
                rows.add("model_version_tags", (ws, key, value, model.name, version.version))
        for alias, number in model.aliases.items():
            if number.isdigit():
                rows.add("registered_model_aliases", (ws, alias, int(number), model.name))  # (workspace, alias, version, name)


def _row_counts(conn: Connection) -> dict[str, int]:
    return {name: conn.execute(sa.select(sa.func.count()).select_from(t.metadata.tables[name])).scalar_one() for name in Rows.ORDER}


def _verify(store: SqlStore, report: CopyReport, baseline: dict[str, int]) -> None:
    """Every row the copy wrote is in the database, counted after the commit."""
    with store.engine.connect() as conn:
        found = _row_counts(conn)
    for name in Rows.ORDER:
        expected = baseline[name] + report.counts[name]
        if found[name] != expected:
            raise StoreError(f"verification failed: {name} holds {found[name]:,} rows, {expected:,} expected", "INTERNAL_ERROR")

