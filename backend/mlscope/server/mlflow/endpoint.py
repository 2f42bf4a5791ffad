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


def post(path: str, handler: Handler) -> Endpoint:
    return Endpoint(path, handler, ("POST",))


def get(path: str, handler: Handler) -> Endpoint:
    return Endpoint(path, handler, ("GET",))
