"""The in-memory picture of every run, built once and then kept current.

Build happens in two passes so the first page is quick on big trees: pass one
reads every experiment and run meta.yaml (enough to list runs by start time),
pass two loads params, tags and latest metrics; both read over worker
processes on big trees, and a persistent snapshot lets a restart re-read only
the runs that changed (``startup.py``). ``refresh()`` then costs one stat per
run plus a deep look at "hot" runs (running, or changed lately) and a rolling
slice of the others, so a change anywhere is seen within a few refreshes
without ever rescanning the tree.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..store import reader
from ..store.model import DELETED, DatasetInput, Experiment, Problem, Run, RunInfo
from .cache_file import CacheFile
from .read_pool import ReadPool
from .refresh_policy import HOT_SECONDS, due_runs, refresh_runs
from .run_entry import RunEntry
from .run_reads import InfoRecord, read_details, read_info
from .signatures import MISSING, Signature, packed_signatures, settled, signature

# A run whose details failed (garbage, a metric file or a folder past the bounds) is read again only when one of
# these moved, or after FAILED_RETRY_SECONDS: a 1,000,000-param run must not be listed again at every refresh.
FAILED_WATCH = ("meta.yaml", "params", "tags", "metrics", "inputs", "outputs")
FAILED_RETRY_SECONDS = 60.0

SAVE_SECONDS = 300.0  # at most this long between snapshots of a changing index (when a cache is used)


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
    def __init__(self, root: Path, cache: CacheFile | None = None, workers: int | None = None) -> None:
        """``cache``: where to keep the persistent snapshot (None: no snapshot); ``workers``: reader processes."""
        self.root = root
        self.cache = cache
        self.cache_status = "off" if cache is None else "not loaded yet"  # what the last start did with it
        self.progress = Progress()
        self.version = 0
        self.pool = ReadPool(workers)
        self.saved_version = -1  # index version the cache file holds
        self.saved_at = 0.0
        self._datasets: dict[object, DatasetInput] = {}  # one object per distinct dataset input
        self._lock = threading.RLock()
        self._experiments: dict[str, ExperimentEntry] = {}
        self._runs: dict[str, RunEntry] = {}
        self._problems: dict[tuple[str, str], Problem] = {}  # (path, source) -> problem
        self._failed: dict[str, tuple[bytes, float]] = {}  # run id -> (FAILED_WATCH signatures, when) of a failed read
        self._changed_at: dict[str, int] = {}  # run_id -> index version of its last change
        self._next_version = 1  # the version changes seen by the current pass will get
        self._dirty = False
        self._hot_until: dict[str, float] = {}
        self._snapshots: dict[str, list[Run]] = {}  # experiment id -> its runs, at _snapshot_version
        self._snapshot_version = -1
        self._quick_cursor = 0
        self._running_cursor = 0
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
        """One run with its details, loading them now if pass two has not reached it.

        Before pass one has listed every run, an id not seen yet may still be listed: wait rather than say "not found".
        """
        if run_id not in self._runs:
            self._listed.wait()
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
        """Both passes (from the snapshot when one is valid), reporting progress; safe to call from a worker thread."""
        from .startup import Startup

        Startup(self).run()

    def close(self) -> None:
        """Stop reading (a build in progress ends early) and save the snapshot if the index changed since."""
        self.pool.close()
        if self._ready.is_set():
            self.save_cache()

    def save_cache(self) -> bool:
        """Write the persistent snapshot now (when a cache is used and anything changed since the last one)."""
        if self.cache is None or self.version == self.saved_version:
            return False
        from .snapshot import save

        save(self)
        return True

    def refresh(self) -> int:
        """Bring the index up to date; returns how many runs changed."""
        if not self._ready.is_set():
            return 0
        due = due_runs(self)  # the stat checks and deep re-reads, without the lock (requests wait behind it)
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
            changed += refresh_runs(self, due)
            if self._dirty:
                self.version = self._next_version
        if self.cache is not None and self.version != self.saved_version and time.time() - self.saved_at > SAVE_SECONDS:
            self.save_cache()
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
                # A folder's signature can miss a change within one clock tick: list metrics/ again, and
                # when deep re-read params, tags and inputs too.
                if self._load_details(entry, full=deep, relist=True):
                    self._hot_until[run_id] = now + HOT_SECONDS
                    self._mark_changed(run_id)
            if self._dirty and self._ready.is_set():
                self.version = self._next_version

    # ------------------------------------------------------------ internals

    def _scan_experiment_dirs(self) -> list[Path]:
        # Signatures before the listing they cover, and only trusted once settled: a folder created or moved
        # in the same clock tick as this scan must not go unnoticed until the next change to the root.
        now = time.time_ns()
        self._root_sig = (settled(signature(self.root), now), settled(signature(self.root / ".trash"), now))
        active, trashed = reader.experiment_dirs(self.root)
        for path in active + trashed:
            if not (path / "meta.yaml").exists() and path.name not in ("models",):
                self._report(path, "meta", "folder has no meta.yaml (not an experiment)", "experiment")
        for name in reader.misplaced_files(self.root, str.isdigit):
            self._report(self.root / name, "meta", "a file where an experiment folder belongs (skipped)", "experiment")
        return [p for p in active + trashed if (p / "meta.yaml").exists()]

    def _sync_experiment(self, exp_dir: Path, pending: list[tuple[str, str]] | None = None) -> str | None:
        """Read or re-read one experiment and notice new or removed run folders.

        New run folders are read at once, or, given ``pending``, listed there
        as (run folder, experiment id) for a reader pool.
        """
        exp_id = exp_dir.name
        meta_sig = signature(exp_dir / "meta.yaml")
        listed_at = time.time_ns()
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
            self._sync_run_dirs(entry, exp_dir, pending)
            entry.dir_sig = settled(dir_sig, listed_at)  # a run folder made in the same tick is listed next time
        return exp_id

    def _sync_run_dirs(self, entry: ExperimentEntry, exp_dir: Path, pending: list[tuple[str, str]] | None = None) -> None:
        present = reader.run_dir_names(exp_dir)
        for name in reader.misplaced_files(exp_dir, reader.looks_like_run_id):
            self._report(exp_dir / name, "meta", "a file where a run folder belongs (skipped)")
        for rid in [r for r in entry.run_ids if r not in present]:
            self._forget_run(rid)
            entry.run_ids.discard(rid)
        exp_id, exp_path = entry.experiment.experiment_id, entry.experiment.path
        folder = str(exp_path) + os.sep
        for name in sorted(present - entry.run_ids):
            if pending is not None:
                pending.append((folder + name, exp_id))
            else:
                self.adopt_info(read_info(folder + name, exp_id), exp_path)

    def adopt_info(self, record: InfoRecord, exp_dir: Path) -> RunEntry | None:
        """Add a run from its pass-one record (see run_reads.read_info); problems are reported, not raised."""
        name, meta_sig, fields, problem, read_ns = record
        run_dir = exp_dir / name
        if fields is None:
            self._report(run_dir, "meta", problem)
            return None
        info = RunInfo(*fields)
        known = self._runs.get(info.run_id)
        if known is not None:
            self._report(run_dir, "meta", f"run id {info.run_id} also exists at {known.run_dir}")
            return None
        exp_entry = self._experiments.get(info.experiment_id)
        if exp_entry is None or (exp_entry.experiment.path is not exp_dir and exp_entry.experiment.path != exp_dir):
            return None  # the experiment went away or moved meanwhile: the next scan finds the run again
        if problem is not None:  # served with defaults for values MLflow never writes; reported
            self._report(run_dir, "meta", problem)
        else:
            self._clear(run_dir, "meta")
        entry = RunEntry(run_dir, exp_dir, info, meta_sig, info_ns=read_ns)
        self._runs[info.run_id] = entry
        exp_entry.run_ids.add(name)
        self._mark_changed(info.run_id)
        if self._ready.is_set():
            self._load_details(entry)
        return entry

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

    def _load_details(self, entry: RunEntry, full: bool = True, relist: bool = False) -> bool:
        """(Re-)read a run's details in this process; True when anything a query could see changed."""
        failed = self._failed.get(entry.info.run_id)
        if failed is not None and time.monotonic() - failed[1] < FAILED_RETRY_SECONDS and \
                packed_signatures(entry.base, FAILED_WATCH) == failed[0]:
            return False  # failed before and nothing it depends on moved: reported already, not read again
        record = read_details(str(entry.run_dir), str(entry.exp_dir), entry.previous(), full=full, relist=relist)
        return self.adopt_details(entry, record)

    def adopt_details(self, entry: RunEntry, record: tuple) -> bool:
        if record[0] != "ok":
            self._report(entry.run_dir, "details", record[1])
            self._failed[entry.info.run_id] = (packed_signatures(entry.base, FAILED_WATCH), time.monotonic())
            return False
        self._failed.pop(entry.info.run_id, None)
        self._clear(entry.run_dir, "details")
        return entry.apply(record, self._datasets)

    def _sync_entry(self, entry: RunEntry, *, check: str, now: float) -> bool:
        """Re-read what moved in one run; True when it changed.

        check: "metrics" (metric files and folders: hot runs), "files" (every
        folder and metric file) or "full" (re-read params and tags too).
        """
        rid = entry.info.run_id
        changed = False
        if entry.meta_changed():
            _, meta_sig, fields, problem, read_ns = read_info(str(entry.run_dir), entry.info.experiment_id)
            if fields is None:
                # Half-written or broken: keep the last good info, retry next time.
                self._report(entry.run_dir, "meta", problem)
                return False
            if problem is not None:
                self._report(entry.run_dir, "meta", problem)
            else:
                self._clear(entry.run_dir, "meta")
            entry.meta_sig, entry.info_ns = meta_sig, read_ns
            entry.with_info(RunInfo(*fields))
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
        if self._problems:  # usually empty: skip building the key
            self._problems.pop((str(path), source), None)

    def _mark_changed(self, run_id: str) -> None:
        self._changed_at[run_id] = self._next_version
        self._dirty = True


def _bare_run(entry: RunEntry) -> Run:
    """A run whose details failed to load: no params or metrics, but its own folder (never the server's CWD)."""
    return Run(entry.info, {}, {}, {}, path=entry.run_dir)
