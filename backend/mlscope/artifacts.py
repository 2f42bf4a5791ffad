"""``mlscope.artifacts``: download and read run artifacts by URI, as ``mlflow.artifacts`` does.

URIs: ``runs:/<run_id>/<path>``, ``file:`` URIs and local paths, ``mlflow-artifacts:/...``
(through the tracking server's proxy) and ``http(s)://.../api/2.0/mlflow-artifacts/artifacts/...``.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .tracking.artifact_repo import repository_for
from .tracking.client import MlscopeClient
from .tracking.entities import FileInfo
from .tracking.fluent import client, get_tracking_uri
from .tracking.validation import MlscopeException

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]


def _client(tracking_uri: str | None) -> MlscopeClient:
    return MlscopeClient(tracking_uri) if tracking_uri else client()


def _split_runs_uri(uri: str) -> tuple[str, str]:
    """("run_id", "path") of ``runs:/<run_id>/<path>``."""
    rest = uri[len("runs:") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise MlscopeException(f"Not a proper runs:/ URI: {uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'")
    return run_id, path


def _split_root(uri: str) -> tuple[str, str]:
    """An artifact URI as (the folder URI, the last path part), as MLflow splits it before downloading."""
    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:  # a plain path (or a Windows drive)
        path = Path(uri)
        return str(path.parent), path.name
    folder, name = posixpath.split(parts.path.rstrip("/"))
    return urlunsplit((parts.scheme, parts.netloc, folder or "/", parts.query, parts.fragment)), name


def _checked(run_id: str | None, artifact_uri: str | None, artifact_path: str | None) -> None:
    if (run_id is None) == (artifact_uri is None):
        raise MlscopeException("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise MlscopeException("`artifact_path` cannot be specified if `artifact_uri` is specified")


def download_artifacts(artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None,
                       dst_path: str | os.PathLike[str] | None = None, tracking_uri: str | None = None,
                       registry_uri: str | None = None) -> str:  # fmt: skip
    """A local path to the artifact file or folder (the file itself for local runs without dst_path, else a copy)."""
    _checked(run_id, artifact_uri, artifact_path)
    if dst_path is not None:
        Path(dst_path).mkdir(parents=True, exist_ok=True)
    if artifact_uri is not None and artifact_uri.startswith("runs:"):
        run_id, artifact_path = _split_runs_uri(artifact_uri)
    if run_id is not None:
        return _client(tracking_uri).download_artifacts(run_id, artifact_path or "", dst_path)
    assert artifact_uri is not None
    root, name = _split_root(artifact_uri)
    repository = repository_for(root, tracking_uri or get_tracking_uri())
    return str(repository.download(name, Path(dst_path) if dst_path is not None else None))


def list_artifacts(artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None,
                   tracking_uri: str | None = None) -> list[FileInfo]:  # fmt: skip
    """One folder level of a run's artifacts (paths relative to the run's artifact root, or to artifact_uri)."""
    _checked(run_id, artifact_uri, artifact_path)
    if artifact_uri is not None and artifact_uri.startswith("runs:"):
        run_id, artifact_path = _split_runs_uri(artifact_uri)
    if run_id is not None:
        return _client(tracking_uri).list_artifacts(run_id, artifact_path)
    assert artifact_uri is not None
    return repository_for(artifact_uri, tracking_uri or get_tracking_uri()).list("")


def _read(artifact_uri: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp, open(download_artifacts(artifact_uri, dst_path=tmp), "rb") as handle:
        return handle.read()


def _text(artifact_uri: str) -> str:
    try:
        return _read(artifact_uri).decode("utf-8")
    except UnicodeDecodeError:
        raise MlscopeException(
            f"Artifact {artifact_uri!r} is not valid UTF-8. To read a file in another encoding, download it with "
            "`mlscope.artifacts.download_artifacts` and open it with the correct `encoding`.",
            "BAD_REQUEST",
        ) from None


def load_text(artifact_uri: str) -> str:
    return _text(artifact_uri)


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """A JSON artifact as a dict (as MLflow: JSON only)."""
    try:
        return json.loads(_text(artifact_uri))  # type: ignore[no-any-return]
    except json.JSONDecodeError:
        raise MlscopeException("Unable to form a JSON object from file content", "BAD_REQUEST") from None


def load_image(artifact_uri: str) -> Any:
    """An image artifact as a PIL image (needs Pillow)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("`load_image` requires Pillow. Please install it via: pip install Pillow") from exc
    import io

    try:
        image = Image.open(io.BytesIO(_read(artifact_uri)))
        image.load()
        return image
    except Exception:
        raise MlscopeException("Unable to form a PIL Image object from file content", "BAD_REQUEST") from None
