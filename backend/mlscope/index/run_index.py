"""The in-memory picture of every run, built once and then kept current.

Build happens in two passes so the first page is quick on big trees: pass one
reads every experiment and run meta.yaml (enough to list runs by start time),
pass two loads params, tags and latest metrics. ``refresh()`` then costs one
stat per run plus a deep look at "hot" runs (running, or changed lately) and
a rolling slice of the others, so a change anywhere is seen within a few
refreshes without ever rescanning the tree.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..store import reader
from ..store.model import DELETED, Experiment, Problem, Run
from .run_entry import RunEntry
from .signatures import MISSING, Signature, signature

HOT_SECONDS = 120.0  # a run seen changing this recently is checked on every refresh
ACTIVE_SECONDS = 600.0  # a RUNNING run that wrote within this is checked on every refresh
QUICK_SLICE = 500  # other runs quick-checked per refresh, round robin (10,000 runs: a lap in 20 refreshes)
DEEP_SLICE = 20  # runs fully re-read per refresh, round robin (catches values rewritten in place)


@dataclass(slots=True)
class ExperimentEntry:
    experiment: Experiment
    dir_sig: Signature
    meta_sig: Signature
    tags_sig: Signature
    run_ids: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Progress:
    phase: str = "starting"  # starting | runs | details | ready
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.time)
    finished: float | None = None


class RunIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.progress = Progress()
        self.version = 0
        self._lock = threading.RLock()
        self._experiments: dict[str, ExperimentEntry] = {}
        self._runs: dict[str, RunEntry] = {}
        self._problems: dict[tuple[str, str], Problem] = {}  # (path, source) -> problem
        self._changed_at: dict[str, int] = {}  # run_id -> index version of its last change
        self._next_version = 1  # the version changes seen by the current pass will get
        self._dirty = False
        self._hot_until: dict[str, float] = {}
        self._snapshots: dict[str, list[Run]] = {}  # experiment id -> its runs, at _snapshot_version
        self._snapshot_version = -1
        self._quick_cursor = 0
        self._deep_cursor = 0
        self._root_sig: tuple[Signature, Signature] = (MISSING, MISSING)
        self._listed = threading.Event()  # pass one done: every run's info is known
        self._ready = threading.Event()  # pass two done: details of every run are loaded

    # ------------------------------------------------------------ queries

    def wait_listed(self, timeout: float | None = None) -> bool:
        return self._listed.wait(timeout)

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def experiments(self) -> list[Experiment]:
        with self._lock:
            return [entry.experiment for entry in self._experiments.values()]

    def experiment(self, experiment_id: str) -> Experiment | None:
        with self._lock:
            entry = self._experiments.get(experiment_id)
            return entry.experiment if entry else None

    def run_counts(self) -> dict[str, dict[str, int]]:
        """Per experiment: active and deleted run counts."""
        with self._lock:
            counts: dict[str, dict[str, int]] = {}
            for exp_id, entry in self._experiments.items():
                active = sum(1 for rid in entry.run_ids if self._runs[rid].info.lifecycle_stage != DELETED)
                counts[exp_id] = {"active": active, "deleted": len(entry.run_ids) - active}
            return counts

    def runs(self, experiment_ids: Iterable[str] | None = None, details: bool = True) -> list[Run]:
        """A snapshot of runs (all when experiment_ids is None).

        With details=False, runs whose details are not loaded yet come with
        empty params/tags/metrics: enough to order by start time.
        """
        if details:
            self.wait_ready()
        with self._lock:
            ids = list(self._experiments) if experiment_ids is None else dict.fromkeys(experiment_ids)
            return [run for exp_id in ids for run in self._experiment_runs(exp_id)]

    def _experiment_runs(self, exp_id: str) -> list[Run]:
        """An experiment's runs, kept per index version once the index is ready (searches reuse it)."""
        if self._snapshot_version != self.version or not self._ready.is_set():
            self._snapshots.clear()
            self._snapshot_version = self.version
        cached = self._snapshots.get(exp_id)
        if cached is None:
            entry = self._experiments.get(exp_id)
            runs = [self._runs[rid] for rid in entry.run_ids] if entry else []
            cached = [e.run if e.run is not None else _bare_run(e) for e in runs]
            if self._ready.is_set():
                self._snapshots[exp_id] = cached
        return cached

    def run(self, run_id: str) -> Run | None:
        """One run with its details, loading them now if pass two has not reached it."""
        with self._lock:
            entry = self._runs.get(run_id)
            if entry is None:
                return None
            if entry.run is None:
                self._load_details(entry)
            return entry.run if entry.run is not None else _bare_run(entry)

    def with_details(self, runs: list[Run]) -> list[Run]:
        """The same runs, each with details (used for a page served before pass two ends)."""
        return [self.run(run.info.run_id) or run for run in runs]

    def problems(self) -> list[Problem]:
        with self._lock:
            return sorted(self._problems.values(), key=lambda p: p.path)

    def changed_since(self, version: int) -> list[str]:
        """Ids of runs added, changed or removed after index version `version`."""
        with self._lock:
            return [rid for rid, v in self._changed_at.items() if v > version]

    # ------------------------------------------------------------- building

    def build(self) -> None:
        """Both passes, reporting progress; safe to call from a worker thread."""
        self.progress = Progress(phase="runs")
        exp_dirs = self._scan_experiment_dirs()
        for exp_dir in exp_dirs:
            self._sync_experiment(exp_dir)
        with self._lock:
            pending = [e for e in self._runs.values() if e.run is None]
        self.progress.phase, self.progress.done, self.progress.total = "details", 0, len(pending)
        self._listed.set()
        for entry in pending:
            with self._lock:
                if entry.run is None and self._runs.get(entry.info.run_id) is entry:
                    self._load_details(entry)
            self.progress.done += 1
        with self._lock:
            self.version, self._next_version = 1, 2
        self.progress.phase, self.progress.finished = "ready", time.time()
        self._ready.set()

    def refresh(self) -> int:
        """Bring the index up to date; returns how many runs changed."""
        if not self._ready.is_set():
            return 0
        with self._lock:
            self._next_version, self._dirty = self.version + 1, False
            changed = 0
            root_sig = (signature(self.root), signature(self.root / ".trash"))
            if root_sig != self._root_sig:
                exp_dirs = self._scan_experiment_dirs()
            else:
                exp_dirs = [e.experiment.path for e in self._experiments.values()]
            seen_exps = {exp_id for exp_dir in exp_dirs if (exp_id := self._sync_experiment(exp_dir))}
            for exp_id in [e for e in self._experiments if e not in seen_exps]:
                changed += self._drop_experiment(exp_id)
            changed += self._refresh_runs()
            if self._dirty:
                self.version = self._next_version
            return changed

    # ------------------------------------------------- writes through mlscope

    def note_writes(self, experiment_ids: Iterable[str] = (), run_ids: Iterable[str] = (), *, deep: bool = True) -> None:
        """Re-read what a write through mlscope just changed, so the next read sees it (read-your-writes).

        Experiments are re-read (new, renamed, moved to or from .trash, new run
        folders); runs re-read their meta.yaml and details (``deep``: params,
        tags and inputs too; else only appended metrics). Costs a few stats and
        small reads, not a refresh of the tree.
        """
        with self._lock:
            self._next_version, self._dirty = self.version + 1, False
            now = time.time()
            for exp_id in experiment_ids:
                live, trashed = self.root / exp_id, self.root / ".trash" / exp_id
                exp_dir = live if (live / "meta.yaml").exists() else trashed if (trashed / "meta.yaml").exists() else None
                if exp_dir is not None:
                    known = self._experiments.get(exp_id)
                    if known is not None:  # a folder's signature can miss a change within one clock tick
                        known.tags_sig = known.dir_sig = MISSING
                    self._sync_experiment(exp_dir)
                elif exp_id in self._experiments:
                    self._drop_experiment(exp_id)
            for run_id in run_ids:
                entry = self._runs.get(run_id)
                if entry is None:
                    continue
                self._sync_entry(entry, check="metrics", now=now)  # meta.yaml, and metrics a stat can see
                if deep:
                    entry.folder_sigs = ()  # a folder's signature can miss a change within one clock tick
                if self._load_details(entry, full=deep):  # lists metrics/ again: a new key is never missed
                    self._hot_until[run_id] = now + HOT_SECONDS
                    self._mark_changed(run_id)
            if self._dirty and self._ready.is_set():
                self.version = self._next_version

    # ------------------------------------------------------------ internals

    def _scan_experiment_dirs(self) -> list[Path]:
        active, trashed = reader.experiment_dirs(self.root)
        self._root_sig = (signature(self.root), signature(self.root / ".trash"))
        for path in active + trashed:
            if not (path / "meta.yaml").exists() and path.name not in ("models",):
                self._report(path, "meta", "folder has no meta.yaml (not an experiment)", "experiment")
        return [p for p in active + trashed if (p / "meta.yaml").exists()]

    def _sync_experiment(self, exp_dir: Path) -> str | None:
        """Read or re-read one experiment and notice new or removed run folders."""
        exp_id = exp_dir.name
        meta_sig = signature(exp_dir / "meta.yaml")
        dir_sig = signature(exp_dir)
        tags_sig = signature(exp_dir / "tags")
        entry = self._experiments.get(exp_id)
        if entry is not None and entry.experiment.path != exp_dir and entry.experiment.path.exists():
            self._report(exp_dir, "meta", f"experiment id {exp_id} also exists at {entry.experiment.path}", "experiment")
            return None
        if entry is None or entry.meta_sig != meta_sig or entry.tags_sig != tags_sig or entry.experiment.path != exp_dir:
            try:
                experiment = reader.read_experiment(exp_dir)
            except reader.MalformedError as exc:
                self._report(exp_dir, "meta", str(exc), "experiment")
                return exp_id if entry is not None else None
            self._clear(exp_dir, "meta")
            if entry is None:
                entry = ExperimentEntry(experiment, MISSING, meta_sig, tags_sig)
                self._experiments[exp_id] = entry
            else:
                moved = entry.experiment.path != exp_dir
                entry.experiment, entry.meta_sig, entry.tags_sig = experiment, meta_sig, tags_sig
                if moved:  # deleted or restored: every run folder moved with it
                    for rid in list(entry.run_ids):
                        self._forget_run(rid)
                    entry.run_ids.clear()
                    entry.dir_sig = MISSING
            self._dirty = True
        if entry.dir_sig != dir_sig:
            self._sync_run_dirs(entry, exp_dir)
            entry.dir_sig = dir_sig
        return exp_id

    def _sync_run_dirs(self, entry: ExperimentEntry, exp_dir: Path) -> None:
        present = {p.name: p for p in reader.run_dirs(exp_dir)}
        for rid in [r for r in entry.run_ids if r not in present]:
            self._forget_run(rid)
            entry.run_ids.discard(rid)
        for name, run_dir in present.items():
            if name in entry.run_ids:
                continue
            if self._add_run(run_dir, exp_dir, entry.experiment.experiment_id):
                entry.run_ids.add(name)

    def _add_run(self, run_dir: Path, exp_dir: Path, exp_id: str) -> bool:
        meta_sig = signature(run_dir / "meta.yaml")
        try:
            reader.check_run_layout(run_dir)
            info = reader.read_run_info(run_dir, exp_id)
        except reader.MalformedError as exc:
            self._report(run_dir, "meta", str(exc))
            return False
        if info.run_id in self._runs:
            self._report(run_dir, "meta", f"run id {info.run_id} also exists at {self._runs[info.run_id].run_dir}")
            return False
        self._clear(run_dir, "meta")
        entry = RunEntry(run_dir, exp_dir, info, meta_sig)
        self._runs[info.run_id] = entry
        self._mark_changed(info.run_id)
        if self._ready.is_set():
            self._load_details(entry)
        return True

    def _forget_run(self, run_id: str) -> None:
        self._runs.pop(run_id, None)
        self._hot_until.pop(run_id, None)
        self._mark_changed(run_id)

    def _drop_experiment(self, exp_id: str) -> int:
        entry = self._experiments.pop(exp_id)
        self._dirty = True
        for rid in entry.run_ids:
            self._forget_run(rid)
        return len(entry.run_ids) + 1

    def _load_details(self, entry: RunEntry, full: bool = True) -> bool:
        try:
            changed = entry.load_details(full)
        except (reader.MalformedError, OSError) as exc:
            self._report(entry.run_dir, "details", str(exc))
            return False
        self._clear(entry.run_dir, "details")
        return changed

    def _refresh_runs(self) -> int:
        """Look only where something may have moved; never rescan the tree.

        Every refresh checks the hot runs (changed in the last HOT_SECONDS, or
        RUNNING and active in the last ACTIVE_SECONDS: crashed runs stay
        RUNNING forever and must not cost every second), then a rotating slice
        of QUICK_SLICE others with a quick stat check, then a small rotating
        slice with a full re-read. A refresh with nothing changed costs a few
        milliseconds at 10,000 runs; a change anywhere is seen within one lap.
        """
        now = time.time()
        entries = list(self._runs.values())
        active_since = int((now - ACTIVE_SECONDS) * 1e9)
        hot = {rid: self._runs[rid] for rid, until in self._hot_until.items() if until > now and rid in self._runs}
        hot.update(
            (e.info.run_id, e) for e in entries if e.info.status == "RUNNING" and e.last_activity_ns >= active_since
        )
        quick = self._slice(entries, "_quick_cursor", QUICK_SLICE)
        deep = self._slice(entries, "_deep_cursor", DEEP_SLICE)
        changed = 0
        for entry in hot.values():
            changed += self._sync_entry(entry, check="metrics", now=now)
        for entry in quick:
            if entry.info.run_id not in hot:
                changed += self._sync_entry(entry, check="files", now=now)
        self._quick_cursor += len(quick)
        self._deep_cursor += len(deep)
        for entry in deep:
            changed += self._sync_entry(entry, check="full", now=now)
        for rid in [r for r, until in self._hot_until.items() if until <= now]:
            del self._hot_until[rid]
        return changed

    def _slice(self, entries: list[RunEntry], cursor: str, size: int) -> list[RunEntry]:
        """The next `size` runs after the cursor, wrapping around (the cursor is advanced by the caller)."""
        if not entries:
            return []
        start = getattr(self, cursor) % len(entries)
        return (entries[start:] + entries[:start])[:size]

    def _sync_entry(self, entry: RunEntry, *, check: str, now: float) -> bool:
        """Re-read what moved in one run; True when it changed.

        check: "metrics" (metric files and folders: hot runs), "files" (every
        folder and metric file) or "full" (re-read params and tags too).
        """
        rid = entry.info.run_id
        changed = False
        if entry.meta_changed():
            meta_sig = signature(entry.meta_path)
            try:
                info = reader.read_run_info(entry.run_dir, entry.info.experiment_id)
            except reader.MalformedError as exc:
                # Half-written or broken: keep the last good info, retry next time.
                self._report(entry.run_dir, "meta", str(exc))
                return False
            self._clear(entry.run_dir, "meta")
            entry.meta_sig = meta_sig
            entry.with_info(info)
            changed = True
        full = check == "full"
        if (full or entry.files_changed(metrics_only=check == "metrics")) and self._load_details(entry, full=full):
            changed = True
        if changed:
            self._hot_until[rid] = now + HOT_SECONDS
            self._mark_changed(rid)
        return changed

    def _report(self, path: Path, source: str, reason: str, kind: str = "run") -> None:
        self._problems[(str(path), source)] = Problem(str(path), reason, kind)

    def _clear(self, path: Path, source: str) -> None:
        self._problems.pop((str(path), source), None)

    def _mark_changed(self, run_id: str) -> None:
        self._changed_at[run_id] = self._next_version
        self._dirty = True


def _bare_run(entry: RunEntry) -> Run:
    return Run(entry.info, {}, {}, {}, path=Path("."))
