"""Artifact logging for ``MlscopeClient``: files, folders, text, dicts, images, figures; listing and downloads.

Each run's artifacts go to the repository its artifact URI names (a local
folder or a tracking server's artifact proxy), under the names MLflow uses
(``images/<key>+step+N+timestamp+T+uuid.png``).
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..store.writer import now_ms
from . import images, validation
from .artifact_repo import ArtifactRepository, repository_for
from .entities import FileInfo

if TYPE_CHECKING:
    from .entities import TrackedRun

COMPRESSED_IMAGE_SIZE = 256  # MLflow's thumbnail: the longer side scaled to 256 px


class ArtifactsMixin:
    tracking_uri: str
    _artifact_uris: dict[str, str]

    def get_run(self, run_id: str) -> TrackedRun:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _repository(self, run_id: str) -> ArtifactRepository:
        """The run's artifact repository; its artifact URI is fetched once per run (it never changes)."""
        cache = self.__dict__.setdefault("_artifact_uris", {})
        uri = cache.get(run_id)
        if uri is None:
            uri = cache[run_id] = self.get_run(run_id).info.artifact_uri
        return repository_for(uri, self.tracking_uri)

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        """Write bytes as one artifact file (the primitive every other log_* uses)."""
        sub = validation.artifact_subpath(artifact_file)
        if not sub:
            raise validation.MlscopeException("artifact_file must name a file")
        self._repository(run_id).write_bytes(sub, data)

    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        source = Path(local_path)
        if not source.is_file():
            raise validation.MlscopeException(f"log_artifact needs a file; {str(source)!r} is not one (use log_artifacts for folders)")
        base = validation.artifact_subpath(artifact_path)
        self._repository(run_id).log_file(source, posixpath.join(base, source.name) if base else source.name)

    def log_artifacts(self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Upload the contents of a folder (not the folder itself), as MLflow does."""
        source = Path(local_dir)
        if not source.is_dir():
            raise validation.MlscopeException(f"log_artifacts needs a folder; {str(source)!r} is not one")
        base = validation.artifact_subpath(artifact_path)
        repository = self._repository(run_id)
        for folder, _dirs, files in os.walk(source):
            rel = Path(folder).relative_to(source).as_posix()
            sub = posixpath.join(base, rel) if rel != "." else base
            for name in sorted(files):
                repository.log_file(Path(folder) / name, posixpath.join(sub, name) if sub else name)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """YAML for .yml/.yaml files, indented JSON otherwise (unserialisable values via str), as MLflow."""
        if artifact_file.lower().endswith((".yml", ".yaml")):
            text = yaml.safe_dump(dictionary, indent=2, default_flow_style=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        self.log_text(run_id, text, artifact_file)

    def log_image(self, run_id: str, image: Any, artifact_file: str | None = None, key: str | None = None,
                  step: int | None = None, timestamp: int | None = None, synchronous: bool | None = None) -> None:  # fmt: skip
        """A static image (artifact_file) or one point of an image series (key, step), named as MLflow names them.

        The series' ``+compressed.webp`` twin is scaled so its longer side is 256 px, as MLflow's;
        without Pillow no WebP can be made and it holds the PNG itself (browsers sniff the format).
        """
        if artifact_file is not None and any(arg is not None for arg in (key, step, timestamp)):
            raise TypeError("The `artifact_file` parameter cannot be used in conjunction with `key`, `step`, or `timestamp`.")
        if artifact_file is None and key is None:
            raise TypeError("Invalid arguments: Please specify exactly one of `artifact_file` or `key`.")
        png = images.to_png(image)
        if artifact_file is not None:
            self.log_bytes(run_id, _in_format_of(png, artifact_file), artifact_file)
            return
        assert key is not None
        validation.image_key(key)
        stem = f"images/{key.replace('/', '~')}+step+{step or 0}+timestamp+{timestamp or now_ms()}+{uuid.uuid4()}"
        self.log_bytes(run_id, png, f"{stem}.png")
        self.log_bytes(run_id, _thumbnail(png), f"{stem}+compressed.webp")
        self.set_tag(run_id, "mlflow.loggedImages", True)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None) -> None:
        self.log_bytes(run_id, images.figure_bytes(figure, artifact_file, save_kwargs), artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """One folder level, like MLflow's list_artifacts (paths relative to the artifact root)."""
        return self._repository(run_id).list(validation.artifact_subpath(path))

    def download_artifacts(self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None) -> str:
        """A local path to the artifact (file or folder): the file itself for local runs without dst_path, else a copy."""
        if dst_path is not None:
            Path(dst_path).mkdir(parents=True, exist_ok=True)
        return str(self._repository(run_id).download(validation.artifact_subpath(path), Path(dst_path) if dst_path is not None else None))

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        uri = self.get_run(run_id).info.artifact_uri
        sub = validation.artifact_subpath(artifact_path)
        return f"{uri}/{sub}" if sub else uri


def _pil() -> Any:
    try:
        import PIL.Image
    except ImportError:
        return None
    return PIL.Image


def _in_format_of(png: bytes, artifact_file: str) -> bytes:
    """PNG bytes re-encoded in the file's format (.jpg, .webp, ...) when Pillow is there, as MLflow's image.save does."""
    ext = artifact_file.rsplit(".", 1)[-1].lower() if "." in artifact_file else "png"
    pil = _pil()
    if ext == "png" or pil is None:
        return png
    with pil.open(io.BytesIO(png)) as picture:
        out = io.BytesIO()
        converted = picture.convert("RGB") if ext in ("jpg", "jpeg") and picture.mode not in ("RGB", "L") else picture
        try:
            converted.save(out, format=pil.registered_extensions().get(f".{ext}", "PNG"))
        except (KeyError, OSError, ValueError):
            return png
        return out.getvalue()


def _thumbnail(png: bytes) -> bytes:
    """MLflow's compress_image_size: longer side scaled (up or down) to 256 px, saved as WebP; the PNG without Pillow."""
    pil = _pil()
    if pil is None:
        return png
    with pil.open(io.BytesIO(png)) as picture:
        width, height = picture.size
        if width > height:
            size = (COMPRESSED_IMAGE_SIZE, int(height * (COMPRESSED_IMAGE_SIZE / width)))
        else:
            size = (int(width * (COMPRESSED_IMAGE_SIZE / height)), COMPRESSED_IMAGE_SIZE)
        buffer = io.BytesIO()
        try:
            picture.resize(size).save(buffer, format="WEBP")
        except (KeyError, OSError):
            return png
        return buffer.getvalue()
