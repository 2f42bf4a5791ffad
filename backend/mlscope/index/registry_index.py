"""The model registry in memory: re-read per model only when its files moved.

Every registry request (the Models page at 1,000 models, MLflow's searches,
alias lookups by ``pyfunc.load_model``) reads from one immutable snapshot.
A snapshot is checked against the tree at most once per ``check_interval``
seconds: a few stats per model and version (folders, meta.yaml, tags/,
aliases/), and only models whose stamp changed are read again. MLflow's
FileStore rewrites a model's meta.yaml on every change below it, and so does
mlscope's writer; writes made through mlscope call ``invalidate`` so the
next read sees them at once (read-your-writes).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..store.errors import MalformedError
from ..store.model import Problem
from ..store.registry_model import ModelVersion, RegisteredModel
from ..store.registry_reader import VERSION_PREFIX, read_registered_model, registered_model_dirs
from .signatures import Signature, signature

Stamp = tuple[Signature, ...]


@dataclass(frozen=True)
class RegistrySnapshot:
    """Everything the registry holds at one moment; ``generation`` changes whenever anything did."""

    models: tuple[RegisteredModel, ...] = ()  # by name
    by_name: dict[str, RegisteredModel] = field(default_factory=dict)
    versions: tuple[ModelVersion, ...] = ()  # every version of every model, deleted ones included
    by_run: dict[str, tuple[ModelVersion, ...]] = field(default_factory=dict)  # live versions by source run
    problems: tuple[Problem, ...] = ()
    generation: int = 0


def version_names(model_dir: Path) -> tuple[str, ...]:
    try:
        with os.scandir(model_dir) as entries:
            return tuple(sorted(e.name for e in entries if e.name.startswith(VERSION_PREFIX)))
    except OSError:
        return ()


def model_stamp(model_dir: Path, folder: Signature, versions: tuple[str, ...]) -> Stamp:
    """Stats that move when MLflow (or mlscope) changes anything under a model folder.

    The folder itself (a version added or removed), meta.yaml (rewritten on every
    tag, alias, stage or version change), tags/ and aliases/ (keys added or
    removed by hand), and each version's meta.yaml (a description edit touches
    only that file).
    """
    return (folder, signature(model_dir / "meta.yaml"), signature(model_dir / "tags"),
            signature(model_dir / "aliases"), *(signature(model_dir / name / "meta.yaml") for name in versions))


@dataclass(frozen=True, slots=True)
class _Entry:
    folder: Signature
    versions: tuple[str, ...]
    stamp: Stamp
    model: RegisteredModel | None
    problems: tuple[Problem, ...]


class RegistryIndex:
    """A cached, incrementally refreshed view of ``<root>/models`` (thread-safe).

    Reads never wait for a routine check: a stale snapshot is served while a
    background thread checks the tree. Only the first read, and the first read
    after ``invalidate`` (mlscope's own writes), wait for fresh data.
    """

    def __init__(self, root: Path, check_interval: float = 1.0) -> None:
        self.root = root
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._snapshot = RegistrySnapshot()
        self._checked_at = float("-inf")
        self._dirty: set[str] = set()
        self._built = False
        self._checking = False

    def snapshot(self) -> RegistrySnapshot:
        """The current snapshot; blocking only before the first build and after invalidate()."""
        if not self._built:
            return self.refresh()
        if self._dirty:
            self._refresh_models(set(self._dirty))
        if time.monotonic() - self._checked_at >= self.check_interval and not self._checking:
            self._checking = True
            threading.Thread(target=self._background_refresh, name="mlscope-registry-check", daemon=True).start()
        return self._snapshot

    def _background_refresh(self) -> None:
        try:
            self.refresh()
        finally:
            self._checking = False

    def invalidate(self, *names: str) -> None:
        """After a write to these models (folder names): the next snapshot() re-reads them before answering."""
        self._dirty.update(names)

    def _read(self, model_dir: Path, cached: _Entry | None) -> _Entry:
        folder = signature(model_dir)
        versions = cached.versions if cached is not None and cached.folder == folder else version_names(model_dir)
        stamp = model_stamp(model_dir, folder, versions)
        if cached is not None and cached.stamp == stamp:
            return cached
        problems: list[Problem] = []
        try:
            model: RegisteredModel | None = read_registered_model(model_dir, problems)
        except MalformedError as exc:
            model = None
            problems.append(Problem(str(model_dir), str(exc), "registry"))
        return _Entry(folder, versions, stamp, model, tuple(problems))

    def _refresh_models(self, names: set[str]) -> None:
        with self._lock:
            self._dirty -= names
            entries = dict(self._entries)
            for name in names:
                model_dir = self.root / "models" / name
                if os.path.isdir(model_dir):  # never raises (a 5,000-character name is ENAMETOOLONG for Path.is_dir)
                    entries[name] = self._read(model_dir, entries.get(name))
                else:
                    entries.pop(name, None)
            self._publish(entries)

    def model(self, name: str) -> RegisteredModel | None:
        """One model by folder name, checked against its files first (a few stats), so never stale."""
        if not self._built:
            self.refresh()
        self._refresh_models({name})
        return self._snapshot.by_name.get(name)

    def _publish(self, entries: dict[str, _Entry]) -> None:
        if entries != self._entries or not self._built:
            self._entries = entries
            self._snapshot = _build(entries, self._snapshot.generation + 1)
        self._built = True

    def refresh(self) -> RegistrySnapshot:
        """Check every model folder now (blocking) and re-read the ones that changed."""
        with self._lock:
            entries = {d.name: self._read(d, self._entries.get(d.name)) for d in registered_model_dirs(self.root)}
            self._publish(entries)
            self._checked_at = time.monotonic()
            return self._snapshot


def _build(entries: dict[str, _Entry], generation: int) -> RegistrySnapshot:
    models = sorted((e.model for e in entries.values() if e.model is not None), key=lambda m: m.name)
    versions = tuple(v for m in models for v in m.versions)
    by_run: dict[str, list[ModelVersion]] = {}
    for version in versions:
        if version.run_id and not version.deleted:
            by_run.setdefault(version.run_id, []).append(version)
    return RegistrySnapshot(
        models=tuple(models),
        by_name={dir_name: e.model for dir_name, e in entries.items() if e.model is not None},
        versions=versions,
        by_run={run_id: tuple(found) for run_id, found in by_run.items()},
        problems=tuple(p for e in entries.values() for p in e.problems),
        generation=generation,
    )
