"""Metric points as MLflow's SQL store keeps them: values, duplicates, ``latest_metrics``, logged-model metrics.

NaN is stored as 0 with ``is_nan``, ±inf as ±1.797e308 (MLflow's rule, since
SQL has no infinities); an exact duplicate point is one row (the primary key
spans every column); ``latest_metrics`` holds the max by (step, timestamp,
value) and is replaced by a conditional upsert, so racing writers settle it
in the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import StoreError
from . import tables as t

FLOAT_MAX = 1.7976931348623157e308
MetricPoint = tuple[Any, ...]  # (key, value, timestamp, step[, dataset_name, dataset_digest[, model_id]])
Insert = Callable[[sa.Table], Any]  # the dialect's INSERT (with on_conflict_* clauses)


def stored_value(value: float) -> tuple[float, bool]:
    """(value, is_nan) as MLflow stores a metric: NaN as 0 with is_nan, ±inf as ±max float."""
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (FLOAT_MAX if value > 0 else -FLOAT_MAX), False
    return float(value), False


def insert_metrics(conn: Connection, insert: Insert, run_id: str, points: list[MetricPoint], experiment_id: int) -> None:
    """One run's points (and, for points naming a logged model, that model's metrics); latest_metrics updated."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    model_rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for key, value, timestamp, step, *extra in points:
        stored, is_nan = stored_value(float(value))
        row = {"run_uuid": run_id, "key": key, "value": stored, "timestamp": int(timestamp), "step": int(step or 0), "is_nan": is_nan}
        rows.setdefault((key, stored, row["timestamp"], row["step"], is_nan), row)  # exact duplicates are one row
        dataset_name, dataset_digest, model_id = (list(extra) + [None, None, None])[:3]
        if model_id:
            model_rows.setdefault((model_id, key, row["timestamp"], row["step"]), {
                "model_id": model_id, "metric_name": key, "metric_timestamp_ms": row["timestamp"], "metric_step": row["step"],
                "metric_value": stored, "experiment_id": experiment_id, "run_id": run_id, "dataset_uuid": None,
                "dataset_name": dataset_name, "dataset_digest": dataset_digest,
            })  # fmt: skip
    conn.execute(insert(t.metrics).on_conflict_do_nothing(), list(rows.values()))
    if model_rows:
        insert_model_metrics(conn, insert, list(model_rows.values()))
    latest: dict[str, dict[str, Any]] = {}
    for row in rows.values():
        best = latest.get(row["key"])
        if best is None or (row["step"], row["timestamp"], row["value"]) > (best["step"], best["timestamp"], best["value"]):
            latest[row["key"]] = row
    upsert_latest(conn, insert, list(latest.values()))


def insert_model_metrics(conn: Connection, insert: Insert, rows: list[dict[str, Any]]) -> None:
    lm = t.logged_models.c
    wanted = sorted({row["model_id"] for row in rows})
    known = set(conn.execute(sa.select(lm.model_id).where(lm.model_id.in_(wanted))).scalars())
    if missing := [m for m in wanted if m not in known]:
        raise StoreError(f"Logged model with ID '{missing[0]}' not found.", "RESOURCE_DOES_NOT_EXIST")
    conn.execute(insert(t.logged_model_metrics).on_conflict_do_nothing(), rows)


def upsert_latest(conn: Connection, insert: Insert, rows: list[dict[str, Any]]) -> None:
    """latest_metrics rows replaced only by a point later by (step, timestamp, value): MLflow's rule, raced safely."""
    statement = insert(t.latest_metrics)
    excluded, current = statement.excluded, t.latest_metrics.c
    newer = sa.tuple_(excluded.step, excluded.timestamp, excluded.value) > sa.tuple_(current.step, current.timestamp, current.value)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "run_uuid"],
        set_={"value": excluded.value, "timestamp": excluded.timestamp, "step": excluded.step, "is_nan": excluded.is_nan},
        where=newer,
    )
    conn.execute(statement, sorted(rows, key=lambda r: r["key"]))  # one lock order for every writer: no deadlocks
