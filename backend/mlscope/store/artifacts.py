"""Where a run's artifacts live on disk, and safe access to the files beneath that root.

Every artifact endpoint goes through ``resolve_artifact_path``: it is the one
place that decides whether a requested path may be read. It refuses ``..``,
absolute paths, NUL bytes, backslashes and symlinks that lead out of the root.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .atomic import TMP_PREFIX
from .model import LoggedModel, Run
from .paths import NotLocalError, local_path
from .tree_names import disk_name, shown_name

if TYPE_CHECKING:
    from .artifact_uris import ArtifactLocations

# Files MLflow's LocalArtifactRepository hides while they are being uploaded.
TEMP_ARTIFACT_PREFIX = ".artifact.uploading."
MAX_PATH_LENGTH = 4096


class UnsafePathError(ValueError):
    """A requested artifact path that could read outside the artifact root."""


class ArtifactsUnavailable(Exception):
    """The artifacts live somewhere mlscope cannot read (s3:, gs:, mlflow-artifacts:, ...)."""


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    name: str
    path: str  # relative to the artifact root, '/'-separated
    is_dir: bool
    size: int | None  # files only
    mtime: int  # epoch milliseconds


@dataclass(frozen=True, slots=True)
class SeriesImage:
    """One file of an image series logged with ``log_image(key=..., step=...)``."""

    key: str
    step: int
    timestamp: int
    uuid: str
    compressed: bool  # the ``+compressed.webp`` thumbnail MLflow writes beside the png


def _local_root(uri: str, fallback: Path, what: str, locations: ArtifactLocations | None) -> Path:
    root = _found_root(uri, fallback, what, locations)
    if locations is not None and not locations.allows(root):
        raise ArtifactsUnavailable(
            f"The artifacts of {what} are at '{os.path.realpath(root)}', outside the served tree: mlscope serves "
            "artifact folders only inside the tree, in the mlartifacts folder beside it, or under --artifacts-destination."
        )
    return root


def _found_root(uri: str, fallback: Path, what: str, locations: ArtifactLocations | None) -> Path:
    if not uri:
        return fallback
    if locations is not None:
        proxied = locations.folder_of_uri(uri)
        if proxied is not None:  # mlflow-artifacts: URIs, found in the tree or the artifacts destination
            return proxied
    try:
        path = local_path(uri)
    except NotLocalError:
        hint = " (pass --artifacts-destination <folder> for trees written through mlflow server)" if "mlflow-artifacts" in uri else ""
        raise ArtifactsUnavailable(
            f"The artifacts of {what} are stored at '{uri}', which mlscope cannot read: "
            f"only local (file:) artifact locations and mlflow-artifacts: folders it can find are supported{hint}."
        ) from None
    # Moved or rsynced trees keep absolute file: URIs that no longer exist (MLflow #3144).
    return path if path.is_dir() else fallback


def artifact_root_for(run: Run, locations: ArtifactLocations | None = None) -> Path:
    """The run's artifact folder: its artifact_uri when that exists, else ``<run dir>/artifacts``.

    ``locations`` resolves ``mlflow-artifacts:`` URIs (runs logged through a tracking server).
    """
    if not run.info.artifact_uri:
        return _local_root("", run.path / "artifacts", f"run '{run.run_id}'", locations)
    return _local_root(run.info.artifact_uri, run.path / "artifacts", f"run '{run.run_id}'", locations)


def model_artifact_root(model: LoggedModel, locations: ArtifactLocations | None = None) -> Path:
    """A logged model's artifact folder, with the same fallback for moved trees."""
    if not model.artifact_location:
        return _local_root("", model.path / "artifacts", f"logged model '{model.model_id}'", locations)
    return _local_root(model.artifact_location, model.path / "artifacts", f"logged model '{model.model_id}'", locations)


def models_of_run(run: Run, models: list[LoggedModel]) -> list[LoggedModel]:
    """Logged models that belong beside a run's artifacts: its outputs, and models it is the source of."""
    output_ids = {ref.model_id for ref in run.model_outputs}
    linked = [m for m in models if m.model_id in output_ids or m.source_run_id == run.run_id]
    return sorted(linked, key=lambda m: (m.creation_timestamp or 0, m.model_id))


def check_relative_path(relative: str) -> PurePosixPath:
    """Validate a client-supplied artifact path; '' (or '/'-only) means the root.

    A listed name whose undecodable bytes were served as ``\\xNN`` maps back to its file first.
    """
    relative = disk_name(relative)
    if len(relative) > MAX_PATH_LENGTH:
        raise UnsafePathError("Invalid path: too long")
    if "\x00" in relative:
        raise UnsafePathError("Invalid path: it contains a NUL byte")
    if "\\" in relative:
        raise UnsafePathError("Invalid path: backslashes are not allowed, use '/'")
    if relative.startswith("/") or re.match(r"^[A-Za-z]:", relative):
        raise UnsafePathError("Invalid path: it must be relative to the artifact root")
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePathError("Invalid path: '..' is not allowed")
    return PurePosixPath(*parts) if parts else PurePosixPath()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_artifact_path(root: Path, relative: str) -> Path:
    """The real path of ``relative`` under ``root``.

    Raises UnsafePathError for paths that are not plain relative paths or that
    resolve (through symlinks) outside the root, FileNotFoundError when missing.
    """
    clean = check_relative_path(relative)
    real_root = root.resolve()
    candidate = real_root.joinpath(*clean.parts)
    try:
        resolved = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"No such artifact: '{shown_name(str(clean))}'") from None
    except (OSError, RuntimeError):  # symlink loops, permission problems
        raise FileNotFoundError(f"Cannot read artifact: '{shown_name(str(clean))}'") from None
    if not _inside(resolved, real_root):
        raise UnsafePathError("Invalid path: it leads outside the artifact root")
    return resolved


def entry_inside(entry_path: str, real_root: Path) -> bool:
    """True when a directory entry (possibly a symlink) stays within the root."""
    try:
        return _inside(Path(entry_path).resolve(strict=True), real_root)
    except (OSError, RuntimeError):
        return False


def list_artifacts(root: Path, relative: str, limit: int | None = None) -> tuple[list[ArtifactEntry], bool]:
    """One directory level, sorted by path; (entries, truncated).

    Symlinks that lead out of the root and MLflow's in-flight upload files are
    left out. A missing root lists as empty, as MLflow does.
    """
    clean = check_relative_path(relative)
    if not clean.parts and not root.is_dir():
        return [], False
    folder = resolve_artifact_path(root, relative)
    if not folder.is_dir():
        raise NotADirectoryError(f"Not a directory: '{shown_name(str(clean))}'")
    real_root = root.resolve()
    entries: list[ArtifactEntry] = []
    with os.scandir(folder) as scan:
        names = sorted(scan, key=lambda e: e.name)
    truncated = False
    for item in names:
        if item.name.startswith((TEMP_ARTIFACT_PREFIX, TMP_PREFIX)):
            continue
        if item.is_symlink() and not entry_inside(item.path, real_root):
            continue
        try:
            info = os.stat(item.path)
        except OSError:
            continue
        if limit is not None and len(entries) >= limit:
            truncated = True
            break
        is_dir = stat.S_ISDIR(info.st_mode)
        entries.append(
            ArtifactEntry(
                name=shown_name(item.name),
                path=shown_name(str(clean / item.name) if clean.parts else item.name),
                is_dir=is_dir,
                size=None if is_dir else info.st_size,
                mtime=int(info.st_mtime * 1000),
            )
        )
    return entries, truncated


def walk_files(folder: Path, real_root: Path) -> list[tuple[Path, str]]:
    """Every regular file under ``folder`` as (real path, shown path relative to folder), top-down, sorted.

    A loop with its own stack, not ``os.walk``'s recursion: 1,000-deep folders
    must not raise RecursionError. Symlinked folders are not descended into
    (no loops); symlinked files are kept only when they resolve inside the
    root; folders that cannot be listed (too long a path) are left out.
    """
    found: list[tuple[Path, str]] = []
    stack = [(str(folder), "")]
    while stack:
        path, inside = stack.pop()
        try:
            with os.scandir(path) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith((TEMP_ARTIFACT_PREFIX, TMP_PREFIX)):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, inside + entry.name + "/"))
                    continue
                if entry.is_symlink() and not entry_inside(entry.path, real_root):
                    continue
                if not entry.is_file():
                    continue
            except OSError:
                continue
            found.append((Path(entry.path), shown_name(inside + entry.name)))
        stack.extend(reversed(folders))
    return found


# MLflow >= 3.2 writes '+' delimiters; older versions wrote '%' (the UI accepts both).
_SERIES_RE = re.compile(
    r"^(?P<key>.+?)(?P<d>[+%])step(?P=d)(?P<step>-?\d+)(?P=d)timestamp(?P=d)(?P<ts>\d+)(?P=d)(?P<uuid>[0-9a-fA-F-]+)"
    r"(?P<compressed>(?P=d)compressed)?\.(?P<ext>png|webp|jpe?g|gif)$"
)


def parse_series_image_name(name: str) -> SeriesImage | None:
    """Parse ``<key>+step+N+timestamp+T+<uuid>[+compressed].png|webp``; None for other names."""
    match = _SERIES_RE.match(name)
    if match is None:
        return None
    # '/' in keys is written as '~' (and '#' by older MLflow versions).
    key = match["key"].replace("~", "/").replace("#", "/")
    return SeriesImage(key, int(match["step"]), int(match["ts"]), match["uuid"], bool(match["compressed"]))
