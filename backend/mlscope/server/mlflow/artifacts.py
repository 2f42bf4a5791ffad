"""MLflow's two artifact endpoints: ``artifacts/list`` and ``get-artifact``.

Shapes follow MLflow's FileStore + LocalArtifactRepository: one directory
level sorted by path, ``file_size`` only for non-empty files, missing folders
list as empty, downloads always as attachments with ``nosniff``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...store.artifacts import list_artifacts
from ..args import request_args
from ..artifacts.access import ArtifactSource, artifact_source, relative_arg, resolve_file
from ..artifacts.files import SANDBOX_CSP, file_response, mlflow_content_type
from ..errors import invalid
from .endpoint import Endpoint, get


def _mlflow_listing(source: ArtifactSource, relative: str) -> list[dict[str, Any]]:
    try:
        entries, _ = list_artifacts(source.root, relative)
    except (FileNotFoundError, NotADirectoryError):
        return []  # MLflow lists a missing folder or a file as empty
    files = []
    for entry in entries:
        item: dict[str, Any] = {"path": entry.path, "is_dir": entry.is_dir}
        if entry.size:
            item["file_size"] = entry.size
        files.append(item)
    return files


async def mlflow_list_artifacts(request: Request) -> JSONResponse:
    """GET .../mlflow/artifacts/list?run_id=&path=&page_token= (FileStore never pages)."""
    args = await request_args(request)
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    try:
        files = await run_in_threadpool(_mlflow_listing, source, relative)
    except ValueError as exc:  # UnsafePathError: a symlink out of the root
        raise invalid(str(exc)) from None
    body: dict[str, Any] = {"root_uri": source.run.info.artifact_uri}
    if files:
        body["files"] = files
    return JSONResponse(body)


async def mlflow_get_artifact(request: Request) -> Response:
    """GET /get-artifact?run_uuid=&path= — raw bytes as an attachment (text-like files as text/plain)."""
    args = await request_args(request)
    if not args.get("path"):
        raise invalid("Missing value for required parameter 'path'.")
    source = await artifact_source(request, args)
    relative = relative_arg(args)
    path = await run_in_threadpool(resolve_file, source, relative)
    name = PurePosixPath(relative).name
    return await file_response(request, path, name, mlflow_content_type(name), csp=SANDBOX_CSP)


endpoints: list[Endpoint] = [
    get("/artifacts/list", mlflow_list_artifacts),
    Endpoint("/get-artifact", mlflow_get_artifact, ("GET", "HEAD"), ajax_only=True),
]

# MLflow serves downloads at the top level too (the UI's ArtifactUtils builds `get-artifact?...`).
routes: list[BaseRoute] = [Route("/get-artifact", mlflow_get_artifact, methods=["GET", "HEAD"])]
