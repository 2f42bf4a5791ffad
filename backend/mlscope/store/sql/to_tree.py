"""Copy a SQL store into an mlruns folder, file for file as MLflow's FileStore writes it.

Experiments (deleted ones under ``.trash/``) with their tags, runs with their
meta.yaml fields, params, tags, full metric histories (one ``ts value step``
line per point, NaN as ``nan``), dataset inputs (``<exp>/datasets`` and each
run's ``inputs/``), model inputs and outputs, logged models with params, tags
and metrics, and the model registry (``models/<name>/``, versions, tags,
aliases). The folder is built under a temporary name beside DST and renamed
into place at the end, so DST appears whole or not at all. Artifacts are not
copied: runs keep their artifact URIs.
"""

from __future__ import annotations

import math
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..atomic import dump_yaml, key_path
from ..errors import StoreError
from ..model import DELETED, INT_BY_STATUS, DatasetInput
from ..paths import TRASH
from ..run_inputs import link_inputs
from . import reads
from . import tables as t
from .engine import read_transaction
from .store import SqlStore

SOURCE_TYPE_INTS = {"NOTEBOOK": 1, "JOB": 2, "PROJECT": 3, "LOCAL": 4, "UNKNOWN": 1000}
Progress = Callable[[str], None]


def sql_to_tree(store: SqlStore, destination: Path, progress: Progress | None = None) -> Counter[str]:
    """Write the whole store as a new mlruns folder at destination (which must not exist, or be an empty folder)."""
    say = progress or (lambda message: None)
    destination = Path(os.path.abspath(destination))
    if destination.exists() and any(destination.iterdir()):
        raise StoreError(f"{destination} is not empty: mlscope migrate writes a new mlruns folder", "INVALID_STATE")
    building = destination.parent / f".{destination.name}.mlscope-migrating"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    counts: Counter[str] = Counter()
    try:
        with read_transaction(store.engine.execution_options(isolation_level="REPEATABLE READ") if store.dialect == "postgresql" else store.engine) as conn:
            experiments = reads.experiments(conn)
            infos = reads.run_infos(conn)
            say(f"copying {len(experiments)} experiments and {len(infos):,} runs from {store.describe()}")
            meta = _run_meta_rows(conn)
            details = reads.RunDetails().load(conn, None)
            folders = {}
            (building / TRASH).mkdir()
            for experiment in experiments:
                folders[experiment.experiment_id] = _write_experiment(building, experiment)
                counts["experiments"] += 1
            by_run: dict[str, Path] = {}
            for done, info in enumerate(infos, 1):
                exp_dir = folders.get(info.experiment_id)
                if exp_dir is None:
                    continue
                by_run[info.run_id] = _write_run(exp_dir, info, meta.get(info.run_id, {}), details, counts)
                if done % 1000 == 0:
                    say(f"runs {done:,}/{len(infos):,}")
            _write_histories(conn, by_run, counts)
            _write_logged_models(conn, folders, counts)
            _write_registry(conn, building, counts)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if destination.exists():
        destination.rmdir()
    os.rename(building, destination)
    say(f"runs {len(infos):,}/{len(infos):,}: done")
    return counts


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_key_values(folder: Path, values: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, value in values.items():
        _write(key_path(folder, key), value.encode("utf-8"))


def _write_experiment(root: Path, experiment: Any) -> Path:
    folder = (root / TRASH if experiment.lifecycle_stage == DELETED else root) / experiment.experiment_id
    folder.mkdir()
    meta = {
        "artifact_location": experiment.artifact_location,
        "creation_time": experiment.creation_time,
        "effective_trace_archival_retention": None,
        "experiment_id": experiment.experiment_id,
        "last_update_time": experiment.last_update_time,
        "lifecycle_stage": experiment.lifecycle_stage,
        "name": experiment.name,
        "trace_location": None,
        "workspace": "default",
    }
    _write(folder / "meta.yaml", dump_yaml(meta))
    if experiment.tags:
        _write_key_values(folder / "tags", experiment.tags)
    return folder


def _run_meta_rows(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """The run columns FileStore keeps that RunInfo does not (source, entry point, version)."""
    r = t.runs.c
    query = sa.select(r.run_uuid, r.source_type, r.source_name, r.entry_point_name, r.source_version)
    return {row[0]: {"source_type": row[1], "source_name": row[2], "entry_point_name": row[3], "source_version": row[4]} for row in reads.scan(conn, query, whole_table=True)}


def _write_run(exp_dir: Path, info: Any, extra: dict[str, Any], details: reads.RunDetails, counts: Counter[str]) -> Path:
    run_dir = exp_dir / info.run_id
    run = details.run(info)
    meta: dict[str, Any] = {
        "artifact_uri": info.artifact_uri,
        "end_time": info.end_time,
        "entry_point_name": extra.get("entry_point_name") or "",
        "experiment_id": info.experiment_id,
        "lifecycle_stage": info.lifecycle_stage,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "source_name": extra.get("source_name") or "",
        "source_type": SOURCE_TYPE_INTS.get(str(extra.get("source_type") or "LOCAL"), 4),
        "source_version": extra.get("source_version") or "",
        "start_time": info.start_time,
        "status": INT_BY_STATUS.get(info.status, 1),
        "tags": [],
        "user_id": info.user_id,
    }
    if info.lifecycle_stage == DELETED and info.deleted_time is not None:
        meta["deleted_time"] = info.deleted_time
    for sub in ("metrics", "params", "artifacts", "tags"):
        (run_dir / sub).mkdir(parents=True)
    _write(run_dir / "meta.yaml", dump_yaml(meta))
    _write_key_values(run_dir / "params", run.params)
    _write_key_values(run_dir / "tags", run.tags)
    datasets: list[DatasetInput] = list(run.dataset_inputs)
    models = [ref.model_id for ref in run.model_inputs]
    if datasets or models:
        link_inputs(run_dir, exp_dir, info.run_id, datasets, models)
    for ref in run.model_outputs:
        link = {"destination_id": ref.model_id, "destination_type": "MODEL_OUTPUT", "source_id": info.run_id,
                "source_type": "RUN_OUTPUT", "step": ref.step or 0}  # fmt: skip
        _write(run_dir / "outputs" / ref.model_id / "meta.yaml", dump_yaml(link))
    counts["runs"] += 1
    counts["params"] += len(run.params)
    counts["tags"] += len(run.tags)
    return run_dir


def _value_text(value: float, is_nan: bool) -> str:
    return "nan" if is_nan or math.isnan(value) else repr(float(value))


def _write_histories(conn: sa.Connection, by_run: dict[str, Path], counts: Counter[str]) -> None:
    """Every metric point, one file per (run, key), lines in MLflow's order (timestamp, step, value)."""
    m = t.metrics.c
    query = sa.select(m.run_uuid, m.key, m.timestamp, m.value, m.step, m.is_nan).order_by(m.run_uuid, m.key, m.timestamp, m.step, m.value)
    lines: dict[tuple[str, str], list[str]] = defaultdict(list)
    current: str | None = None
    for run_id, key, timestamp, value, step, is_nan in reads.scan(conn, query, whole_table=True):
        if run_id != current:
            _flush_histories(lines, by_run, counts)
            current = run_id
        lines[(run_id, key)].append(f"{timestamp} {_value_text(value, bool(is_nan))} {step}\n")
    _flush_histories(lines, by_run, counts)


def _flush_histories(lines: dict[tuple[str, str], list[str]], by_run: dict[str, Path], counts: Counter[str]) -> None:
    for (run_id, key), points in lines.items():
        run_dir = by_run.get(run_id)
        if run_dir is not None:
            _write(key_path(run_dir / "metrics", key), "".join(points).encode("utf-8"))
            counts["metrics"] += len(points)
    lines.clear()


def _write_logged_models(conn: sa.Connection, folders: dict[str, Path], counts: Counter[str]) -> None:
    lm = t.logged_models.c
    params: dict[str, dict[str, str]] = defaultdict(dict)
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in reads.scan(conn, sa.select(t.logged_model_params.c.model_id, t.logged_model_params.c.param_key, t.logged_model_params.c.param_value), whole_table=True):
        params[model_id][key] = value
    for model_id, key, value in reads.scan(conn, sa.select(t.logged_model_tags.c.model_id, t.logged_model_tags.c.tag_key, t.logged_model_tags.c.tag_value), whole_table=True):
        tags[model_id][key] = value
    metric_lines: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    mm = t.logged_model_metrics.c
    query = sa.select(mm.model_id, mm.metric_name, mm.metric_timestamp_ms, mm.metric_value, mm.metric_step, mm.run_id, mm.dataset_name, mm.dataset_digest)
    for model_id, key, timestamp, value, step, run_id, dataset_name, dataset_digest in reads.scan(conn, query.order_by(mm.metric_timestamp_ms), whole_table=True):
        extra = f" {dataset_name} {dataset_digest}" if dataset_name and dataset_digest else ""
        metric_lines[model_id][key].append(f"{timestamp} {_value_text(value if value is not None else math.nan, False)} {step} {run_id}{extra}\n")
    columns = (lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.creation_timestamp_ms, lm.last_updated_timestamp_ms,
               lm.status, lm.lifecycle_stage, lm.model_type, lm.source_run_id, lm.status_message)  # fmt: skip
    for model_id, experiment_id, name, location, created, updated, status, stage, model_type, source_run, message in reads.scan(conn, sa.select(*columns), whole_table=True):
        exp_dir = folders.get(str(experiment_id))
        if exp_dir is None:
            continue
        folder = exp_dir / "models" / model_id
        meta = {
            "artifact_location": location, "creation_timestamp": created, "experiment_id": str(experiment_id),
            "last_updated_timestamp": updated, "lifecycle_stage": stage or "active", "model_id": model_id,
            "model_type": model_type, "name": name, "source_run_id": source_run, "status": status, "status_message": message,
        }  # fmt: skip
        for sub in ("metrics", "params"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        _write(folder / "meta.yaml", dump_yaml(meta))
        _write_key_values(folder / "params", params.get(model_id, {}))
        if tags.get(model_id):
            _write_key_values(folder / "tags", tags[model_id])
        for key, points in metric_lines.get(model_id, {}).items():
            _write(key_path(folder / "metrics", key), "".join(points).encode("utf-8"))
        counts["logged_models"] += 1


def _write_registry(conn: sa.Connection, root: Path, counts: Counter[str]) -> None:
    """Registered models and their versions in the registry FileStore's layout (``models/<name>/version-<n>/``)."""
    from .registry import read_models

    for model in read_models(conn):
        folder = root / "models" / model.name
        meta = {
            "aliases": dict(model.aliases), "creation_timestamp": model.creation_timestamp, "deployment_job_id": None,
            "deployment_job_state": None, "description": model.description, "last_updated_timestamp": model.last_updated_timestamp,
            "name": model.name, "workspace": "default",
        }  # fmt: skip
        _write(folder / "meta.yaml", dump_yaml(meta))
        if model.tags:
            _write_key_values(folder / "tags", model.tags)
        for alias, number in model.aliases.items():
            _write(folder / "aliases" / alias, number.encode("utf-8"))
        for version in model.versions:
            version_meta = {
                "creation_timestamp": version.creation_timestamp, "current_stage": version.current_stage,
                "deployment_job_state": None, "description": version.description,
                "last_updated_timestamp": version.last_updated_timestamp, "model_id": version.model_id, "name": model.name,
                "run_id": version.run_id, "run_link": version.run_link, "source": version.source, "status": version.status,
                "status_message": version.status_message, "storage_location": version.storage_location,
                "user_id": version.user_id, "version": version.version, "workspace": "default",
            }  # fmt: skip
            _write(folder / f"version-{version.version}" / "meta.yaml", dump_yaml(version_meta))
            if version.tags:
                _write_key_values(folder / f"version-{version.version}" / "tags", version.tags)
            counts["model_versions"] += 1
        counts["registered_models"] += 1
