"""What a request handler reaches through the app: the index, the query service, the history cache."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request

from ..history import HistoryCache
from ..index import RunIndex
from ..index.model_writes import LoggedModelWrites
from ..index.run_json import RunJsonCache
from ..index.tracking_writes import TrackingWrites
from ..search.queries import RunQueries
from ..store.artifact_uris import ArtifactLocations
from .settings import ServerSettings


def index_of(request: Request) -> RunIndex:
    return request.app.state.index


def queries_of(request: Request) -> RunQueries:
    return request.app.state.queries


def history_cache(request: Request) -> HistoryCache:
    """One cache per app, created on first use (the charts and the compare page share it)."""
    state = request.app.state
    cache = getattr(state, "history_cache", None)
    if cache is None:
        cache = state.history_cache = HistoryCache()
    return cache


def run_json_cache(request: Request) -> RunJsonCache:
    """Runs' proto-JSON encoded once per change of the run (MLflow's runs/search and runs/get splice it)."""
    state = request.app.state
    cache = getattr(state, "run_json_cache", None)
    if cache is None:
        from .mlflow.proto import run_json

        cache = state.run_json_cache = RunJsonCache(run_json)
    return cache


def artifact_locations_of(request: Request) -> ArtifactLocations:
    """Where proxied (mlflow-artifacts:) artifacts live: app.state.artifact_locations, else the tree alone."""
    state = request.app.state
    locations = getattr(state, "artifact_locations", None)
    if locations is None:
        locations = state.artifact_locations = ArtifactLocations(Path(state.root))
    return locations


def serves_artifacts(request: Request) -> bool:
    """False when the server runs with --no-serve-artifacts (app.state.serve_artifacts)."""
    return bool(getattr(request.app.state, "serve_artifacts", True))


def writes_of(request: Request) -> TrackingWrites:
    """The app's tracking writer (runs, experiments, metrics) over its index."""
    return request.app.state.writes


def model_writes_of(request: Request) -> LoggedModelWrites:
    return request.app.state.model_writes


def settings_of(request: Request) -> ServerSettings:
    """How this server was started (read-only, artifact options...); defaults for apps built without settings."""
    return getattr(request.app.state, "settings", None) or ServerSettings()
