"""Everything a server needs to serve one SQL store: the store, its index, its writes, its histories.

Where artifacts go follows ``mlflow server``: new experiments get
``--default-artifact-root`` when given, else ``mlflow-artifacts:/`` when the
server proxies artifacts (the files then live under ``--artifacts-destination``,
``./mlartifacts`` by default), else ``./mlruns``. Runs logged straight into the
database by MLflow's client keep the local paths they were given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..artifact_uris import ArtifactLocations
from .histories import SqlHistoryCache
from .logged_models import SqlLoggedModelWrites
from .reads import NO_PATH
from .registry import SqlRegistry
from .run_index import SqlRunIndex
from .store import SqlStore
from .tracking_writes import SqlTrackingWrites

PROXIED_ROOT = "mlflow-artifacts:/"
DEFAULT_DESTINATION = "./mlartifacts"


@dataclass
class SqlBackend:
    store: SqlStore
    index: SqlRunIndex
    writes: SqlTrackingWrites
    histories: SqlHistoryCache
    model_writes: SqlLoggedModelWrites
    registry: SqlRegistry
    artifacts_destination: Path

    @property
    def artifact_locations(self) -> ArtifactLocations:
        """Proxied (mlflow-artifacts:) paths live under the artifacts destination, by MLflow's rule (no tree to check runs in)."""
        return ArtifactLocations(NO_PATH, self.artifacts_destination)

    def describe(self) -> str:
        return self.store.describe()

    def close(self) -> None:
        self.index.close()
        self.store.close()


def default_artifact_root_for(default_artifact_root: str | None, serve_artifacts: bool) -> str:
    if default_artifact_root:
        return default_artifact_root
    return PROXIED_ROOT if serve_artifacts else os.path.abspath("mlruns")


def open_sql_backend(
    uri: str,
    *,
    default_artifact_root: str | None = None,
    serve_artifacts: bool = True,
    artifacts_destination: str | None = None,
    read_only: bool = False,
) -> SqlBackend:
    """Open (and, when empty, create) the database; the index is built later, by the server's start-up."""
    store = SqlStore(uri, default_artifact_root_for(default_artifact_root, serve_artifacts), read_only=read_only)
    destination = Path(os.path.abspath(artifacts_destination or DEFAULT_DESTINATION))
    index = SqlRunIndex(store, root=destination)
    return SqlBackend(
        store, index, SqlTrackingWrites(store, index), SqlHistoryCache(index), SqlLoggedModelWrites(store, index.forget_logged_models),
        SqlRegistry(store), destination,
    )
