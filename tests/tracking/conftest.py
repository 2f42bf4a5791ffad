"""Fixtures for the tracking client tests: a fresh mlruns folder and MLflow's FileStore as the oracle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlscope.tracking import fluent


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty tracking folder the fluent API writes to; global client state is reset around each test."""
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    fluent._reset_for_tests()
    path = tmp_path / "mlruns"
    fluent.set_tracking_uri(str(path))
    yield path
    while fluent.active_run() is not None:
        fluent.end_run()
    fluent._reset_for_tests()


@pytest.fixture
def mlflow_client(monkeypatch: pytest.MonkeyPatch):
    """A factory for MLflow clients on a given folder (FileStore opt-in set)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow = pytest.importorskip("mlflow")

    def make(path: Path):
        return mlflow.MlflowClient(tracking_uri=path.resolve().as_uri())

    return make


@pytest.fixture(scope="session")
def mlflow_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """MLflow's own ``mlflow server`` (file store in ./mlruns, proxied artifacts in ./mlartifacts), shared by the session."""
    from tests.tracking_servers import mlflow_server

    server = mlflow_server(tmp_path_factory.mktemp("mlflow-server")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mlflow_server_url(mlflow_server_process: Any) -> str:
    return str(mlflow_server_process.url)


@pytest.fixture(scope="session")
def mlscope_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``mlscope server`` on an empty folder, shared by the session's REST tests."""
    from tests.tracking_servers import mlscope_server

    root = tmp_path_factory.mktemp("mlscope-server") / "mlruns"
    root.mkdir()
    server = mlscope_server(root).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["mlflow server", "mlscope server"])
def remote(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """mlscope's fluent API pointed at a tracking server (MLflow's, then mlscope's), in a fresh experiment;
    yields MLflow's own client for the same server, the oracle."""
    import uuid

    server = request.getfixturevalue("mlflow_server_process" if request.param == "mlflow server" else "mlscope_server_process")
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    fluent._reset_for_tests()
    fluent.set_tracking_uri(server.url)
    fluent.set_experiment(f"rest-{uuid.uuid4().hex[:12]}")
    mlflow = pytest.importorskip("mlflow")
    yield mlflow.MlflowClient(tracking_uri=server.url)
    while fluent.active_run() is not None:
        fluent.end_run()
    fluent._reset_for_tests()
