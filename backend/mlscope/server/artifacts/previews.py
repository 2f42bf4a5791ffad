"""mlscope's artifact browsing endpoints: folder listings, text chunks, image series, MLmodel summaries.

All reads are bounded (a chunk, a capped listing, size-limited files) and run
off the event loop, so a 200 MB log previews as fast as a 2 KB one.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...store.artifact_content import read_text_chunk
from ...store.artifacts import ArtifactEntry, list_artifacts, parse_series_image_name
from ...store.mlmodel import REQUIREMENT_FILES, summarize_mlmodel
from ..args import int_arg, request_args, string_arg
from ..errors import ApiError, invalid, not_found
from ..state import index_of
from .access import ArtifactSource, artifact_source, linked_models, relative_arg, resolve, resolve_file
from .kinds import highlight_language, logged_tables, preview_kind

MAX_LISTING = 5000
MAX_SERIES_FILES = 20000
DEFAULT_CHUNK = 1024 * 1024
MAX_CHUNK = 8 * 1024 * 1024
MAX_ENV_FILE = 1024 * 1024


def _entry_json(entry: ArtifactEntry, folder: Path, tables: frozenset[str]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": entry.name, "path": entry.path, "is_dir": entry.is_dir, "mtime": entry.mtime}
    if entry.is_dir:
        item["kind"] = "model" if os.path.isfile(folder / entry.name / "MLmodel") else "folder"
    else:
        item["size"] = entry.size
        item["kind"] = preview_kind(entry.path, tables)
        item["language"] = highlight_language(entry.path)
    return item


def _listing(source: ArtifactSource, relative: str, with_models: bool, index: Any) -> dict[str, Any]:
    try:
        entries, truncated = list_artifacts(source.root, relative, limit=MAX_LISTING)
    except NotADirectoryError:
        raise invalid(f"'{relative}' is a file, not a folder") from None
    except FileNotFoundError:
        raise not_found(f"No artifact folder '{relative}' in {source.label}") from None
    except ValueError as exc:
        raise invalid(str(exc)) from None
    folder = resolve(source, relative) if relative else source.root
    tables = logged_tables(source.run.tags) if source.model is None else frozenset()
    series = sorted({s.key for e in entries if not e.is_dir and (s := parse_series_image_name(e.name)) is not None})
    body: dict[str, Any] = {
        "path": relative,
        "files": [_entry_json(e, folder, tables) for e in entries],
        "truncated": truncated,
        "image_series": series,
        "is_model_dir": os.path.isfile(folder / "MLmodel"),
    }
    if with_models:
        body["models"] = [
            {"model_id": m.model_id, "name": m.name, "status": m.status, "creation_timestamp": m.creation_timestamp}
            for m in linked_models(index, source.run)
        ]
    return body


async def list_folder(request: Request) -> JSONResponse:
    """GET /api/mlscope/artifacts/list?run_id=&model_id=&path= — one level with sizes, mtimes and preview kinds.

    At the run's root the run's MLflow 3 logged models come along as ``models``.
    """
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    with_models = source.model is None and not relative
    return JSONResponse(await run_in_threadpool(_listing, source, relative, with_models, index_of(request)))


async def text_chunk(request: Request) -> JSONResponse:
    """GET /api/mlscope/artifacts/text?run_id=&path=&offset=&length=&tail=1 — a ranged text read (load more, tail)."""
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    offset = int_arg(args, "offset", default=0, low=0)
    length = int_arg(args, "length", default=DEFAULT_CHUNK, low=1, high=MAX_CHUNK)
    tail = string_arg(args, "tail") in ("1", "true")

    def read() -> dict[str, Any]:
        return read_text_chunk(resolve_file(source, relative), offset or 0, length or DEFAULT_CHUNK, tail)

    body = await run_in_threadpool(read)
    body["path"] = relative
    return JSONResponse(body)


def _series(source: ArtifactSource, relative: str) -> dict[str, Any]:
    folder = resolve(source, relative) if relative else source.root.resolve()
    if not folder.is_dir():
        raise invalid(f"'{relative}' is not a folder")
    grouped: dict[str, dict[tuple[int, int, str], dict[str, Any]]] = {}
    with os.scandir(folder) as scan:
        for count, item in enumerate(scan):
            if count >= MAX_SERIES_FILES:
                break
            parsed = parse_series_image_name(item.name)
            if parsed is None or item.is_symlink():
                continue
            slot = grouped.setdefault(parsed.key, {}).setdefault(
                (parsed.step, parsed.timestamp, parsed.uuid), {"step": parsed.step, "timestamp": parsed.timestamp}
            )
            path = str(PurePosixPath(relative, item.name)) if relative else item.name
            slot["thumbnail" if parsed.compressed else "path"] = path
    series = []
    for key in sorted(grouped):
        images = [img for _, img in sorted(grouped[key].items()) if "path" in img or "thumbnail" in img]
        for image in images:
            image.setdefault("path", image.get("thumbnail"))
        series.append({"key": key, "images": images})
    return {"path": relative, "series": series}


async def image_series(request: Request) -> JSONResponse:
    """GET /api/mlscope/artifacts/images?run_id=&path=images — MLflow's log_image series, by key and step."""
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    return JSONResponse(await run_in_threadpool(_series, source, relative))


def _read_capped(source: ArtifactSource, relative: str) -> str | None:
    try:
        path = resolve(source, relative)
    except ApiError:  # missing or unsafe environment files are simply absent from the summary
        return None
    if not path.is_file() or path.stat().st_size > MAX_ENV_FILE:
        return None
    return path.read_text(encoding="utf-8", errors="replace")


def _mlmodel(source: ArtifactSource, relative: str) -> dict[str, Any]:
    folder_rel = relative
    if PurePosixPath(relative).name == "MLmodel":
        folder_rel = str(PurePosixPath(relative).parent) if "/" in relative else ""
    mlmodel_rel = f"{folder_rel}/MLmodel" if folder_rel else "MLmodel"
    path = resolve_file(source, mlmodel_rel)
    if path.stat().st_size > MAX_ENV_FILE:
        raise invalid("MLmodel is too large to summarize")
    files = {name: _read_capped(source, f"{folder_rel}/{name}" if folder_rel else name) for name in REQUIREMENT_FILES}
    try:
        summary = summarize_mlmodel(path.read_text(encoding="utf-8", errors="replace"), files)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    summary["path"] = folder_rel
    return summary


async def mlmodel_summary(request: Request) -> JSONResponse:
    """GET /api/mlscope/artifacts/mlmodel?run_id=&model_id=&path=<folder or MLmodel> — flavors, signature, env."""
    args = await request_args(request)
    source = await artifact_source(request, args)
    return JSONResponse(await run_in_threadpool(_mlmodel, source, relative_arg(args)))


routes: list[BaseRoute] = [
    Route("/api/mlscope/artifacts/list", list_folder, methods=["GET"]),
    Route("/api/mlscope/artifacts/text", text_chunk, methods=["GET"]),
    Route("/api/mlscope/artifacts/images", image_series, methods=["GET"]),
    Route("/api/mlscope/artifacts/mlmodel", mlmodel_summary, methods=["GET"]),
]
