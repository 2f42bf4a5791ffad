"""The Starlette application: routes, middleware, the index's lifecycle, the static frontend."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..index import RunIndex
from . import artifacts, history_api, mlflow_api, ui_api
from .errors import ApiError, api_error_handler, http_error_handler, unexpected_error_handler

log = logging.getLogger("mlscope")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def frontend_dir() -> Path:
    """The frontend shipped in the wheel (mlscope/frontend) or, in a checkout, <repo>/frontend."""
    packaged = Path(__file__).resolve().parent.parent / "frontend"
    if (packaged / "index.html").is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "frontend"


def content_security_policy(html: str) -> str:
    """A strict CSP for the app page; the inline import map is allowed by its hash only."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
        if body.strip()
    ]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "frame-src 'self' blob:",
            "worker-src 'self' blob:",
            "object-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


class IndexHtml:
    """Serves the single-page app's index.html with its CSP (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[float, str, str] | None = None

    async def __call__(self, request: Request) -> Response:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return HTMLResponse("<h1>mlscope</h1><p>The frontend is missing: run <code>make vendor</code>.</p>", 500)
        if self._cache is None or self._cache[0] != mtime:
            html = self.path.read_text(encoding="utf-8")
            self._cache = (mtime, html, content_security_policy(html))
        _, html, csp = self._cache
        headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        return HTMLResponse(html, headers=headers)


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
        threading.Thread(target=index.build, name="mlscope-index-build", daemon=True).start()
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

    static = frontend_dir()
    index_html = IndexHtml(static / "index.html")
    routes = [
        *mlflow_api.routes,
        *ui_api.routes,
        *history_api.routes,
        *artifacts.routes,
        Route("/", index_html, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=static, check_dir=False), name="static"),
    ]
    hosts = ["*"] if "*" in allowed_hosts else [*LOCAL_HOSTS, *allowed_hosts]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)]
    if cors_allowed_origins:
        middleware.append(
            Middleware(CORSMiddleware, allow_origins=list(cors_allowed_origins), allow_methods=["GET", "POST"], allow_headers=["*"])
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
    )
    app.state.index = index
    app.state.root = root
    return app
