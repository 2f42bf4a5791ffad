"""A run's inputs and outputs in MLflow's ``inputs`` table: datasets (with their tags), logged models in and out.

A dataset is one row per experiment, name and digest (``datasets``); each run
that uses it gets one ``inputs`` row (source DATASET, destination RUN) and its
``input_tags``; a logged model used by a run is (RUN_INPUT, run, MODEL_INPUT,
model), one it produced (RUN_OUTPUT, run, MODEL_OUTPUT, model, step). Links
that exist already are left as they are (MLflow's behaviour), never doubled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..model import DatasetInput
from . import tables as t

Insert = Callable[[sa.Table], Any]


def link_inputs(conn: Connection, insert: Insert, experiment_id: int, run_id: str, datasets: Iterable[DatasetInput], models: Iterable[str]) -> None:
    unique: dict[tuple[str, str], DatasetInput] = {}
    for dataset in datasets:
        unique.setdefault((dataset.name, dataset.digest), dataset)
    d = t.datasets.c
    for (name, digest), dataset in unique.items():
        conn.execute(
            insert(t.datasets)
            .values(
                dataset_uuid=uuid.uuid4().hex, experiment_id=experiment_id, name=name, digest=digest,
                dataset_source_type=dataset.source_type, dataset_source=dataset.source,
                dataset_schema=dataset.schema or None, dataset_profile=dataset.profile or None,
            )
            .on_conflict_do_nothing()
        )  # fmt: skip
        dataset_uuid = conn.execute(sa.select(d.dataset_uuid).where(d.experiment_id == experiment_id, d.name == name, d.digest == digest)).scalar_one()
        input_uuid = uuid.uuid4().hex
        link = (
            insert(t.inputs)
            .values(input_uuid=input_uuid, source_type="DATASET", source_id=dataset_uuid, destination_type="RUN", destination_id=run_id, step=0)
            .on_conflict_do_nothing()
            .returning(t.inputs.c.input_uuid)  # (RETURNING, not rowcount: psycopg reports -1 for inserts that skip on conflict)
        )
        if conn.execute(link).scalar() is not None and dataset.tags:
            conn.execute(sa.insert(t.input_tags), [{"input_uuid": input_uuid, "name": k, "value": v} for k, v in dataset.tags.items()])
    for model_id in dict.fromkeys(models):
        conn.execute(
            insert(t.inputs)
            .values(input_uuid=uuid.uuid4().hex, source_type="RUN_INPUT", source_id=run_id, destination_type="MODEL_INPUT", destination_id=model_id, step=0)
            .on_conflict_do_nothing()
        )


def link_outputs(conn: Connection, insert: Insert, run_id: str, models: Iterable[tuple[str, int]]) -> None:
    for model_id, step in models:
        conn.execute(
            insert(t.inputs)
            .values(input_uuid=uuid.uuid4().hex, source_type="RUN_OUTPUT", source_id=run_id, destination_type="MODEL_OUTPUT", destination_id=model_id, step=int(step))
            .on_conflict_do_nothing()
        )
