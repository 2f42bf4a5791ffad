"""Where things live in an mlruns tree, and how URIs map to local paths."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from .tree_names import shown_name

TRASH = ".trash"
# Folders inside an experiment that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS).
RESERVED_EXPERIMENT_FOLDERS = frozenset({"tags", "datasets", "traces", "models"})
# Top-level folders that are not experiments.
RESERVED_ROOT_FOLDERS = frozenset({TRASH, "models", ".mlscope"})


class NotLocalError(ValueError):
    """A URI that names something other than a local path (s3:, http:, ...)."""


def local_path(uri: str) -> Path:
    """A local filesystem path for a plain path or a ``file:`` URI.

    Raises NotLocalError for any other scheme, so callers can say
    "unavailable" instead of guessing.
    """
    if not uri:
        raise NotLocalError("empty URI")
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        # file:///abs, file:/abs, file://localhost/abs and file:relative all occur in the wild.
        netloc = parsed.netloc if parsed.netloc not in ("", "localhost") else ""
        raw = unquote(netloc + parsed.path) if netloc else unquote(parsed.path)
        return Path(raw or ".")
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return Path(uri)
    raise NotLocalError(f"'{uri}' is not a local path or file: URI")


def is_local_uri(uri: str) -> bool:
    try:
        local_path(uri)
    except NotLocalError:
        return False
    return True


def file_uri(path: Path) -> str:
    return path.resolve().as_uri()


def is_mlruns_root(path: Path) -> bool:
    """True when path looks like an mlruns tree (or an empty one being started)."""
    if not path.is_dir():
        return False
    try:
        entries = list(os.scandir(path))
    except OSError:
        return False
    if not entries:
        return True
    for entry in entries:
        if entry.name in (TRASH, "models"):
            return True
        if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "meta.yaml")):
            return True
    return False


def key_files(folder: Path) -> list[tuple[str, str]]:
    """(key, path) for every file below folder; '/' in keys are subfolders."""
    found: list[tuple[str, str]] = []
    stack = [(str(folder), "")]
    while stack:
        path, prefix = stack.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir():
                        stack.append((entry.path, f"{prefix}{entry.name}/"))
                    elif not entry.name.startswith(".mlscope-tmp"):
                        found.append((shown_name(prefix + entry.name), entry.path))
        except OSError:
            continue
    return found
