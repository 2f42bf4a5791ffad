"""mlscope's MLflow-compatible tracking client: the fluent API and ``MlscopeClient``."""

from .client import MlscopeClient
from .entities import Param, RunData, RunTag, TrackedRun
from .fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_run,
    delete_tag,
    end_run,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_registry_uri,
    get_run,
    get_tracking_uri,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_table,
    log_text,
    search_experiments,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from .validation import MlscopeException

__all__ = [
    "ActiveRun", "MlscopeClient", "MlscopeException", "Param", "RunData", "RunTag", "TrackedRun",
    "active_run", "create_experiment", "delete_run", "delete_tag", "end_run", "get_artifact_uri",
    "get_experiment", "get_experiment_by_name", "get_registry_uri", "get_run", "get_tracking_uri",
    "last_active_run", "log_artifact", "log_artifacts", "log_dict", "log_figure", "log_image",
    "log_metric", "log_metrics", "log_param", "log_params", "log_table", "log_text",
    "search_experiments", "search_runs", "set_experiment", "set_experiment_tag", "set_tag",
    "set_tags", "set_tracking_uri", "start_run",
]  # fmt: skip
