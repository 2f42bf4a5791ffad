"""An in-memory index over a SQL store, with RunIndex's interface: the server serves a database unchanged.

Why a mirror and not queries in the database: every search, sort, facet and
chart of the dashboard already runs over in-memory runs (search/, history/),
with MLflow's semantics tested against the file store; a mirror gives SQL
stores the same behaviour and the same speed (no per-request round trips, no
N+1 queries), and the database sees one bulk read at start-up plus reads that
follow the changes. Memory grows linearly with runs (see the README): the
records are the file index's, keys and short values interned.

Freshness: writes through this process re-read what they changed before the
write returns (read-your-writes); other mlscope processes on PostgreSQL are
heard through NOTIFY; other writers are found by ``ChangeWatch`` (rows added
since the last look), a hot set (running or recently changed runs, re-read on
every refresh where anything moved) and a rotating check of every run's row
and, slower, of its details (for values rewritten in place).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PosixPath
from typing import Any

import sqlalchemy as sa

from ...index.run_index import Progress
from ..model import DELETED, Experiment, LoggedModel, Metric, Problem, Run, RunInfo
from . import reads
from . import tables as t
from .changes import Changes, ChangeWatch
from .engine import read_transaction
from .store import SqlStore

MODELS_TTL = 1.0  # seconds an experiment's logged models are reused before the database is asked again
HOT_SECONDS = 120.0  # a run seen changing this recently is re-read whenever someone else wrote
ACTIVE_SECONDS = 600.0  # a RUNNING run that logged within this is re-read whenever someone else wrote
QUICK_SLICE = 2000  # run rows compared per refresh, round robin by run id
DEEP_SLICE = 50  # runs whose params/tags/metrics are re-read per refresh, round robin


class ExperimentFolder(PosixPath):
    """A SQL experiment's ``path`` (its local artifact location, when it has one) that lists its logged models from the database.

    Code that finds logged models by experiment folder (``index.logged_models.logged_models_of``) asks it.
    """

    logged_models: Callable[[], dict[str, LoggedModel]]


class SqlRunIndex:
    """Experiments and runs of one SQL store, kept current; RunIndex's query interface."""

    def __init__(self, store: SqlStore, root: Path | None = None) -> None:
        self.store = store
        self.engine = store.engine
        # No tree: where proxied (mlflow-artifacts:) artifacts live; runs' own artifact_uri says the rest.
        self.root = root if root is not None else Path(os.path.abspath("mlartifacts"))
        self.progress = Progress()
        self.version = 0
        self._lock = threading.RLock()
        self._experiments: dict[str, Experiment] = {}
        self._runs: dict[str, Run] = {}
        self._by_experiment: dict[str, dict[str, None]] = {}
        self._changed_at: dict[str, int] = {}
        self._hot_until: dict[str, float] = {}
        self._snapshots: dict[str, list[Run]] = {}
        self._snapshot_version = -1
        self._running: set[str] = set()
        self._checks_left = 0  # refreshes of rotating checks still due after the last outside write
        self._quick_cursor = ""
        self._deep_cursor = 0
        self._models: dict[str, tuple[float, dict[str, LoggedModel]]] = {}
        self._listed = threading.Event()
        self._ready = threading.Event()
        self._refresh_lock = threading.Lock()  # timed refreshes and notice wake-ups take turns
        self._watch = ChangeWatch.for_engine(self.engine)
        self._watch.on_notice = self.refresh_notices
        self._watch.own_sender = store.writer.sender if store.writer is not None else ""
        if store.writer is not None:
            store.writer.on_change = lambda run_ids, experiment_ids: self.note_writes(experiment_ids, run_ids)

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
            return list(self._experiments.values())

    def experiment(self, experiment_id: str) -> Experiment | None:
        with self._lock:
            return self._experiments.get(str(experiment_id))

    def run_counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            counts = {}
            for exp_id, run_ids in self._by_experiment.items():
                deleted = sum(1 for rid in run_ids if self._runs[rid].info.lifecycle_stage == DELETED)
                counts[exp_id] = {"active": len(run_ids) - deleted, "deleted": deleted}
            return counts

    def runs(self, experiment_ids: Iterable[str] | None = None, details: bool = True) -> list[Run]:
        if details:
            self.wait_ready()
        with self._lock:
            ids = list(self._experiments) if experiment_ids is None else list(dict.fromkeys(str(e) for e in experiment_ids))
            if self._snapshot_version != self.version or not self.ready:
                self._snapshots.clear()
                self._snapshot_version = self.version
            found: list[Run] = []
            for exp_id in ids:
                cached = self._snapshots.get(exp_id)
                if cached is None:
                    cached = [self._runs[rid] for rid in self._by_experiment.get(exp_id, ())]
                    if self.ready:
                        self._snapshots[exp_id] = cached
                found.extend(cached)
            return found

    def run(self, run_id: str) -> Run | None:
        """One run; before the runs are listed, an id not seen yet waits for the listing rather than say "not found"."""
        if run_id not in self._runs:
            self._listed.wait()
        with self._lock:
            return self._runs.get(run_id)

    def with_details(self, runs: list[Run]) -> list[Run]:
        """Runs with params, tags and metrics: before the build has loaded them all, a page's runs are read from the database."""
        if self.ready:
            return runs
        fresh = {run.run_id: run for run in self.store.runs([run.info.run_id for run in runs])} if runs else {}
        return [fresh.get(run.info.run_id, run) for run in runs]

    def problems(self) -> list[Problem]:
        return []

    def changed_since(self, version: int) -> list[str]:
        with self._lock:
            return [rid for rid, v in self._changed_at.items() if v > version]

    def logged_models_of(self, experiment_id: str) -> dict[str, LoggedModel]:
        """An experiment's live logged models by id (asked of the database at most once per MODELS_TTL)."""
        now = time.monotonic()
        cached = self._models.get(experiment_id)
        if cached is not None and now - cached[0] < MODELS_TTL:
            return cached[1]
        models = {m.model_id: m for m in self.store.logged_models([experiment_id])}
        self._models[experiment_id] = (now, models)
        return models

    def search_logged_models(
        self, experiment_ids: Sequence[str], filter_string: str | None, datasets: Any, order_by: Any, offset: int, max_results: int
    ) -> tuple[list[LoggedModel], bool]:
        """logged-models/search in the database (SqlAlchemyStore's filter, order and metrics), not over cached models."""
        return self.store.search_logged_models(experiment_ids, filter_string, datasets, order_by, offset, max_results)

    def forget_logged_models(self) -> None:
        """A logged model was written through this process: the next read asks the database."""
        self._models.clear()

    def _with_folder(self, experiment: Experiment) -> Experiment:
        folder = ExperimentFolder(experiment.path)
        folder.logged_models = lambda: self.logged_models_of(experiment.experiment_id)
        return replace(experiment, path=folder)

    def run_version(self, run_id: str) -> int:
        """The index version at which the run last changed (0: unchanged since the build); caches key on it."""
        with self._lock:
            return self._changed_at.get(run_id, 0)

    # Reads the file index leaves to files: straight from the database.

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.store.metric_history(run_id, key)

    def metric_histories(self, run_ids: Sequence[str], key: str) -> dict[str, list[Metric]]:
        return self.store.metric_histories(run_ids, key)

    # ------------------------------------------------------------- building

    def build(self) -> None:
        """Read every experiment and run in one snapshot; safe to call from a worker thread."""
        self.progress = Progress(phase="runs")
        self._watch.start()
        folders = reads.RunFolders()
        with read_transaction(self._snapshot_engine()) as conn:
            experiments = [self._with_folder(e) for e in reads.experiments(conn)]
            infos = reads.run_infos(conn)
            self._watch.mark(conn, infos)
            with self._lock:
                self._experiments = {e.experiment_id: e for e in experiments}
                self._by_experiment = {e.experiment_id: {} for e in experiments}
                for info in infos:
                    self._put(Run(info, {}, {}, {}, path=folders.run_dir(info)))
            self.progress.phase, self.progress.total = "details", len(infos)
            self._listed.set()
            details = reads.RunDetails(folders).load(conn, None)
        with self._lock:
            for info in infos:
                listed = self._runs.get(info.run_id)
                self._put(details.run(info, listed.path if listed is not None else None))
            self.progress.done = len(infos)
            self.version = 1
        self.progress.phase, self.progress.finished = "ready", time.time()
        self._ready.set()

    def _snapshot_engine(self) -> sa.Engine:
        """PostgreSQL reads in READ COMMITTED see a new snapshot per statement; the build needs one for all."""
        if self.engine.dialect.name == "postgresql":
            return self.engine.execution_options(isolation_level="REPEATABLE READ")
        return self.engine

    def close(self) -> None:
        self._watch.close()

    # ------------------------------------------------------------ freshness

    def note_writes(self, experiment_ids: Iterable[str] = (), run_ids: Iterable[str] = (), *, deep: bool = True) -> None:
        """A write through this process committed: re-read what it names before the write returns (read-your-writes)."""
        if self._listed.is_set():
            self._reload(set(run_ids), {str(e) for e in experiment_ids})

    def refresh(self) -> int:
        """Catch up with other writers; returns how many runs changed.

        Nothing written anywhere (the watch's gate did not move): one tiny
        query. Otherwise the named runs, the hot set, and for one lap after
        the last outside write the rotating checks (rows every lap of
        QUICK_SLICE, details DEEP_SLICE at a time).
        """
        if not self._ready.is_set():
            return 0
        with self._refresh_lock:
            return self._refresh()

    def refresh_notices(self) -> int:
        """Another mlscope process committed a write (its NOTIFY woke the watch): re-read what it named, now.

        The rotating checks stay with the timed refresh, so a busy writer elsewhere costs reads of what it wrote only.
        """
        if not self._ready.is_set():
            return 0
        with self._refresh_lock:
            changes = self._watch.poll_notices()
            return self._reload(changes.run_ids, changes.experiment_ids) if changes else 0

    def _refresh(self) -> int:
        changes = self._watch.poll()
        now = time.time()
        if changes.others_wrote:
            with self._lock:
                self._checks_left = max(1, -(-len(self._runs) // QUICK_SLICE))
                changes.run_ids |= {rid for rid, until in self._hot_until.items() if until > now}
                changes.run_ids |= {rid for rid in self._running if self._active(rid, now)}
        if self._checks_left > 0:
            self._checks_left -= 1
            changes.add(self._quick_check())
            changes.run_ids |= self._deep_slice()
        for rid in [r for r, until in list(self._hot_until.items()) if until <= now]:
            self._hot_until.pop(rid, None)
        if not changes:
            return 0
        return self._reload(changes.run_ids, changes.experiment_ids, all_experiments=changes.others_wrote)

    def _active(self, run_id: str, now: float) -> bool:
        """A RUNNING run that started or logged a metric lately (crashed runs stay RUNNING forever)."""
        run = self._runs.get(run_id)
        if run is None:
            return False
        last = max([run.info.start_time or 0, *(m.timestamp for m in run.metrics.values())])
        return last >= (now - ACTIVE_SECONDS) * 1000

    def _quick_check(self) -> Changes:
        """Compare the next QUICK_SLICE run rows (by run id) with memory: new, changed and vanished runs."""
        r = t.runs.c
        query = sa.select(*reads.RUN_COLUMNS).where(r.run_uuid > self._quick_cursor).order_by(r.run_uuid).limit(QUICK_SLICE)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
        changes = Changes()
        if not rows:
            self._quick_cursor = ""
            return changes
        low, high = self._quick_cursor, rows[-1].run_uuid
        self._quick_cursor = high if len(rows) == QUICK_SLICE else ""
        seen = set()
        with self._lock:
            for row in rows:
                seen.add(row.run_uuid)
                known = self._runs.get(row.run_uuid)
                info = reads.run_info(row)
                if known is None or _differs(known.info, info):
                    changes.run_ids.add(row.run_uuid)
            upper = high if self._quick_cursor else "\uffff"
            changes.run_ids |= {rid for rid in self._runs if low < rid <= upper and rid not in seen}
        return changes

    def _deep_slice(self) -> set[str]:
        """The next DEEP_SLICE runs re-read in full; those whose params, tags or metrics differ."""
        with self._lock:
            ids = list(self._runs)
        if not ids:
            return set()
        start = self._deep_cursor % len(ids)
        part = (ids[start:] + ids[:start])[:DEEP_SLICE]
        self._deep_cursor += len(part)
        fresh = {run.run_id: run for run in self.store.runs(part)}
        with self._lock:
            return {rid for rid in part if rid not in fresh or _details_differ(self._runs.get(rid), fresh[rid])}

    def _reload(self, run_ids: set[str], experiment_ids: set[str], *, all_experiments: bool = False) -> int:
        """Re-read the named runs and experiments (and, when all_experiments, the experiments table) into memory."""
        with read_transaction(self._snapshot_engine()) as conn:
            if all_experiments:
                experiments = reads.experiments(conn)
            else:
                numbers = [n for e in experiment_ids if (n := reads.experiment_id_or_none(e)) is not None]
                experiments = reads.experiments(conn, numbers) if numbers else []
            fresh = reads.runs(conn, sorted(run_ids)) if run_ids else []
        experiments = [self._with_folder(e) for e in experiments]
        now = time.time()
        with self._lock:
            changed = 0
            if all_experiments:
                for gone in set(self._experiments) - {e.experiment_id for e in experiments}:
                    changed += self._drop_experiment(gone)
            for experiment in experiments:
                if self._experiments.get(experiment.experiment_id) != experiment:
                    self._experiments[experiment.experiment_id] = experiment
                    self._by_experiment.setdefault(experiment.experiment_id, {})
                    changed += 1
            if not all_experiments:
                found = {e.experiment_id for e in experiments}
                for gone in [e for e in experiment_ids if e not in found and e in self._experiments]:
                    changed += self._drop_experiment(gone)
            by_id = {run.run_id: run for run in fresh}
            for rid in run_ids:
                run = by_id.get(rid)
                old = self._runs.get(rid)
                if run is None:
                    if old is not None:
                        self._forget(rid)
                        changed += 1
                    continue
                if old == run:
                    continue
                self._put(run)
                self._hot_until[rid] = now + HOT_SECONDS
                self._changed_at[rid] = self.version + 1
                changed += 1
            if changed:
                self.version += 1
            return changed

    def _put(self, run: Run) -> None:
        rid, exp_id = run.run_id, run.info.experiment_id
        old = self._runs.get(rid)
        if old is not None and old.info.experiment_id != exp_id:
            self._by_experiment.get(old.info.experiment_id, {}).pop(rid, None)
        self._runs[rid] = run
        self._by_experiment.setdefault(exp_id, {})[rid] = None
        if run.info.status == "RUNNING":
            self._running.add(rid)
        else:
            self._running.discard(rid)

    def _forget(self, run_id: str) -> None:
        old = self._runs.pop(run_id, None)
        if old is not None:
            self._by_experiment.get(old.info.experiment_id, {}).pop(run_id, None)
        self._hot_until.pop(run_id, None)
        self._running.discard(run_id)
        self._changed_at[run_id] = self.version + 1

    def _drop_experiment(self, experiment_id: str) -> int:
        self._experiments.pop(experiment_id, None)
        run_ids = list(self._by_experiment.pop(experiment_id, {}))
        for rid in run_ids:
            self._forget(rid)
        return len(run_ids) + 1


def _differs(a: RunInfo, b: RunInfo) -> bool:
    """A run row changed (the name may come from the runName tag when the column is empty: not a change)."""
    return replace(a, run_name="") != replace(b, run_name="") or bool(b.run_name and a.run_name != b.run_name)


def _details_differ(known: Run | None, fresh: Run) -> bool:
    return known is None or known != fresh

