"""``MlscopeClient``: MLflow's ``MlflowClient`` operations by id, on a local mlruns tree."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import search
from ..store import metric_files, reader
from ..store.model import ACTIVE, DELETED, RUN_STATUSES, Experiment, Metric
from ..store.writer import TreeWriter, now_ms
from . import validation
from .artifacts import ArtifactsMixin
from .context import DEFAULT_TRACKING_URI, env_tracking_uri, root_for_uri, user
from .entities import TrackedRun
from .validation import MlscopeException

VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3, 1: 1, 2: 2, 3: 3}


class MlscopeClient(ArtifactsMixin):
    """Create and update experiments and runs in one mlruns folder (a path or ``file:`` URI).

    Safe to share between threads; several processes may write the same tree.
    """

    def __init__(self, tracking_uri: str | None = None) -> None:
        self.tracking_uri = tracking_uri or env_tracking_uri() or DEFAULT_TRACKING_URI
        self.root: Path = root_for_uri(self.tracking_uri)
        self._writer = TreeWriter(self.root)
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

    def create_experiment(self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None) -> str:
        name = validation.experiment_name(name)
        clean = dict(validation.experiment_tag(k, v) for k, v in (tags or {}).items())
        return self.writer.create_experiment(name, artifact_location, clean)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.writer.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.writer.find_experiment_by_name(name)

    def search_experiments(self, view_type: str | int = "ACTIVE_ONLY") -> list[Experiment]:
        """Experiments, newest first (FileStore's default order: creation_time DESC, id)."""
        wanted = VIEW_TYPES[view_type]
        found = [e for e in self.writer.list_experiments() if _matches_view(e.lifecycle_stage, wanted)]
        found.sort(key=lambda e: e.experiment_id)
        found.sort(key=lambda e: e.creation_time or 0, reverse=True)
        return found

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.writer.rename_experiment(str(experiment_id), validation.experiment_name(new_name))

    def delete_experiment(self, experiment_id: str) -> None:
        self.writer.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.writer.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.writer.set_experiment_tag(str(experiment_id), *validation.experiment_tag(key, value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.writer.delete_experiment_tag(str(experiment_id), key)

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        experiment_id: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> TrackedRun:
        """A RUNNING run; tags as given (the fluent API adds mlflow.user/source tags, this does not)."""
        clean = {validation.validate_key(k, "tag key"): validation.tag_value(k, v) for k, v in (tags or {}).items()}
        run_id = self.writer.create_run(
            "0" if experiment_id is None else str(experiment_id),
            user_id=clean.get("mlflow.user") or user(),
            start_time=start_time,
            run_name=run_name,
            tags=clean,
        )
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> TrackedRun:
        run_dir = self.writer.run_dir(validation.run_id(run_id))
        try:
            experiment = reader.read_experiment(run_dir.parent)
            return TrackedRun(reader.read_run(run_dir, experiment))
        except reader.MalformedError as exc:
            raise MlscopeException(f"Run '{run_id}' metadata is in invalid state: {exc}", "INVALID_STATE") from None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        if status is not None and status not in RUN_STATUSES:
            raise MlscopeException(f"Invalid run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        self.writer.update_run_info(run_id, status=status, run_name=name)

    def set_terminated(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> None:
        """End a run: status (FINISHED, FAILED, KILLED) and end time, as MLflow's set_terminated."""
        if status not in RUN_STATUSES:
            raise MlscopeException(f"Invalid run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        self.writer.update_run_info(run_id, status=status, end_time=end_time if end_time is not None else now_ms())

    def delete_run(self, run_id: str) -> None:
        self.writer.delete_run(validation.run_id(run_id))

    def restore_run(self, run_id: str) -> None:
        self.writer.restore_run(validation.run_id(run_id))

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        key = validation.validate_key(key, "param key")
        self.writer.log_param(run_id, key, validation.param_value(key, value))
        return value

    def log_metric(self, run_id: str, key: str, value: Any, timestamp: int | None = None, step: int | None = None) -> None:
        self.log_batch(run_id, metrics=[(key, value, timestamp, step)])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        key = validation.validate_key(key, "tag key")
        self.writer.set_tag(run_id, key, validation.tag_value(key, value))

    def delete_tag(self, run_id: str, key: str) -> None:
        self.writer.delete_tag(run_id, validation.validate_key(key, "tag key"))

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Any] = (),
        params: Iterable[Any] | Mapping[str, Any] = (),
        tags: Iterable[Any] | Mapping[str, Any] = (),
    ) -> None:
        """Params, metrics and tags in one go; all metric points of a key are appended in one write.

        Metrics may be Metric objects or (key, value[, timestamp[, step]]) tuples; params and
        tags a mapping or objects with ``key``/``value``.
        """
        clean_params = [(validation.validate_key(k, "param key"), v) for k, v in _pairs(params)]
        seen: set[str] = set()
        for key, _ in clean_params:
            if key in seen:
                raise MlscopeException(f"Duplicate parameter keys have been submitted: ['{key}'].")
            seen.add(key)
        points = [_metric_point(m) for m in metrics]
        clean_tags = [(validation.validate_key(k, "tag key"), v) for k, v in _pairs(tags)]
        for key, value in clean_params:
            self.writer.log_param(run_id, key, validation.param_value(key, value))
        if points:
            self.writer.log_metrics(run_id, points)
        for key, value in clean_tags:
            self.writer.set_tag(run_id, key, validation.tag_value(key, value))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return metric_files.read_metric_history(self.writer.run_dir(run_id), key)

    # --------------------------------------------------------------- search

    def search_runs(
        self,
        experiment_ids: Iterable[str] | str,
        filter_string: str = "",
        run_view_type: str | int = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: list[str] | None = None,
    ) -> list[TrackedRun]:
        """Runs matching an MLflow filter string, in MLflow's order; malformed runs are skipped."""
        ids = [experiment_ids] if isinstance(experiment_ids, str) else [str(e) for e in experiment_ids]
        found = []
        for experiment_id in ids:
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
        # Fluent search_runs allows more than the REST cap (MLflow's default is 100,000): page through.
        results: list[Any] = []
        token = None
        try:
            while len(results) < max_results:
                page, token = search.search_runs(
                    found,
                    filter_string=filter_string or "",
                    order_by=order_by,
                    max_results=min(max_results - len(results), search.SEARCH_MAX_RESULTS_THRESHOLD),
                    page_token=token,
                    run_view_type=run_view_type,
                )
                results.extend(page)
                if not token:
                    break
        except search.SearchError as exc:
            raise MlscopeException(exc.message) from None
        return [TrackedRun(r) for r in results]


def _matches_view(stage: str, wanted: int) -> bool:
    return wanted == 3 or (wanted == 1 and stage == ACTIVE) or (wanted == 2 and stage == DELETED)


def _pairs(items: Iterable[Any] | Mapping[str, Any]) -> list[tuple[str, Any]]:
    if isinstance(items, Mapping):
        return list(items.items())
    return [(item.key, item.value) if hasattr(item, "key") else (item[0], item[1]) for item in items]


def _metric_point(item: Any) -> tuple[str, float, int, int]:
    if hasattr(item, "key"):
        key, value, timestamp, step = item.key, item.value, getattr(item, "timestamp", None), getattr(item, "step", None)
    else:
        key, value, timestamp, step = (tuple(item) + (None, None))[:4]
    key = validation.validate_key(key, "metric key")
    return (
        key,
        validation.metric_value(key, value),
        validation.metric_int(key, timestamp, "timestamp") if timestamp is not None else int(time.time() * 1000),
        validation.metric_int(key, step, "step") if step is not None else 0,
    )
