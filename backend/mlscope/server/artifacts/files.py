"""Serving artifact bytes: single files (streamed, HTTP Range, resume) and folders as streamed zips.

Served artifacts never run in the app's origin: every response carries
``nosniff``; downloads are attachments; the few types shown inline (images,
PDF, HTML, plain text) carry ``Content-Security-Policy: sandbox`` so even a
top-level visit gets an opaque origin with scripts off.
"""

from __future__ import annotations

import mimetypes
import os
import re
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import aiofiles  # type: ignore[import-untyped]  # ships no types; types-aiofiles is not a dependency
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...store.artifacts import walk_files
from ...store.tree_names import shown_name
from ..args import request_args, string_arg
from ..errors import invalid
from ..state import artifact_locations_of, index_of
from .access import ArtifactSource, artifact_source, model_folders, relative_arg, resolve, resolve_file
from .zip_stream import zip_chunks

CHUNK = 256 * 1024
# Extensions MLflow serves as text/plain (mlflow.utils.mime_type_utils.get_text_extensions).
MLFLOW_TEXT_EXTENSIONS = frozenset(
    [
        "txt",
        "log",
        "err",
        "cfg",
        "conf",
        "cnf",
        "cf",
        "ini",
        "properties",
        "prop",
        "hocon",
        "toml",
        "yaml",
        "yml",
        "xml",
        "json",
        "js",
        "py",
        "py3",
        "csv",
        "tsv",
        "md",
        "rst",
        "ipynb",
    ]
)
MLFLOW_TEXT_NAMES = frozenset({"MLmodel", "MLproject"})
INLINE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}
# Inline artifacts get an opaque origin and no scripts; HTML may still use its own inline styles and data: images.
# Chromium's PDF viewer still renders under this header (it refuses frames with a sandbox *attribute*).
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
# An HTML report the user chose to run (scripts=1): scripts run, inline or from https (plotly, bokeh), but the
# page keeps an opaque origin (no allow-same-origin: no cookies, no access to the app) and may not call out.
SCRIPTS_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' https: data: blob:; "
    "style-src 'unsafe-inline' https:; img-src data: blob: https:; font-src data: https:; connect-src 'none'"
)
HTML_SUFFIXES = (".html", ".htm")


def mlflow_content_type(name: str) -> str:
    """The Content-Type MLflow's server sends for an artifact name (text-like files as text/plain)."""
    suffix = os.path.splitext(name)[1].lstrip(".")
    if (suffix or name) in MLFLOW_TEXT_EXTENSIONS or name in MLFLOW_TEXT_NAMES:
        return "text/plain"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266 value with an ASCII fallback and the UTF-8 name (RFC 5987)."""
    filename = shown_name(filename)  # a name that is not valid UTF-8 has no other spelling in a header
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'[\\"\x00-\x1f\x7f]', "_", ascii_name) or "download"
    quoted = urllib.parse.quote(filename, safe="!#$&+-.^_`|~")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def safety_headers() -> dict[str, str]:
    return {
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """A single ``bytes=`` range as (start, end inclusive); None to serve it all; 'bad' for a 416.

    Several ranges at once are answered with the whole file (allowed by RFC 9110).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if (
        not sep
        or not (first.isdigit() or last.isdigit())
        or (first and not first.isdigit())
        or (last and not last.isdigit())
    ):
        return "bad"
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "bad"
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "bad"
    return start, min(end, size - 1)


async def _stream(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with aiofiles.open(path, "rb") as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            block = await handle.read(min(CHUNK, remaining))
            if not block:  # the file shrank while being sent
                break
            remaining -= len(block)
            yield block


async def file_response(
    request: Request, path: Path, filename: str, content_type: str, *, inline: bool = False, csp: str | None = None
) -> Response:
    """Stream one file, honouring Range / If-Range; 206, 416 and ``Accept-Ranges: bytes`` as HTTP says."""
    stat = await run_in_threadpool(path.stat)
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    headers = safety_headers()
    headers.update(
        {
            "Accept-Ranges": "bytes",
            "ETag": etag,
            "Content-Disposition": content_disposition("inline" if inline else "attachment", filename),
        }
    )
    if csp:
        headers["Content-Security-Policy"] = csp
    start, length, status = 0, size, 200
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (if_range is None or if_range == etag):
        wanted = parse_range(range_header, size)
        if wanted == "bad":
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status_code=416, headers=headers)
        if isinstance(wanted, tuple):
            start, end = wanted
            length = end - start + 1
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=content_type)
    return StreamingResponse(_stream(path, start, length), status_code=status, headers=headers, media_type=content_type)


def preview_type(name: str) -> tuple[str, str] | None:
    """(Content-Type, CSP) for artifacts that may be shown inline, None for the rest."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in INLINE_TYPES:
        return INLINE_TYPES[suffix], SANDBOX_CSP
    return None


async def download_artifact(request: Request) -> Response:
    """GET /api/mlscope/artifacts/file?run_id=&model_id=&path=&inline=1[&scripts=1] — one file, Range-capable.

    scripts=1 (HTML shown inline only) lets the report's own scripts run, still sandboxed in an opaque origin.
    """
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    path = await run_in_threadpool(resolve_file, source, relative)
    name = PurePosixPath(relative).name
    if string_arg(args, "inline") in ("1", "true"):
        inline = preview_type(name)
        if inline is None:
            content_type = mlflow_content_type(name)
            if content_type != "text/plain":
                raise invalid(f"'{name}' cannot be shown inline; download it instead")
            inline = ("text/plain; charset=utf-8", SANDBOX_CSP)
        scripts = string_arg(args, "scripts") in ("1", "true") and name.lower().endswith(HTML_SUFFIXES)
        return await file_response(request, path, name, inline[0], inline=True, csp=SCRIPTS_CSP if scripts else inline[1])
    return await file_response(request, path, name, mlflow_content_type(name), csp=SANDBOX_CSP)


def _zip_name(source: ArtifactSource, relative: str) -> str:
    """<run>-<folder>.zip, <run>-artifacts.zip, and for a logged model <run>-<model>[-<folder>].zip."""
    base = source.run.info.run_name or source.run.run_id
    if source.model is not None:
        base = f"{base}-{source.model.name or source.model.model_id}"
        return f"{base}-{PurePosixPath(relative).name}.zip" if relative else f"{base}.zip"
    return f"{base}-{PurePosixPath(relative).name if relative else 'artifacts'}.zip"


async def download_zip(request: Request) -> Response:
    """GET /api/mlscope/artifacts/zip?run_id=&model_id=&path=&models=1 — a folder (or everything) as a streamed zip.

    With models=1 the whole run's zip also holds its logged models, each under logged_models/<name>/.
    """
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    with_models = not relative and source.model is None and string_arg(args, "models") in ("1", "true")
    index, locations = index_of(request), artifact_locations_of(request)

    def collect() -> list[tuple[Path, str]]:
        folder = resolve(source, relative) if relative else source.root.resolve()
        if relative and not folder.is_dir():
            raise invalid(f"'{relative}' is a file, not a folder: download it directly")
        files = walk_files(folder, source.root.resolve()) if folder.is_dir() else []
        if with_models:
            for name, root in model_folders(index, locations, source.run):
                if root.is_dir():
                    files += [(path, f"logged_models/{name}/{inside}") for path, inside in walk_files(root, root.resolve())]
        return files

    files = await run_in_threadpool(collect)
    headers = safety_headers()
    headers["Content-Disposition"] = content_disposition("attachment", _zip_name(source, relative))
    return StreamingResponse(zip_chunks(files), media_type="application/zip", headers=headers)


routes: list[BaseRoute] = [
    Route("/api/mlscope/artifacts/file", download_artifact, methods=["GET", "HEAD"]),
    Route("/api/mlscope/artifacts/zip", download_zip, methods=["GET"]),
]
