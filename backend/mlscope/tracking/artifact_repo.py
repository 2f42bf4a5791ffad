"""Where a run's artifacts go, chosen by its artifact URI as MLflow chooses an artifact repository.

``file:`` URIs and plain paths are folders on this machine (files land whole:
temp file + rename). ``mlflow-artifacts:`` URIs go through the tracking
server's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts/<path>``: PUT to
upload, GET to download, ``?path=`` to list), as do ``http(s)://`` artifact URIs.
"""

from __future__ import annotations

import json
import mimetypes
import os
import posixpath
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..store.atomic import atomic_write
from ..store.paths import NotLocalError, local_path
from .entities import FileInfo
from .rest import ARTIFACTS_PREFIX, HttpClient
from .validation import MlscopeException, artifact_subpath


class ArtifactRepository(Protocol):
    def write_bytes(self, path: str, data: bytes) -> None: ...
    def log_file(self, source: Path, path: str) -> None: ...
    def list(self, path: str) -> list[FileInfo]: ...
    def download(self, path: str, dst: Path | None) -> Path: ...


def repository_for(artifact_uri: str, tracking_uri: str) -> ArtifactRepository:
    scheme = urlsplit(artifact_uri).scheme.lower()
    if scheme == "mlflow-artifacts":
        return HttpArtifactRepository.for_proxy_uri(artifact_uri, tracking_uri)
    if scheme in ("http", "https"):
        return HttpArtifactRepository.for_http_uri(artifact_uri)
    try:
        return LocalArtifactRepository(local_path(artifact_uri))
    except NotLocalError:
        raise MlscopeException(
            f"Artifact URI '{artifact_uri}' needs an artifact store mlscope does not include (it writes local folders "
            "and MLflow's artifact proxy). Use MLflow's own client for this run's artifacts."
        ) from None


def _join(base: str, path: str) -> str:
    return posixpath.join(base, path) if path else base


class LocalArtifactRepository:
    """A run's artifact folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()

    def _target(self, path: str) -> Path:
        sub = artifact_subpath(path)
        return self.root.joinpath(*sub.split("/")) if sub else self.root

    def write_bytes(self, path: str, data: bytes) -> None:
        atomic_write(self._target(path), data)

    def log_file(self, source: Path, path: str) -> None:
        target = self._target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".mlscope-tmp-{uuid.uuid4().hex}"
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def list(self, path: str) -> list[FileInfo]:
        sub = artifact_subpath(path)
        folder = self._target(sub)
        if not folder.is_dir():
            return []
        found = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.startswith(".mlscope-tmp"):
                continue
            is_dir = entry.is_dir()
            found.append(FileInfo(_join(sub, entry.name), is_dir, None if is_dir else entry.stat().st_size))
        return found

    def download(self, path: str, dst: Path | None) -> Path:
        """The file or folder itself when no destination is given (as MLflow's local repository), else a copy."""
        source = self._target(path)
        if not source.exists():
            raise MlscopeException(f"No such file or directory: '{source}'", "RESOURCE_DOES_NOT_EXIST")
        if dst is None:
            return source
        target = dst.joinpath(*artifact_subpath(path).split("/")) if artifact_subpath(path) else dst
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".mlscope-tmp*"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return target


class HttpArtifactRepository:
    """A run's artifacts behind a tracking server's proxy: ``<server>/api/2.0/mlflow-artifacts/artifacts/<root>``."""

    def __init__(self, http: HttpClient, root: str) -> None:
        self.http = http
        self.root = root.strip("/")  # the run's artifact root relative to the proxy's artifacts folder

    @classmethod
    def for_proxy_uri(cls, artifact_uri: str, tracking_uri: str) -> HttpArtifactRepository:
        """``mlflow-artifacts:/<path>`` (served by the tracking server) or ``mlflow-artifacts://host:port/<path>``."""
        parts = urlsplit(artifact_uri)
        tracking = urlsplit(tracking_uri)
        if tracking.scheme not in ("http", "https"):
            raise MlscopeException(
                f"Run artifacts at {artifact_uri} are served by a tracking server, but the tracking URI is {tracking_uri!r}: "
                "set it to the server, e.g. mlscope.set_tracking_uri('http://localhost:5000')."
            )
        base = f"{tracking.scheme}://{parts.netloc or tracking.netloc}{tracking.path.rstrip('/')}"
        return cls(HttpClient(base), unquote(parts.path))

    @classmethod
    def for_http_uri(cls, artifact_uri: str) -> HttpArtifactRepository:
        parts = urlsplit(artifact_uri)
        if ARTIFACTS_PREFIX not in parts.path:
            raise MlscopeException(f"Artifact URI '{artifact_uri}' is not a tracking server's artifact proxy ({ARTIFACTS_PREFIX}/...)")
        prefix, root = parts.path.split(ARTIFACTS_PREFIX, 1)
        return cls(HttpClient(f"{parts.scheme}://{parts.netloc}{prefix}"), unquote(root))

    def _url_path(self, path: str) -> str:
        sub = artifact_subpath(path)
        return "/".join(p for p in (ARTIFACTS_PREFIX, self.root, sub) if p)

    def write_bytes(self, path: str, data: bytes) -> None:
        self.http.request("PUT", self._url_path(path), data=data, headers={"Content-Type": _mime(path)}).read()

    def log_file(self, source: Path, path: str) -> None:
        with open(source, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            self.http.request("PUT", self._url_path(path), data=handle, length=size, headers={"Content-Type": _mime(path)}).read()

    def list(self, path: str) -> list[FileInfo]:
        sub = artifact_subpath(path)
        listed = "/".join(p for p in (self.root, sub) if p)
        body = self.http.request("GET", ARTIFACTS_PREFIX, params={"path": listed}).read()
        files = json.loads(body or b"{}").get("files", [])
        found = []
        for item in files:
            name = artifact_subpath(str(item["path"]))  # never trust a server path to stay inside
            size = item.get("file_size")
            found.append(FileInfo(_join(sub, name), bool(item.get("is_dir")), int(size) if size is not None else None))
        # As MLflow: listing a single file's path gives no entries.
        if len(found) == 1 and not found[0].is_dir and sub and found[0].path == _join(sub, posixpath.basename(sub)):
            return []
        return sorted(found, key=lambda f: f.path)

    def download(self, path: str, dst: Path | None) -> Path:
        """Files are downloaded whole (temp file + rename); a folder is downloaded file by file."""
        dst = dst if dst is not None else Path(tempfile.mkdtemp(prefix="mlscope-artifacts-"))
        sub = artifact_subpath(path)
        listing = self.list(sub)
        target = dst.joinpath(*sub.split("/")) if sub else dst
        if listing or not sub:
            target.mkdir(parents=True, exist_ok=True)
            for item in listing:
                self.download(item.path, dst)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".mlscope-tmp-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as handle:
                self.http.download(self._url_path(sub), handle)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return target


def _mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
