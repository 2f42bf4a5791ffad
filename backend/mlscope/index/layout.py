"""Which files and folders of a run the index watches, shared by every run with the same keys.

Runs of one project log the same params, tags and metrics, so one interned
``Layout`` serves thousands of runs; a run then keeps only the packed
signatures of the layout's paths (``RunEntry.sigs``). The order of the paths
is fixed so each kind of check compares one contiguous slice of bytes:

    folders (params, tags, inputs, outputs, nested params/tags folders)
    tag files (MLflow rewrites a tag's file in place: only its own stat shows it)
    metric folders (metrics, nested metric folders)
    metric files

Param files are not watched one by one: MLflow never rewrites a logged
param, and a new param moves its folder's signature.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ..store.tree_names import disk_name
from .signatures import SIG_BYTES

BASE_FOLDERS = ("params", "tags", "inputs", "outputs")


@dataclass(frozen=True, slots=True)
class Layout:
    folders: tuple[str, ...]  # BASE_FOLDERS, then nested params/ and tags/ folders
    tag_keys: tuple[str, ...]
    metric_folders: tuple[str, ...]  # "metrics", then nested metric folders
    metric_keys: tuple[str, ...]
    paths: tuple[str, ...] = field(default=(), compare=False)  # every watched path, in signature order

    def __post_init__(self) -> None:
        paths = (*self.folders, *("tags/" + disk_name(k) for k in self.tag_keys), *self.metric_folders,
                 *("metrics/" + disk_name(k) for k in self.metric_keys))
        object.__setattr__(self, "paths", tuple(sys.intern(p) for p in paths))

    @property
    def key(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        return (self.folders, self.tag_keys, self.metric_folders, self.metric_keys)

    # Byte offsets of each part in a packed signature string.
    @property
    def tags_at(self) -> int:
        return len(self.folders) * SIG_BYTES

    @property
    def metrics_at(self) -> int:
        return (len(self.folders) + len(self.tag_keys)) * SIG_BYTES

    @property
    def metric_files_at(self) -> int:
        return (len(self.folders) + len(self.tag_keys) + len(self.metric_folders)) * SIG_BYTES

    def metric_paths(self) -> tuple[str, ...]:
        """Metric folders and files: what a hot (training) run's check stats."""
        return self.paths[len(self.folders) + len(self.tag_keys):]

    def folder_paths(self) -> tuple[str, ...]:
        return self.paths[: len(self.folders)]


MAX_LAYOUTS = 20_000  # distinct layouts kept; beyond that the table starts afresh (runs keep theirs)
_interned: dict[tuple[tuple[str, ...], ...], Layout] = {}


def layout_of(folders: tuple[str, ...], tag_keys: tuple[str, ...], metric_folders: tuple[str, ...], metric_keys: tuple[str, ...]) -> Layout:
    """The one shared Layout for these names (keys interned, so runs share their strings too)."""
    key = (folders, tag_keys, metric_folders, metric_keys)
    found = _interned.get(key)
    if found is None:
        found = Layout(*(tuple(sys.intern(name) for name in part) for part in key))
        if len(_interned) >= MAX_LAYOUTS:
            _interned.clear()
        _interned[key] = found
    return found
