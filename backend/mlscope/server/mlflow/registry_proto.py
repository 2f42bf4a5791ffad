"""MLflow's proto-JSON shapes for the model registry: RegisteredModel and ModelVersion.

As ``message_to_json(entity.to_proto())`` renders them: versions as strings,
fields MLflow leaves unset left out (``description`` of a model only when
non-empty, of a version whenever it is not null), empty lists left out.
Tags and aliases are sorted by key (MLflow lists them in directory order).
"""

from __future__ import annotations

from typing import Any

from ...store.registry_model import ModelVersion, RegisteredModel


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": tags[key]} for key in sorted(tags)]


def model_version_json(version: ModelVersion) -> dict[str, Any]:
    body: dict[str, Any] = {"name": version.name, "version": str(version.version)}
    optional = (
        ("creation_timestamp", version.creation_timestamp),
        ("last_updated_timestamp", version.last_updated_timestamp),
        ("user_id", version.user_id),
        ("current_stage", version.current_stage),
        ("description", version.description),
        ("source", version.source),
        ("run_id", version.run_id),
    )
    body.update((key, value) for key, value in optional if value is not None)
    body["status"] = version.status
    if version.status_message:
        body["status_message"] = version.status_message
    if version.tags:
        body["tags"] = _tags(version.tags)
    if version.run_link is not None:
        body["run_link"] = version.run_link
    if version.aliases:
        body["aliases"] = sorted(version.aliases)
    return body


def registered_model_json(model: RegisteredModel) -> dict[str, Any]:
    body: dict[str, Any] = {"name": model.name}
    if model.creation_timestamp is not None:
        body["creation_timestamp"] = model.creation_timestamp
    if model.last_updated_timestamp:
        body["last_updated_timestamp"] = model.last_updated_timestamp
    if model.description:
        body["description"] = model.description
    latest = model.latest_versions()
    if latest:
        body["latest_versions"] = [model_version_json(v) for v in latest]
    if model.tags:
        body["tags"] = _tags(model.tags)
    if model.aliases:
        body["aliases"] = [{"alias": alias, "version": model.aliases[alias]} for alias in sorted(model.aliases)]
    if model.deployment_job_id:
        body["deployment_job_id"] = model.deployment_job_id
    if model.deployment_job_state:
        body["deployment_job_state"] = model.deployment_job_state
    return body
