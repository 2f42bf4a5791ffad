"""MLflow's REST API: every endpoint by its path under the API prefix.

``server/routes.py`` mounts ENDPOINTS under /api/2.0/mlflow and
/ajax-api/2.0/mlflow; a new API module adds its ``endpoints`` here.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import artifacts, experiments, logged_models, metrics, runs, service
from .endpoint import Endpoint

ENDPOINTS: list[Endpoint] = [
    *experiments.endpoints,
    *runs.endpoints,
    *metrics.endpoints,
    *logged_models.endpoints,
    *artifacts.endpoints,
]

# MLflow routes outside the API prefixes (/health, /version, /get-artifact).
UNPREFIXED: list[BaseRoute] = [*service.routes, *artifacts.routes]

__all__ = ["ENDPOINTS", "UNPREFIXED", "Endpoint"]
