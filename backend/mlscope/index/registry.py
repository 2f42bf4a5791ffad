"""The model registry as the server sees it: reads from the cached snapshot, writes with read-your-writes.

Every answer has MLflow's registry FileStore semantics and errors
(``StoreError`` / ``SearchError`` with MLflow's codes and messages): a model
or version that does not exist is RESOURCE_DOES_NOT_EXIST, an unknown alias is
INVALID_PARAMETER_VALUE, deleted versions are invisible. A write goes through
``RegistryWriter`` and marks the touched models stale, so the next read,
search included, already sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..search import registry as registry_search
from ..store.artifact_uris import ArtifactLocations
from ..store.artifacts import ArtifactsUnavailable
from ..store.errors import StoreError
from ..store.registry_artifacts import FilesInTree, files_in_tree, version_folder
from ..store.registry_model import (
    LATEST_ALIAS,
    ModelVersion,
    RegisteredModel,
    canonical_stage,
    parse_version,
    validate_alias,
    validate_model_name,
)
from ..store.registry_sources import SourceResolver
from ..store.registry_writer import RegistryWriter
from .registry_index import RegistryIndex, RegistrySnapshot

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


class Registry:
    """Reads and writes of one tree's registry (thread-safe; blocking: call off the event loop)."""

    def __init__(self, root: Path, check_interval: float = 1.0) -> None:
        self.root = Path(root)
        self.index = RegistryIndex(self.root, check_interval)
        self.writer = RegistryWriter(self.root)
        self.sources = SourceResolver(self.root, self.writer)

    # ----------------------------------------------------------------- reads

    def snapshot(self) -> RegistrySnapshot:
        return self.index.snapshot()

    def model(self, name: object) -> RegisteredModel:
        model = self.index.model(validate_model_name(name))
        if model is None:
            raise StoreError(f"Registered Model with name={name} not found", NOT_FOUND)
        return model

    def version(self, name: object, version: object) -> ModelVersion:
        number = parse_version(version)
        found = self.model(name).version(number)
        if found is None:
            raise StoreError(f"Model Version (name={name}, version={number}) not found", NOT_FOUND)
        return found

    def version_by_alias(self, name: object, alias: object) -> ModelVersion:
        """MLflow's get_model_version_by_alias; 'latest' (any case) is the highest live version."""
        alias = validate_alias(alias, for_write=False)
        model = self.model(name)
        if alias.lower() == LATEST_ALIAS:
            latest = model.latest_version
            if latest is None:
                raise StoreError(f"Registered model {name} has no versions, so alias {alias} names none.", NOT_FOUND)
            return latest
        number = model.aliases.get(alias)
        if number is None:
            raise StoreError(f"Registered model alias {alias} not found.")
        return self.version(name, number)

    def latest_versions(self, name: object, stages: Sequence[str] = ()) -> list[ModelVersion]:
        model = self.model(name)
        return model.latest_versions(tuple(canonical_stage(s) for s in stages) if stages else None)

    def search_models(self, filter_string: str | None, order_by: Sequence[str] | None, max_results: int,
                      page_token: str | None) -> tuple[list[RegisteredModel], str | None]:
        models = self.snapshot().models
        return registry_search.search_registered_models(models, filter_string, order_by, max_results, page_token)

    def search_versions(self, filter_string: str | None, order_by: Sequence[str] | None, max_results: int,
                        page_token: str | None) -> tuple[list[ModelVersion], str | None]:
        versions = self.snapshot().versions
        return registry_search.search_model_versions(versions, filter_string, order_by, max_results, page_token)

    def versions_of_run(self, run_id: str) -> tuple[ModelVersion, ...]:
        return self.snapshot().by_run.get(run_id, ())

    def download_uri(self, name: object, version: object) -> str:
        return self.version(name, version).download_uri

    def version_files(self, name: object, version: object, locations: ArtifactLocations | None = None) -> Path:
        """The local folder of a version's files (ArtifactsUnavailable when they are not on this machine)."""
        return version_folder(self.version(name, version), self.root, self.snapshot().by_name, locations)

    def version_files_in_tree(self, version: ModelVersion,
                              locations: ArtifactLocations | None = None) -> tuple[FilesInTree | None, str | None]:
        """(where the version's files sit among runs and logged models, why they cannot be shown)."""
        try:
            folder = version_folder(version, self.root, self.snapshot().by_name, locations)
        except ArtifactsUnavailable as exc:
            return None, str(exc)
        found = files_in_tree(folder, self.root, locations)
        if found is None:
            return None, f"The files of this version are at {folder}, outside this tree's runs and logged models."
        return found, None

    # ---------------------------------------------------------------- writes

    def _changed(self, *names: object) -> None:
        self.index.invalidate(*(str(n) for n in names))

    def create_model(self, name: object, tags: dict[str, str], description: str | None) -> RegisteredModel:
        model = self.writer.create_registered_model(name, tags, description)
        self._changed(name)
        return model

    def update_model(self, name: object, description: str | None) -> RegisteredModel:
        model = self.writer.update_registered_model(name, description)
        self._changed(name)
        return model

    def rename_model(self, name: object, new_name: object) -> RegisteredModel:
        model = self.writer.rename_registered_model(name, new_name)
        self._changed(name, new_name)
        return model

    def delete_model(self, name: object) -> None:
        self.writer.delete_registered_model(name)
        self._changed(name)

    def set_model_tag(self, name: object, key: object, value: object) -> None:
        self.writer.set_registered_model_tag(name, key, value)
        self._changed(name)

    def delete_model_tag(self, name: object, key: object) -> None:
        self.writer.delete_registered_model_tag(name, key)
        self._changed(name)

    def set_alias(self, name: object, alias: object, version: object) -> None:
        self.writer.set_registered_model_alias(name, alias, version)
        self._changed(name)

    def delete_alias(self, name: object, alias: object) -> None:
        self.writer.delete_registered_model_alias(name, alias)
        self._changed(name)

    def create_version(self, name: object, source: str, run_id: str, tags: dict[str, str], run_link: str,
                       description: str, model_id: str) -> ModelVersion:
        """MLflow's server path: check the source, fill in run/model/storage, write, link the logged model."""
        self.model(name)
        resolved = self.sources.resolve(source, run_id, model_id)
        version = self.writer.create_model_version(
            name, resolved.source, run_id=resolved.run_id or run_id, tags=tags, run_link=run_link,
            description=description, model_id=resolved.model_id or model_id, storage_location=resolved.storage_location,
        )
        if resolved.model_id:
            self.writer.link_logged_model(resolved.model_id, version.name, version.version)
        self._changed(name)
        return version

    def update_version(self, name: object, version: object, description: str | None) -> ModelVersion:
        updated = self.writer.update_model_version(name, version, description)
        self._changed(name)
        return updated

    def transition_stage(self, name: object, version: object, stage: object, archive_existing: bool) -> ModelVersion:
        updated = self.writer.transition_model_version_stage(name, version, stage, archive_existing)
        self._changed(name)
        return updated

    def delete_version(self, name: object, version: object) -> None:
        self.writer.delete_model_version(name, version)
        self._changed(name)

    def set_version_tag(self, name: object, version: object, key: object, value: object) -> None:
        self.writer.set_model_version_tag(name, version, key, value)
        self._changed(name)

    def delete_version_tag(self, name: object, version: object, key: object) -> None:
        self.writer.delete_model_version_tag(name, version, key)
        self._changed(name)
