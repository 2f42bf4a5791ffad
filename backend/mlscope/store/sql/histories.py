"""Metric histories of a SQL store for the charts: the file store's HistoryCache interface, read from ``metrics``.

The dashboard's history code (charts, grouping, compare summaries) asks a
HistoryCache for ``snapshot(run.path, key, by)``; runs of a SQL store carry a
path whose last part is their run id, and this cache answers from the
database instead of a file. An entry is kept until its run changes in the
index (a new point, a rewrite), so a chart redrawn or zoomed costs no query.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from pathlib import Path

from ...history.cache import DEFAULT_MAX_POINTS, HistoryCache, Snapshot
from ...index.signatures import MISSING
from ..model import Metric
from .run_index import SqlRunIndex


class SqlHistoryCache(HistoryCache):
    """Histories by (run id, key) from the database, sorted by step or time; LRU-bounded by points held."""

    def __init__(self, index: SqlRunIndex, max_points: int = DEFAULT_MAX_POINTS) -> None:
        super().__init__(max_points)
        self.index = index
        self._sql_entries: OrderedDict[tuple[str, str, str], tuple[int, Snapshot]] = OrderedDict()
        self._sql_lock = threading.Lock()

    def history(self, run_dir: Path, key: str) -> list[Metric]:
        """Every point of one metric as MLflow's SQL store returns it (by timestamp, step, value); [] when absent."""
        run_id = Path(run_dir).name
        return self.index.metric_history(run_id, key) if self.index.run(run_id) is not None else []

    def stamp(self, run_dir: Path, key: str) -> tuple[int, int, int]:
        """What a file signature is to the file store: it moves whenever the run changes in the index;
        MISSING when the run has no such metric (so caches built on histories know when to rebuild)."""
        run = self.index.run(Path(run_dir).name)
        if run is None or key not in run.metrics:
            return MISSING
        return (self.index.run_version(run.run_id), 0, 0)

    def snapshot(self, run_dir: Path, key: str, by: str = "step") -> Snapshot | None:
        run_id = Path(run_dir).name
        if self.index.run(run_id) is None:
            return None
        stamp = self.index.run_version(run_id)
        cache_key = (run_id, key, by)
        with self._sql_lock:
            cached = self._sql_entries.get(cache_key)
            if cached is not None and cached[0] == stamp:
                self._sql_entries.move_to_end(cache_key)
                return cached[1]
        points = self.index.metric_history(run_id, key)
        if not points:
            return None
        if by == "step":
            points.sort(key=lambda m: (m.step, m.timestamp))
        else:
            points.sort(key=lambda m: (m.timestamp, m.step))
        snap = Snapshot(
            array("q", [m.step for m in points]),
            array("d", [m.value for m in points]),
            array("q", [m.timestamp for m in points]),
            len(points),
            0,
        )
        self.reads += len(points)
        with self._sql_lock:
            old = self._sql_entries.pop(cache_key, None)
            self._points += len(points) - (old[1].length if old else 0)
            self._sql_entries[cache_key] = (stamp, snap)
            while self._points > self.max_points and len(self._sql_entries) > 1:
                _, (_, dropped) = self._sql_entries.popitem(last=False)
                self._points -= dropped.length
        return snap
