"""Fixtures for the tracking-server tests: MLflow's own server as the oracle, mlscope on a fresh tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.tracking_servers import ServerProcess, mlflow_server


@pytest.fixture(scope="session")
def mlflow_reference_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``mlflow server --backend-store-uri ./mlruns`` (MLflow 3.17.2, file store) on a free port, for the session."""
    server = mlflow_server(tmp_path_factory.mktemp("mlflow-server")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``mlscope server`` (in-process) on a tree that starts empty; tests write into it, each in its own experiment."""
    root = tmp_path_factory.mktemp("mlscope-tracking") / "mlruns"
    root.mkdir()
    server = LiveServer(root).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_tracking_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """fresh_tracking_server(**settings) starts mlscope on a new empty tree with those ServerSettings."""
    from mlscope.server.app import create_app
    from mlscope.server.settings import ServerSettings

    started: list[LiveServer] = []

    def start(**settings: object) -> LiveServer:
        root = tmp_path / f"mlruns-{len(started)}"
        root.mkdir()
        server = LiveServer(root)
        server.app = create_app(root, settings=ServerSettings(**settings), refresh_interval=0.5)  # type: ignore[arg-type]
        server.server.config.app = server.app
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()
