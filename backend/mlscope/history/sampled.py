"""Downsampled histories kept per metric-file version: what a chart grid asks for again and again.

A chart grid of 100 runs x 20 metrics x 10,000 steps holds 20 million points;
the history cache (cache.py) cannot keep them all, and reducing 10,000 points
to a chart's width costs milliseconds per series. Charts ask for the same
thing over and over (the grid shown again, a card scrolled back into view,
another tab, a live page whose runs did not move), so the reduced series is
kept, keyed by (run folder, key, x order, points) and valid while the
history's stamp (the metric file's signature) holds: a repeated request costs
one stat per series, and the full history may be evicted meanwhile.

Only whole-range requests are kept (a zoomed range is read from the full
history each time: it is one chart, and its ranges rarely repeat). Memory is
bounded by the points held, least recently used first. With a SeriesStore
(disk.py) the reduced series also outlive the server: a miss here looks on
disk (same file version) before reading the metric file. A shape that makes
bytes (the server's JSON fragment) is kept shaped, under the shape's name, so
a restart does not encode again; other shapes keep the Sampled fields.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from ..index.signatures import MISSING, Signature
from ..store import metric_files
from .cache import HistoryCache, Snapshot, is_sorted
from .disk import SeriesStore
from .downsample import downsample, window

DEFAULT_MAX_POINTS = 4_000_000  # points held over all kept series (~30 bytes each as JSON)
X_ORDERS = {"step": "step", "time": "time", "relative": "time"}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sampled:
    """One history cut to a range and reduced to at most ``points`` (first/min/max/last per bucket).

    ``total`` counts the points in the range, ``start_timestamp`` is the
    history's first timestamp (the origin of relative time). ``monotonic``:
    steps and timestamps both never decrease along the history, so the same
    points drawn against the other axis are still in order (a client can
    switch between step and time axes without asking again).
    """

    steps: list[int]
    values: list[float]
    timestamps: list[int]
    total: int
    skipped: int
    start_timestamp: int
    monotonic: bool
    finite: bool  # no NaN or ±inf among the values (they need JSON's string spellings)

    def __len__(self) -> int:
        return len(self.values)

    def kept(self) -> tuple[Any, ...]:
        """Plain data for the SeriesStore."""
        return (self.steps, self.values, self.timestamps, self.total, self.skipped, self.start_timestamp, self.monotonic, self.finite)

    @staticmethod
    def from_kept(kept: Any) -> Sampled | None:
        """The inverse of ``kept``; None for anything else."""
        if not (isinstance(kept, tuple) and len(kept) == 8 and all(isinstance(v, list) for v in kept[:3])):
            return None
        steps, values, timestamps, total, skipped, start, monotonic, finite = kept
        if not (len(steps) == len(values) == len(timestamps) and isinstance(total, int) and isinstance(skipped, int)
                and isinstance(start, int) and isinstance(monotonic, bool) and isinstance(finite, bool)):
            return None
        return Sampled(steps, values, timestamps, total, skipped, start, monotonic, finite)


def sample(snap: Snapshot, x: str, points: int, x_min: float | None = None, x_max: float | None = None) -> Sampled:
    """Cut ``snap`` to [x_min, x_max] on the x axis ``x`` (step, time: epoch ms, relative: ms since the first
    point) and reduce it to at most ``points`` keeping each bucket's first, min, max and last point."""
    xs = snap.steps if x == "step" else snap.timestamps
    origin = snap.timestamps[0] if snap.length else 0
    if x == "relative":
        x_min = None if x_min is None else x_min + origin
        x_max = None if x_max is None else x_max + origin
    start, stop = window(xs, x_min, x_max, snap.length)
    picked = downsample(xs, snap.values, points, start, stop)
    steps, values, stamps = snap.steps, snap.values, snap.timestamps
    if len(picked) == stop - start:  # every point in range: slices, no per-index lookups
        out_steps, out_values, out_stamps = steps[start:stop].tolist(), values[start:stop].tolist(), stamps[start:stop].tolist()
    else:
        out_steps = [steps[i] for i in picked]
        out_values = [values[i] for i in picked]
        out_stamps = [stamps[i] for i in picked]
    monotonic = is_sorted(snap.timestamps, snap.length) if x == "step" else is_sorted(snap.steps, snap.length)
    return Sampled(
        out_steps, out_values, out_stamps, stop - start, snap.skipped, origin, monotonic, math.isfinite(sum(out_values))
    )


class SampledHistories(Generic[T]):
    """Downsampled whole-range series over a HistoryCache, kept while each history's stamp holds.

    ``shape`` turns a reduced series into what is kept and returned: the
    server passes its JSON encoding, so a repeated request is a join of bytes
    (the REST shape is not decided here, as in index/run_json.py).
    """

    def __init__(
        self, histories: HistoryCache, shape: Callable[[Sampled], T], max_points: int = DEFAULT_MAX_POINTS,
        disk: SeriesStore | None = None,
    ) -> None:
        self.histories = histories
        self.shape = shape
        self.max_points = max_points
        self.disk = disk  # reduced series kept across restarts (file stores only: their stamps are file signatures)
        self._shape_name = f"{getattr(shape, '__module__', '')}.{getattr(shape, '__qualname__', '')}"
        self._kept: OrderedDict[tuple[str, str, str, int], tuple[Signature, T | None, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.computed = 0  # series reduced from their full history (cache misses), for tests and benchmarks
        self.from_disk = 0  # series taken from the SeriesStore

    def series(
        self, run_dir: Path, key: str, *, x: str = "step", points: int = 1000,
        x_min: float | None = None, x_max: float | None = None,
    ) -> T | None:
        """The history of (run_dir, key) reduced to at most ``points`` on axis ``x``, shaped; None when there is none.

        Blocking (may read the metric file). A whole-range request is answered
        from what was kept for the same history version; a zoomed one is
        reduced from the full history.
        """
        order = X_ORDERS[x]
        if x_min is not None or x_max is not None:
            snap = self.histories.snapshot(run_dir, key, order)
            return None if snap is None or not snap.length else self.shape(sample(snap, x, points, x_min, x_max))
        stamp = self.histories.stamp(run_dir, key)
        if stamp == MISSING:
            return None
        cache_key = (str(run_dir), key, order, points)
        with self._lock:
            known = self._kept.get(cache_key)
            if known is not None and known[0] == stamp:
                self._kept.move_to_end(cache_key)
                return known[1]
        disk_path = None
        reduced: Sampled | None = None
        result: T | None = None
        size = 0
        if self.disk is not None:
            path = metric_files.metric_path(run_dir, key)
            disk_path = None if path is None else os.path.abspath(path)
            kept = {} if disk_path is None else self.disk.entries(disk_path, stamp)
            shaped = kept.get(("sampled-shaped", self._shape_name, order, points))
            if isinstance(shaped, tuple) and len(shaped) == 2 and isinstance(shaped[0], bytes) and isinstance(shaped[1], int):
                result, size = cast(T, shaped[0]), shaped[1]  # what this shape made of it: no encoding again
            else:
                reduced = Sampled.from_kept(kept.get(("sampled", order, points)))
        computed = result is None and reduced is None
        if computed:
            snap = self.histories.snapshot(run_dir, key, order)
            reduced = None if snap is None or not snap.length else sample(snap, order, points)
        if result is None:
            result = None if reduced is None else self.shape(reduced)
            size = 1 + (0 if reduced is None else len(reduced))
            if reduced is not None and disk_path is not None and self.disk is not None and (computed or isinstance(result, bytes)):
                if isinstance(result, bytes):  # the server's JSON fragment: kept as it is sent
                    self.disk.put(disk_path, stamp, ("sampled-shaped", self._shape_name, order, points), (result, size))
                else:
                    self.disk.put(disk_path, stamp, ("sampled", order, points), reduced.kept())
        with self._lock:
            self.computed += computed
            self.from_disk += not computed
            old = self._kept.pop(cache_key, None)
            if old is not None:
                self._held -= old[2]
            self._kept[cache_key] = (stamp, result, size)
            self._held += size
            while self._held > self.max_points and len(self._kept) > 1:
                _, (_, _, dropped) = self._kept.popitem(last=False)
                self._held -= dropped
        return result
