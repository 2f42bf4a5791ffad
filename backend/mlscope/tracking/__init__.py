"""mlscope's MLflow-compatible tracking client: the fluent API and ``MlscopeClient`` (alias ``MlflowClient``)."""

import os as _os

from .client import MlscopeClient
from .entities import Param, RunData, RunTag, TrackedRun
from .fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_experiment_tag,
    delete_run,
    end_run,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_registry_uri,
    get_run,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    restore_experiment,
    restore_run,
    search_experiments,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_registry_uri,
    set_tracking_uri,
    start_run,
)
from .fluent_logging import (
    delete_tag,
    load_table,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_inputs,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_table,
    log_text,
    search_runs,
    set_tag,
    set_tags,
)
from .registry_client import register_model, search_model_versions, search_registered_models, set_model_version_tag
from .validation import MlscopeException

MlflowClient = MlscopeClient
MlflowException = MlscopeException


def enable_system_metrics_logging() -> None:
    """Log system/* metrics for every run started from now on (as MLflow's, via MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING)."""
    _os.environ["MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING"] = "true"


def disable_system_metrics_logging() -> None:
    _os.environ["MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING"] = "false"


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between samples (10 by default); None restores the default."""
    if interval is None:
        _os.environ.pop("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", None)
    else:
        _os.environ["MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL"] = str(interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """How many samples are averaged into each logged point (1 by default); None restores the default."""
    if samples is None:
        _os.environ.pop("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", None)
    else:
        _os.environ["MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING"] = str(samples)


def flush_async_logging() -> None:
    """Nothing to wait for: mlscope logs synchronously (kept so MLflow scripts run unchanged)."""


def flush_artifact_async_logging() -> None:
    """Nothing to wait for: artifacts are written synchronously."""


__all__ = [
    "ActiveRun", "MlflowClient", "MlflowException", "MlscopeClient", "MlscopeException", "Param", "RunData", "RunTag",
    "TrackedRun", "active_run", "create_experiment", "delete_experiment", "delete_experiment_tag", "delete_run",
    "delete_tag", "disable_system_metrics_logging", "enable_system_metrics_logging", "end_run",
    "flush_artifact_async_logging", "flush_async_logging", "get_artifact_uri", "get_experiment",
    "get_experiment_by_name", "get_parent_run", "get_registry_uri", "get_run", "get_tracking_uri",
    "is_tracking_uri_set", "last_active_run", "load_table", "log_artifact", "log_artifacts", "log_dict", "log_figure",
    "log_image", "log_input", "log_inputs", "log_metric", "log_metrics", "log_param", "log_params", "log_table",
    "log_text", "register_model", "restore_experiment", "restore_run", "search_experiments", "search_model_versions",
    "search_registered_models", "search_runs", "set_experiment",
    "set_experiment_tag", "set_experiment_tags", "set_model_version_tag", "set_registry_uri", "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval", "set_tag", "set_tags", "set_tracking_uri", "start_run",
]  # fmt: skip
