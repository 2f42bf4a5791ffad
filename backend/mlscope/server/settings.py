"""How one server was started: the options of ``mlscope server`` (mlflow server's flags) the app needs.

``create_app`` puts them on ``app.state.settings``; handlers and middleware
read them there, never from globals, so tests can build differently set-up
apps side by side.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

SETTINGS_ENV = "MLSCOPE_SERVER_SETTINGS"  # how --workers hands the settings to each worker process


@dataclass(frozen=True)
class ServerSettings:
    read_only: bool = False  # --read-only: every write refused with 403 PERMISSION_DENIED
    serve_artifacts: bool = True  # --serve-artifacts/--no-serve-artifacts: new runs get mlflow-artifacts: URIs
    artifacts_only: bool = False  # --artifacts-only: only the artifact proxy is served
    default_artifact_root: str | None = None  # --default-artifact-root: location of new experiments
    artifacts_destination: str | None = None  # --artifacts-destination: where proxied uploads go
    allowed_hosts: tuple[str, ...] = ()  # Host headers accepted besides localhost ("*": any)
    cors_allowed_origins: tuple[str, ...] = ()  # browser origins allowed to call the API, writes included
    refresh_interval: float = 1.0  # seconds between index refreshes (writes by other processes)
    workers: int = 1  # processes serving the tree (--workers); >1: runs a request names are re-read first
    index_cache: bool = False  # keep the index's snapshot in the user's cache directory (the CLI's default; --no-index-cache)

    @property
    def artifacts_destination_path(self) -> Path | None:
        return Path(self.artifacts_destination) if self.artifacts_destination else None

    def to_env(self, root: Path) -> str:
        return json.dumps({"root": str(root), **asdict(self)})

    @classmethod
    def from_env(cls) -> tuple[Path, ServerSettings]:
        data = json.loads(os.environ[SETTINGS_ENV])
        root = Path(data.pop("root"))
        for name in ("allowed_hosts", "cors_allowed_origins"):
            data[name] = tuple(data.get(name) or ())
        return root, cls(**data)
