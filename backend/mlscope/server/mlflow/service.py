"""Routes outside the API prefix that MLflow's server answers: /health and /version.

``/version`` names the MLflow version whose API this server speaks (clients compare
it, as with ``mlflow server``); mlscope's own version is in ``X-Mlscope-Version``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from ... import __version__

MLFLOW_API_VERSION = "3.17.2"  # the MLflow release whose REST API, errors and shapes the server follows


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("OK")


async def version(request: Request) -> PlainTextResponse:
    return PlainTextResponse(MLFLOW_API_VERSION, headers={"X-Mlscope-Version": __version__})


routes: list[BaseRoute] = [
    Route("/health", health, methods=["GET"]),
    Route("/version", version, methods=["GET"]),
]
