"""Read MLflow's model registry from ``<mlruns>/models/``, the way its FileStore does but leniently.

Layout (MLflow 3.17.2, ``mlflow/store/model_registry/file_store.py``)::

    models/<name>/meta.yaml            name, timestamps, description (and a copy of the aliases)
    models/<name>/tags/<key>           one file per tag ('/' in keys are subfolders)
    models/<name>/aliases/<alias>      content: the version number
    models/<name>/version-<N>/meta.yaml
    models/<name>/version-<N>/tags/<key>

A model folder whose meta.yaml cannot be read is reported, not fatal; so is a
version folder. Nothing here caches or writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .atomic import TMP_PREFIX
from .errors import MalformedError
from .meta_yaml import flat_yaml, read_yaml
from .model import Problem
from .reader import read_key_values
from .registry_model import STAGE_NONE, ModelVersion, RegisteredModel

MODELS_FOLDER = "models"
VERSION_PREFIX = "version-"


def models_dir(root: Path) -> Path:
    return root / MODELS_FOLDER


def registered_model_dirs(root: Path) -> list[Path]:
    """Every model folder under models/ (mlscope's own temp folders skipped)."""
    return _subdirs(models_dir(root), lambda name: not name.startswith(TMP_PREFIX))


def version_dirs(model_dir: Path) -> list[Path]:
    return _subdirs(model_dir, lambda name: name.startswith(VERSION_PREFIX))


def _subdirs(folder: Path, keep: Any) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if keep(e.name) and e.is_dir())
    except OSError:
        return []


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def read_model_meta(path: Path) -> dict[str, Any]:
    """A model's meta.yaml; its ``aliases:`` block (a copy mlscope never uses) is dropped so the flat fast path applies."""
    try:
        raw = path.read_bytes()
    except OSError:
        return read_yaml(path)  # raises MalformedError with the reason
    lines = raw.split(b"\n")
    kept = []
    in_aliases = False
    for line in lines:
        if line.startswith(b"aliases:"):
            in_aliases = True
            continue
        if in_aliases and line.startswith(b" "):
            continue
        in_aliases = False
        kept.append(line)
    data = flat_yaml(b"\n".join(kept)) if b"\n".join(kept).strip() else None
    return data if data else read_yaml(path)


def read_aliases(model_dir: Path) -> dict[str, str]:
    """alias -> version text, from the aliases/ files (the copy in meta.yaml is not authoritative)."""
    return {alias: version.strip() for alias, version in read_key_values(model_dir / "aliases").items()}


def read_model_version(version_dir: Path, aliases: dict[str, str]) -> ModelVersion:
    """One version-<N> folder; aliases are the model's, filtered to those naming this version."""
    meta = read_yaml(version_dir / "meta.yaml")
    folder_number = version_dir.name[len(VERSION_PREFIX):]
    number = _int_or_none(meta.get("version"))
    if number is None:
        number = _int_or_none(folder_number)
    if number is None:
        raise MalformedError(f"{version_dir.name}/meta.yaml has no version number")
    return ModelVersion(
        name=str(meta.get("name") or version_dir.parent.name),
        version=number,
        creation_timestamp=_int_or_none(meta.get("creation_timestamp")),
        last_updated_timestamp=_int_or_none(meta.get("last_updated_timestamp")),
        description=_text_or_none(meta.get("description")),
        user_id=_text_or_none(meta.get("user_id")),
        current_stage=str(meta.get("current_stage") or STAGE_NONE),
        source=_text_or_none(meta.get("source")),
        run_id=_text_or_none(meta.get("run_id")),
        run_link=_text_or_none(meta.get("run_link")),
        status=str(meta.get("status") or "READY"),
        status_message=_text_or_none(meta.get("status_message")),
        storage_location=_text_or_none(meta.get("storage_location")),
        model_id=_text_or_none(meta.get("model_id")),
        tags=read_key_values(version_dir / "tags"),
        aliases=tuple(sorted(alias for alias, version in aliases.items() if version == folder_number)),
        path=version_dir,
    )


def read_registered_model(model_dir: Path, problems: list[Problem] | None = None) -> RegisteredModel:
    """A model with all its versions (deleted ones too); unreadable versions go to problems."""
    meta = read_model_meta(model_dir / "meta.yaml")
    aliases = read_aliases(model_dir)
    versions = []
    for version_dir in version_dirs(model_dir):
        try:
            versions.append(read_model_version(version_dir, aliases))
        except MalformedError as exc:
            if problems is not None:
                problems.append(Problem(str(version_dir), str(exc), "registry"))
    versions.sort(key=lambda v: v.version)
    return RegisteredModel(
        name=str(meta.get("name") or model_dir.name),
        creation_timestamp=_int_or_none(meta.get("creation_timestamp")),
        last_updated_timestamp=_int_or_none(meta.get("last_updated_timestamp")),
        description=_text_or_none(meta.get("description")),
        tags=read_key_values(model_dir / "tags"),
        aliases=aliases,
        versions=tuple(versions),
        deployment_job_id=_text_or_none(meta.get("deployment_job_id")),
        deployment_job_state=_text_or_none(meta.get("deployment_job_state")),
        path=model_dir,
    )


def read_registry(root: Path) -> tuple[list[RegisteredModel], list[Problem]]:
    """Every readable registered model under root, and what was skipped and why."""
    problems: list[Problem] = []
    models = []
    for model_dir in registered_model_dirs(root):
        try:
            models.append(read_registered_model(model_dir, problems))
        except MalformedError as exc:
            problems.append(Problem(str(model_dir), str(exc), "registry"))
    return models, problems
