"""Where a new model version's files come from: MLflow's server-side checks on ``source``.

A version's files are later served by ``/model-versions/get-artifact``, so a
source must not name arbitrary files: as MLflow's server does
(``_validate_source_run`` / ``_validate_source_model`` in mlflow/server/handlers.py),
a local path must lie inside the artifact folder of the run (``run_id``) or
logged model (``model_id``) it claims to come from, ``runs:/`` and
``models:/<model_id>`` URIs must name that same run or model, and
``models:/<name>/<version|stage|latest>`` / ``models:/<name>@<alias>`` are
resolved to the version they point at, inheriting its run and model.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import MalformedError, StoreError
from .meta_yaml import read_yaml
from .paths import NotLocalError, local_path
from .registry_model import LATEST_ALIAS, ModelVersion, RegisteredModel, canonical_stage
from .registry_writer import RegistryWriter, find_logged_model_dir
from .writer import TreeWriter

_MLFLOW_ARTIFACTS_ROUTE = ("api", "2.0", "mlflow-artifacts", "artifacts")


@dataclass(frozen=True, slots=True)
class VersionSource:
    source: str
    run_id: str | None
    model_id: str | None
    storage_location: str


@dataclass(frozen=True, slots=True)
class ModelsUri:
    """A parsed ``models:/`` URI: a logged model id, or a registered name with one selector."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None


def _bad_source(source: str, message: str) -> StoreError:
    return StoreError(f"Invalid model version source: '{source}'. {message}")


def _must_identify(source: str, what: str) -> StoreError:
    return _bad_source(source, f"The {what} request parameter must identify the resource that contains the source.")


def parse_models_uri(uri: str) -> ModelsUri:
    """MLflow's _parse_model_uri: models:/<id>, models:/<name>/<version|stage|latest>, models:/<name>@<alias>."""
    parsed = urllib.parse.urlparse(uri, allow_fragments=False)
    path = parsed.path
    improper = StoreError(f"Not a proper models:/ URI: {uri}. Models URIs must be of the form 'models:/name/suffix' or "
                          "'models:/name@alias' where suffix is a version, stage, or the string 'latest' and where "
                          "alias is a registered model alias. Only one of suffix or alias can be defined at a time.")
    if parsed.scheme != "models" or not path.startswith("/") or len(path) <= 1:
        raise improper
    parts = path.lstrip("/").split("/")
    if len(parts) > 2 or parts[0].strip() == "":
        raise improper
    if len(parts) == 2:
        name, suffix = parts
        if suffix.strip() == "":
            raise improper
        if suffix.isdigit():
            return ModelsUri(name=name, version=suffix)
        if suffix.lower() == LATEST_ALIAS:
            return ModelsUri(name=name)
        return ModelsUri(name=name, stage=suffix)
    if "@" in path:
        name, _, alias = parts[0].rpartition("@")
        if not name or alias.strip() == "":
            raise improper
        return ModelsUri(name=name, alias=alias)
    return ModelsUri(model_id=parts[0])


def version_for(model: RegisteredModel, uri: ModelsUri) -> ModelVersion:
    """The live version a registered-name models:/ URI selects (version, alias, stage or latest)."""
    if uri.version is not None:
        found = model.version(int(uri.version))
        if found is None:
            raise StoreError(f"Model Version (name={model.name}, version={uri.version}) not found",
                             "RESOURCE_DOES_NOT_EXIST")
        return found
    if uri.alias is not None and uri.alias.lower() != LATEST_ALIAS:
        number = model.aliases.get(uri.alias)
        found = model.version(int(number)) if number and number.isdigit() else None
        if found is None:
            raise StoreError(f"Registered model alias {uri.alias} not found.")
        return found
    candidates = model.latest_versions((canonical_stage(uri.stage),) if uri.stage else None)
    if not candidates:
        stage = f" and stage '{uri.stage}'" if uri.stage else ""
        raise StoreError(f"No versions of model with name '{model.name}'{stage} found")
    return max(candidates, key=lambda v: v.version)


def _unquoted(text: str) -> str:
    while (once := urllib.parse.unquote_plus(text)) != text:
        text = once
    return text


def _check_no_relative_parts(source: str) -> None:
    """MLflow's _validate_non_local_source_contains_relative_paths: no '..', no NUL, nothing that normalises away."""
    text = _unquoted(source)
    path = re.sub(r"/+", "/", urllib.parse.urlparse(text).path.rstrip("/"))
    normalised = str(PurePosixPath(path)) if path else path
    if "\x00" in path or any(part == ".." for part in text.split("/")) or (path and normalised != path):
        raise _bad_source(source, "If supplying a source as an http, https, local file path, ftp, objectstore, or "
                                  "mlflow-artifacts uri, an absolute path must be provided without relative path "
                                  "references present. Please provide an absolute path.")


def _uri_parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parsed = urllib.parse.urlparse(_unquoted(uri))
    return parsed.scheme.lower(), parsed.netloc.lower(), tuple(p for p in parsed.path.split("/") if p)


def _within(source: str, root: str) -> bool:
    s_scheme, s_host, s_parts = _uri_parts(source)
    r_scheme, r_host, r_parts = _uri_parts(root)
    return s_scheme == r_scheme and s_host == r_host and bool(r_parts) and s_parts[: len(r_parts)] == r_parts


def _is_mlflow_artifacts(source: str) -> bool:
    scheme, _, parts = _uri_parts(source)
    if scheme == "mlflow-artifacts":
        return True
    n = len(_MLFLOW_ARTIFACTS_ROUTE)
    return scheme in ("http", "https") and any(parts[i: i + n] == _MLFLOW_ARTIFACTS_ROUTE for i in range(len(parts) - n + 1))


def _local(source: str) -> Path | None:
    try:
        return local_path(source)
    except NotLocalError:
        return None


class SourceResolver:
    """Checks and resolves create-version sources against one mlruns root."""

    def __init__(self, root: Path, registry: RegistryWriter) -> None:
        self.root = root
        self.registry = registry
        self.tracking = TreeWriter(root)

    def run_artifact_uri(self, run_id: str, source: str) -> str:
        try:
            return str(self.tracking.run_meta(run_id).get("artifact_uri") or "")
        except (StoreError, MalformedError):
            raise _must_identify(source, "run_id") from None

    def logged_model(self, model_id: str, source: str) -> dict[str, object]:
        folder = find_logged_model_dir(self.root, model_id)
        try:
            if folder is None:
                raise MalformedError("missing")
            return read_yaml(folder / "meta.yaml")
        except MalformedError:
            raise _must_identify(source, "model_id") from None

    def _check_local(self, source: str, path: Path, owner_root: str, what: str) -> None:
        root = _local(owner_root) if owner_root else None
        if root is not None:
            resolved = path.resolve()
            if root.resolve() in (resolved, *resolved.parents):
                return
        raise _bad_source(source, f"To use a local path as a model version source, the {what} request parameter has "
                                  f"to be specified and the local path has to be contained within the artifact "
                                  f"directory of the run specified by the {what}.")

    def check_run_source(self, source: str, run_id: str | None) -> None:
        path = _local(source)
        if path is not None:
            owner = self.run_artifact_uri(run_id, source) if run_id else ""
            self._check_local(source, path, owner, "run_id")
            return
        _check_no_relative_parts(source)
        scheme, host, parts = _uri_parts(source)
        if scheme == "runs":
            if host or not run_id or not parts or parts[0] != run_id:
                raise _must_identify(source, "run_id")
            return
        if scheme == "models" and (host or parse_models_uri(source).model_id is not None):
            raise _must_identify(source, "model_id")
        if _is_mlflow_artifacts(source) and (not run_id or not _within(source, self.run_artifact_uri(run_id, source))):
            raise _must_identify(source, "run_id")

    def check_model_source(self, source: str, model_id: str) -> None:
        path = _local(source)
        if path is not None:
            location = str(self.logged_model(model_id, source).get("artifact_location") or "")
            self._check_local(source, path, location, "model_id")
            return
        _check_no_relative_parts(source)
        scheme, host, _ = _uri_parts(source)
        if scheme == "models":
            named = parse_models_uri(source).model_id
            if host or (named is not None and named != model_id):
                raise _must_identify(source, "model_id")
            return
        if scheme == "runs":
            raise _must_identify(source, "model_id")
        if _is_mlflow_artifacts(source):
            location = str(self.logged_model(model_id, source).get("artifact_location") or "")
            if not _within(source, location):
                raise _must_identify(source, "model_id")

    def resolve(self, source: str, run_id: str | None, model_id: str | None) -> VersionSource:
        """Check a create-version request's source and fill in run, model and storage location like MLflow."""
        if not source:
            raise StoreError("Missing value for required parameter 'source'.")
        run_id = run_id or None
        model_id = model_id or None
        storage = source
        scheme = urllib.parse.urlparse(source).scheme.lower()
        if scheme == "models":
            if urllib.parse.urlparse(source).netloc:
                raise _bad_source(source, "Registered model sources must use the active model registry.")
            uri = parse_models_uri(source)
            if uri.model_id is None:
                model = self.registry.get_registered_model(uri.name)
                if model.is_prompt:
                    raise _bad_source(source, "Prompt versions cannot be used as model version sources.")
                origin = version_for(model, uri)
                if (run_id and run_id != origin.run_id) or (model_id and model_id != origin.model_id):
                    raise _bad_source(source, "The run_id and model_id request parameters must match the referenced "
                                              "model version.")
                source = f"models:/{model.name}/{origin.version}"
                run_id, model_id = run_id or origin.run_id, model_id or origin.model_id
                storage = origin.download_uri
        if model_id:
            self.check_model_source(source, model_id)
        else:
            self.check_run_source(source, run_id)
        if scheme == "models" and parse_models_uri(source).model_id is not None:
            meta = self.logged_model(str(parse_models_uri(source).model_id), source)
            storage = str(meta.get("artifact_location") or source)
            run_id = run_id or (str(meta["source_run_id"]) if meta.get("source_run_id") else None)
        elif model_id and not run_id:
            meta = self.logged_model(model_id, source)
            run_id = str(meta["source_run_id"]) if meta.get("source_run_id") else None
        return VersionSource(source, run_id, model_id, storage)
