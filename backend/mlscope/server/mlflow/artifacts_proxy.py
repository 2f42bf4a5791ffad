"""MLflow's proxied artifact API, as ``mlflow server --serve-artifacts`` answers it.

``/api/2.0/mlflow-artifacts/artifacts/<path>``: GET downloads, PUT uploads,
DELETE deletes; ``/api/2.0/mlflow-artifacts/artifacts?path=`` lists one level.
MLflow's client uses these for every run whose ``artifact_uri`` is an
``mlflow-artifacts:`` URI. Where a path lives on disk is the store's rule
(``store.artifact_uris.ArtifactLocations``: inside the tree, in the run's own
``artifacts/`` folder); uploads are atomic (``store.artifact_writer``).
Multipart uploads and presigned downloads answer 501 exactly as MLflow's
server does for a local artifact store, which makes its client fall back to
plain PUT/GET.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from ...store.artifact_uris import ArtifactLocations, ProxiedFolder
from ...store.artifact_writer import StagedArtifact, begin_upload, delete_artifacts, write_artifact
from ...store.artifacts import UnsafePathError, list_artifacts, resolve_artifact_path
from ..artifacts.files import SANDBOX_CSP, content_disposition, file_response, mlflow_content_type, safety_headers
from ..errors import ApiError, invalid, not_found
from ..state import artifact_locations_of, serves_artifacts
from .endpoint import Endpoint

# Bodies up to this size are read whole and written in one thread hop; larger ones are streamed.
WHOLE_BODY_LIMIT = 1 << 20
MULTIPART_UPLOAD_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
MULTIPART_DOWNLOAD_UNSUPPORTED = "Multipart download is not supported for the current artifact repository"


def _require_serving(request: Request) -> None:
    if not serves_artifacts(request):
        raise ApiError(
            "TEMPORARILY_UNAVAILABLE",
            "Artifact serving is disabled: this server was started with --no-serve-artifacts. "
            "Start it with --serve-artifacts to upload and download artifacts through it.",
            503,
        )


def _locate(locations: ArtifactLocations, path: str) -> ProxiedFolder:
    try:
        return locations.locate(path)
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None


async def _folder(request: Request, path: str) -> ProxiedFolder:
    _require_serving(request)
    return await run_in_threadpool(_locate, artifact_locations_of(request), path)


def _path_param(request: Request) -> str:
    return str(request.path_params.get("path", ""))


# ------------------------------------------------------------------ handlers


def _file_of(folder: ProxiedFolder, path: str) -> Path:
    try:
        found = resolve_artifact_path(folder.root, folder.relative)
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None
    except FileNotFoundError:
        raise not_found(f"No such artifact: '{path}'") from None
    if found.is_dir():
        raise invalid(f"Artifact path refers to a directory, not a file: '{path}'")
    return found


def _small_file(locations: ArtifactLocations, path: str) -> tuple[Path, bytes | None, os.stat_result]:
    """(path, its bytes when it is small, its stat), found and read in one trip to a worker thread."""
    found = _file_of(_locate(locations, path), path)
    info = found.stat()
    return found, (found.read_bytes() if info.st_size <= WHOLE_BODY_LIMIT else None), info


async def download(request: Request) -> Response:
    """GET .../artifacts/<path>: the file's bytes, as an attachment (Range-capable).

    Small files are read whole with the lookup (model files, configs: what clients fetch most);
    large ones, ranges and HEAD are streamed by the shared file_response.
    """
    path = _path_param(request)
    _require_serving(request)
    name = PurePosixPath(path).name
    content_type = mlflow_content_type(name)
    if request.method == "GET" and "range" not in request.headers:
        found, data, info = await run_in_threadpool(_small_file, artifact_locations_of(request), path)
        if data is not None:
            headers = safety_headers()
            headers.update({
                "Accept-Ranges": "bytes",
                "ETag": f'"{info.st_mtime_ns:x}-{info.st_size:x}"',
                "Content-Disposition": content_disposition("attachment", name),
                "Content-Security-Policy": SANDBOX_CSP,
            })
            return Response(data, media_type=content_type, headers=headers)
    else:
        found = await run_in_threadpool(_file_of, await _folder(request, path), path)
    return await file_response(request, found, name, content_type, csp=SANDBOX_CSP)


def _write_whole(locations: ArtifactLocations, path: str, body: bytes) -> None:
    folder = _locate(locations, path)
    try:
        write_artifact(folder.root, folder.relative, body)
    except UnsafePathError as exc:  # a symlink on the way out of the artifact folder
        raise invalid(str(exc)) from None


def _begin(folder: ProxiedFolder) -> StagedArtifact:
    try:
        return begin_upload(folder.root, folder.relative)
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None


async def _stream_to(folder: ProxiedFolder, request: Request) -> None:
    staged = await run_in_threadpool(_begin, folder)
    try:
        pending = bytearray()
        async for chunk in request.stream():
            pending += chunk
            if len(pending) >= WHOLE_BODY_LIMIT:
                await run_in_threadpool(staged.write, bytes(pending))
                pending.clear()
        if pending:
            await run_in_threadpool(staged.write, bytes(pending))
        await run_in_threadpool(staged.commit)
    except BaseException:
        staged.abort()  # not awaited: it must run even when the request is being cancelled
        raise


async def upload(request: Request) -> Response:
    """PUT .../artifacts/<path>: the body becomes the file, published only once it has fully arrived."""
    path = _path_param(request)
    _require_serving(request)
    length = request.headers.get("content-length", "")
    try:
        if length.isdigit() and int(length) <= WHOLE_BODY_LIMIT:
            body = await request.body()
            await run_in_threadpool(_write_whole, artifact_locations_of(request), path, body)
        else:
            await _stream_to(await _folder(request, path), request)
    except ClientDisconnect:
        return Response(status_code=400)  # the client is gone; nothing was published
    return Response(status_code=200)


async def delete(request: Request) -> JSONResponse:
    """DELETE .../artifacts/<path>: a file or a whole folder; a missing path is not an error."""
    path = _path_param(request)
    folder = await _folder(request, path)
    try:
        await run_in_threadpool(delete_artifacts, folder.root, folder.relative)
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None
    return JSONResponse({})


def _listing(folder: ProxiedFolder) -> list[dict[str, Any]]:
    try:
        entries, _ = list_artifacts(folder.root, folder.relative)
    except (FileNotFoundError, NotADirectoryError):
        return []  # MLflow lists a missing folder, or a file, as empty
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None
    files: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {"path": entry.name, "is_dir": entry.is_dir}
        if entry.size:  # MLflow's proto JSON leaves out zero sizes
            item["file_size"] = entry.size
        files.append(item)
    return files


async def listing(request: Request) -> JSONResponse:
    """GET .../artifacts?path=: one level, names relative to ``path``."""
    path = request.query_params.get("path", "")
    folder = await _folder(request, path)
    files = await run_in_threadpool(_listing, folder)
    return JSONResponse({"files": files} if files else {})


async def multipart_unsupported(request: Request) -> Response:
    """POST .../mpu/{create,complete,abort}/<path>: MLflow's answer for a local store, so its client falls back to PUT."""
    _require_serving(request)
    raise ApiError("NOT_IMPLEMENTED", MULTIPART_UPLOAD_UNSUPPORTED, 501)


async def presigned_unsupported(request: Request) -> Response:
    """GET .../presigned/<path>: no presigned downloads from a local store; the client downloads through GET."""
    _require_serving(request)
    raise ApiError("NOT_IMPLEMENTED", MULTIPART_DOWNLOAD_UNSUPPORTED, 501)


# Paths under /api/2.0/mlflow-artifacts and /ajax-api/2.0/mlflow-artifacts (mounted in server/routes.py).
endpoints: list[Endpoint] = [
    Endpoint("/artifacts", listing, ("GET",)),
    Endpoint("/artifacts/{path:path}", download, ("GET", "HEAD")),
    Endpoint("/artifacts/{path:path}", upload, ("PUT",)),
    Endpoint("/artifacts/{path:path}", delete, ("DELETE",)),
    *(Endpoint(f"/mpu/{step}/{{path:path}}", multipart_unsupported, ("POST",)) for step in ("create", "complete", "abort")),
    Endpoint("/presigned/{path:path}", presigned_unsupported, ("GET",)),
]
