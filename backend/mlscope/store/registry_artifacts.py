"""The local folder holding a model version's files, from its download URI.

A version's download URI (``storage_location``, else ``source``) can be a
``file:`` path (often absolute, from the machine that registered it), a
``runs:/<run>/<path>`` or ``models:/<id>`` URI, an ``mlflow-artifacts:`` URI
of a run logged through a tracking server, or a ``models:/<name>/<version>``
chain. Each resolves to a folder in (or beside) this tree, with the moved-tree
fallback the run artifacts use; anything else (``s3:`` ...) is unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .artifact_uris import ArtifactLocations
from .artifacts import ArtifactsUnavailable, artifact_root_for, check_relative_path
from .errors import MalformedError, StoreError
from .meta_yaml import read_yaml
from .model import Run
from .paths import RESERVED_EXPERIMENT_FOLDERS, TRASH, NotLocalError, local_path
from .reader import read_run_info
from .registry_model import ModelVersion, RegisteredModel
from .registry_sources import parse_models_uri, version_for
from .registry_writer import find_logged_model_dir
from .writer import TreeWriter

MAX_HOPS = 5  # models:/a/1 -> models:/b/2 -> ... : a chain longer than this is refused


def _moved(path: Path, root: Path) -> Path | None:
    """A path in another copy of this tree (``.../<exp id>/...``) mapped into this one, if it exists here."""
    parts = path.parts
    for i, part in enumerate(parts):
        if (root / part / "meta.yaml").is_file():
            candidate = root.joinpath(*parts[i:])
            if candidate.exists():
                return candidate
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def _run_root(root: Path, run_id: str, locations: ArtifactLocations | None) -> Path:
    try:
        run_dir = TreeWriter(root).run_dir(run_id)
        info = read_run_info(run_dir, run_dir.parent.name)
    except (StoreError, MalformedError):
        raise ArtifactsUnavailable(f"Run '{run_id}' named by the model version's source is not in this tree") from None
    return artifact_root_for(Run(info, {}, {}, {}, path=run_dir), locations)


def _sub(folder: Path, relative: str) -> Path:
    clean = check_relative_path(relative.strip("/"))
    return folder.joinpath(*clean.parts)


def uri_folder(uri: str, root: Path, models: dict[str, RegisteredModel], locations: ArtifactLocations | None,
               hops: int = 0) -> Path:
    """The local folder a model URI names; ArtifactsUnavailable when it is not on this machine."""
    if hops > MAX_HOPS:
        raise ArtifactsUnavailable(f"'{uri}' refers to model versions more than {MAX_HOPS} levels deep")
    scheme = urlparse(uri).scheme.lower()
    if scheme == "runs":
        parts = urlparse(uri).path.strip("/").split("/", 1)
        return _sub(_run_root(root, parts[0], locations), parts[1] if len(parts) > 1 else "")
    if scheme == "models":
        parsed = parse_models_uri(uri)
        if parsed.model_id is not None:
            model_dir = find_logged_model_dir(root, parsed.model_id)
            if model_dir is None:
                raise ArtifactsUnavailable(f"Logged model '{parsed.model_id}' is not in this tree")
            return model_dir / "artifacts"
        model = models.get(str(parsed.name))
        if model is None:
            raise ArtifactsUnavailable(f"Registered model '{parsed.name}' named by '{uri}' does not exist")
        return version_folder(version_for(model, parsed), root, models, locations, hops + 1)
    if locations is not None:
        proxied = locations.folder_of_uri(uri)
        if proxied is not None:
            return proxied
    try:
        path = local_path(uri)
    except NotLocalError:
        raise ArtifactsUnavailable(f"The model version's files are stored at '{uri}', which mlscope cannot read: only "
                                   "local (file:), runs:/, models:/ and mlflow-artifacts: locations are supported.") from None
    if not _inside(path, root):
        # A tree that was moved or copied keeps absolute paths of its old place: its own copy wins.
        moved = _moved(path, root)
        if moved is not None:
            return moved
    return path


def version_folder(version: ModelVersion, root: Path, models: dict[str, RegisteredModel],
                   locations: ArtifactLocations | None = None, hops: int = 0) -> Path:
    """The folder of a version's files (MLmodel and the rest)."""
    return uri_folder(version.download_uri, root, models, locations, hops)


@dataclass(frozen=True, slots=True)
class FilesInTree:
    """Where a version's folder sits in the tree: a run's artifacts, or a logged model's (with its run)."""

    run_id: str | None
    model_id: str | None
    path: str  # relative to the run's (or logged model's) artifact folder; '' for the folder itself


def files_in_tree(folder: Path, root: Path, locations: ArtifactLocations | None = None) -> FilesInTree | None:
    """The run / logged model whose artifact folder holds ``folder`` (under the tree or the proxy's roots)."""
    roots = [root, *(locations.roots if locations is not None else ())]
    target = folder.resolve()
    for base in dict.fromkeys(r.resolve() for r in roots):
        try:
            parts = target.relative_to(base).parts
        except ValueError:
            continue
        if parts[:1] == (TRASH,):
            parts = parts[1:]
        if len(parts) >= 3 and parts[2] == "artifacts" and parts[1] not in RESERVED_EXPERIMENT_FOLDERS:
            return FilesInTree(parts[1], None, "/".join(parts[3:]))
        if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
            model_dir = find_logged_model_dir(root, parts[2])
            run_id = None
            if model_dir is not None:
                try:
                    run_id = read_yaml(model_dir / "meta.yaml").get("source_run_id")
                except MalformedError:
                    run_id = None
            return FilesInTree(str(run_id) if run_id else None, parts[2], "/".join(parts[4:]))
    return None
