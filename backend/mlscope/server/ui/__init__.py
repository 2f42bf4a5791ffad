"""mlscope's own API for its dashboard, under /api/mlscope: shapes exactly what each view shows."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import charts, compare, histories, pages, registry, runs_table

routes: list[BaseRoute] = [*pages.routes, *runs_table.routes, *histories.routes, *compare.routes, *charts.routes,
                           *registry.routes]

# POSTs that only read (long queries in a body): a --read-only server still answers them.
READ_POSTS = ("/api/mlscope/runs/search", "/api/mlscope/compare", "/api/mlscope/metrics/histories", "/api/mlscope/keys",
              *charts.READ_POSTS)

__all__ = ["READ_POSTS", "routes"]
