"""Artifact serving for the dashboard: downloads (Range, zips), listings, text chunks and structured previews."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import files, previews, structured

routes: list[BaseRoute] = [*files.routes, *previews.routes, *structured.routes]

__all__ = ["routes"]
