"""The Starlette application: routes, middleware, the index's lifecycle, the static frontend."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ..index import RunIndex
from ..search import SearchError
from ..search.queries import RunQueries
from ..store.errors import StoreError
from .errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    search_error_handler,
    store_error_handler,
    unexpected_error_handler,
)
from .routes import all_routes

log = logging.getLogger("mlscope")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def frontend_dir() -> Path:
    """The frontend shipped in the wheel (mlscope/frontend) or, in a checkout, <repo>/frontend."""
    packaged = Path(__file__).resolve().parent.parent / "frontend"
    if (packaged / "index.html").is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "frontend"


def build_index(index: RunIndex) -> None:
    """Build the index, then take its objects out of the garbage collector's sight.

    10,000 runs are millions of long-lived objects; without gc.freeze() every
    full collection walks them all and stalls requests for hundreds of ms.
    """
    index.build()
    gc.collect()
    gc.freeze()


async def refresh_forever(index: RunIndex, interval: float, stop: asyncio.Event) -> None:
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
    allowed_hosts: Sequence[str] = (),
    cors_allowed_origins: Sequence[str] = (),
    refresh_interval: float = 1.0,
) -> Starlette:
    index = RunIndex(root)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=build_index, args=(index,), name="mlscope-index-build", daemon=True).start()
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

    hosts = ["*"] if "*" in allowed_hosts else [*LOCAL_HOSTS, *allowed_hosts]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)]
    if cors_allowed_origins:
        middleware.append(
            Middleware(CORSMiddleware, allow_origins=list(cors_allowed_origins), allow_methods=["GET", "POST"], allow_headers=["*"])
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
    app.state.index = index
    app.state.queries = RunQueries(index)
    app.state.root = root
    return app
