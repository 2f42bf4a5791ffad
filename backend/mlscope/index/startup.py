"""Building the index at start: from the persistent snapshot where it is still true, else from the tree.

1. Snapshot (when a cache is used and its file is valid): run infos are
   adopted at once, each only if its meta.yaml signature did not move.
   Experiments are always re-read (few, and their tag files change in place)
   and every experiment folder is listed again, so new, removed and moved
   runs are noticed.
2. Pass one: run folders not taken from the snapshot are read (meta.yaml),
   over the reader pool when there are many. Then the first page can be served.
3. Pass two: snapshot runs are checked with a fresh stat of every watched
   path (in the pool, started as soon as the snapshot is loaded, so it runs
   while this process checks meta.yaml signatures and lists the tree); this
   process turns their cached details into objects as the checks come back; runs whose signatures moved, and runs not in the snapshot, are
   read. Then every param and metric is searchable.
4. The snapshot is saved again when anything had to be read from the tree.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from ..store.model import RunInfo
from .cache_file import CacheRefused
from .layout import layout_of
from .read_pool import PoolClosed
from .run_entry import RunEntry
from .run_reads import probe_many, read_infos, read_many_details
from .signatures import MISSING, FolderStats
from .snapshot import Restored, digest

if TYPE_CHECKING:
    from .run_index import RunIndex

log = logging.getLogger("mlscope")


class Startup:
    def __init__(self, index: RunIndex) -> None:
        self.index = index
        self.pool = index.pool
        self.read = 0  # runs read from the tree (either pass)
        self.trusted = 0  # runs taken whole from the snapshot
        self.dropped = 0  # snapshot runs that are gone or whose meta.yaml moved
        # (run ids, probe results in their order): started as soon as the snapshot is loaded
        self.early_probes: tuple[list[str], Any] = ([], iter(()))

    def run(self) -> None:
        index = self.index
        started = time.perf_counter()
        index.progress.phase = "runs"
        collecting = gc.isenabled()
        gc.disable()  # millions of long-lived objects are made here: collections would only walk them (~30% of the time)
        try:
            restored, cached = self._restore()
            pending = self._scan()
            self._read_infos(pending)
            index._listed.set()
            listed = time.perf_counter() - started
            self._read_details(restored, cached)
            if collecting:
                # Everything just made lives as long as the index: keep it out of every later collection
                # (the first one after re-enabling would otherwise walk ~10 million objects at 100,000 runs).
                gc.freeze()
        except PoolClosed:
            return  # the server is stopping
        finally:
            self.pool.close()
            if collecting:
                gc.enable()
        with index._lock:
            index.version, index._next_version = 1, 2
        index.progress.phase, index.progress.finished = "ready", time.time()
        index._ready.set()
        if index.cache is not None:
            if restored is not None:
                index.cache_status = (f"restored: {self.trusted:,} runs from the cache, {self.read:,} read from the tree"
                                      f"{f', {self.dropped:,} gone or changed' if self.dropped else ''}")
            log.info("index of %s: %s (listed in %.2f s, ready in %.2f s)", index.root, index.cache_status, listed,
                     time.perf_counter() - started)
            if restored is None or self.read or self.dropped:
                index.save_cache()
            else:
                index.saved_version, index.saved_at = index.version, time.time()

    # --------------------------------------------------------- snapshot

    def _restore(self) -> tuple[Restored | None, dict[str, Any]]:
        """Adopt what the snapshot says and is still true of meta.yaml; (snapshot, cached details by run id)."""
        index, cache = self.index, self.index.cache
        if cache is None:
            return None, {}
        try:
            restored = Restored(cache.load(), cache.root)
            self._start_probes(restored)
        except CacheRefused as exc:
            index.cache_status = f"built from the tree ({exc})"
            return None, {}
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            index.cache_status = f"built from the tree (cache content unusable: {exc})"
            return None, {}
        from .run_index import ExperimentEntry

        cached: dict[str, Any] = {}
        experiments: dict[str, ExperimentEntry] = {}
        runs: dict[str, RunEntry] = {}
        try:
            for experiment in restored.experiments:
                # MISSING signatures: the scan re-reads each experiment and lists its run folders again.
                experiments[experiment.experiment_id] = ExperimentEntry(experiment, MISSING, MISSING, MISSING)
            with FolderStats() as stats:
                for experiment, fields, meta_sig, info_ns, details in restored.runs():
                    run_id = fields[0]
                    if stats.signature(experiment.path, run_id + "/meta.yaml") != meta_sig or run_id in runs:
                        self.dropped += 1
                        continue
                    runs[run_id] = RunEntry(experiment.path / run_id, experiment.path, RunInfo(*fields), meta_sig, info_ns=info_ns)
                    experiments[experiment.experiment_id].run_ids.add(run_id)
                    if details is not None:
                        cached[run_id] = details
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            index.cache_status = f"built from the tree (cache content unusable: {exc})"
            return None, {}
        with index._lock:
            index._experiments.update(experiments)
            index._runs.update(runs)
            for run_id in runs:
                index._mark_changed(run_id)
        return restored, cached

    def _start_probes(self, restored: Restored) -> None:
        """Workers stat every cached run's watched paths while this process checks meta.yaml and lists the tree.

        Records are only read here, not trusted: a probe of a record of the
        wrong shape is dropped, and every record is checked again when adopted.
        """
        tasks: list[tuple[str, tuple[str, ...]]] = []
        order: list[str] = []
        try:
            folders = [str(e.path) + os.sep for e in restored.experiments]
            for number, fields, _, _, details in restored.records:
                if details is not None:
                    tasks.append((folders[number] + fields[0] + os.sep, layout_of(*restored.layouts[details[0]]).paths))
                    order.append(fields[0])
        except (ValueError, TypeError, KeyError, IndexError):
            return  # left to the check in runs(), which refuses the snapshot
        self.early_probes = (order, self.pool.submit(probe_many, tasks))

    # ------------------------------------------------------- pass one

    def _scan(self) -> list[tuple[str, str]]:
        """Every experiment folder read, every run folder listed; returns the run folders to read."""
        index = self.index
        pending: list[tuple[str, str]] = []
        exp_dirs = index._scan_experiment_dirs()
        with index._lock:
            seen = {exp_id for exp_dir in exp_dirs if (exp_id := index._sync_experiment(exp_dir, pending))}
            for exp_id in [e for e in index._experiments if e not in seen]:
                index._drop_experiment(exp_id)
        return pending

    def _read_infos(self, pending: list[tuple[str, str]]) -> None:
        index = self.index
        index.progress.total = len(pending)
        position = 0
        for records in self.pool.submit(read_infos, pending):
            with index._lock:
                folders = {exp_id: (str(e.experiment.path) + os.sep, e.experiment.path) for exp_id, e in index._experiments.items()}
                for record in records:
                    run_dir, exp_id = pending[position]
                    position += 1
                    folder, path = folders.get(exp_id, ("", None))
                    # One Path object per experiment: every run's path shares its parts. An experiment
                    # that moved meanwhile is skipped: the next scan finds its runs at the new place.
                    if path is not None and run_dir.startswith(folder):
                        index.adopt_info(record, path)
            index.progress.done = position
        self.read += len(pending)

    # ------------------------------------------------------- pass two

    def _read_details(self, restored: Restored | None, cached: dict[str, Any]) -> None:
        index = self.index
        with index._lock:
            waiting = [e for e in index._runs.values() if e.run is None]
        trusted = [e for e in waiting if e.info.run_id in cached]
        fresh = [e for e in waiting if e.info.run_id not in cached]
        index.progress.phase, index.progress.done, index.progress.total = "details", 0, len(waiting)
        reads = self.pool.submit(read_many_details, [(str(e.run_dir), str(e.exp_dir)) for e in fresh])
        again: list[RunEntry] = []
        unprobed = {e.info.run_id: e for e in trusted}
        order, probes = self.early_probes
        position = 0
        for sigs_list in probes:
            with index._lock:
                for sigs in sigs_list:
                    probed = unprobed.pop(order[position], None)
                    position += 1
                    if probed is None:
                        continue  # gone, moved or changed since the snapshot: read as a new run
                    details = cached[probed.info.run_id]
                    if digest(sigs) != details[1]:
                        again.append(probed)
                    elif probed.run is None and index._runs.get(probed.info.run_id) is probed:
                        index.adopt_details(probed, restored.details_record(details, sigs))  # type: ignore[union-attr]
                        self.trusted += 1
                index.progress.done += len(sigs_list)
        again.extend(unprobed.values())  # not in the early probes (none expected): read them
        self._adopt(fresh, reads)
        if again:
            self._adopt(again, self.pool.submit(read_many_details, [(str(e.run_dir), str(e.exp_dir)) for e in again]))

    def _adopt(self, entries: list[RunEntry], results: Any) -> None:
        index = self.index
        position = 0
        for records in results:
            with index._lock:
                for record in records:
                    entry = entries[position]
                    position += 1
                    if index._runs.get(entry.info.run_id) is entry:
                        index.adopt_details(entry, record)
            index.progress.done += len(records)
        self.read += len(entries)
