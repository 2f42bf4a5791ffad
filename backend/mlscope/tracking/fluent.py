"""The module-level API (``mlscope.start_run(...)``), with MLflow's semantics: tracking URI, experiments, runs.

State follows MLflow: the tracking URI and active experiment are process-wide
(guarded by a lock); the stack of active runs is per thread. A log call with
no active run starts one, and runs still open at interpreter exit are ended
as FINISHED, so MLflow's classic quickstart works without ``start_run``.
Logging calls live in ``fluent_logging``.
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
from .entities import TrackedRun, ViewType
from .validation import MlscopeException

_lock = threading.RLock()
_registry_uri: str | None = None
_active_experiment_id: str | None = None
_clients: dict[str, MlscopeClient] = {}
_local = threading.local()
_open_stacks: dict[int, list[ActiveRun]] = {}  # every thread's stack, so atexit can end them
_atexit_registered = False


class ActiveRun(TrackedRun):
    """The run returned by start_run; as a context manager it ends FINISHED, or FAILED on an exception."""

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if any(r.info.run_id == self.info.run_id for r in _stack()):
            end_run("FINISHED" if exc_type is None else "FAILED")


def _stack() -> list[ActiveRun]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
        with _lock:
            _open_stacks[threading.get_ident()] = stack
    return stack


# ------------------------------------------------------------ tracking URI


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Where runs go: a folder path or ``file:`` URI (written directly) or an ``http(s)://`` tracking server."""
    context.set_tracking_uri(os.fspath(uri))


def get_tracking_uri() -> str:
    """The URI set here, else $MLFLOW_TRACKING_URI, else ``./mlruns``."""
    return context.current_tracking_uri()


def is_tracking_uri_set() -> bool:
    return context.tracking_uri_set_here() is not None or context.env_tracking_uri() is not None


def set_registry_uri(uri: str) -> None:
    global _registry_uri
    with _lock:
        _registry_uri = uri


def get_registry_uri() -> str:
    with _lock:
        return _registry_uri or os.environ.get("MLFLOW_REGISTRY_URI") or get_tracking_uri()


def client() -> MlscopeClient:
    """The client for the current tracking URI (one per URI, shared by all threads)."""
    uri = get_tracking_uri()
    key = uri.rstrip("/") if context.is_server_uri(uri) else str(context.root_for_uri(uri))
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = MlscopeClient(uri)
        return found


# ------------------------------------------------------------- experiments


def _no_trace_location(trace_location: Any) -> None:
    if trace_location is not None:
        from .unsupported import UnsupportedFeatureError

        raise UnsupportedFeatureError("trace_location")


def create_experiment(name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None, trace_location: Any = None) -> str:
    _no_trace_location(trace_location)
    return client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return client().get_experiment_by_name(name)


def search_experiments(view_type: str | int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                       filter_string: str | None = None, order_by: list[str] | None = None) -> list[Experiment]:  # fmt: skip
    """Every matching experiment (all pages, or the first max_results), newest first by default."""
    found: list[Experiment] = []
    token = None
    while max_results is None or len(found) < max_results:
        size = 1000 if max_results is None else min(1000, max_results - len(found))
        page = client().search_experiments(view_type, size, filter_string, order_by, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def delete_experiment(experiment_id: str) -> None:
    client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    client().restore_experiment(experiment_id)


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None, trace_location: Any = None, *,
                   name: str | None = None) -> Experiment:  # fmt: skip
    """Make an experiment active (by name or id), creating it by name when missing."""
    global _active_experiment_id
    _no_trace_location(trace_location)
    experiment_name = experiment_name if experiment_name is not None else name
    if (experiment_name is None) == (experiment_id is None):
        raise MlscopeException("Must specify exactly one of: `experiment_id` or `experiment_name`.")
    tracking = client()
    with _lock:
        found: Experiment | None
        if experiment_id is not None:
            found = tracking.get_experiment(str(experiment_id))
        else:
            assert experiment_name is not None
            found = tracking.get_experiment_by_name(experiment_name)
            if found is None:
                try:
                    tracking.create_experiment(experiment_name)
                except MlscopeException as exc:  # another process created it first
                    if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                        raise
                found = tracking.get_experiment_by_name(experiment_name)
        assert found is not None
        experiment = found
        if experiment.lifecycle_stage != "active":
            raise MlscopeException(
                f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
                "You can restore the experiment, or permanently delete the experiment to create a new one."
            )
        _active_experiment_id = experiment.experiment_id
        return experiment


def active_experiment_id() -> str:
    """The active experiment: set_experiment's, else $MLFLOW_EXPERIMENT_NAME / _ID, else the Default ("0")."""
    with _lock:
        if _active_experiment_id is not None:
            return _active_experiment_id
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return set_experiment(name).experiment_id
    return os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"


def set_experiment_tag(key: str, value: Any) -> None:
    client().set_experiment_tag(active_experiment_id(), key, value)


def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    client().delete_experiment_tag(active_experiment_id(), key)


# -------------------------------------------------------------------- runs


def start_run(run_id: str | None = None, experiment_id: str | None = None, run_name: str | None = None, nested: bool = False,
              parent_run_id: str | None = None, tags: Mapping[str, Any] | None = None, description: str | None = None,
              log_system_metrics: bool | None = None) -> ActiveRun:  # fmt: skip
    """Start a new run (or resume ``run_id``) and make it active; use it as a context manager."""
    global _atexit_registered
    stack = _stack()
    if stack and not nested:
        raise MlscopeException(
            f"Run with UUID {stack[0].info.run_id} is already active. To start a new run, first end the current "
            "run with mlscope.end_run(). To start a nested run, call start_run with nested=True"
        )
    tracking = client()
    run_id = run_id or os.environ.pop("MLFLOW_RUN_ID", None)
    extra = dict(tags or {})
    if description:
        if "mlflow.note.content" in extra:
            raise MlscopeException("Description is already set via the tag mlflow.note.content in tags. Remove the key from the tags or omit the description.")
        extra["mlflow.note.content"] = description
    if run_id:
        run = tracking.get_run(run_id)
        if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
            raise MlscopeException(f"Cannot start run with ID {run_id} because it belongs to experiment {run.info.experiment_id}, not {experiment_id}.")
        if run.info.lifecycle_stage != "active":
            raise MlscopeException(f"Cannot start run with ID {run_id} because it is in the deleted state.")
        tracking.store.update_run(run_id, "RUNNING", run.info.end_time, run_name)
        if extra:
            tracking.log_batch(run_id, tags=extra)
        run = tracking.get_run(run_id)
    else:
        if parent_run_id:
            if stack and parent_run_id != stack[-1].info.run_id:
                raise MlscopeException(
                    f"Current run with UUID {stack[-1].info.run_id} does not match the specified parent_run_id {parent_run_id}. "
                    f"To start a new nested run under the parent run with UUID {stack[-1].info.run_id}, first end the current run."
                )
            if tracking.get_run(parent_run_id).info.lifecycle_stage != "active":
                raise MlscopeException(f"Cannot start run under parent run with ID {parent_run_id} because it is in the deleted state.")
        elif stack:
            parent_run_id = stack[-1].info.run_id
        if parent_run_id:
            extra["mlflow.parentRunId"] = parent_run_id
        if run_name:
            extra["mlflow.runName"] = run_name
        target = str(experiment_id) if experiment_id is not None else active_experiment_id()
        run = tracking.create_run(target, tags={**context.default_tags(), **extra}, run_name=run_name)
    active = ActiveRun(run.record)
    if log_system_metrics or (log_system_metrics is None and _env_flag("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")):
        from .system_metrics import start_monitor

        start_monitor(tracking, active.info.run_id)
    stack.append(active)
    with _lock:
        if not _atexit_registered:
            atexit.register(_end_all_runs)
            _atexit_registered = True
    return active


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "false").strip().lower() in ("true", "1")


def end_run(status: str = "FINISHED") -> None:
    """End the innermost active run of this thread with status (FINISHED, FAILED or KILLED)."""
    stack = _stack()
    if not stack:
        return
    os.environ.pop("MLFLOW_RUN_ID", None)
    run = stack.pop()
    _local.last_run_id = run.info.run_id
    from .system_metrics import stop_monitor

    stop_monitor(run.info.run_id)
    client().set_terminated(run.info.run_id, status)


def _end_all_runs() -> None:
    with _lock:
        stacks = list(_open_stacks.values())
    for stack in stacks:
        while stack:
            run = stack.pop()
            try:
                from .system_metrics import stop_monitor

                stop_monitor(run.info.run_id)
                client().set_terminated(run.info.run_id, "FINISHED")
            except Exception:  # exiting: never raise from atexit
                pass


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> TrackedRun | None:
    """The active run, else the last run this thread ended (re-read, so it shows the final state)."""
    current = active_run()
    if current is not None:
        return client().get_run(current.info.run_id)
    run_id = getattr(_local, "last_run_id", None)
    return client().get_run(run_id) if run_id else None


def active_run_id() -> str:
    """The active run's id, starting a run first when none is active (as MLflow does)."""
    return active_or_new_run().info.run_id


def active_or_new_run() -> ActiveRun:
    stack = _stack()
    if not stack:
        start_run()
    return stack[-1]


def get_run(run_id: str) -> TrackedRun:
    return client().get_run(run_id)


def get_parent_run(run_id: str) -> TrackedRun | None:
    return client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    client().restore_run(run_id)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    return client().get_artifact_uri(active_run_id(), artifact_path)


def _reset_for_tests() -> None:
    """Forget the URIs, active experiment and this thread's runs (for test isolation)."""
    global _registry_uri, _active_experiment_id
    context.set_tracking_uri(None)
    with _lock:
        _registry_uri = None
        _active_experiment_id = None
        _clients.clear()
    _stack().clear()
    _local.last_run_id = None
