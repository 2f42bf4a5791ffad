"""Write MLflow 3 logged models (``<exp>/models/m-<hex>/``) and run outputs as FileStore does, never torn.

A new model folder (meta.yaml, metrics/, params/, tags/ and its first params
and tags) is built under a temp name and renamed whole; later meta.yaml
rewrites (finalize, delete) and tag/param files are replaced atomically.
Field set and YAML bytes follow FileStore's ``create_logged_model``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..names import generate_run_name
from . import meta_yaml, reader
from .atomic import atomic_write, dump_yaml, key_path, now_ms, tmp_name
from .errors import StoreError
from .model import ACTIVE, DELETED
from .paths import RESERVED_ROOT_FOLDERS, TRASH

MODELS = "models"
STATUS_INTS = {"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3}


class LoggedModelWriter:
    """Create and change the logged models of one mlruns root."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    # --------------------------------------------------------------- finding

    def model_dir(self, model_id: str, *, allow_deleted: bool = False) -> Path:
        """The folder of a live model (in any experiment, live or trashed); 404 as FileStore words it."""
        if not model_id or "/" in model_id or model_id.startswith(".") or "\\" in model_id:
            raise StoreError(f"Model '{model_id}' not found", "RESOURCE_DOES_NOT_EXIST")
        for parent in (self.root, self.root / TRASH):
            try:
                names = sorted(os.listdir(parent))
            except OSError:
                continue
            for name in names:
                if name in RESERVED_ROOT_FOLDERS or name.startswith("."):
                    continue
                candidate = parent / name / MODELS / model_id
                if (candidate / "meta.yaml").is_file():
                    meta = meta_yaml.read_yaml(candidate / "meta.yaml")
                    if meta.get("lifecycle_stage") == DELETED and not allow_deleted:
                        break
                    if str(meta.get("experiment_id")) != name:
                        raise StoreError(f"Model '{model_id}' metadata is in invalid state.", "INVALID_STATE")
                    return candidate
        raise StoreError(f"Model '{model_id}' not found", "RESOURCE_DOES_NOT_EXIST")

    def read(self, model_id: str) -> reader.LoggedModel:
        folder = self.model_dir(model_id)
        return next(m for m in reader.read_logged_models(folder.parent.parent) if m.model_id == model_id)

    # -------------------------------------------------------------- writing

    def create(
        self,
        experiment_dir: Path,
        experiment_id: str,
        artifact_location: Callable[[str], str],
        *,
        model_id: str | None = None,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Iterable[tuple[str, str]] = (),
        tags: Iterable[tuple[str, str]] = (),
    ) -> str:
        """A PENDING model; ``artifact_location(model_id)`` is where clients upload its files."""
        model_id = model_id or f"m-{uuid.uuid4().hex}"
        created = now_ms()
        meta: dict[str, Any] = {
            "artifact_location": artifact_location(model_id),
            "creation_timestamp": created,
            "experiment_id": experiment_id,
            "last_updated_timestamp": created,
            "lifecycle_stage": ACTIVE,
            "model_id": model_id,
            "model_type": model_type,
            "name": name or generate_run_name(),
            "source_run_id": source_run_id,
            "status": STATUS_INTS["LOGGED_MODEL_PENDING"],
            "status_message": None,
        }
        models = experiment_dir / MODELS
        models.mkdir(exist_ok=True)
        tmp = tmp_name(models)
        tmp.mkdir()
        try:
            (tmp / "meta.yaml").write_bytes(dump_yaml(meta))
            for sub in ("metrics", "params"):
                (tmp / sub).mkdir()
            for folder, pairs in (("params", params), ("tags", tags)):
                for key, value in pairs:
                    path = key_path(tmp / folder, key)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(value.encode("utf-8"))
            os.rename(tmp, models / model_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return model_id

    def _rewrite(self, model_id: str, **changes: Any) -> None:
        folder = self.model_dir(model_id)
        meta = meta_yaml.read_yaml(folder / "meta.yaml")
        meta.update(changes, last_updated_timestamp=now_ms())
        atomic_write(folder / "meta.yaml", dump_yaml(meta))

    def finalize(self, model_id: str, status: str) -> None:
        self._rewrite(model_id, status=STATUS_INTS[status])

    def delete(self, model_id: str) -> None:
        """Soft delete, as FileStore: the folder stays, meta.yaml says deleted, reads say not found."""
        self._rewrite(model_id, lifecycle_stage=DELETED)

    def set_tags(self, model_id: str, tags: Iterable[tuple[str, str]]) -> None:
        folder = self.model_dir(model_id)
        for key, value in tags:
            atomic_write(key_path(folder / "tags", key), value.encode("utf-8"))

    def delete_tag(self, model_id: str, key: str) -> None:
        path = key_path(self.model_dir(model_id) / "tags", key)
        if not path.is_file():
            raise StoreError(f"No tag with key {key!r} found for model with ID {model_id!r}.", "RESOURCE_DOES_NOT_EXIST")
        path.unlink()

    def log_params(self, model_id: str, params: Iterable[tuple[str, str]]) -> None:
        """Model params are overwritten in place (FileStore does not keep them immutable)."""
        folder = self.model_dir(model_id)
        for key, value in params:
            atomic_write(key_path(folder / "params", key), value.encode("utf-8"))


def link_outputs(run_dir: Path, models: Iterable[tuple[str, int]]) -> None:
    """``outputs/<model_id>/meta.yaml`` per (model_id, step) the run produced; the first link wins."""
    for model_id, step in models:
        if not model_id or "/" in model_id or model_id.startswith("."):
            raise StoreError(f"Invalid model id {model_id!r}")
        folder = run_dir / "outputs" / model_id
        if folder.exists():
            continue
        link = {
            "destination_id": model_id,
            "destination_type": "MODEL_OUTPUT",
            "source_id": model_id,
            "source_type": "RUN_OUTPUT",
            "step": step,
            "tags": {},
        }
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(folder.parent)
        tmp.mkdir()
        try:
            (tmp / "meta.yaml").write_bytes(dump_yaml(link))
            os.rename(tmp, folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not folder.exists():
                raise
