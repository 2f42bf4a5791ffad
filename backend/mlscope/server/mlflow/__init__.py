"""MLflow's REST API: every endpoint by its path under the API prefix.

``server/routes.py`` mounts ENDPOINTS under /api/2.0/mlflow and
/ajax-api/2.0/mlflow; a new API module adds its ``endpoints`` here.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import artifacts, artifacts_proxy, experiments, logged_models, metrics, registry, runs, service
from .endpoint import Endpoint

ENDPOINTS: list[Endpoint] = [
    *experiments.endpoints,
    *runs.endpoints,
    *metrics.endpoints,
    *logged_models.endpoints,
    *artifacts.endpoints,
    *registry.endpoints,
]

# The proxied artifact API, under /api/2.0/mlflow-artifacts and /ajax-api/2.0/mlflow-artifacts.
ARTIFACTS_PROXY_ENDPOINTS: list[Endpoint] = artifacts_proxy.endpoints

# MLflow routes outside the API prefixes (/health, /version, /get-artifact).
UNPREFIXED: list[BaseRoute] = [*service.routes, *artifacts.routes, *registry.routes]

__all__ = ["ARTIFACTS_PROXY_ENDPOINTS", "ENDPOINTS", "UNPREFIXED", "Endpoint"]
