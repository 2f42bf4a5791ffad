"""``import mlscope as mlflow``: MLflow's tracking names and signatures, and a clear error for the rest of MLflow."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import mlscope
from mlscope.tracking import client as client_module

mlflow = pytest.importorskip("mlflow")

FLUENT = [
    "active_run", "create_experiment", "delete_experiment", "delete_experiment_tag", "delete_run", "delete_tag",
    "disable_system_metrics_logging", "enable_system_metrics_logging", "end_run", "flush_artifact_async_logging",
    "flush_async_logging", "get_artifact_uri", "get_experiment", "get_experiment_by_name", "get_parent_run",
    "get_registry_uri", "get_run", "get_tracking_uri", "is_tracking_uri_set", "last_active_run", "load_table",
    "log_artifact", "log_artifacts", "log_dict", "log_figure", "log_image", "log_input", "log_inputs", "log_metric",
    "log_metrics", "log_param", "log_params", "log_table", "log_text", "restore_experiment", "restore_run",
    "search_experiments", "search_runs", "set_experiment", "set_experiment_tag", "set_experiment_tags",
    "set_registry_uri", "set_system_metrics_samples_before_logging", "set_system_metrics_sampling_interval", "set_tag",
    "set_tags", "set_tracking_uri", "start_run",
]  # fmt: skip
CLIENT = [
    "create_experiment", "create_run", "delete_experiment", "delete_experiment_tag", "delete_run", "delete_tag",
    "download_artifacts", "get_experiment", "get_experiment_by_name", "get_metric_history", "get_parent_run", "get_run",
    "list_artifacts", "load_table", "log_artifact", "log_artifacts", "log_batch", "log_dict", "log_figure", "log_image",
    "log_inputs", "log_metric", "log_param", "log_table", "log_text", "rename_experiment", "restore_experiment",
    "restore_run", "search_experiments", "search_runs", "set_experiment_tag", "set_tag", "set_terminated", "update_run",
]  # fmt: skip
ARTIFACTS = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]


def parameters(function: object) -> list[str]:
    """Parameter names in order; mlscope's one extra (set_experiment's keyword-only ``name``) is left out."""
    found = inspect.signature(function).parameters.items()  # type: ignore[arg-type]
    return [name for name, p in found if not (p.kind is p.KEYWORD_ONLY and name == "name")]


@pytest.mark.parametrize("name", FLUENT)
def test_fluent_calls_take_mlflows_parameters(name: str) -> None:
    assert parameters(getattr(mlscope, name)) == parameters(getattr(mlflow, name))


@pytest.mark.parametrize("name", CLIENT)
def test_client_methods_take_mlflows_parameters(name: str) -> None:
    assert parameters(getattr(mlscope.MlflowClient, name)) == parameters(getattr(mlflow.MlflowClient, name))


@pytest.mark.parametrize("name", ARTIFACTS)
def test_artifact_helpers_take_mlflows_parameters(name: str) -> None:
    assert parameters(getattr(mlscope.artifacts, name)) == parameters(getattr(mlflow.artifacts, name))


def test_mlflow_client_is_mlscopes_client() -> None:
    assert mlscope.MlflowClient is mlscope.MlscopeClient is client_module.MlscopeClient


def test_entities_carry_mlflows_constants() -> None:
    ViewType, RunStatus = mlscope.entities.ViewType, mlscope.entities.RunStatus
    assert (ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL) == (mlflow.entities.ViewType.ACTIVE_ONLY, mlflow.entities.ViewType.DELETED_ONLY, mlflow.entities.ViewType.ALL)
    assert ViewType.from_string("deleted_only") == 2 and RunStatus.to_string(RunStatus.FAILED) == "FAILED"
    assert mlscope.entities.Metric("k", 1.0, 5, 2).step == 2 and mlscope.entities.Param("p", "v").value == "v"


def test_every_error_the_client_raises_is_an_mlflow_exception(root: Path) -> None:
    with pytest.raises(mlscope.exceptions.MlflowException) as caught:
        mlscope.get_run("f" * 32)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert mlscope.MlflowException is mlscope.exceptions.MlflowException


@pytest.mark.parametrize("name", ["sklearn", "pytorch", "pyfunc", "autolog", "load_prompt", "evaluate", "start_span", "models"])
def test_mlflow_only_features_raise_an_error_that_says_what_to_do(name: str) -> None:
    with pytest.raises(mlscope.exceptions.UnsupportedFeatureError, match="mlscope server") as caught:
        getattr(mlscope, name)
    assert isinstance(caught.value, AttributeError) and isinstance(caught.value, mlscope.exceptions.MlflowException)
    assert "MLFLOW_TRACKING_URI=http://127.0.0.1:5000" in str(caught.value) and not hasattr(mlscope, name)


def test_mlflow_only_dataset_constructors_raise_the_same_error() -> None:
    with pytest.raises(mlscope.exceptions.UnsupportedFeatureError, match="mlscope server"):
        mlscope.data.from_spark  # noqa: B018


def test_a_misspelt_name_is_a_plain_attribute_error() -> None:
    with pytest.raises(AttributeError) as caught:
        mlscope.log_metirc  # noqa: B018
    assert not isinstance(caught.value, mlscope.exceptions.UnsupportedFeatureError)


def test_synchronous_false_returns_operations_that_are_already_done(root: Path) -> None:
    operation = mlscope.log_metric("m", 1.0, synchronous=False)
    assert operation is not None and operation.wait() is None
    assert mlscope.last_active_run().data.metrics == {"m": 1.0}


def test_the_server_and_store_never_import_the_tracking_client() -> None:
    code = "import sys, mlscope.server.app, mlscope.cli.main; from mlscope import search; print(sorted(m for m in sys.modules if m.startswith('mlscope.tracking')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_a_trace_location_is_refused_with_the_same_error(root: Path) -> None:
    with pytest.raises(mlscope.exceptions.UnsupportedFeatureError):
        mlscope.create_experiment("x", trace_location=object())


def test_run_info_answers_to_mlflows_older_run_uuid(root: Path) -> None:
    with mlscope.start_run() as run:
        pass
    assert run.info.run_uuid == run.info.run_id == mlscope.get_run(run.info.run_id).info.run_uuid
