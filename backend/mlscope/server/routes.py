"""The one route table: MLflow's REST API under both of its prefixes, mlscope's API, artifacts, the app page.

MLflow's UI calls /ajax-api/2.0/mlflow/..., its clients /api/2.0/mlflow/...;
every MLflow endpoint is mounted under both here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import artifacts, mlflow, ui
from .ui.app_page import AppPage

MLFLOW_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
AJAX_PREFIX = "/ajax-api/2.0/mlflow"
# MLflow's artifact proxy (mlflow server --serve-artifacts) has its own prefix.
ARTIFACTS_PROXY_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")


def mlflow_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for endpoint in mlflow.ENDPOINTS:
        prefixes = (AJAX_PREFIX,) if endpoint.ajax_only else MLFLOW_PREFIXES
        routes.extend(Route(prefix + endpoint.path, endpoint.handler, methods=list(endpoint.methods)) for prefix in prefixes)
    for endpoint in mlflow.ARTIFACTS_PROXY_ENDPOINTS:
        routes.extend(Route(prefix + endpoint.path, endpoint.handler, methods=list(endpoint.methods)) for prefix in ARTIFACTS_PROXY_PREFIXES)
    return [*routes, *mlflow.UNPREFIXED]


def all_routes(static_dir: Path) -> list[BaseRoute]:
    app_page = AppPage(static_dir)
    return [
        *mlflow_routes(),
        *ui.routes,
        *artifacts.routes,
        Route("/", app_page.serve, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=static_dir, check_dir=False), name="static"),
    ]
