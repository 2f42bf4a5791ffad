"""Structured previews: CSV/TSV tables (first rows) and JSON/YAML trees (size-limited); reading is store.artifact_content."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...store.artifact_content import parse_structured, read_table
from ..args import int_arg, request_args, string_arg
from ..errors import invalid
from .access import artifact_source, relative_arg, resolve_file

DEFAULT_ROWS = 500
MAX_ROWS = 5000


async def table_preview(request: Request) -> JSONResponse:
    """GET /api/mlscope/artifacts/table?run_id=&path=&limit= — a CSV/TSV's header, first rows and row count."""
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    limit = int_arg(args, "limit", default=DEFAULT_ROWS, low=1, high=MAX_ROWS) or DEFAULT_ROWS
    suffix = PurePosixPath(relative).suffix.lower()
    delimiter = {".csv": ",", ".tsv": "\t"}.get(suffix)

    def read() -> dict[str, Any]:
        return read_table(resolve_file(source, relative), limit, delimiter)

    body = await run_in_threadpool(read)
    body["path"] = relative
    return JSONResponse(body)


async def structured_preview(request: Request) -> JSONResponse:
    """GET /api/mlscope/artifacts/parsed?run_id=&path=&format=json|yaml — the parsed value, or the parse error."""
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    suffix = PurePosixPath(relative).suffix.lower()
    fmt = string_arg(args, "format") or (
        "yaml" if suffix in (".yaml", ".yml") or relative.endswith("MLmodel") else "json"
    )
    if fmt not in ("json", "yaml"):
        raise invalid(f"Invalid value '{fmt}' for parameter 'format': expected 'json' or 'yaml'.")

    def read() -> dict[str, Any]:
        return parse_structured(resolve_file(source, relative), fmt)

    body = await run_in_threadpool(read)
    body["path"] = relative
    return JSONResponse(body)


routes: list[BaseRoute] = [
    Route("/api/mlscope/artifacts/table", table_preview, methods=["GET"]),
    Route("/api/mlscope/artifacts/parsed", structured_preview, methods=["GET"]),
]
