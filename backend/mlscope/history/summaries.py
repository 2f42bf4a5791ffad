"""min/max/last/count of metric histories for the compare page, kept current as live runs append.

Read through the charts' HistoryCache, which reads only appended bytes of a
live run's file; only the appended points are added to a running min/max, so
re-comparing 200 live runs stays cheap.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .cache import HistoryCache


@dataclass(frozen=True, slots=True)
class HistorySummary:
    low: float  # NaN when every value was NaN
    high: float
    last: float | None  # None when the history is empty
    count: int


EMPTY = HistorySummary(math.nan, math.nan, None, 0)


def min_max(values: Iterable[float], low: float = math.inf, high: float = -math.inf) -> tuple[float, float]:
    """Extend (low, high) over values, NaN ignored."""
    for value in values:
        if value < low:
            low = value
        if value > high:
            high = value
    return low, high


@dataclass(slots=True)
class _Running:
    values: weakref.ref  # the history's value array this summary covers (arrays only ever grow)
    length: int
    low: float
    high: float


class HistorySummaries:
    """Summaries of (run folder, metric key) histories, updated incrementally."""

    def __init__(self, histories: HistoryCache, capacity: int = 100_000) -> None:
        self.histories = histories
        self.capacity = capacity
        self._running: OrderedDict[tuple[str, str], _Running] = OrderedDict()
        self._lock = threading.Lock()

    def summary(self, run_dir: Path, key: str) -> HistorySummary:
        snap = self.histories.snapshot(run_dir, key, by="time")
        if snap is None or not snap.length:
            return EMPTY
        cache_key = (str(run_dir), key)
        with self._lock:
            running = self._running.get(cache_key)
        if running is not None and running.values() is snap.values and running.length <= snap.length:
            low, high = min_max(snap.values[running.length : snap.length], running.low, running.high)
        else:
            low, high = min_max(snap.values[: snap.length])
        with self._lock:
            self._running[cache_key] = _Running(weakref.ref(snap.values), snap.length, low, high)
            self._running.move_to_end(cache_key)
            while len(self._running) > self.capacity:
                self._running.popitem(last=False)
        if low > high:  # every value was NaN
            low = high = math.nan
        return HistorySummary(low, high, float(snap.values[snap.length - 1]), snap.length)
