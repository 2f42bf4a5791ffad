"""MLflow's tracking write API over a SQL store: the file store's TrackingWrites methods, SqlAlchemyStore's rules.

The REST handlers call the same methods on either store (``store/interface.py``).
Inputs are checked with MLflow's validation rules (``store/validation``) before
anything is written; refusals carry the error codes and messages MLflow's
SqlAlchemyStore gives; every operation is one transaction, and the index has
re-read what it wrote before the call returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import validation
from ..errors import StoreError
from ..model import DatasetInput, Experiment, Run, RunInfo
from .run_index import SqlRunIndex
from .store import SqlStore
from .writes import SqlWriter


def not_found(message: str) -> StoreError:
    return StoreError(message, "RESOURCE_DOES_NOT_EXIST")


def _point_fields(point: Any) -> tuple[Any, ...]:
    """A MetricPoint as the SQL writer's tuple (key, value, timestamp, step, dataset_name, dataset_digest, model_id)."""
    return (point.key, float(point.value), int(point.timestamp), int(point.step or 0),
            getattr(point, "dataset_name", None), getattr(point, "dataset_digest", None), getattr(point, "model_id", None))  # fmt: skip


class SqlTrackingWrites:
    """The tracking writes of one SQL store, seen by its index at once (read-your-writes)."""

    def __init__(self, store: SqlStore, index: SqlRunIndex) -> None:
        self.store = store
        self.index = index
        self.root = index.root

    @property
    def writer(self) -> SqlWriter:
        return self.store.require_writer()

    # ------------------------------------------------------------ lookups

    def experiment(self, experiment_id: str) -> Experiment:
        validation.check_experiment_id(experiment_id)
        return self.writer.get_experiment(experiment_id)

    def indexed_run(self, run_id: str) -> Run:
        run = self.index.run(run_id)
        if run is None:
            raise not_found(f"Run with id={run_id} not found")
        return run

    # -------------------------------------------------------- experiments

    def create_experiment(self, name: str, artifact_location: str | None, tags: Sequence[tuple[str, str]]) -> str:
        validation.check_experiment_name(name)
        if artifact_location:
            validation.check_artifact_location(artifact_location)
        for key, value in tags:
            validation.check_experiment_tag(key, value)
        return self.writer.create_experiment(name, artifact_location or None, dict(tags))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validation.check_experiment_name(new_name)
        self.writer.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.writer.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.writer.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        validation.check_experiment_tag(key, value)
        self.writer.set_experiment_tag(experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.writer.delete_experiment_tag(experiment_id, key)

    # --------------------------------------------------------------- runs

    def create_run(self, experiment_id: str, user_id: str, start_time: int, run_name: str, tags: Sequence[tuple[str, str]]) -> Run:
        for key, value in tags:
            validation.check_tag(key, value)
        run_id = self.writer.create_run(experiment_id or "0", user_id, start_time or None, run_name or None, dict(tags))
        return self.indexed_run(run_id)

    def update_run(self, run_id: str, status: str | None, end_time: int | None, run_name: str | None) -> RunInfo:
        validation.check_run_id(run_id)
        self.writer.update_run_info(run_id, status=status, end_time=end_time, run_name=run_name or None)
        return self.indexed_run(run_id).info

    def delete_run(self, run_id: str) -> None:
        self.writer.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.writer.restore_run(run_id)

    # ------------------------------------------------ metrics, params, tags

    def log_metric(self, run_id: str, point: Any) -> None:
        validation.check_run_id(run_id)
        validation.check_metric(point.key, point.value, point.timestamp, point.step)
        self.writer.log_batch(run_id, metrics=[_point_fields(point)])
        if getattr(point, "model_id", None):
            self.index.forget_logged_models()  # the model's metrics changed: its next read asks the database

    def log_param(self, run_id: str, key: str, value: str) -> None:
        validation.check_run_id(run_id)
        key, value = validation.check_param(key, value)
        self.writer.log_batch(run_id, params={key: value})

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        validation.check_run_id(run_id)
        key, value = validation.check_tag(key, value)
        self.writer.log_batch(run_id, tags={key: value})

    def delete_tag(self, run_id: str, key: str) -> None:
        validation.check_run_id(run_id)
        self.writer.delete_tag(run_id, key)

    def log_batch(self, run_id: str, metrics: Sequence[Any], params: Sequence[tuple[str, str]], tags: Sequence[tuple[str, str]]) -> None:
        """MLflow's batch checks, then params, metrics and tags in one transaction: all land, or none."""
        validation.check_run_id(run_id)
        triples = [(m.key, m.value, m.timestamp, m.step) for m in metrics]
        params, tags = validation.check_batch(triples, params, tags)
        self.writer.log_batch(run_id, metrics=[_point_fields(m) for m in metrics], params=dict(params), tags=dict(tags))
        if any(getattr(m, "model_id", None) for m in metrics):
            self.index.forget_logged_models()

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[str]) -> None:
        validation.check_run_id(run_id)
        for dataset in datasets:
            validation.check_dataset(dataset.name, dataset.digest, dataset.source, dataset.schema or None, dataset.profile or None)
            for key, value in dataset.tags.items():
                validation.check_input_tag(key, value)
        self.writer.log_inputs(run_id, datasets, models)

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        validation.check_run_id(run_id)
        self.writer.log_outputs(run_id, models)
