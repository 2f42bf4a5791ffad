"""The model registry on ``MlscopeClient`` (MLflow's names and arguments), and ``mlscope.register_model``.

``RegistryMixin`` gives the client MLflow's registry calls: registered models
(create, get, rename, update, delete, search, tags, aliases, latest versions)
and model versions (create, get, update, delete, search, tags, stages,
download URI). They go to the tree's ``models/`` folder for a local tracking
URI, or to the server's registry REST API (registry_stores.py), and return
``RegisteredModel`` (below) and the store's ``ModelVersion``, whose fields
carry MLflow's names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store import registry_model
from ..store.registry_model import IS_PROMPT_TAG, ModelVersion
from .context import is_server_uri, root_for_uri
from .entities import PagedList
from .registry_stores import LocalRegistry, RegistryStore, RestRegistry
from .rest import HttpClient
from .validation import MlscopeException

MODELS_MAX_RESULTS_DEFAULT = 100
VERSIONS_MAX_RESULTS_DEFAULT = 10_000
MLMODEL_FILE = "MLmodel"


@dataclass(frozen=True)
class RegisteredModel:
    """MLflow's RegisteredModel: ``latest_versions`` is the newest version in each stage."""

    name: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version number
    latest_versions: list[ModelVersion] = field(default_factory=list)
    deployment_job_id: str | None = None
    deployment_job_state: str | None = None

    @classmethod
    def of(cls, record: registry_model.RegisteredModel) -> RegisteredModel:
        return cls(record.name, record.creation_timestamp, record.last_updated_timestamp, record.description,
                   dict(record.tags), dict(record.aliases), record.latest_versions(), record.deployment_job_id,
                   record.deployment_job_state)  # fmt: skip


def _registry_uri_set() -> str | None:
    """A registry URI chosen apart from the tracking URI (mlscope.set_registry_uri or MLFLOW_REGISTRY_URI)."""
    from . import fluent

    return fluent._registry_uri or os.environ.get("MLFLOW_REGISTRY_URI") or None


def _tag_dict(tags: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in (tags or {}).items()}


class RegistryMixin:
    """Registry calls for a client with ``tracking_uri`` and ``store`` (a LocalStore or RestStore)."""

    tracking_uri: str
    store: Any
    _registry_store: RegistryStore | None = None

    def get_run(self, run_id: str) -> Any:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[Any]:  # pragma: no cover - ArtifactsMixin's
        raise NotImplementedError

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:  # pragma: no cover - ArtifactsMixin's
        raise NotImplementedError

    @property
    def _registry(self) -> RegistryStore:
        """The registry at the client's registry URI, else mlscope.set_registry_uri / MLFLOW_REGISTRY_URI, else the tracking store's."""
        if self._registry_store is None:
            uri = getattr(self, "_registry_uri", None) or _registry_uri_set()
            if uri:
                self._registry_store = RestRegistry(HttpClient(uri.rstrip("/"))) if is_server_uri(uri) else LocalRegistry(root_for_uri(uri))
            else:
                http = getattr(self.store, "http", None)
                self._registry_store = RestRegistry(http) if http is not None else LocalRegistry(Path(self.store.root))
        return self._registry_store

    # ------------------------------------------------------ registered models

    def create_registered_model(self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None,
                                deployment_job_id: str | None = None) -> RegisteredModel:  # fmt: skip
        """A new, empty registered model; RESOURCE_ALREADY_EXISTS if the name is taken."""
        if deployment_job_id:
            raise MlscopeException("Deployment jobs are a Databricks feature; mlscope's registry does not keep them.")
        return RegisteredModel.of(self._registry.create_registered_model(name, _tag_dict(tags), description))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.of(self._registry.get_registered_model(name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return RegisteredModel.of(self._registry.rename_registered_model(name, new_name))

    def update_registered_model(self, name: str, description: str | None = None,
                                deployment_job_id: str | None = None) -> RegisteredModel:  # fmt: skip
        return RegisteredModel.of(self._registry.update_registered_model(name, description))

    def delete_registered_model(self, name: str) -> None:
        self._registry.delete_registered_model(name)

    def search_registered_models(self, filter_string: str | None = None, max_results: int = MODELS_MAX_RESULTS_DEFAULT,
                                 order_by: list[str] | None = None, page_token: str | None = None) -> PagedList[RegisteredModel]:  # fmt: skip
        """One page of registered models matching MLflow's registry filter (prompts left out), by name by default."""
        found, token = self._registry.search_registered_models(filter_string, max_results, order_by, page_token)
        return PagedList([RegisteredModel.of(m) for m in found], token)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version in each stage asked for (every stage when none is)."""
        return self._registry.get_latest_versions(name, list(stages or []))

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._registry.set_registered_model_tag(name, key, "" if value is None else str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry.delete_registered_model_tag(name, key)

    # ----------------------------------------------------------------- aliases

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point alias at a version (moving it if it pointed elsewhere)."""
        self._registry.set_registered_model_alias(name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry.get_model_version_by_alias(name, alias)

    # ---------------------------------------------------------- model versions

    def create_model_version(self, name: str, source: str, run_id: str | None = None, tags: Mapping[str, Any] | None = None,
                             run_link: str | None = None, description: str | None = None, await_creation_for: int = 300,
                             local_model_path: str | None = None, model_id: str | None = None) -> ModelVersion:  # fmt: skip
        """The next version of a model from files at source (a run's model folder, ``runs:/``, ``models:/``).

        Versions are READY as soon as they are written, so await_creation_for
        has nothing to wait for; local_model_path is accepted for MLflow's
        signature (the files stay where source says).
        """
        clean = _tag_dict(tags)
        if clean.get(IS_PROMPT_TAG, "").lower() == "true":
            raise MlscopeException("Prompts cannot be registered as models.")
        return self._registry.create_model_version(name, str(source), run_id, clean, run_link, description, model_id)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self._registry.get_model_version(name, str(version))

    def update_model_version(self, name: str, version: str | int, description: str | None = None) -> ModelVersion:
        return self._registry.update_model_version(name, str(version), description)

    def transition_model_version_stage(self, name: str, version: str | int, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion:  # fmt: skip
        """Move a version to a legacy stage (None, Staging, Production, Archived)."""
        return self._registry.transition_model_version_stage(name, str(version), stage, archive_existing_versions)

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._registry.delete_model_version(name, str(version))

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self._registry.get_model_version_download_uri(name, str(version))

    def search_model_versions(self, filter_string: str | None = None, max_results: int = VERSIONS_MAX_RESULTS_DEFAULT,
                              order_by: list[str] | None = None, page_token: str | None = None) -> PagedList[ModelVersion]:  # fmt: skip
        """Live versions matching MLflow's version filter (name, run_id, source_path, version_number, tags)."""
        found, token = self._registry.search_model_versions(filter_string, max_results, order_by, page_token)
        return PagedList(found, token)

    def _version_for_tag(self, name: str, version: str | int | None, stage: str | None) -> str:
        if version is not None and stage is not None:
            raise MlscopeException("version and stage cannot be set together")
        if version is not None:
            return str(version)
        if stage is None:
            raise MlscopeException("version or stage must be set")
        latest = self.get_latest_versions(name, [stage])
        if not latest:
            raise MlscopeException(f"Could not find any model version for {stage} stage")
        return str(latest[0].version)

    def set_model_version_tag(self, name: str, version: str | int | None = None, key: str | None = None,
                              value: Any = None, stage: str | None = None) -> None:  # fmt: skip
        """Tag a version, given by number or (legacy) by the newest version in a stage."""
        number = self._version_for_tag(name, version, stage)
        self._registry.set_model_version_tag(name, number, str(key or ""), "" if value is None else str(value))

    def delete_model_version_tag(self, name: str, version: str | int | None = None, key: str | None = None,
                                 stage: str | None = None) -> None:  # fmt: skip
        self._registry.delete_model_version_tag(name, self._version_for_tag(name, version, stage), str(key or ""))

    # ------------------------------------------------------------ registering

    def register_model(self, model_uri: str, name: str, tags: Mapping[str, Any] | None = None) -> ModelVersion:
        """MLflow's ``mlflow.register_model`` through this client: the model is created if new, then a version added.

        ``runs:/<run_id>/<path>`` registers the run's folder when it holds an
        MLmodel, else the run's logged model named ``<path>`` (MLflow 3), as
        ``models:/<model_id>``; ``models:/…`` URIs are passed on as they are.
        """
        try:
            self.create_registered_model(name)
        except MlscopeException as exc:
            if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
                raise
        source, run_id, model_id = self._registration_source(model_uri)
        version = self.create_model_version(name, source, run_id=run_id, tags=tags, model_id=model_id)
        if model_id:
            self._registry.link_logged_model(model_id, version.name, version.version)
        return version

    def _registration_source(self, model_uri: str) -> tuple[str, str | None, str | None]:
        """(source, run_id, model_id) for a model URI, as MLflow's _register_model works them out."""
        if model_uri.startswith("runs:/"):
            run_id, _, artifact_path = model_uri[len("runs:/"):].partition("/")
            artifact_path = artifact_path.strip("/")
            if not run_id:
                raise MlscopeException(f"Not a proper runs:/ URI: {model_uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'")
            listed = self.list_artifacts(run_id, artifact_path or None)
            if any(Path(f.path).name == MLMODEL_FILE for f in listed):
                return self.get_artifact_uri(run_id, artifact_path or None), run_id, None
            model_id = self._logged_model_of_run(run_id, artifact_path)
            return f"models:/{model_id}", run_id, model_id
        if model_uri.startswith("models:/"):
            from ..store.registry_sources import parse_models_uri

            return model_uri, None, parse_models_uri(model_uri).model_id
        return model_uri, None, None

    def _logged_model_of_run(self, run_id: str, artifact_path: str) -> str:
        """The run's logged model named artifact_path (the one logged at the largest step if several)."""
        run = self.get_run(run_id)
        steps = {m.model_id: m.step for m in run.outputs.model_outputs}
        named = [model_id for model_id in steps if (self._registry.logged_model(model_id) or {}).get("name") == artifact_path]
        if not named:
            raise MlscopeException(f"Unable to find a logged_model with artifact_path {artifact_path} under run {run_id}",
                                   "RESOURCE_DOES_NOT_EXIST")
        return max(named, key=lambda model_id: steps[model_id])


def register_model(model_uri: str, name: str, await_registration_for: int = 300, *,
                   tags: Mapping[str, Any] | None = None) -> ModelVersion:  # fmt: skip
    """``mlflow.register_model``: register the model at model_uri as a new version of name (created if new)."""
    from .client import MlscopeClient

    return MlscopeClient().register_model(model_uri, name, tags=tags)


def search_registered_models(max_results: int | None = None, filter_string: str | None = None,
                             order_by: list[str] | None = None) -> list[RegisteredModel]:  # fmt: skip
    """``mlflow.search_registered_models``: every match (all pages) unless max_results caps it."""
    from .client import MlscopeClient

    client = MlscopeClient()
    return _all_pages(lambda n, token: client.search_registered_models(filter_string, n, order_by, token),
                      max_results, MODELS_MAX_RESULTS_DEFAULT * 10)  # fmt: skip


def search_model_versions(max_results: int | None = None, filter_string: str | None = None,
                          order_by: list[str] | None = None) -> list[ModelVersion]:  # fmt: skip
    """``mlflow.search_model_versions``: every match (all pages) unless max_results caps it."""
    from .client import MlscopeClient

    client = MlscopeClient()
    return _all_pages(lambda n, token: client.search_model_versions(filter_string, n, order_by, token),
                      max_results, VERSIONS_MAX_RESULTS_DEFAULT)  # fmt: skip


def set_model_version_tag(name: str, version: str | int | None = None, key: str | None = None, value: Any = None,
                          stage: str | None = None) -> None:  # fmt: skip
    """``mlflow.set_model_version_tag``."""
    from .client import MlscopeClient

    MlscopeClient().set_model_version_tag(name, version, key, value, stage)


def _all_pages(search: Any, max_results: int | None, page_size: int) -> list[Any]:
    found: list[Any] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        size = page_size if max_results is None else min(page_size, max_results - len(found))
        page = search(size, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found
