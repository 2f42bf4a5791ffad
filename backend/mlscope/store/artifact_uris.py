"""Artifact URIs a tracking server hands out, and where ``mlflow-artifacts:`` paths live on disk.

MLflow's client uploads through the server (its proxied repository) only
when a run's ``artifact_uri`` is an ``mlflow-artifacts:`` URI, so runs and
logged models created through ``mlscope server`` get
``mlflow-artifacts:/<exp>/<run>/artifacts`` whenever their experiment's
artifact location is inside the tree. The proxy then maps that path onto the
tree itself: the upload lands in ``<tree>/<exp>/<run>/artifacts``, exactly
where a run logged locally keeps its files, so the tree stays
self-contained, and the URI holds no absolute path (a moved tree still works).
It is also what ``mlflow server --artifacts-destination <tree>`` would read.

Trees written through ``mlflow server`` use the same URIs but keep the files
in the server's ``--artifacts-destination`` (``./mlartifacts`` by default);
``ArtifactLocations`` looks there too, per artifact folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .artifacts import UnsafePathError, check_relative_path
from .paths import RESERVED_EXPERIMENT_FOLDERS, TRASH, NotLocalError, local_path

PROXY_SCHEME = "mlflow-artifacts"
PROXY_ROUTE = "/api/2.0/mlflow-artifacts/artifacts"
ARTIFACTS_FOLDER = "artifacts"
DEFAULT_DESTINATION_NAME = "mlartifacts"  # mlflow server's default --artifacts-destination, beside the tree
# Owners of an artifact folder inside an experiment, other than runs: (sub-folder, the file that proves it exists).
_OWNER_MARKERS = {"models": "meta.yaml", "traces": "trace_info.yaml"}


def proxied_path_of(uri: str) -> str | None:
    """The path behind the artifact proxy that a URI names, or None when it is not proxied.

    ``mlflow-artifacts:/0/r/artifacts``, ``mlflow-artifacts://host:5000/0/r/artifacts`` and
    ``http://host/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts`` all give ``0/r/artifacts``.
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == PROXY_SCHEME:
        return parsed.path.strip("/")
    if scheme in ("http", "https") and PROXY_ROUTE in parsed.path:
        return parsed.path.split(PROXY_ROUTE, 1)[1].strip("/")
    return None


def _location_in_tree(tree: Path, experiment_id: str, location: str) -> str | None:
    """An experiment location's path relative to the tree, or None when it is elsewhere (s3:, another folder)."""
    try:
        path = Path(os.path.abspath(local_path(location)))
    except NotLocalError:
        return None
    tree = Path(os.path.abspath(tree))
    if path == tree or tree in path.parents:
        return path.relative_to(tree).as_posix()
    if not path.exists() and path.name == experiment_id and (tree / experiment_id).is_dir():
        return experiment_id  # a moved tree: the experiment's old absolute location
    return None


def client_artifact_uri(tree: Path, experiment_id: str, location: str, *parts: str, proxied: bool = True) -> str:
    """``<location>/<parts...>`` as a client should use it: proxied when the location is inside the tree.

    With ``proxied`` False (``--no-serve-artifacts``) this is MLflow's own rule, ``append_to_uri_path``.
    """
    base = location.rstrip("/")
    if proxied:
        inside = _location_in_tree(tree, str(experiment_id), location)
        if inside is not None:
            base = f"{PROXY_SCHEME}:/{inside}" if inside not in ("", ".") else f"{PROXY_SCHEME}:"
    return "/".join([base, *parts])


def run_artifact_uri(tree: Path, experiment_id: str, location: str, run_id: str, *, proxied: bool = True) -> str:
    """The ``artifact_uri`` of a run created through the server (FileStore: ``<location>/<run>/artifacts``)."""
    return client_artifact_uri(tree, experiment_id, location, run_id, ARTIFACTS_FOLDER, proxied=proxied)


def logged_model_artifact_uri(tree: Path, experiment_id: str, location: str, model_id: str, *, proxied: bool = True) -> str:
    """The ``artifact_location`` of a logged model created through the server (``<location>/models/<id>/artifacts``)."""
    return client_artifact_uri(tree, experiment_id, location, "models", model_id, ARTIFACTS_FOLDER, proxied=proxied)


@dataclass(frozen=True, slots=True)
class ProxiedFolder:
    """One artifact folder behind the proxy (``root``) and a path beneath it ('' for the folder itself)."""

    root: Path
    relative: str

    @property
    def path(self) -> Path:
        return self.root.joinpath(*self.relative.split("/")) if self.relative else self.root


@dataclass(frozen=True)
class ArtifactLocations:
    """The folders behind one server's artifact proxy: where uploads go, and where reads also look.

    Uploads go to ``destination`` when one was given (``--artifacts-destination``), else into the tree.
    Reads look at the upload folder, then the tree, then (with no destination given) an
    ``mlartifacts`` folder beside the tree, and take the first that holds the artifact folder
    with files in it; writes follow the same choice, so a run's files stay together.
    """

    tree: Path
    destination: Path | None = None
    _roots: tuple[tuple[Path, bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tree = Path(os.path.abspath(self.tree))
        roots: list[tuple[Path, bool]] = []
        candidates = [self.destination, tree] if self.destination is not None else [tree, tree.parent / DEFAULT_DESTINATION_NAME]
        seen: set[str] = set()
        for folder in candidates:
            assert folder is not None
            absolute = Path(os.path.abspath(folder))
            real = os.path.realpath(absolute)
            if real not in seen:
                seen.add(real)
                roots.append((absolute, real == os.path.realpath(tree)))
        object.__setattr__(self, "tree", tree)
        object.__setattr__(self, "_roots", tuple(roots))

    @property
    def upload_root(self) -> Path:
        return self._roots[0][0]

    @property
    def roots(self) -> tuple[Path, ...]:
        return tuple(root for root, _ in self._roots)

    def locate(self, proxied_path: str) -> ProxiedFolder:
        """The artifact folder a proxied path falls in; UnsafePathError when it names no artifact folder.

        Inside the tree only the ``artifacts`` folders of existing runs, logged models and traces are
        addressable, so nothing sent through the proxy can reach meta.yaml, params, metrics or tags.
        """
        parts = check_relative_path(proxied_path).parts
        candidates = [_split(root, is_tree, parts) for root, is_tree in self._roots]
        found = [folder for folder in candidates if folder is not None]
        if not found:
            raise UnsafePathError(
                f"Invalid path: '{proxied_path}' is not inside the artifact folder of a run or logged model of this tree"
            )
        for folder in found:
            if _has_entries(folder.root):
                return folder
        if candidates[0] is None:  # only an empty folder in a read-only fallback: nothing to read, nowhere to write
            raise UnsafePathError(f"Invalid path: '{proxied_path}' names no artifact folder that exists")
        return candidates[0]

    def allows(self, folder: Path) -> bool:
        """True when an artifact root lies, symlinks followed, inside the tree, beside it or under the destination.

        A crafted run (``artifact_uri: file:///etc``, an ``artifacts`` folder symlinked to ``/etc``) must not
        turn the server into a reader of any folder. A SQL store has no tree: its URIs come from its database.
        """
        if not self.tree.is_dir():
            return True
        trusted = [self.tree, self.tree.parent / DEFAULT_DESTINATION_NAME]
        if self.destination is not None:
            trusted.append(self.destination)
        real = os.path.realpath(folder)
        for root in trusted:
            top = os.path.realpath(root)
            if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
                return True
        return False

    def folder_of_uri(self, uri: str) -> Path | None:
        """The local folder of a proxied artifact URI (None when the URI is not proxied or names nothing here)."""
        proxied = proxied_path_of(uri)
        if proxied is None:
            return None
        try:
            return self.locate(proxied).path
        except UnsafePathError:
            return None


def _split(root: Path, is_tree: bool, parts: tuple[str, ...]) -> ProxiedFolder | None:
    """Where ``parts`` falls under one root: (artifact folder, rest), or None when it names none there."""
    if not is_tree:
        if ARTIFACTS_FOLDER not in parts:
            return None
        end = parts.index(ARTIFACTS_FOLDER) + 1
        return ProxiedFolder(root.joinpath(*parts[:end]), "/".join(parts[end:]))
    owner = _tree_owner(parts)
    if owner is None:
        return None
    owner_parts, marker = owner
    for base in (root, root / TRASH):
        owner_dir = base.joinpath(*owner_parts)
        if (owner_dir / marker).is_file():
            rest = parts[len(owner_parts) + 1 :]
            return ProxiedFolder(owner_dir / ARTIFACTS_FOLDER, "/".join(rest))
    return None


def _tree_owner(parts: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """The run / logged model / trace folder a tree path's artifacts belong to, with its marker file."""
    if not parts or parts[0].startswith("."):
        return None
    if len(parts) >= 3 and parts[2] == ARTIFACTS_FOLDER and parts[1] not in RESERVED_EXPERIMENT_FOLDERS:
        return parts[:2], "meta.yaml"
    if len(parts) >= 4 and parts[1] in _OWNER_MARKERS and parts[3] == ARTIFACTS_FOLDER:
        return parts[:3], _OWNER_MARKERS[parts[1]]
    return None


def _has_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(True for _ in entries)
    except OSError:
        return False
