"""``MlscopeClient`` (alias ``MlflowClient``): MLflow's client operations by id, over a local tree or a server.

The tracking URI picks the store: a folder or ``file:`` URI writes the mlruns
tree directly; ``http(s)://`` talks MLflow's REST API to any MLflow-compatible
tracking server. Input is validated here with MLflow's rules, so both stores
see the same clean calls, and big batches are split as MLflow's client splits them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

from ..store.model import RUN_STATUSES, Experiment, Metric
from ..store.writer import TreeWriter, now_ms
from . import validation
from .artifacts import ArtifactsMixin
from .context import current_tracking_uri, is_server_uri, root_for_uri
from .entities import DatasetInput, PagedList, TrackedRun, ViewType, dataset_record
from .local_store import LocalStore
from .registry_client import RegistryMixin
from .rest_store import RestStore
from .stores import Point, TrackingStore
from .tables import TablesMixin
from .validation import MlscopeException

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_PAGE_LIMIT = 50000  # the most runs one search request may ask for (MLflow's threshold)
VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3, 1: 1, 2: 2, 3: 3}


def view_type_number(value: str | int) -> int:
    try:
        return VIEW_TYPES[value]
    except KeyError:
        raise MlscopeException(f"Invalid view type {value!r}: one of ViewType.ACTIVE_ONLY, DELETED_ONLY, ALL") from None


def store_for(tracking_uri: str) -> TrackingStore:
    return RestStore(tracking_uri) if is_server_uri(tracking_uri) else LocalStore(root_for_uri(tracking_uri))


class RunOperations:
    """What MLflow returns for ``synchronous=False``: mlscope logs synchronously, so it is already done."""

    def wait(self) -> None:
        return None


def _done(synchronous: bool | None) -> RunOperations | None:
    return RunOperations() if synchronous is False else None


class MlscopeClient(ArtifactsMixin, TablesMixin, RegistryMixin):
    """Create and update experiments and runs at one tracking URI. Safe to share between threads."""

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        self.tracking_uri = str(tracking_uri or current_tracking_uri())
        self.store: TrackingStore = store_for(self.tracking_uri)
        self._registry_uri = registry_uri

    @property
    def root(self) -> Path:
        return self._local().root

    @property
    def writer(self) -> TreeWriter:
        return self._local().writer

    def _local(self) -> LocalStore:
        if not isinstance(self.store, LocalStore):
            raise MlscopeException(f"The tracking URI {self.tracking_uri} is a server, not a local mlruns folder")
        return self.store

    # ---------------------------------------------------------- experiments

    def create_experiment(self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None) -> str:
        name = validation.experiment_name(name)
        clean = dict(validation.experiment_tag(k, v) for k, v in (tags or {}).items())
        return self.store.create_experiment(name, artifact_location, clean)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def search_experiments(self, view_type: str | int = ViewType.ACTIVE_ONLY, max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList[Experiment]:  # fmt: skip
        """One page of experiments, newest first unless ordered otherwise (MLflow's default order)."""
        found, token = self.store.search_experiments(view_type_number(view_type), max_results, filter_string, order_by, page_token)
        return PagedList(found, token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(str(experiment_id), validation.experiment_name(new_name))

    def delete_experiment(self, experiment_id: str) -> None:
        self.store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.store.set_experiment_tag(str(experiment_id), *validation.experiment_tag(key, value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(str(experiment_id), key)

    # ------------------------------------------------------------------ runs

    def create_run(self, experiment_id: str | None = None, start_time: int | None = None,
                   tags: Mapping[str, Any] | None = None, run_name: str | None = None) -> TrackedRun:  # fmt: skip
        """A RUNNING run; tags as given (the fluent API adds mlflow.user/source tags, this does not)."""
        clean = {validation.validate_key(k, "tag key"): validation.tag_value(k, v) for k, v in (tags or {}).items()}
        experiment = "0" if experiment_id is None else str(experiment_id)
        user_id = clean.get("mlflow.user", "unknown")
        return TrackedRun(self.store.create_run(experiment, user_id, start_time if start_time is not None else now_ms(), clean, run_name))

    def get_run(self, run_id: str) -> TrackedRun:
        return TrackedRun(self.store.get_run(validation.run_id(run_id)))

    def get_parent_run(self, run_id: str) -> TrackedRun | None:
        parent_id = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return self.get_run(parent_id) if parent_id else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """A new status or name; the end time stays as it is (as in MLflow)."""
        if status is None and name is None:
            return
        if status is not None and status not in RUN_STATUSES:
            raise MlscopeException(f"Invalid run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        info = self.get_run(run_id).info
        self.store.update_run(run_id, status or info.status, info.end_time, name)

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        """End a run: status (FINISHED, FAILED, KILLED) and end time, as MLflow's set_terminated."""
        status = status or "FINISHED"
        if status not in RUN_STATUSES:
            raise MlscopeException(f"Invalid run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        self.store.update_run(run_id, status, end_time if end_time is not None else now_ms(), None)

    def delete_run(self, run_id: str) -> None:
        self.store.delete_run(validation.run_id(run_id))

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(validation.run_id(run_id))

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        key = validation.validate_key(key, "param key")
        self.store.log_param(run_id, key, validation.param_value(key, value))
        return _done(synchronous) if synchronous is False else value

    def log_metric(self, run_id: str, key: str, value: Any, timestamp: int | None = None, step: int | None = None,
                   synchronous: bool | None = None, dataset_name: str | None = None, dataset_digest: str | None = None,
                   model_id: str | None = None) -> RunOperations | None:  # fmt: skip
        self.store.log_metric(run_id, metric_point((key, value, timestamp, step, dataset_name, dataset_digest)), model_id)
        return _done(synchronous)

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
        key = validation.validate_key(key, "tag key")
        self.store.set_tag(run_id, key, validation.tag_value(key, value))
        return _done(synchronous)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, validation.validate_key(key, "tag key"))

    def log_batch(self, run_id: str, metrics: Iterable[Any] = (), params: Iterable[Any] | Mapping[str, Any] = (),
                  tags: Iterable[Any] | Mapping[str, Any] = (), synchronous: bool | None = None) -> RunOperations | None:  # fmt: skip
        """Params, metrics and tags in one go, sent in MLflow's batch sizes (100 params/tags, 1,000 entities).

        Metrics may be Metric objects or (key, value[, timestamp[, step]]) tuples; params and
        tags a mapping or objects with ``key``/``value``.
        """
        clean_params = [(validation.validate_key(k, "param key"), v) for k, v in _pairs(params)]
        seen: set[str] = set()
        for key, _ in clean_params:
            if key in seen:
                raise MlscopeException(f"Duplicate parameter keys have been submitted: ['{key}'].")
            seen.add(key)
        points = [metric_point(m) for m in metrics]
        params_out = [(k, validation.param_value(k, v)) for k, v in clean_params]
        tags_out = [(k, validation.tag_value(k, v)) for k, v in ((validation.validate_key(k, "tag key"), v) for k, v in _pairs(tags))]
        if not (points or params_out or tags_out):
            return _done(synchronous)
        param_chunks = _chunks(params_out, validation.MAX_PARAMS_TAGS_PER_BATCH)
        tag_chunks = _chunks(tags_out, validation.MAX_PARAMS_TAGS_PER_BATCH)
        empty: list[tuple[str, str]] = []
        for param_chunk, tag_chunk in zip_longest(param_chunks, tag_chunks, fillvalue=empty):
            size = max(0, min(validation.MAX_ENTITIES_PER_BATCH - len(param_chunk) - len(tag_chunk), validation.MAX_METRICS_PER_BATCH))
            self.store.log_batch(run_id, points[:size], param_chunk, tag_chunk)
            points = points[size:]
        for metric_chunk in _chunks(points, validation.MAX_METRICS_PER_BATCH):
            self.store.log_batch(run_id, metric_chunk, [], [])
        return _done(synchronous)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] | None = None, models: Sequence[Any] | None = None) -> None:
        """Datasets (DatasetInput entities, ours or MLflow's) and logged models (with ``model_id``) as run inputs."""
        records = [dataset_record(d) for d in datasets or ()]
        model_ids = [str(getattr(m, "model_id", m)) for m in models or ()]
        if records or model_ids:
            self.store.log_inputs(validation.run_id(run_id), records, model_ids)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.store.get_metric_history(validation.run_id(run_id), key)

    # --------------------------------------------------------------- search

    def search_runs(self, experiment_ids: Iterable[str] | str, filter_string: str = "", run_view_type: str | int = ViewType.ACTIVE_ONLY,
                    max_results: int = SEARCH_MAX_RESULTS_DEFAULT, order_by: list[str] | None = None,
                    page_token: str | None = None) -> PagedList[TrackedRun]:  # fmt: skip
        """Runs matching an MLflow filter string, in MLflow's order; more than one request's worth is paged through."""
        ids = [experiment_ids] if isinstance(experiment_ids, str) else [str(e) for e in experiment_ids]
        results: list[Any] = []
        token = page_token
        while len(results) < max_results:
            page, token = self.store.search_runs(ids, filter_string or "", view_type_number(run_view_type),
                                                 min(max_results - len(results), SEARCH_PAGE_LIMIT), order_by, token)  # fmt: skip
            results.extend(page)
            if not token:
                break
        return PagedList([TrackedRun(r) for r in results], token)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _pairs(items: Iterable[Any] | Mapping[str, Any]) -> list[tuple[str, Any]]:
    if isinstance(items, Mapping):
        return list(items.items())
    pairs: list[tuple[str, Any]] = []
    for item in items:
        entity: Any = item
        pairs.append((entity.key, entity.value) if hasattr(entity, "key") else (entity[0], entity[1]))
    return pairs


def metric_point(item: Any) -> Point:
    """A Metric-like object or a (key, value[, timestamp[, step[, dataset_name, dataset_digest]]]) tuple, checked."""
    if hasattr(item, "key"):
        fields = (item.key, item.value, getattr(item, "timestamp", None), getattr(item, "step", None),
                  getattr(item, "dataset_name", None), getattr(item, "dataset_digest", None))  # fmt: skip
    else:
        fields = (tuple(item) + (None,) * 4)[:6]
    key, value, timestamp, step, dataset_name, dataset_digest = fields
    key = validation.validate_key(key, "metric key")
    return (
        key,
        validation.metric_value(key, value),
        validation.metric_int(key, timestamp, "timestamp") if timestamp is not None else int(time.time() * 1000),
        validation.metric_int(key, step, "step") if step is not None else 0,
        None if dataset_name is None else str(dataset_name),
        None if dataset_digest is None else str(dataset_digest),
    )
