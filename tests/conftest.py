"""Fixtures shared by every test: reference trees, a live server, Debian's Chromium for Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

from tests.reference_trees import write_reference_tree  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Servers the tests start keep their index snapshot in a temp folder, never in the user's ~/.cache."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


MLFLOW_SELECTION_VARIABLES = ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")


@pytest.fixture(autouse=True)
def no_exported_experiment() -> Iterator[None]:
    """mlflow.set_experiment exports MLFLOW_EXPERIMENT_ID; one test's choice must not steer the next test's subprocesses."""
    before = {name: os.environ.get(name) for name in MLFLOW_SELECTION_VARIABLES}
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Playwright drives Debian's chromium: it cannot download its own browsers here."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make test` (it installs it) or apt-get install chromium")
    return {"executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def reference_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(root, ids) of a tree written by MLflow itself; treat it as read-only."""
    root = tmp_path_factory.mktemp("reference") / "mlruns"
    return root, write_reference_tree(root)


@pytest.fixture(scope="session")
def registry_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(root, ids) of runs plus a model registry written by MLflow's registry FileStore; treat it as read-only."""
    from tests.registry_trees import write_registry_tree

    root = tmp_path_factory.mktemp("registry") / "mlruns"
    return root, write_registry_tree(root)


class LiveServer:
    """uvicorn serving one tree on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, root: Path, refresh_interval: float = 0.5, settings: Any = None) -> None:
        """``settings``: a ServerSettings (mlscope server's options), e.g. read-only or an artifacts destination."""
        import uvicorn

        from mlscope.server.app import create_app

        self.root = root
        self.app = create_app(root, settings=settings, refresh_interval=refresh_interval)
        # IPPROTO_TCP: asyncio sets TCP_NODELAY only then; else each response waits ~40 ms (Nagle + delayed ACK).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False, timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200 and self.app.state.index.ready:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mlscope test server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[..., LiveServer]]:
    """serve(root) starts a server for a tree (once per root per session) and returns it."""
    servers: dict[Path, LiveServer] = {}

    def start(root: Path, refresh_interval: float = 0.5) -> LiveServer:
        if root not in servers:
            servers[root] = LiveServer(root, refresh_interval).start()
        return servers[root]

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def reference_server(reference_tree: tuple[Path, dict[str, Any]], serve: Callable[..., LiveServer]) -> LiveServer:
    return serve(reference_tree[0])
