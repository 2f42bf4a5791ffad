"""mlscope's own API for its dashboard, under /api/mlscope: shapes exactly what each view shows."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import charts, compare, histories, pages, runs_table

routes: list[BaseRoute] = [*pages.routes, *runs_table.routes, *histories.routes, *compare.routes, *charts.routes]

__all__ = ["routes"]
