"""Structured previews: CSV/TSV tables (first rows, streamed) and JSON/YAML trees (size-limited).

A CSV is parsed row by row with the ``csv`` module, so a 1 GB file costs the
first N rows plus a bounded counting pass. JSON/YAML are parsed only below a
size limit, and the parsed value is made JSON-safe with a node budget (a YAML
alias bomb cannot expand into gigabytes of response).
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from .artifact_access import artifact_source, relative_arg, resolve_file
from .errors import invalid
from .params import int_arg, request_args, string_arg

DEFAULT_ROWS = 500
MAX_ROWS = 5000
COUNT_BYTES = 32 * 1024 * 1024  # rows past the preview are counted up to here (or COUNT_SECONDS), then estimated
COUNT_SECONDS = 0.4
MAX_CELL = 10_000  # characters kept per cell in the preview
MAX_PARSE_BYTES = 16 * 1024 * 1024
MAX_NODES = 300_000
MAX_DEPTH = 200

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_table(path: Path, limit: int, delimiter: str | None) -> dict[str, Any]:
    """Header + first ``limit`` rows, and the row count (exact, or estimated past COUNT_BYTES)."""
    size = path.stat().st_size
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        if delimiter is None:
            sample = text.read(64 * 1024)
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
            except csv.Error:
                delimiter = ","
            text.detach()  # keep `raw` open: a dropped wrapper would close it
            raw.seek(0)
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        columns: list[str] = []
        rows: list[list[str]] = []
        counted = 0
        exact = True
        error = None
        deadline = time.monotonic() + COUNT_SECONDS
        try:
            columns = [cell[:MAX_CELL] for cell in next(reader, [])]
            for row in reader:
                counted += 1
                if len(rows) < limit:
                    rows.append([cell[:MAX_CELL] for cell in row])
                elif counted % 2048 == 0 and (raw.tell() > COUNT_BYTES or time.monotonic() > deadline):
                    exact = raw.tell() >= size
                    break
        except csv.Error as exc:
            error = f"line {reader.line_num}: {exc}"
            exact = False
        consumed = raw.tell()
    width = max([len(columns), *(len(r) for r in rows)]) if rows or columns else 0
    columns += [f"column {i + 1}" for i in range(len(columns), width)]
    estimate = counted if exact or consumed == 0 else round(counted * size / consumed)
    return {
        "columns": columns,
        "rows": [r + [""] * (width - len(r)) for r in rows],
        "row_count": estimate,
        "row_count_exact": exact and error is None,
        "delimiter": delimiter,
        "size": size,
        "error": error,
    }


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


class _TooBig(Exception):
    pass


def json_safe(value: Any) -> Any:
    """The parsed value as plain JSON: non-finite floats as strings, other YAML types as text.

    Walks with a node and depth budget so shared YAML aliases cannot blow up.
    """
    budget = [MAX_NODES]

    def walk(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise _TooBig
        if item is None or isinstance(item, bool | int | str):
            return item
        if isinstance(item, float):
            return (
                item
                if math.isfinite(item)
                else ("NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity")
            )
        if isinstance(item, dict):
            return {str(k): walk(v, depth + 1) for k, v in item.items()}
        if isinstance(item, list | tuple | set):
            return [walk(v, depth + 1) for v in item]
        if isinstance(item, bytes):
            return f"<{len(item)} bytes>"
        return str(item)

    return walk(value, 0)


def _parse_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


def parse_structured(path: Path, fmt: str) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_PARSE_BYTES:
        return {"format": fmt, "size": size, "too_large": True, "limit": MAX_PARSE_BYTES}
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        value = json.loads(text) if fmt == "json" else yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except (ValueError, yaml.YAMLError) as exc:
        return {"format": fmt, "size": size, "error": _parse_error(exc)}
    except RecursionError:
        return {"format": fmt, "size": size, "error": "nested too deeply to parse"}
    try:
        return {"format": fmt, "size": size, "value": json_safe(value)}
    except _TooBig:
        return {"format": fmt, "size": size, "too_large": True, "limit": MAX_PARSE_BYTES}


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
