"""One MLflow REST endpoint, by its path under the API prefix; the route table mounts it under each prefix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str  # e.g. "/runs/search": mounted as /api/2.0/mlflow/runs/search and /ajax-api/2.0/mlflow/runs/search
    handler: Handler
    methods: tuple[str, ...]
    ajax_only: bool = False  # MLflow serves a few UI-only endpoints under /ajax-api alone
    # A POST that changes nothing (searches): served in --read-only mode. Every other
    # non-GET endpoint counts as a write, so a new endpoint is refused there until marked.
    changes_nothing: bool = False


def post(path: str, handler: Handler) -> Endpoint:
    return Endpoint(path, handler, ("POST",))


def get(path: str, handler: Handler) -> Endpoint:
    return Endpoint(path, handler, ("GET",))


def search(path: str, handler: Handler, methods: tuple[str, ...] = ("POST",)) -> Endpoint:
    """A read that MLflow serves by POST (filters too long for a query string)."""
    return Endpoint(path, handler, methods, changes_nothing=True)
