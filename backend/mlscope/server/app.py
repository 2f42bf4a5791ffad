"""The Starlette application: routes, middleware, the index's lifecycle, the static frontend."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ..history.disk import SeriesStore
from ..index import RunIndex
from ..index.background import build_in_background
from ..index.cache_file import CacheFile
from ..index.model_writes import LoggedModelWrites
from ..index.registry import Registry
from ..index.tracking_writes import TrackingWrites
from ..search import SearchError
from ..search.queries import RunQueries
from ..store.artifact_uris import ArtifactLocations
from ..store.errors import StoreError
from ..store.interface import RunSource
from . import mlflow, ui
from .errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    search_error_handler,
    store_error_handler,
    unexpected_error_handler,
)
from .routes import MLFLOW_PREFIXES, all_routes
from .security import ArtifactsOnlyGate, WriteGuard
from .settings import ServerSettings

if TYPE_CHECKING:
    from ..store.sql.backend import SqlBackend

log = logging.getLogger("mlscope")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def frontend_dir() -> Path:
    """The frontend shipped in the wheel (mlscope/frontend) or, in a checkout, <repo>/frontend."""
    packaged = Path(__file__).resolve().parent.parent / "frontend"
    if (packaged / "index.html").is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "frontend"


async def refresh_forever(index: RunSource, interval: float, stop: asyncio.Event) -> None:
    """Keep the index current: one cheap refresh per interval, off the event loop."""
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            break
        try:
            await asyncio.to_thread(index.refresh)
        except Exception:  # a refresh must never take the server down
            log.exception("index refresh failed")


def create_app(
    root: Path,
    *,
    settings: ServerSettings | None = None,
    allowed_hosts: Sequence[str] = (),
    cors_allowed_origins: Sequence[str] = (),
    refresh_interval: float | None = None,
    sql_backend: SqlBackend | None = None,
    run_index: RunIndex | None = None,
) -> Starlette:
    """The app for one tree; ``settings`` are mlscope server's options (the keyword shortcuts override them).

    With ``sql_backend`` (store/sql) it serves that database instead: its index, writes and histories
    take the tree's place, and ``root`` is where its proxied (mlflow-artifacts:) artifacts live.
    ``run_index`` is the tree's index when the caller made it (and may have started its build) already.
    """
    settings = settings or ServerSettings()
    overrides: dict[str, Any] = {}
    if allowed_hosts:
        overrides["allowed_hosts"] = tuple(allowed_hosts)
    if cors_allowed_origins:
        overrides["cors_allowed_origins"] = tuple(cors_allowed_origins)
    if refresh_interval is not None:
        overrides["refresh_interval"] = refresh_interval
    settings = replace(settings, **overrides)
    refresh_interval = settings.refresh_interval
    file_index: RunIndex | None = None
    index: RunSource
    if sql_backend is not None:
        index = sql_backend.index
    else:
        index = file_index = run_index or RunIndex(root, cache=CacheFile(root) if settings.index_cache else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        build_in_background(index)  # already started by `mlscope ui`, before the server stack was imported
        # The registry's first snapshot (~0.5 s at 1,000 models) is read now, not by the first Models page.
        threading.Thread(target=app.state.registry.snapshot, name="mlscope-registry-build", daemon=True).start()
        stop = asyncio.Event()
        app.state.shutting_down = stop  # long-lived streams (server-sent events) end when it is set
        task = asyncio.create_task(refresh_forever(index, refresh_interval, stop))
        try:
            yield
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if sql_backend is not None:
                sql_backend.close()
            elif file_index is not None:  # stop a first build's reader processes; save the index's snapshot if it changed
                await asyncio.to_thread(file_index.close)
            if getattr(app.state, "series_store", None) is not None:  # reductions computed just before the stop still land on disk
                await asyncio.to_thread(app.state.series_store.flush, 5.0)

    hosts = ["*"] if "*" in settings.allowed_hosts else [*LOCAL_HOSTS, *settings.allowed_hosts]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)]
    if settings.cors_allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_allowed_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["*"],
            )
        )
    if settings.artifacts_only:
        middleware.append(Middleware(ArtifactsOnlyGate))
    middleware.append(
        Middleware(
            WriteGuard,
            read_only=settings.read_only,
            read_posts=read_only_posts(),
            allowed_origins=settings.cors_allowed_origins,
        )
    )
    app = Starlette(
        routes=all_routes(frontend_dir()),
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error_handler,
            SearchError: search_error_handler,
            StoreError: store_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
    )
    app.state.settings = settings
    app.state.index = index
    app.state.queries = RunQueries(index)
    app.state.root = root
    app.state.serve_artifacts = settings.serve_artifacts
    if sql_backend is not None:
        app.state.artifact_locations = sql_backend.artifact_locations
    else:
        app.state.artifact_locations = ArtifactLocations(root, settings.artifacts_destination_path)
    if sql_backend is not None:
        app.state.writes = sql_backend.writes
        app.state.model_writes = sql_backend.model_writes
        app.state.history_cache = sql_backend.histories
    elif file_index is not None:
        app.state.writes = TrackingWrites(
            file_index, proxied_artifacts=settings.serve_artifacts, default_artifact_root=settings.default_artifact_root
        )
        app.state.model_writes = LoggedModelWrites(app.state.writes)
    app.state.registry = sql_backend.registry if sql_backend is not None else Registry(root)
    # Charts' reduced histories kept across restarts, next to the index cache (file stores: stamps are file signatures)
    app.state.series_store = SeriesStore() if settings.index_cache and sql_backend is None else None
    if sql_backend is None and not settings.read_only and root.is_dir():
        app.state.writes.writer.ensure_root()  # an empty folder gets the Default experiment, as mlflow server's store
    return app


def read_only_posts() -> frozenset[str]:
    """The POST paths that only read (searches), served even by a --read-only server."""
    paths = {prefix + e.path for e in mlflow.ENDPOINTS if e.changes_nothing for prefix in MLFLOW_PREFIXES}
    return frozenset(paths | set(ui.READ_POSTS))


def create_app_from_env() -> Starlette:
    """The app factory each --workers process calls: the tree and settings come from MLSCOPE_SERVER_SETTINGS."""
    root, settings = ServerSettings.from_env()
    return create_app(root, settings=settings)
