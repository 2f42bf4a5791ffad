"""Tracking writes as MLflow's FileStore makes them, through mlscope's writer, seen by the index at once.

Each operation runs FileStore's checks in FileStore's order (so a refused
write gets MLflow's error code and message), writes through the atomic
TreeWriter (the one ``import mlscope`` uses: temp file + rename, one
``O_APPEND`` write per metric batch), then re-reads exactly what it changed
into the index, so the caller's next read sees it (read-your-writes).
Several processes may write the same tree: every write is atomic on disk and
each process's index picks up the others' within its refresh interval.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..store import meta_yaml, validation
from ..store.artifact_uris import run_artifact_uri
from ..store.atomic import append_whole, key_path, metric_line
from ..store.errors import StoreError
from ..store.logged_model_writer import link_outputs
from ..store.model import ACTIVE, DELETED, DatasetInput, Experiment, Run, RunInfo
from ..store.writer import DEFAULT_EXPERIMENT_ID, TreeWriter
from .run_index import RunIndex

RUN_NAME_TAG = "mlflow.runName"
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


class MetricPoint(NamedTuple):  # a tuple: a log-batch makes a thousand of them per request
    key: str
    value: float
    timestamp: int
    step: int
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None

    def line_fields(self) -> tuple[Any, ...]:
        if self.dataset_name is not None and self.dataset_digest is not None:
            return (self.key, float(self.value), self.timestamp, self.step, self.dataset_name, self.dataset_digest)
        return (self.key, float(self.value), self.timestamp, self.step)


def not_found(message: str) -> StoreError:
    return StoreError(message, "RESOURCE_DOES_NOT_EXIST")


class TrackingWrites:
    """MLflow's tracking write API over one tree and its index."""

    def __init__(self, index: RunIndex, *, proxied_artifacts: bool = True, default_artifact_root: str | None = None) -> None:
        self.index = index
        self.root = Path(index.root)
        self.writer = TreeWriter(self.root)
        self.proxied_artifacts = proxied_artifacts
        self.default_artifact_root = default_artifact_root
        self._create_lock = threading.Lock()  # experiment names are unique: check-then-create in one process

    # ------------------------------------------------------------ lookups

    def experiment(self, experiment_id: str) -> Experiment:
        validation.check_experiment_id(experiment_id)
        try:
            return self.writer.get_experiment(experiment_id)
        except StoreError:
            raise not_found(f"Could not find experiment with ID {experiment_id}") from None

    def _active_experiment(self, experiment_id: str, what: str) -> Experiment:
        experiment = self.experiment(experiment_id)
        if experiment.lifecycle_stage != ACTIVE:
            raise validation.invalid(f"The experiment {experiment.experiment_id} must be in the 'active' lifecycle_stage to {what}")
        return experiment

    def run_meta(self, run_id: str) -> dict[str, Any]:
        """A run's meta.yaml (live or in a deleted experiment); 404 in FileStore's words."""
        validation.check_run_id(run_id)
        try:
            run_dir = self.writer.run_dir(run_id)
        except StoreError:
            raise not_found(f"Run '{run_id}' not found") from None
        meta = meta_yaml.read_yaml(run_dir / "meta.yaml")
        if str(meta.get("run_id") or meta.get("run_uuid")) != run_id or str(meta.get("experiment_id")) != run_dir.parent.name:
            raise StoreError(f"Run '{run_id}' metadata is in invalid state.", "INVALID_STATE")
        return meta

    def _active_run(self, run_id: str) -> dict[str, Any]:
        meta = self.run_meta(run_id)
        if meta.get("lifecycle_stage", ACTIVE) != ACTIVE:
            raise validation.invalid(f"The run {run_id} must be in 'active' lifecycle_stage.")
        return meta

    def _noted(self, run_id: str, meta: dict[str, Any], *, deep: bool = True) -> None:
        """Tell the index a run changed; a run it has not seen (made by another process) brings its experiment."""
        self.index.note_writes(run_ids=[run_id], deep=deep)
        if self.index.run(run_id) is None:
            self.index.note_writes(experiment_ids=[str(meta.get("experiment_id"))], run_ids=[run_id], deep=deep)

    def refresh_run(self, run_id: str) -> None:
        """Re-read one run into this process's index now (with several workers, another may have written it)."""
        try:
            meta = self.run_meta(run_id)
        except StoreError:
            return
        self._noted(run_id, meta)

    def indexed_run(self, run_id: str) -> Run:
        run = self.index.run(run_id)
        if run is None:
            raise not_found(f"Run '{run_id}' not found")
        return run

    # -------------------------------------------------------- experiments

    def create_experiment(self, name: str, artifact_location: str | None, tags: Sequence[tuple[str, str]]) -> str:
        validation.check_experiment_name(name)
        if artifact_location:
            validation.check_artifact_location(artifact_location)
        for key, value in tags:
            validation.check_experiment_tag(key, value)
        with self._create_lock:
            if artifact_location:
                experiment_id = self.writer.create_experiment(name, artifact_location, dict(tags))
            else:
                experiment_id = self.writer.create_experiment(name, None, dict(tags), default_artifact_root=self.default_artifact_root)
        self.index.note_writes(experiment_ids=[experiment_id])
        return experiment_id

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validation.check_experiment_name(new_name)
        experiment = self.experiment(experiment_id)
        with self._create_lock:
            existing = self.writer.find_experiment_by_name(new_name)
            if existing is not None:
                self._raise_exists(existing)
            if experiment.lifecycle_stage != ACTIVE:
                # FileStore raises a bare Exception here (mlflow server answers an HTML 500).
                raise validation.invalid(f"Cannot rename experiment in non-active lifecycle stage. Current stage: {experiment.lifecycle_stage}")
            self.writer.rename_experiment(experiment_id, new_name)
        self.index.note_writes(experiment_ids=[experiment_id])

    @staticmethod
    def _raise_exists(existing: Experiment) -> None:
        if existing.lifecycle_stage == DELETED:
            raise StoreError(
                f"Experiment {existing.name!r} already exists in deleted state. You can restore the experiment, "
                "or permanently delete the experiment from the .trash folder (under tracking server's root folder) "
                "in order to use this experiment name again.",
                "RESOURCE_ALREADY_EXISTS",
            )
        raise StoreError(f"Experiment '{existing.name}' already exists.", "RESOURCE_ALREADY_EXISTS")

    def delete_experiment(self, experiment_id: str) -> None:
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            # FileStore's MlflowException has no code here, so mlflow server answers 500 INTERNAL_ERROR.
            raise validation.invalid(
                f"Cannot delete the default experiment '{DEFAULT_EXPERIMENT_ID}'. This is an internally reserved experiment."
            )
        if not (self.root / experiment_id / "meta.yaml").is_file() or "/" in experiment_id or experiment_id.startswith("."):
            raise not_found(f"Could not find experiment with ID {experiment_id}")
        run_ids = self._run_ids_of(experiment_id)
        self.writer.delete_experiment(experiment_id)
        self.index.note_writes(experiment_ids=[experiment_id], run_ids=run_ids)

    def restore_experiment(self, experiment_id: str) -> None:
        if not (self.root / ".trash" / experiment_id / "meta.yaml").is_file() or "/" in experiment_id or experiment_id.startswith("."):
            raise not_found(f"Could not find deleted experiment with ID {experiment_id}")
        self.writer.restore_experiment(experiment_id)
        self.index.note_writes(experiment_ids=[experiment_id], run_ids=self._run_ids_of(experiment_id))

    def _run_ids_of(self, experiment_id: str) -> list[str]:
        return [run.info.run_id for run in self.index.runs([experiment_id], details=False)]

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        validation.check_experiment_tag(key, value)
        self._active_experiment(experiment_id, "set tags")
        self.writer.set_experiment_tag(experiment_id, key, value)
        self.index.note_writes(experiment_ids=[experiment_id])

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._active_experiment(experiment_id, "delete tags")
        validation.check_tag_name(key)
        self.writer.delete_experiment_tag(experiment_id, key)
        self.index.note_writes(experiment_ids=[experiment_id])

    # --------------------------------------------------------------- runs

    def create_run(self, experiment_id: str, user_id: str, start_time: int, run_name: str, tags: Sequence[tuple[str, str]]) -> Run:
        experiment = self.experiment(experiment_id)
        if experiment.lifecycle_stage != ACTIVE:
            raise StoreError(f"Could not create run under non-active experiment with ID {experiment_id}.", "INVALID_STATE")
        for key, _ in tags:
            validation.check_tag_name(key)
        tag_map = dict(tags)
        name_tag = tag_map.get(RUN_NAME_TAG)
        if run_name and name_tag and run_name != name_tag:
            raise validation.invalid(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
                f"(run_name='{run_name}', mlflow.runName='{name_tag}')."
            )

        def artifact_uri(run_id: str) -> str:
            return run_artifact_uri(self.root, experiment_id, experiment.artifact_location, run_id, proxied=self.proxied_artifacts)

        run_id = self.writer.create_run(experiment_id, user_id, start_time, run_name or None, tag_map, artifact_uri=artifact_uri)
        self.index.note_writes(experiment_ids=[experiment_id])
        return self.indexed_run(run_id)

    def update_run(self, run_id: str, status: str | None, end_time: int | None, run_name: str | None) -> RunInfo:
        validation.check_run_id(run_id)
        meta = self._active_run(run_id)
        self.writer.update_run_info(run_id, status=status, end_time=end_time, run_name=run_name or None)
        self._noted(run_id, meta)
        return self.indexed_run(run_id).info

    def delete_run(self, run_id: str) -> None:
        meta = self.run_meta(run_id)
        self.writer.delete_run(run_id)
        self._noted(run_id, meta, deep=False)

    def restore_run(self, run_id: str) -> None:
        meta = self.run_meta(run_id)
        self.writer.restore_run(run_id)
        self._noted(run_id, meta, deep=False)

    # ------------------------------------------------ metrics, params, tags

    def log_metric(self, run_id: str, point: MetricPoint) -> None:
        validation.check_run_id(run_id)
        validation.check_metric(point.key, point.value, point.timestamp, point.step)
        meta = self._active_run(run_id)
        self.writer.log_metrics(run_id, [point.line_fields()])
        if point.model_id:
            self._log_model_metrics(str(meta.get("experiment_id")), run_id, [point])
        self._noted(run_id, meta, deep=False)

    def _log_model_metrics(self, experiment_id: str, run_id: str, points: Sequence[MetricPoint]) -> None:
        """FileStore also appends a metric logged with a model_id to that model: ``ts value step run_id [dataset]``."""
        for point in points:
            if not point.model_id:
                continue
            model_dir = self.writer.experiment_dir(experiment_id) / "models" / point.model_id
            if "/" in point.model_id or point.model_id.startswith(".") or not (model_dir / "meta.yaml").is_file():
                raise not_found(f"Model '{point.model_id}' not found")
            extra = f" {point.dataset_name} {point.dataset_digest}" if point.dataset_name and point.dataset_digest else ""
            line = metric_line(float(point.value), point.timestamp, point.step).rstrip("\n") + f" {run_id}{extra}\n"
            append_whole(key_path(model_dir / "metrics", point.key), line.encode("utf-8"))

    def log_param(self, run_id: str, key: str, value: str) -> None:
        validation.check_run_id(run_id)
        key, value = validation.check_param(key, value)
        meta = self._active_run(run_id)
        self.writer.log_param(run_id, key, value)
        self._noted(run_id, meta)

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        validation.check_run_id(run_id)
        validation.check_tag_name(key)
        meta = self._active_run(run_id)
        self.writer.set_tag(run_id, key, value)
        self._noted(run_id, meta)

    def delete_tag(self, run_id: str, key: str) -> None:
        validation.check_run_id(run_id)
        meta = self._active_run(run_id)
        validation.check_tag_name(key)
        self.writer.delete_tag(run_id, key)
        self._noted(run_id, meta)

    def log_batch(self, run_id: str, metrics: Sequence[MetricPoint], params: Sequence[tuple[str, str]], tags: Sequence[tuple[str, str]]) -> None:
        """FileStore's order: every entity checked, then limits, then unique keys; params, metrics, tags written.

        A param whose value differs from the logged one refuses the whole batch
        before anything is written (FileStore writes the params before it and
        answers 500 INTERNAL_ERROR; this answers 400 and writes nothing).
        """
        validation.check_run_id(run_id)
        triples = [(m.key, m.value, m.timestamp, m.step) for m in metrics]
        params, tags = validation.check_batch(triples, params, tags)
        meta = self._active_run(run_id)
        run_dir = self.writer.run_dir(run_id)
        for key, value in params:
            path = key_path(run_dir / "params", key)
            if path.is_file() and (current := path.read_bytes().decode("utf-8", "replace")) != value:
                raise validation.invalid(
                    f"Changing param values is not allowed. Param with key='{key}' was already logged with value='{current}' "
                    f"for run ID='{run_id}'. Attempted logging new value '{value}'."
                )
        for key, value in params:
            self.writer.log_param(run_id, key, value)
        if metrics:
            self.writer.log_metrics(run_id, [m.line_fields() for m in metrics])
            self._log_model_metrics(str(meta.get("experiment_id")), run_id, metrics)
        for key, value in tags:
            self.writer.set_tag(run_id, key, value)
        self._noted(run_id, meta, deep=bool(params or tags))

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[str]) -> None:
        validation.check_run_id(run_id)
        meta = self._active_run(run_id)
        self.writer.log_inputs(run_id, datasets, models)
        self._noted(run_id, meta)

    def record_logged_model(self, run_id: str, model: dict[str, Any]) -> None:
        """Append a model's summary to the run's ``mlflow.log-model.history`` tag (MLflow's runs/log-model)."""
        validation.check_run_id(run_id)
        meta = self._active_run(run_id)
        path = key_path(self.writer.run_dir(run_id) / "tags", LOG_MODEL_HISTORY_TAG)
        history = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
        entry = {key: model.get(key) for key in ("run_id", "artifact_path", "utc_time_created", "model_uuid")}
        for key in ("run_id", "artifact_path"):  # Model.to_dict leaves these out when null
            if entry[key] is None:
                del entry[key]
        flavors = model.get("flavors") or {}
        entry["flavors"] = {name: ({k: v for k, v in conf.items() if k != "config"} if isinstance(conf, dict) else conf) for name, conf in flavors.items()}
        self.writer.set_tag(run_id, LOG_MODEL_HISTORY_TAG, json.dumps([*history, entry]))
        self._noted(run_id, meta)

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        validation.check_run_id(run_id)
        meta = self._active_run(run_id)
        link_outputs(self.writer.run_dir(run_id), models)
        self._noted(run_id, meta)
