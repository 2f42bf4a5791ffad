"""The module-level API (``mlscope.log_metric(...)``), with MLflow's semantics.

State follows MLflow: the tracking URI and active experiment are process-wide
(guarded by a lock); the stack of active runs is per thread. A log call with
no active run starts one, and runs still open at interpreter exit are ended
as FINISHED, so MLflow's classic quickstart works without ``start_run``.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from typing import Any

from ..store.model import Experiment
from . import context
from .client import MlscopeClient
from .entities import TrackedRun
from .validation import MlscopeException

_lock = threading.RLock()
_tracking_uri: str | None = None
_active_experiment_id: str | None = None
_clients: dict[str, MlscopeClient] = {}
_local = threading.local()
_open_stacks: dict[int, list[ActiveRun]] = {}  # every thread's stack, so atexit can end them
_atexit_registered = False


class ActiveRun(TrackedRun):
    """The run returned by start_run; as a context manager it ends FINISHED, or FAILED on an exception."""

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if any(r.info.run_id == self.info.run_id for r in _stack()):
            end_run("FINISHED" if exc_type is None else "FAILED")
        return False


def _stack() -> list[ActiveRun]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
        with _lock:
            _open_stacks[threading.get_ident()] = stack
    return stack


# ------------------------------------------------------------ tracking URI


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Where runs are written: a folder path or ``file:`` URI (remote URIs fail on first use)."""
    global _tracking_uri
    with _lock:
        _tracking_uri = os.fspath(uri)


def get_tracking_uri() -> str:
    """The URI set here, else $MLFLOW_TRACKING_URI, else ``./mlruns``."""
    with _lock:
        return _tracking_uri or context.env_tracking_uri() or context.DEFAULT_TRACKING_URI


def get_registry_uri() -> str:
    return os.environ.get("MLFLOW_REGISTRY_URI") or get_tracking_uri()


def _client() -> MlscopeClient:
    uri = get_tracking_uri()
    root = str(context.root_for_uri(uri))
    with _lock:
        client = _clients.get(root)
        if client is None:
            client = _clients[root] = MlscopeClient(uri)
        return client


# ------------------------------------------------------------- experiments


def create_experiment(name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def search_experiments(view_type: str | int = "ACTIVE_ONLY") -> list[Experiment]:
    return _client().search_experiments(view_type)


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None, *, name: str | None = None) -> Experiment:
    """Make an experiment active (by name or id), creating it by name when missing."""
    global _active_experiment_id
    experiment_name = experiment_name if experiment_name is not None else name
    if (experiment_name is None) == (experiment_id is None):
        raise MlscopeException("Must specify exactly one of: `experiment_id` or `experiment_name`.")
    client = _client()
    with _lock:
        if experiment_id is not None:
            experiment = client.get_experiment(str(experiment_id))
        else:
            assert experiment_name is not None
            experiment = client.get_experiment_by_name(experiment_name)
            if experiment is None:
                try:
                    client.create_experiment(experiment_name)
                except MlscopeException as exc:  # another process created it first
                    if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                        raise
                experiment = client.get_experiment_by_name(experiment_name)
                assert experiment is not None
        if experiment.lifecycle_stage != "active":
            raise MlscopeException(
                f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
                "You can restore the experiment, or permanently delete the experiment to create a new one."
            )
        _active_experiment_id = experiment.experiment_id
        return experiment


def _experiment_id() -> str:
    with _lock:
        if _active_experiment_id is not None:
            return _active_experiment_id
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return set_experiment(name).experiment_id
    return os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"


# -------------------------------------------------------------------- runs


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a new run (or resume ``run_id``) and make it active; use it as a context manager."""
    global _atexit_registered
    stack = _stack()
    if stack and not nested:
        raise MlscopeException(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, first end the current "
            "run with mlscope.end_run(). To start a nested run, call start_run with nested=True"
        )
    client = _client()
    run_id = run_id or os.environ.pop("MLFLOW_RUN_ID", None)
    if run_id:
        run = client.get_run(run_id)
        if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
            raise MlscopeException(f"Cannot start run with ID {run_id} because it belongs to experiment {run.info.experiment_id}, not {experiment_id}.")
        if run.info.lifecycle_stage != "active":
            raise MlscopeException(f"Cannot start run with ID {run_id} because it is in the deleted state.")
        client.update_run(run_id, status="RUNNING", name=run_name)
        extra = dict(tags or {})
        if description is not None:
            extra["mlflow.note.content"] = description
        if extra:
            client.log_batch(run_id, tags=extra)
        run = client.get_run(run_id)
    else:
        user_tags = dict(tags or {})
        if description is not None:
            if "mlflow.note.content" in user_tags:
                raise MlscopeException("Description is already set via the tag mlflow.note.content in tags. Remove the key from the tags or omit the description.")
            user_tags["mlflow.note.content"] = description
        if nested and stack:
            user_tags["mlflow.parentRunId"] = stack[-1].info.run_id
        if run_name:
            user_tags["mlflow.runName"] = run_name
        resolved = {**context.default_tags(), **user_tags}
        run = client.create_run(str(experiment_id) if experiment_id is not None else _experiment_id(), tags=resolved, run_name=run_name)
    active = ActiveRun(run.record)
    stack.append(active)
    _local.last_run_id = active.info.run_id
    with _lock:
        if not _atexit_registered:
            atexit.register(_end_all_runs)
            _atexit_registered = True
    return active


def end_run(status: str = "FINISHED") -> None:
    """End the innermost active run of this thread with status (FINISHED, FAILED or KILLED)."""
    stack = _stack()
    if not stack:
        return
    run = stack[-1]
    _local.last_run_id = run.info.run_id
    try:
        _client().set_terminated(run.info.run_id, status)
    finally:
        stack.pop()


def _end_all_runs() -> None:
    with _lock:
        stacks = list(_open_stacks.values())
    for stack in stacks:
        while stack:
            run = stack.pop()
            try:
                _client().set_terminated(run.info.run_id, "FINISHED")
            except Exception:  # exiting: never raise from atexit
                pass


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> TrackedRun | None:
    """The active run, else the last run this thread ended (re-read, so it shows the final state)."""
    current = active_run()
    if current is not None:
        return _client().get_run(current.info.run_id)
    run_id = getattr(_local, "last_run_id", None)
    return _client().get_run(run_id) if run_id else None


def _run_id() -> str:
    """The active run's id, starting a run first when none is active (as MLflow does)."""
    stack = _stack()
    if not stack:
        start_run()
    return stack[-1].info.run_id


def get_run(run_id: str) -> TrackedRun:
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


# ------------------------------------------------------ params, metrics, tags


def log_param(key: str, value: Any) -> Any:
    return _client().log_param(_run_id(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _client().log_batch(_run_id(), params=params)


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    _client().log_metric(_run_id(), key, value, timestamp=timestamp, step=step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
    _client().log_batch(_run_id(), metrics=[(k, v, timestamp, step) for k, v in metrics.items()])


def set_tag(key: str, value: Any) -> None:
    _client().set_tag(_run_id(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _client().log_batch(_run_id(), tags=tags)


def delete_tag(key: str) -> None:
    _client().delete_tag(_run_id(), key)


def set_experiment_tag(key: str, value: Any) -> None:
    _client().set_experiment_tag(_experiment_id(), key, value)


# --------------------------------------------------------------- artifacts


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    _client().log_artifact(_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    _client().log_artifacts(_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    _client().log_text(_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    _client().log_dict(_run_id(), dictionary, artifact_file)


def log_image(image: Any, artifact_file: str | None = None, key: str | None = None, step: int | None = None, timestamp: int | None = None) -> None:
    _client().log_image(_run_id(), image, artifact_file, key=key, step=step, timestamp=timestamp)


def log_figure(figure: Any, artifact_file: str) -> None:
    _client().log_figure(_run_id(), figure, artifact_file)


def log_table(data: Any, artifact_file: str) -> None:
    _client().log_table(_run_id(), data, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    return _client().get_artifact_uri(_run_id(), artifact_path)


# ------------------------------------------------------------------ search


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: str | int = "ACTIVE_ONLY",
    max_results: int = 100000,
    order_by: list[str] | None = None,
    output_format: str = "list",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> Any:
    """Runs as a list (default) or, with output_format="pandas", a DataFrame when pandas is installed."""
    client = _client()
    ids = list(experiment_ids or [])
    for name in experiment_names or []:
        found = client.get_experiment_by_name(name)
        if found is not None:
            ids.append(found.experiment_id)
    if not ids and not experiment_names:
        ids = [e.experiment_id for e in client.search_experiments("ALL")] if search_all_experiments else [_experiment_id()]
    runs = client.search_runs(ids, filter_string, run_view_type, max_results, order_by)
    if output_format == "list":
        return runs
    if output_format != "pandas":
        raise MlscopeException(f"Unsupported output format: {output_format!r} (use 'list' or 'pandas')")
    try:
        import pandas as pd
    except ImportError:
        raise MlscopeException("output_format='pandas' needs pandas, which is not installed; use output_format='list'") from None
    rows = []
    for run in runs:
        row = {k: v for k, v in run.to_dict()["info"].items()}
        row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.data.params.items()})
        row.update({f"tags.{k}": v for k, v in run.data.tags.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _reset_for_tests() -> None:
    """Forget the URI, active experiment and this thread's runs (for test isolation)."""
    global _tracking_uri, _active_experiment_id
    with _lock:
        _tracking_uri = None
        _active_experiment_id = None
        _clients.clear()
    _stack().clear()
    _local.last_run_id = None
