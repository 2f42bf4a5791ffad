"""Where ``MlscopeClient``'s registry calls go: the tree's ``models/`` folder, or a server's registry REST API.

Like the tracking stores (stores.py), a registry store only moves records:
``LocalRegistry`` writes MLflow's registry format through the store's
``RegistryWriter`` (atomic, MLflow reads it back) and reads it with the
lenient reader; ``RestRegistry`` makes the calls MLflow's own client makes
(``registered-models/*``, ``model-versions/*``) against any MLflow-compatible
server, mlscope's included. Both answer with the store's ``RegisteredModel``
and ``ModelVersion`` records and raise ``MlscopeException`` with MLflow's
error codes, so the client above cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..search import registry as registry_search
from ..search.errors import SearchError
from ..store.errors import MalformedError
from ..store.meta_yaml import read_yaml
from ..store.registry_model import ModelVersion, RegisteredModel, canonical_stage, validate_alias
from ..store.registry_reader import read_registered_model, registered_model_dirs
from ..store.registry_sources import parse_models_uri, version_for
from ..store.registry_writer import RegistryWriter, find_logged_model_dir
from .rest import HttpClient
from .validation import MlscopeException


class LoggedModelInfo(Protocol):
    name: str | None
    artifact_location: str | None
    source_run_id: str | None


class RegistryStore(Protocol):
    """One registry; every method is MLflow's registry store call of the same name."""

    def create_registered_model(self, name: str, tags: dict[str, str], description: str | None) -> RegisteredModel: ...
    def get_registered_model(self, name: str) -> RegisteredModel: ...
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...
    def delete_registered_model(self, name: str) -> None: ...
    def search_registered_models(self, filter_string: str | None, max_results: int, order_by: Sequence[str] | None,
                                 page_token: str | None) -> tuple[list[RegisteredModel], str | None]: ...  # fmt: skip
    def get_latest_versions(self, name: str, stages: Sequence[str]) -> list[ModelVersion]: ...
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...
    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None: ...
    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...
    def create_model_version(self, name: str, source: str, run_id: str | None, tags: dict[str, str], run_link: str | None,
                             description: str | None, model_id: str | None) -> ModelVersion: ...  # fmt: skip
    def get_model_version(self, name: str, version: str) -> ModelVersion: ...
    def update_model_version(self, name: str, version: str, description: str | None) -> ModelVersion: ...
    def transition_model_version_stage(self, name: str, version: str, stage: str, archive_existing_versions: bool) -> ModelVersion: ...
    def delete_model_version(self, name: str, version: str) -> None: ...
    def get_model_version_download_uri(self, name: str, version: str) -> str: ...
    def search_model_versions(self, filter_string: str | None, max_results: int, order_by: Sequence[str] | None,
                              page_token: str | None) -> tuple[list[ModelVersion], str | None]: ...  # fmt: skip
    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None: ...
    def delete_model_version_tag(self, name: str, version: str, key: str) -> None: ...
    def logged_model(self, model_id: str) -> dict[str, Any] | None: ...
    def link_logged_model(self, model_id: str, name: str, version: int) -> None: ...


def _searched(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except SearchError as exc:
        raise MlscopeException(exc.message) from None


class LocalRegistry:
    """The registry of one mlruns folder, read fresh on every call (other processes may write it too)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writer = RegistryWriter(root)

    def _models(self) -> list[RegisteredModel]:
        models = []
        for folder in registered_model_dirs(self.root):
            try:
                models.append(read_registered_model(folder))
            except MalformedError:
                continue
        return models

    def create_registered_model(self, name: str, tags: dict[str, str], description: str | None) -> RegisteredModel:
        return self.writer.create_registered_model(name, tags, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.writer.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.writer.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self.writer.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self.writer.delete_registered_model(name)

    def search_registered_models(self, filter_string: str | None, max_results: int, order_by: Sequence[str] | None,
                                 page_token: str | None) -> tuple[list[RegisteredModel], str | None]:  # fmt: skip
        return _searched(registry_search.search_registered_models, self._models(), filter_string, order_by, max_results, page_token)

    def get_latest_versions(self, name: str, stages: Sequence[str]) -> list[ModelVersion]:
        return self.get_registered_model(name).latest_versions(tuple(canonical_stage(s) for s in stages) or None)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self.writer.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.writer.delete_registered_model_tag(name, key)

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self.writer.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.writer.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        validate_alias(alias, for_write=False)
        model = self.get_registered_model(name)
        number = model.aliases.get(alias)
        if number is None:
            raise MlscopeException(f"Registered model alias {alias} not found.")
        return self.writer.get_model_version(name, number)

    def create_model_version(self, name: str, source: str, run_id: str | None, tags: dict[str, str], run_link: str | None,
                             description: str | None, model_id: str | None) -> ModelVersion:  # fmt: skip
        """As MLflow's FileStore: a models:/ source's files are where that model (or version) keeps them."""
        storage = source
        if source.startswith("models:/"):
            uri = parse_models_uri(source)
            if uri.model_id is not None:
                meta = self.logged_model(uri.model_id)
                if meta is None:
                    raise MlscopeException(f"Unable to fetch model from model URI source artifact location '{source}'."
                                           f"Error: Logged model with ID '{uri.model_id}' not found.")
                storage = str(meta.get("artifact_location") or source)
                run_id = run_id or _text(meta.get("source_run_id"))
            else:
                storage = version_for(self.get_registered_model(str(uri.name)), uri).download_uri
        if model_id and not run_id:
            meta = self.logged_model(model_id)
            run_id = _text(meta.get("source_run_id")) if meta else None
        return self.writer.create_model_version(name, source, run_id=run_id, tags=tags, run_link=run_link,
                                                description=description, model_id=model_id, storage_location=storage)

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        return self.writer.get_model_version(name, version)

    def update_model_version(self, name: str, version: str, description: str | None) -> ModelVersion:
        return self.writer.update_model_version(name, version, description)

    def transition_model_version_stage(self, name: str, version: str, stage: str, archive_existing_versions: bool) -> ModelVersion:
        return self.writer.transition_model_version_stage(name, version, stage, archive_existing_versions)

    def delete_model_version(self, name: str, version: str) -> None:
        self.writer.delete_model_version(name, version)

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        return self.writer.get_model_version(name, version).download_uri

    def search_model_versions(self, filter_string: str | None, max_results: int, order_by: Sequence[str] | None,
                              page_token: str | None) -> tuple[list[ModelVersion], str | None]:  # fmt: skip
        versions = [v for m in self._models() for v in m.versions]
        return _searched(registry_search.search_model_versions, versions, filter_string, order_by, max_results, page_token)

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.writer.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        self.writer.delete_model_version_tag(name, version, key)

    def logged_model(self, model_id: str) -> dict[str, Any] | None:
        folder = find_logged_model_dir(self.root, model_id)
        if folder is None:
            return None
        try:
            return read_yaml(folder / "meta.yaml")
        except MalformedError:
            return None

    def link_logged_model(self, model_id: str, name: str, version: int) -> None:
        self.writer.link_logged_model(model_id, name, version)


class RestRegistry:
    """The registry of an MLflow-compatible server, called as MLflow's RestStore for the registry calls it."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def _send(self, method: str, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.http.call(method, endpoint, {k: v for k, v in body.items() if v is not None})

    def _model(self, answer: Mapping[str, Any]) -> RegisteredModel:
        return registered_model_from_json(answer["registered_model"])

    def create_registered_model(self, name: str, tags: dict[str, str], description: str | None) -> RegisteredModel:
        return self._model(self._send("POST", "registered-models/create", {"name": name, "tags": _pairs(tags), "description": description}))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._model(self._send("GET", "registered-models/get", {"name": name}))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._model(self._send("POST", "registered-models/rename", {"name": name, "new_name": new_name}))

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self._model(self._send("PATCH", "registered-models/update", {"name": name, "description": description}))

    def delete_registered_model(self, name: str) -> None:
        self._send("DELETE", "registered-models/delete", {"name": name})

    def search_registered_models(self, filter_string: str | None, max_results: int, order_by: Sequence[str] | None,
                                 page_token: str | None) -> tuple[list[RegisteredModel], str | None]:  # fmt: skip
        body = {"filter": filter_string or None, "max_results": max_results, "order_by": list(order_by or []) or None, "page_token": page_token}
        answer = self._send("GET", "registered-models/search", body)
        return [registered_model_from_json(m) for m in answer.get("registered_models", [])], answer.get("next_page_token") or None

    def get_latest_versions(self, name: str, stages: Sequence[str]) -> list[ModelVersion]:
        answer = self._send("POST", "registered-models/get-latest-versions", {"name": name, "stages": list(stages) or None})
        return [model_version_from_json(v) for v in answer.get("model_versions", [])]

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._send("POST", "registered-models/set-tag", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._send("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self._send("POST", "registered-models/alias", {"name": name, "alias": alias, "version": str(version)})

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._send("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return model_version_from_json(self._send("GET", "registered-models/alias", {"name": name, "alias": alias})["model_version"])

    def create_model_version(self, name: str, source: str, run_id: str | None, tags: dict[str, str], run_link: str | None,
                             description: str | None, model_id: str | None) -> ModelVersion:  # fmt: skip
        body = {"name": name, "source": source, "run_id": run_id, "tags": _pairs(tags), "run_link": run_link,
                "description": description, "model_id": model_id}  # fmt: skip
        return model_version_from_json(self._send("POST", "model-versions/create", body)["model_version"])

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        return model_version_from_json(self._send("GET", "model-versions/get", {"name": name, "version": str(version)})["model_version"])

    def update_model_version(self, name: str, version: str, description: str | None) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        return model_version_from_json(self._send("PATCH", "model-versions/update", body)["model_version"])

    def transition_model_version_stage(self, name: str, version: str, stage: str, archive_existing_versions: bool) -> ModelVersion:
        body = {"name": name, "version": str(version), "stage": stage, "archive_existing_versions": archive_existing_versions}
        return model_version_from_json(self._send("POST", "model-versions/transition-stage", body)["model_version"])

    def delete_model_version(self, name: str, version: str) -> None:
        self._send("DELETE", "model-versions/delete", {"name": name, "version": str(version)})

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        return str(self._send("GET", "model-versions/get-download-uri", {"name": name, "version": str(version)})["artifact_uri"])

    def search_model_versions(self, filter_string: str | None, max_results: int, order_by: Sequence[str] | None,
                              page_token: str | None) -> tuple[list[ModelVersion], str | None]:  # fmt: skip
        body = {"filter": filter_string or None, "max_results": max_results, "order_by": list(order_by or []) or None, "page_token": page_token}
        answer = self._send("GET", "model-versions/search", body)
        return [model_version_from_json(v) for v in answer.get("model_versions", [])], answer.get("next_page_token") or None

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self._send("POST", "model-versions/set-tag", {"name": name, "version": str(version), "key": key, "value": value})

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        self._send("DELETE", "model-versions/delete-tag", {"name": name, "version": str(version), "key": key})

    def logged_model(self, model_id: str) -> dict[str, Any] | None:
        """A logged model's info (name, artifact_location, source_run_id, tags), or None if the server has none."""
        try:
            model = self._send("GET", f"logged-models/{model_id}", {}).get("model", {})
        except MlscopeException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND"):
                return None
            raise
        info = dict(model.get("info", {}))
        info["tags"] = {t.get("key"): t.get("value") for t in info.get("tags", [])}
        return info

    def link_logged_model(self, model_id: str, name: str, version: int) -> None:
        """The logged model's mlflow.modelVersions tag, updated as MLflow's register_model does."""
        import json

        info = self.logged_model(model_id)
        if info is None:
            return
        try:
            entries = json.loads(info["tags"].get("mlflow.modelVersions") or "[]")
        except ValueError:
            entries = []
        entry = {"name": name, "version": version}
        if entry not in entries:
            entries.append(entry)
        self._send("PATCH", f"logged-models/{model_id}/tags", {"tags": [{"key": "mlflow.modelVersions", "value": json.dumps(entries)}]})


# ----------------------------------------------------------- MLflow's JSON -> records


def _pairs(tags: Mapping[str, str]) -> list[dict[str, str]] | None:
    return [{"key": k, "value": v} for k, v in tags.items()] or None


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: object) -> int | None:
    return None if value is None or value == "" else int(str(value))


def model_version_from_json(data: Mapping[str, Any]) -> ModelVersion:
    """A ModelVersion from MLflow's proto JSON (``model_version_json`` in reverse); an unset user_id is "" as in MLflow's from_proto."""
    return ModelVersion(
        name=str(data["name"]), version=int(data["version"]), creation_timestamp=_int(data.get("creation_timestamp")),
        last_updated_timestamp=_int(data.get("last_updated_timestamp")), description=data.get("description"),
        user_id=data.get("user_id", ""), current_stage=str(data.get("current_stage") or "None"), source=data.get("source"),
        run_id=_text(data.get("run_id")), run_link=data.get("run_link"), status=str(data.get("status") or "READY"),
        status_message=data.get("status_message"), storage_location=data.get("storage_location"),
        model_id=_text(data.get("model_id")), tags={t["key"]: t.get("value", "") for t in data.get("tags", [])},
        aliases=tuple(data.get("aliases", [])),
    )  # fmt: skip


def registered_model_from_json(data: Mapping[str, Any]) -> RegisteredModel:
    """A RegisteredModel from MLflow's JSON; ``versions`` holds the latest version per stage the server sent."""
    return RegisteredModel(
        name=str(data["name"]), creation_timestamp=_int(data.get("creation_timestamp")),
        last_updated_timestamp=_int(data.get("last_updated_timestamp")), description=data.get("description"),
        tags={t["key"]: t.get("value", "") for t in data.get("tags", [])},
        aliases={a["alias"]: str(a["version"]) for a in data.get("aliases", [])},
        versions=tuple(sorted((model_version_from_json(v) for v in data.get("latest_versions", [])), key=lambda v: v.version)),
        deployment_job_id=data.get("deployment_job_id"), deployment_job_state=data.get("deployment_job_state"),
    )  # fmt: skip
