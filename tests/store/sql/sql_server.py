"""An mlscope server on a SQL store, in a background thread on a free port (for REST tests and replica tests)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx


class SqlServer:
    """uvicorn serving create_app(..., sql_backend=open_sql_backend(uri)) on 127.0.0.1:<free port>."""

    def __init__(self, uri: str, artifacts: Path, refresh_interval: float = 0.2, default_artifact_root: str | None = None) -> None:
        import uvicorn

        from mlscope.server.app import create_app
        from mlscope.store.sql.backend import open_sql_backend

        self.backend = open_sql_backend(uri, artifacts_destination=str(artifacts), default_artifact_root=default_artifact_root)
        self.app = create_app(self.backend.artifacts_destination, refresh_interval=refresh_interval, sql_backend=self.backend)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY (no 40 ms stalls)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False, timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> SqlServer:
        self.thread.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200 and self.backend.index.ready:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mlscope SQL server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()

    def __enter__(self) -> SqlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
