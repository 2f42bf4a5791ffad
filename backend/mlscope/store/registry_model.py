"""Records for MLflow's model registry (``<mlruns>/models/``) and the rules for its names.

A ``RegisteredModel`` carries all of its versions, deleted ones included
(MLflow soft-deletes a version by setting its stage to ``Deleted_Internal``
and never reuses its number), so one read answers every registry question.
The validation functions raise ``StoreError`` with MLflow's messages.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import TMP_PREFIX
from .errors import StoreError

STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED = "None", "Staging", "Production", "Archived"
STAGE_DELETED_INTERNAL = "Deleted_Internal"
ALL_STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
ACTIVE_STAGES = (STAGE_STAGING, STAGE_PRODUCTION)  # the only stages archive_existing_versions works with
VERSION_STATUSES = ("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"  # prompts live in the same folder; searches leave them out
LATEST_ALIAS = "latest"
MODEL_VERSIONS_TAG = "mlflow.modelVersions"  # on a logged model: JSON list of the versions made from it

MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
_TAG_KEY_RE = re.compile(r"^[/\w.\- :]*$")


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: int
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None
    user_id: str | None
    current_stage: str
    source: str | None
    run_id: str | None
    run_link: str | None
    status: str
    status_message: str | None
    storage_location: str | None
    model_id: str | None
    tags: dict[str, str]
    aliases: tuple[str, ...] = ()
    path: Path = field(default=Path("."), compare=False)

    @property
    def deleted(self) -> bool:
        return self.current_stage == STAGE_DELETED_INTERNAL

    @property
    def download_uri(self) -> str:
        """Where the version's files are: MLflow's get_model_version_download_uri."""
        return self.storage_location or self.source or ""


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, str]  # alias -> version number as text (MLflow's alias files)
    versions: tuple[ModelVersion, ...]  # every version folder, deleted ones included, by number
    deployment_job_id: str | None = None
    deployment_job_state: str | None = None
    path: Path = field(default=Path("."), compare=False)

    @property
    def live_versions(self) -> tuple[ModelVersion, ...]:
        return tuple(v for v in self.versions if not v.deleted)

    def version(self, number: int) -> ModelVersion | None:
        """A live version by number (deleted versions are not found, as in MLflow)."""
        return next((v for v in self.versions if v.version == number and not v.deleted), None)

    def latest_versions(self, stages: tuple[str, ...] | None = None) -> list[ModelVersion]:
        """The newest live version in each stage (all four when stages is empty), in ALL_STAGES order."""
        wanted = [canonical_stage(s) for s in stages] if stages else list(ALL_STAGES)
        best: dict[str, ModelVersion] = {}
        for version in self.versions:
            stage = version.current_stage
            if stage in wanted and (stage not in best or best[stage].version < version.version):
                best[stage] = version
        return [best[stage] for stage in ALL_STAGES if stage in best]

    @property
    def latest_version(self) -> ModelVersion | None:
        """The highest live version: what the alias ``latest`` resolves to."""
        live = self.live_versions
        return max(live, key=lambda v: v.version) if live else None

    @property
    def is_prompt(self) -> bool:
        return self.tags.get(IS_PROMPT_TAG, "false").lower() == "true"


# ---------------------------------------------------------------- validation


def _path_not_unique(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def validate_model_name(name: object, what: str = "name") -> str:
    """MLflow's registered model name rules (FileStore adds: no path separator, no '%')."""
    if name is None or not isinstance(name, str) or name.strip() == "":
        raise StoreError(f"Missing value for required parameter '{what}'.")
    if "/" in name or ":" in name:
        raise StoreError(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if "\\" in name or "\0" in name:
        raise StoreError(f"Invalid name: '{name}'. Registered model name cannot contain path separator")
    if "%" in name:
        raise StoreError(f"Invalid name: '{name}'. Registered model name cannot contain '%' character")
    if name.startswith(TMP_PREFIX):
        raise StoreError(f"Invalid name: '{name}'. Names starting with '{TMP_PREFIX}' are mlscope's temporary folders")
    if _path_not_unique(name):
        raise StoreError(f"Invalid value {json.dumps(name)} for parameter '{what}' supplied: Names may be treated as "
                         "files in certain cases, and must not resolve to other names when treated as such. This name "
                         f"would resolve to '{posixpath.normpath(name)}'")
    return name


def parse_version(version: object) -> int:
    """A version number from a request ("3" or 3); MLflow's message otherwise."""
    if isinstance(version, bool):
        raise StoreError(f"Parameter 'version' must be an integer, got '{version}'.")
    try:
        return int(str(version).strip())
    except (TypeError, ValueError):
        raise StoreError(f"Parameter 'version' must be an integer, got '{version}'.") from None


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """Registry tag keys follow MLflow's tag-name rules (≤ 250 chars); values ≤ 100,000 chars."""
    if key is None or key == "":
        raise StoreError("Missing value for required parameter 'key'.")
    if not isinstance(key, str) or not _TAG_KEY_RE.match(key):
        raise StoreError(f"Invalid value {json.dumps(key)} for parameter 'key' supplied: Names may only contain "
                         "alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).")
    if _path_not_unique(key):
        raise StoreError(f"Invalid value {json.dumps(key)} for parameter 'key' supplied: Names may be treated as files in "
                         f"certain cases, and must not resolve to other names when treated as such. This name would "
                         f"resolve to '{posixpath.normpath(key)}'")
    if len(key) > MAX_TAG_KEY_LENGTH:
        raise StoreError(f"'key' exceeds the maximum length of {MAX_TAG_KEY_LENGTH} characters")
    text = "" if value is None else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise StoreError(f"'value' exceeds the maximum length of {MAX_TAG_VALUE_LENGTH} characters")
    return key, text


def validate_alias(alias: object, *, for_write: bool) -> str:
    """Alias names: letters, digits, '_' and '-'; 'latest' and 'v<N>' are reserved for writes."""
    if alias is None or alias == "" or not isinstance(alias, str):
        raise StoreError("Registered model alias name cannot be empty.")
    if not _ALIAS_RE.match(alias):
        raise StoreError(f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), "
                         "and dashes (-).")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise StoreError(f"'Registered model alias name' exceeds the maximum length of {MAX_ALIAS_LENGTH} characters")
    if for_write:
        if alias.lower() == LATEST_ALIAS:
            raise StoreError("'latest' alias name (case insensitive) is reserved.")
        if _VERSION_ALIAS_RE.match(alias):
            raise StoreError(f"Version alias name '{alias}' is reserved.")
    return alias


def canonical_stage(stage: object) -> str:
    """'production' -> 'Production'; anything else is MLflow's invalid-stage error."""
    text = str(stage or "")
    for name in ALL_STAGES:
        if name.lower() == text.lower():
            return name
    raise StoreError(f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}.")
