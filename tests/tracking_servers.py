"""Tracking servers as subprocesses for acceptance tests: ``mlscope server`` and MLflow's own ``mlflow server``.

Each runs in its own process group on a free port of 127.0.0.1 and is stopped
by that group's id, so nothing outlives the test that started it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One server subprocess; ``url`` once ``start`` has seen /health answer."""

    def __init__(self, name: str, cmd: list[str], port: int, log: Path, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.cmd, self.port, self.log, self.cwd = name, cmd, port, log, cwd
        self.env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", **(env or {})}
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> ServerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd, env=self.env, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /health within {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group this object started, by its id
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self.proc = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def mlscope_server(root: Path, *args: str, cwd: Path | None = None) -> ServerProcess:
    """``mlscope server --backend-store-uri ROOT`` (plus args) on a free port."""
    port = free_port()
    cmd = [str(BIN / "mlscope"), "server", "--backend-store-uri", str(root), "--host", "127.0.0.1", "--port", str(port), *args]
    return ServerProcess("mlscope server", cmd, port, root.parent / f"mlscope-{port}.log", cwd or root.parent)


def mlflow_server(folder: Path, *args: str) -> ServerProcess:
    """MLflow's own ``mlflow server`` on ``folder/mlruns`` (file store), run from ``folder`` (so ./mlartifacts is there)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [str(BIN / "mlflow"), "server", "--backend-store-uri", "./mlruns", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", *args]
    return ServerProcess("mlflow server", cmd, port, folder / f"mlflow-{port}.log", folder)
