"""Artifact logging for ``MlscopeClient``: files, folders, text, dicts, images, figures, tables.

Each file lands whole (temp file + rename) in the run's local artifact folder,
under the same names MLflow uses (``images/<key>+step+N+timestamp+T+uuid.png``).
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..store.writer import TreeWriter, atomic_write, now_ms
from . import images, validation

if TYPE_CHECKING:
    from .entities import TrackedRun


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the run's artifact root, '/'-separated
    is_dir: bool
    file_size: int | None


class ArtifactsMixin:
    writer: TreeWriter

    def get_run(self, run_id: str) -> TrackedRun:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def set_tag(self, run_id: str, key: str, value: Any) -> None:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def _artifact_target(self, run_id: str, artifact_path: str | None) -> Path:
        self.writer.check_active(run_id)
        root = self.writer.artifact_dir(run_id)
        sub = validation.artifact_subpath(artifact_path)
        return root.joinpath(*sub.split("/")) if sub else root

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        """Write bytes as one artifact file (the primitive every other log_* uses)."""
        sub = validation.artifact_subpath(artifact_file)
        if not sub:
            raise validation.MlscopeException("artifact_file must name a file")
        atomic_write(self._artifact_target(run_id, sub), data)

    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        source = Path(local_path)
        if not source.is_file():
            raise validation.MlscopeException(f"log_artifact needs a file; {str(source)!r} is not one (use log_artifacts for folders)")
        target = self._artifact_target(run_id, artifact_path) / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".mlscope-tmp-{uuid.uuid4().hex}"
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def log_artifacts(self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Copy the contents of a folder (not the folder itself), as MLflow does."""
        source = Path(local_dir)
        if not source.is_dir():
            raise validation.MlscopeException(f"log_artifacts needs a folder; {str(source)!r} is not one")
        base = validation.artifact_subpath(artifact_path)
        for folder, _dirs, files in os.walk(source):
            rel = Path(folder).relative_to(source).as_posix()
            sub = posixpath.join(base, rel) if rel != "." else base
            self._artifact_target(run_id, sub).mkdir(parents=True, exist_ok=True)
            for name in files:
                self.log_artifact(run_id, Path(folder) / name, sub or None)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """YAML for .yml/.yaml files, indented JSON otherwise (unserialisable values via str), as MLflow."""
        if artifact_file.lower().endswith((".yml", ".yaml")):
            text = yaml.safe_dump(dictionary, indent=2, default_flow_style=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        self.log_text(run_id, text, artifact_file)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """A static image (artifact_file) or one point of an image series (key, step), named as MLflow names them.

        Without Pillow no WebP can be made, so the ``+compressed.webp`` twin MLflow's UI
        shows as the thumbnail holds the same PNG bytes (browsers sniff the format).
        """
        if artifact_file is not None and any(arg is not None for arg in (key, step, timestamp)):
            raise TypeError("The `artifact_file` parameter cannot be used in conjunction with `key`, `step`, or `timestamp`.")
        if artifact_file is None and key is None:
            raise TypeError("Invalid arguments: Please specify exactly one of `artifact_file` or `key`.")
        png = images.to_png(image)
        if artifact_file is not None:
            self.log_bytes(run_id, png, artifact_file)
            return
        assert key is not None
        validation.image_key(key)
        stem = f"images/{key.replace('/', '~')}+step+{step or 0}+timestamp+{timestamp or now_ms()}+{uuid.uuid4()}"
        self.log_bytes(run_id, png, f"{stem}.png")
        self.log_bytes(run_id, _thumbnail(image, png), f"{stem}+compressed.webp")
        self.set_tag(run_id, "mlflow.loggedImages", True)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        self.log_bytes(run_id, images.figure_bytes(figure, artifact_file), artifact_file)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """A dict of columns (or a DataFrame) as MLflow's split-oriented JSON, listed in mlflow.loggedArtifacts."""
        if not artifact_file.endswith(".json"):
            raise validation.MlscopeException(f"Invalid artifact file path '{artifact_file}': log_table writes .json files")
        if hasattr(data, "to_json"):
            text = data.to_json(orient="split", index=False, date_format="iso")
        else:
            columns = list(data)
            values = [v if isinstance(v, (list, tuple)) else [v] for v in data.values()]
            rows = [list(row) for row in zip(*values, strict=True)]
            text = json.dumps({"columns": columns, "data": rows}, default=str)
        self.log_text(run_id, text, artifact_file)
        current = json.loads(self.get_run(run_id).data.tags.get("mlflow.loggedArtifacts", "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in current:
            current.append(entry)
            self.set_tag(run_id, "mlflow.loggedArtifacts", json.dumps(current))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """One folder level, like MLflow's list_artifacts (paths relative to the artifact root)."""
        root = self.writer.artifact_dir(run_id)
        sub = validation.artifact_subpath(path)
        folder = root.joinpath(*sub.split("/")) if sub else root
        if not folder.is_dir():
            return []
        found = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.startswith(".mlscope-tmp"):
                continue
            rel = posixpath.join(sub, entry.name) if sub else entry.name
            is_dir = entry.is_dir()
            found.append(FileInfo(rel, is_dir, None if is_dir else entry.stat().st_size))
        return found

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        uri = self.get_run(run_id).info.artifact_uri
        sub = validation.artifact_subpath(artifact_path)
        return f"{uri}/{sub}" if sub else uri


def _thumbnail(image: Any, png: bytes) -> bytes:
    """A real WebP thumbnail when Pillow can make one, else the PNG itself."""
    try:
        import io

        import PIL.Image
    except ImportError:
        return png
    pil = PIL.Image.open(io.BytesIO(png))
    pil.thumbnail((256, 256))
    buffer = io.BytesIO()
    try:
        pil.save(buffer, format="WEBP")
    except (KeyError, OSError):
        return png
    return buffer.getvalue()
