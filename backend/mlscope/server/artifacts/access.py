"""From a request's ``run_id`` / ``model_id`` / ``path`` to a safe local path, or a clear 400/404.

Every artifact endpoint (MLflow's and mlscope's) finds its files through here,
so the rules for roots, moved trees, non-local stores and traversal live once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ...index import RunIndex
from ...index.logged_models import logged_models_of
from ...store.artifact_uris import ArtifactLocations
from ...store.artifacts import (
    ArtifactsUnavailable,
    UnsafePathError,
    artifact_root_for,
    check_relative_path,
    model_artifact_root,
    models_of_run,
    resolve_artifact_path,
)
from ...store.model import LoggedModel, Run
from ...store.tree_names import shown_name
from ..args import string_arg
from ..errors import ApiError, invalid, not_found
from ..state import artifact_locations_of, index_of


@dataclass(frozen=True, slots=True)
class ArtifactSource:
    """The artifact root a request addresses: a run's own, or one of its logged models'."""

    run: Run
    root: Path
    model: LoggedModel | None = None

    @property
    def label(self) -> str:
        return f"logged model '{self.model.model_id}'" if self.model else f"run '{self.run.run_id}'"


def unavailable(message: str) -> ApiError:
    return ApiError("RESOURCE_UNAVAILABLE", message, 404)


def run_id_arg(args: dict[str, Any]) -> str:
    run_id = string_arg(args, "run_id") or string_arg(args, "run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    return run_id


def linked_models(index: RunIndex, run: Run) -> list[LoggedModel]:
    """The run's MLflow 3 logged models (blocking: reads the experiment's models folder)."""
    experiment = index.experiment(run.info.experiment_id)
    exp_dir = experiment.path if experiment is not None else run.path.parent
    return models_of_run(run, list(logged_models_of(exp_dir).values()))


def model_folders(index: RunIndex, locations: ArtifactLocations, run: Run) -> list[tuple[str, Path]]:
    """(folder name, artifact root) of each of the run's logged models stored on this machine (blocking).

    The name is the model's name (its id when unnamed or shared by two models): "Download all" puts each
    model under logged_models/<name>/ next to the run's own artifacts.
    """
    models = linked_models(index, run)
    # a name is one path segment inside the zip: no separators, no "." or ".."
    names = [(m.name or "").replace("/", "_").replace("\\", "_").strip(".") or m.model_id for m in models]
    found = []
    for model, name in zip(models, names, strict=True):
        try:
            root = model_artifact_root(model, locations)
        except ArtifactsUnavailable:
            continue
        found.append((name if names.count(name) == 1 else model.model_id, root))
    return found


def _source(index: RunIndex, locations: ArtifactLocations, run_id: str, model_id: str | None) -> ArtifactSource:
    run = index.run(run_id)
    if run is None:
        raise not_found(f"Run '{run_id}' not found")
    try:
        if model_id is None:
            return ArtifactSource(run, artifact_root_for(run, locations))
        for model in linked_models(index, run):
            if model.model_id == model_id:
                return ArtifactSource(run, model_artifact_root(model, locations), model)
    except ArtifactsUnavailable as exc:
        raise unavailable(str(exc)) from None
    raise not_found(f"Logged model '{model_id}' not found for run '{run_id}'")


async def artifact_source(request: Request, args: dict[str, Any]) -> ArtifactSource:
    """The run (and optional ``model_id``) a request names; 404 when unknown or not local."""
    locations = artifact_locations_of(request)
    return await run_in_threadpool(_source, index_of(request), locations, run_id_arg(args), string_arg(args, "model_id"))


def relative_arg(args: dict[str, Any], name: str = "path") -> str:
    """The ``path`` parameter, validated (400 for traversal attempts) and normalised.

    Kept as served text (undecodable bytes as ``\\xNN``): safe in messages and file names, and mapped
    back to the file by every resolve.
    """
    raw = string_arg(args, name) or ""
    try:
        clean = check_relative_path(raw)
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None
    return "" if not clean.parts else shown_name(clean.as_posix())


def resolve(source: ArtifactSource, relative: str) -> Path:
    """Blocking: the real path of ``relative`` in the source's root; 400 unsafe, 404 missing."""
    try:
        return resolve_artifact_path(source.root, relative)
    except UnsafePathError as exc:
        raise invalid(str(exc)) from None
    except FileNotFoundError:
        raise not_found(f"No artifact '{relative}' in {source.label}") from None


def resolve_file(source: ArtifactSource, relative: str) -> Path:
    """Like ``resolve`` but the path must be a regular file."""
    if not relative:
        raise invalid("Missing value for required parameter 'path'.")
    path = resolve(source, relative)
    if path.is_dir():
        raise invalid(f"Artifact path refers to a directory, not a file: '{relative}'")
    if not path.is_file():
        raise not_found(f"Artifact '{relative}' is not a regular file")
    return path
