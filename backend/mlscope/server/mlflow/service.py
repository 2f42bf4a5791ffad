"""Routes outside the API prefix that MLflow's server answers: /health and /version."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from ... import __version__


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("OK")


async def version(request: Request) -> PlainTextResponse:
    return PlainTextResponse(__version__)


routes: list[BaseRoute] = [
    Route("/health", health, methods=["GET"]),
    Route("/version", version, methods=["GET"]),
]
