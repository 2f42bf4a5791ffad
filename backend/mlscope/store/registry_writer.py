"""Write MLflow's model registry (``<mlruns>/models/``) as its FileStore does, but never torn.

Same files and fields as ``mlflow.store.model_registry.file_store.FileStore``
(so MLflow reads back everything written here), with these guarantees:

- every meta.yaml, tag and alias file is replaced whole (temp file + rename);
- a new model or version folder is built under a temp name and renamed into
  place, so readers see all of it or none of it, and two writers racing for
  the next version number both succeed with different numbers;
- rename builds the renamed copy first and removes the old folder last, so a
  crash leaves a model under one name or both, never lost. (MLflow's own
  rename drops the model's tags and aliases and fails on versions with tags.)

Errors are ``StoreError`` with MLflow's messages and error codes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .atomic import atomic_write, dump_yaml, key_path, locked, now_ms, tmp_name
from .errors import MalformedError, StoreError
from .meta_yaml import read_yaml
from .reader import experiment_dirs, read_key_values
from .registry_model import (
    ACTIVE_STAGES,
    MODEL_VERSIONS_TAG,
    STAGE_ARCHIVED,
    STAGE_DELETED_INTERNAL,
    STAGE_NONE,
    ModelVersion,
    RegisteredModel,
    canonical_stage,
    parse_version,
    validate_alias,
    validate_model_name,
    validate_tag,
)
from .registry_reader import (
    VERSION_PREFIX,
    models_dir,
    read_aliases,
    read_model_version,
    read_registered_model,
    version_dirs,
)

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
WORKSPACE = "default"


class RegistryWriter:
    """Every registry write on one mlruns root; each returns the entity as read back from disk."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()
        self.models = models_dir(self.root)

    # ------------------------------------------------------------- helpers

    def _ensure_models_dir(self) -> None:
        self.models.mkdir(parents=True, exist_ok=True)

    def model_dir(self, name: object) -> Path:
        """The folder of an existing model, or MLflow's not-found error."""
        folder = self.models / validate_model_name(name)
        if not (folder / "meta.yaml").is_file():
            raise StoreError(f"Registered Model with name={name} not found", NOT_FOUND)
        return folder

    def get_registered_model(self, name: object) -> RegisteredModel:
        try:
            return read_registered_model(self.model_dir(name))
        except MalformedError as exc:
            raise StoreError(f"Registered Model with name={name} cannot be read: {exc}", "INVALID_STATE") from None

    def version_dir(self, name: object, version: object) -> Path:
        """The folder of a live (not deleted) version, or MLflow's not-found error."""
        number = parse_version(version)
        folder = self.model_dir(name) / f"{VERSION_PREFIX}{number}"
        try:
            meta = read_yaml(folder / "meta.yaml")
        except MalformedError:
            meta = None
        if meta is None or meta.get("current_stage") == STAGE_DELETED_INTERNAL:
            raise StoreError(f"Model Version (name={name}, version={number}) not found", NOT_FOUND)
        return folder

    def get_model_version(self, name: object, version: object) -> ModelVersion:
        folder = self.version_dir(name, version)
        return read_model_version(folder, read_aliases(folder.parent))

    def _rewrite_model_meta(self, folder: Path, **changes: Any) -> None:
        """Rewrite a model's meta.yaml with changes; its aliases copy follows the alias files, as in MLflow."""
        meta = read_yaml(folder / "meta.yaml")
        meta.update(changes)
        meta["aliases"] = read_aliases(folder)
        meta.pop("tags", None)
        meta.pop("latest_versions", None)
        atomic_write(folder / "meta.yaml", dump_yaml(meta))

    def _touch(self, folder: Path, when: int | None = None) -> None:
        self._rewrite_model_meta(folder, last_updated_timestamp=when or now_ms())

    @staticmethod
    def _rewrite_version_meta(folder: Path, **changes: Any) -> None:
        meta = read_yaml(folder / "meta.yaml")
        meta.update(changes)
        for derived in ("tags", "aliases", "metrics", "params"):
            meta.pop(derived, None)
        atomic_write(folder / "meta.yaml", dump_yaml(meta))

    @staticmethod
    def _write_tags(folder: Path, tags: Iterable[tuple[str, str]]) -> None:
        for key, value in tags:
            path = key_path(folder / "tags", key)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(value.encode("utf-8"))

    def _build_then_rename(self, target: Path, build: Any) -> bool:
        """Build a folder under a temp name, then rename it to target; False if target already exists."""
        tmp = tmp_name(target.parent)
        tmp.mkdir(parents=True)
        try:
            build(tmp)
            if target.exists():
                return False
            os.rename(tmp, target)
            return True
        except OSError:
            if target.exists():
                return False
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------ registered models

    def create_registered_model(self, name: object, tags: dict[str, str] | None = None,
                                description: str | None = None) -> RegisteredModel:
        name = validate_model_name(name)
        checked = [validate_tag(k, v) for k, v in (tags or {}).items()]
        self._ensure_models_dir()
        created = now_ms()
        meta = {
            "aliases": {},
            "creation_timestamp": created,
            "deployment_job_id": None,
            "deployment_job_state": None,
            "description": description,
            "last_updated_timestamp": created,
            "name": name,
            "workspace": WORKSPACE,
        }

        def build(folder: Path) -> None:
            (folder / "meta.yaml").write_bytes(dump_yaml(meta))
            self._write_tags(folder, checked)

        with locked(self.models):
            if not self._build_then_rename(self.models / name, build):
                raise StoreError(f"Registered Model (name={name}) already exists.", ALREADY_EXISTS)
        return self.get_registered_model(name)

    def update_registered_model(self, name: object, description: str | None) -> RegisteredModel:
        folder = self.model_dir(name)
        self._rewrite_model_meta(folder, description=description, last_updated_timestamp=now_ms())
        return self.get_registered_model(name)

    def rename_registered_model(self, name: object, new_name: object) -> RegisteredModel:
        new_name = validate_model_name(new_name, "new_name")
        old = self.model_dir(name)
        with locked(self.models):
            target = self.models / new_name
            if target.exists():
                raise StoreError(f"Registered Model (name={new_name}) already exists.", ALREADY_EXISTS)
            updated = now_ms()

            def build(folder: Path) -> None:
                shutil.copytree(old, folder, dirs_exist_ok=True)
                for version in version_dirs(folder):
                    self._rewrite_version_meta(version, name=new_name, last_updated_timestamp=updated)
                self._rewrite_model_meta(folder, name=new_name, last_updated_timestamp=updated)

            if not self._build_then_rename(target, build):
                raise StoreError(f"Registered Model (name={new_name}) already exists.", ALREADY_EXISTS)
            self._remove(old)
        return self.get_registered_model(new_name)

    def _remove(self, folder: Path) -> None:
        """Take a folder out of sight in one rename, then delete it."""
        doomed = tmp_name(folder.parent)
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def delete_registered_model(self, name: object) -> None:
        folder = self.model_dir(name)
        with locked(self.models):
            self._remove(folder)

    def set_registered_model_tag(self, name: object, key: object, value: object) -> None:
        key, text = validate_tag(key, value)
        folder = self.model_dir(name)
        atomic_write(key_path(folder / "tags", key), text.encode("utf-8"))
        self._touch(folder)

    def delete_registered_model_tag(self, name: object, key: object) -> None:
        key, _ = validate_tag(key, "")
        folder = self.model_dir(name)
        path = key_path(folder / "tags", key)
        if path.is_file():
            path.unlink()
            self._touch(folder)

    # ---------------------------------------------------------------- aliases

    def set_registered_model_alias(self, name: object, alias: object, version: object) -> None:
        alias = validate_alias(alias, for_write=False)
        folder = self.model_dir(name)
        validate_alias(alias, for_write=True)
        number = parse_version(version)
        self.version_dir(name, number)
        atomic_write(folder / "aliases" / alias, str(number).encode("utf-8"))
        self._touch(folder)

    def delete_registered_model_alias(self, name: object, alias: object) -> None:
        alias = validate_alias(alias, for_write=False)
        folder = self.model_dir(name)
        path = folder / "aliases" / alias
        if path.is_file():
            path.unlink()
            self._touch(folder)

    # ---------------------------------------------------------- model versions

    def create_model_version(
        self,
        name: object,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        storage_location: str | None = None,
    ) -> ModelVersion:
        """The next version (max existing + 1, deleted ones counted), built whole and renamed into place."""
        checked = [validate_tag(k, v) for k, v in (tags or {}).items()]
        folder = self.model_dir(name)
        for _attempt in range(20):
            created = now_ms()
            existing = [_version_number(p) for p in version_dirs(folder)]
            number = max([n for n in existing if n is not None], default=0) + 1
            meta = {
                "creation_timestamp": created,
                "current_stage": STAGE_NONE,
                "deployment_job_state": None,
                "description": description,
                "last_updated_timestamp": created,
                "model_id": model_id,
                "name": str(name),
                "run_id": run_id,
                "run_link": run_link,
                "source": source,
                "status": "READY",
                "status_message": None,
                "storage_location": storage_location or source,
                "user_id": None,
                "version": number,
                "workspace": WORKSPACE,
            }

            def build(tmp: Path, meta: dict[str, Any] = meta) -> None:
                (tmp / "meta.yaml").write_bytes(dump_yaml(meta))
                self._write_tags(tmp, checked)

            if self._build_then_rename(folder / f"{VERSION_PREFIX}{number}", build):
                self._touch(folder, created)
                return self.get_model_version(name, number)
        raise StoreError(f"Model Version creation error (name={name}): too many concurrent writers", "INTERNAL_ERROR")

    def update_model_version(self, name: object, version: object, description: str | None) -> ModelVersion:
        folder = self.version_dir(name, version)
        self._rewrite_version_meta(folder, description=description, last_updated_timestamp=now_ms())
        return self.get_model_version(name, version)

    def transition_model_version_stage(self, name: object, version: object, stage: object,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        target = canonical_stage(stage)
        if archive_existing_versions and target not in ACTIVE_STAGES:
            raise StoreError(f"Model version transition cannot archive existing model versions because '{stage}' is "
                             f"not an Active stage. Valid stages are {list(ACTIVE_STAGES)}")
        folder = self.version_dir(name, version)
        updated = now_ms()
        if archive_existing_versions:
            for other in version_dirs(folder.parent):
                if other == folder:
                    continue
                try:
                    meta = read_yaml(other / "meta.yaml")
                except MalformedError:
                    continue
                if meta.get("current_stage") == target:
                    self._rewrite_version_meta(other, current_stage=STAGE_ARCHIVED, last_updated_timestamp=updated)
        self._rewrite_version_meta(folder, current_stage=target, last_updated_timestamp=updated)
        self._touch(folder.parent, updated)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: object, version: object) -> None:
        """Soft delete (stage Deleted_Internal, as MLflow): the number is never reused; its aliases go."""
        folder = self.version_dir(name, version)
        updated = now_ms()
        self._rewrite_version_meta(folder, current_stage=STAGE_DELETED_INTERNAL, last_updated_timestamp=updated)
        number = folder.name[len(VERSION_PREFIX):]
        for alias, target in read_aliases(folder.parent).items():
            if target == number:
                (folder.parent / "aliases" / alias).unlink(missing_ok=True)
        self._touch(folder.parent, updated)

    def set_model_version_tag(self, name: object, version: object, key: object, value: object) -> None:
        key, text = validate_tag(key, value)
        folder = self.version_dir(name, version)
        atomic_write(key_path(folder / "tags", key), text.encode("utf-8"))
        self._touch(folder.parent)

    def delete_model_version_tag(self, name: object, version: object, key: object) -> None:
        key, _ = validate_tag(key, "")
        folder = self.version_dir(name, version)
        path = key_path(folder / "tags", key)
        if path.is_file():
            path.unlink()
            self._touch(folder.parent)

    # ------------------------------------------------------------ logged models

    def link_logged_model(self, model_id: str, name: str, version: int) -> None:
        """Record the new version on its MLflow 3 logged model (tag mlflow.modelVersions), as MLflow's server does."""
        model_dir = find_logged_model_dir(self.root, model_id)
        if model_dir is None:
            return
        entry = {"name": name, "version": version}
        current = read_key_values(model_dir / "tags").get(MODEL_VERSIONS_TAG)
        try:
            entries = json.loads(current) if current else []
        except ValueError:
            entries = []
        if not isinstance(entries, list):
            entries = []
        if entry not in entries:
            entries.append(entry)
        atomic_write(key_path(model_dir / "tags", MODEL_VERSIONS_TAG), json.dumps(entries).encode("utf-8"))


def find_logged_model_dir(root: Path, model_id: str) -> Path | None:
    """``<exp>/models/<model_id>`` in any live or deleted experiment."""
    if not model_id or "/" in model_id or "\\" in model_id or model_id.startswith("."):
        return None
    active, trashed = experiment_dirs(root)
    for exp_dir in active + trashed:
        candidate = exp_dir / "models" / model_id
        if (candidate / "meta.yaml").is_file():
            return candidate
    return None


def _version_number(folder: Path) -> int | None:
    try:
        return int(folder.name[len(VERSION_PREFIX):])
    except ValueError:
        return None
