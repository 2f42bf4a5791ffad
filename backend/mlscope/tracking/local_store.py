"""The local store: runs written straight into an mlruns folder through the store's TreeWriter."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from .. import search
from ..store import metric_files, reader
from ..store.atomic import append_whole, key_path
from ..store.model import DatasetInput, Experiment, Metric, Run
from ..store.paths import file_uri
from ..store.writer import TreeWriter
from .stores import Point
from .validation import MlscopeException


class LocalStore:
    """Every tracking operation on one mlruns root; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tracking_uri = file_uri(root)
        self._writer = TreeWriter(root)
        self._ready = False
        self._lock = threading.Lock()

    @property
    def writer(self) -> TreeWriter:
        """The tree writer, with the root, .trash and Default experiment created on first use."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._writer.ensure_root()
                    self._ready = True
        return self._writer

    # ---------------------------------------------------------- experiments

    def create_experiment(self, name: str, artifact_location: str | None, tags: dict[str, str]) -> str:
        return self.writer.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.writer.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.writer.find_experiment_by_name(name)

    def search_experiments(self, view_type: int, max_results: int, filter_string: str | None,
                           order_by: Sequence[str] | None, page_token: str | None) -> tuple[list[Experiment], str | None]:  # fmt: skip
        try:
            return search.search_experiments(self.writer.list_experiments(), filter_string, order_by, max_results, page_token, view_type)
        except search.SearchError as exc:
            raise MlscopeException(exc.message) from None

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.writer.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.writer.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.writer.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.writer.set_experiment_tag(experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.writer.delete_experiment_tag(experiment_id, key)

    # ------------------------------------------------------------------ runs

    def create_run(self, experiment_id: str, user_id: str, start_time: int | None, tags: dict[str, str], run_name: str | None) -> Run:
        run_id = self.writer.create_run(experiment_id, user_id=user_id, start_time=start_time, run_name=run_name, tags=tags)
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> Run:
        run_dir = self.writer.run_dir(run_id)
        try:
            return reader.read_run(run_dir, reader.read_experiment(run_dir.parent))
        except reader.MalformedError as exc:
            raise MlscopeException(f"Run '{run_id}' metadata is in invalid state: {exc}", "INVALID_STATE") from None

    def update_run(self, run_id: str, status: str | None, end_time: int | None, run_name: str | None) -> None:
        self.writer.update_run_info(run_id, status=status, end_time=end_time, run_name=run_name)

    def delete_run(self, run_id: str) -> None:
        self.writer.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.writer.restore_run(run_id)

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self.writer.log_param(run_id, key, value)

    def log_metric(self, run_id: str, point: Point, model_id: str | None) -> None:
        self.writer.log_metrics(run_id, [point])
        if model_id:
            self._log_model_metric(run_id, point, model_id)

    def _log_model_metric(self, run_id: str, point: Point, model_id: str) -> None:
        """FileStore also appends a metric logged with model_id to that logged model (with the run id)."""
        key, value, timestamp, step, dataset_name, digest = point
        model_dir = self.writer.run_dir(run_id).parent / "models" / model_id
        if not (model_dir / "meta.yaml").is_file():
            raise MlscopeException(f"Logged model with ID '{model_id}' not found.", "RESOURCE_DOES_NOT_EXIST")
        tail = f" {dataset_name} {digest}" if dataset_name is not None and digest is not None else ""
        append_whole(key_path(model_dir / "metrics", key), f"{timestamp} {value} {step} {run_id}{tail}\n".encode())

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.writer.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.writer.delete_tag(run_id, key)

    def log_batch(self, run_id: str, metrics: Sequence[Point], params: Sequence[tuple[str, str]], tags: Sequence[tuple[str, str]]) -> None:
        for key, value in params:
            self.writer.log_param(run_id, key, value)
        if metrics:
            self.writer.log_metrics(run_id, metrics)
        for key, value in tags:
            self.writer.set_tag(run_id, key, value)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[str]) -> None:
        self.writer.log_inputs(run_id, datasets, models)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return metric_files.read_metric_history(self.writer.run_dir(run_id), key)

    def search_runs(self, experiment_ids: Sequence[str], filter_string: str, view_type: int, max_results: int,
                    order_by: Sequence[str] | None, page_token: str | None) -> tuple[list[Run], str | None]:  # fmt: skip
        """Runs matching an MLflow filter string, in MLflow's order; malformed runs are skipped."""
        found = []
        for experiment_id in experiment_ids:
            try:
                folder = self.writer.experiment_dir(experiment_id)
                experiment = reader.read_experiment(folder)
            except (MlscopeException, reader.MalformedError):
                continue
            for run_dir in reader.run_dirs(folder):
                try:
                    found.append(reader.read_run(run_dir, experiment))
                except reader.MalformedError:
                    continue
        try:
            return search.search_runs(found, filter_string, order_by, max_results, page_token, view_type)
        except search.SearchError as exc:
            raise MlscopeException(exc.message) from None
