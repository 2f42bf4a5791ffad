"""Group statistics of many runs' histories: mean or median per x with ± std and min–max bands.

Runs log at their own steps (or times), so their points are first put on one
shared grid of equal-width x buckets: each run's points in a bucket become
that run's mean, min and max there (min/max keep a one-step spike of one run
in the group's min–max band, as the single-run downsampler keeps it in a
line). The group's line and bands are then statistics across runs per bucket.
When the x range holds no more integer steps than there are buckets, each
bucket is exactly one step and the statistics are exact per-step values.

Per-run bucket summaries are small (a few floats per bucket) and cached by
(metric file signature, grid): regrouping the same runs another way, or
switching mean/median or the band, reads nothing and costs one pass over
runs x buckets. Non-finite values (NaN, ±inf) are left out of every statistic.
"""

from __future__ import annotations

import math
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..index.signatures import MISSING, Signature, signature
from ..store import metric_files
from ..store.model import Run
from .cache import HistoryCache, Snapshot

XMode = Literal["step", "time", "relative"]
Center = Literal["mean", "median"]

DEFAULT_MAX_BUCKETS = 2_000_000  # bucket summaries held over all runs (5 floats each: ~80 MB at most)
MAX_EXTENTS = 200_000
INF = math.inf


@dataclass(frozen=True, slots=True)
class Grid:
    """Equal-width x buckets: bucket i covers [x0 + i*width, x0 + (i+1)*width).

    Integer grids (steps) end before their last edge; real-valued grids (times)
    also put a point exactly on the last edge into the last bucket.
    """

    x0: float
    width: float
    count: int
    integer: bool

    def edge(self, i: int) -> float:
        return self.x0 + self.width * i


def grid_for(low: float, high: float, buckets: int, integer: bool) -> Grid:
    """A grid over [low, high] with at most ``buckets`` buckets; steps get integer widths (one step each when they fit)."""
    buckets = max(1, buckets)
    if integer:
        first, last = math.floor(low), math.floor(high)
        span = last - first + 1
        width = max(1, math.ceil(span / buckets))
        return Grid(float(first), float(width), max(1, math.ceil(span / width)), True)
    if not high > low:
        return Grid(low, 1.0, 1, False)
    return Grid(low, (high - low) / buckets, buckets, False)


@dataclass(frozen=True, slots=True)
class RunBuckets:
    """One run's points on a grid, per bucket: mean (NaN where it has no finite point), min and max
    (+inf / -inf there), and the x of its first and last point (+inf / -inf there)."""

    mean: array
    low: array
    high: array
    first_x: array
    last_x: array
    points: int  # points of the run inside the grid's range


def bucket_run(xs: Sequence[float], values: Sequence[float], length: int, grid: Grid, offset: float = 0.0) -> RunBuckets:
    """Summarise the sorted points xs[:length] (x = xs[i] - offset) on ``grid``; non-finite values are skipped."""
    n = grid.count
    mean = array("d", [math.nan]) * n
    low, first_x = array("d", [INF]) * n, array("d", [INF]) * n
    high, last_x = array("d", [-INF]) * n, array("d", [-INF]) * n
    start = bisect_left(xs, grid.x0 + offset, 0, length)
    end = grid.edge(n) + offset
    stop = bisect_left(xs, end, start, length) if grid.integer else bisect_right(xs, end, start, length)
    lo = start
    for b in range(n):
        if lo >= stop:
            break
        hi = stop if b == n - 1 else bisect_left(xs, grid.edge(b + 1) + offset, lo, stop)
        if hi > lo:
            chunk = values[lo:hi]
            total = sum(chunk)
            if not math.isfinite(total):
                chunk = [v for v in chunk if math.isfinite(v)]
                total = math.fsum(chunk)
            if chunk:
                mean[b], low[b], high[b] = total / len(chunk), min(chunk), max(chunk)
                first_x[b], last_x[b] = xs[lo] - offset, xs[hi - 1] - offset
        lo = hi
    return RunBuckets(mean, low, high, first_x, last_x, stop - start)


@dataclass(frozen=True, slots=True)
class GroupSeries:
    """A group's statistics per bucket that any member has data in, in x order."""

    x: list[float]
    center: list[float]  # mean or median across runs
    mean: list[float]
    std: list[float]  # population standard deviation across runs (0 for one run)
    low: list[float]  # min over runs of each run's min in the bucket
    high: list[float]  # max over runs of each run's max in the bucket
    count: list[int]  # runs with data in the bucket
    runs: int  # runs of the group that have the metric
    points: int  # their points inside the grid's range


def empty_series() -> GroupSeries:
    return GroupSeries([], [], [], [], [], [], [], 0, 0)


def aggregate(members: Sequence[RunBuckets], center: Center = "mean") -> GroupSeries:
    """Statistics across the members' bucket summaries (buckets no member has are left out)."""
    out = GroupSeries([], [], [], [], [], [], [], len(members), sum(m.points for m in members))
    if not members:
        return out
    columns = zip(
        zip(*(m.mean for m in members), strict=True),
        map(min, zip(*(m.low for m in members), strict=True)),
        map(max, zip(*(m.high for m in members), strict=True)),
        map(min, zip(*(m.first_x for m in members), strict=True)),
        map(max, zip(*(m.last_x for m in members), strict=True)),
        strict=True,
    )
    for means, low, high, first, last in columns:
        if first == INF:
            continue
        present = [v for v in means if v == v]
        k = len(present)
        mu = math.fsum(present) / k
        out.x.append((first + last) / 2)
        out.mean.append(mu)
        out.center.append(mu if center == "mean" else _median(present))
        out.std.append(math.sqrt(math.fsum([(v - mu) * (v - mu) for v in present]) / k))
        out.low.append(low)
        out.high.append(high)
        out.count.append(k)
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True, slots=True)
class _Extent:
    sig: Signature
    first: float  # x of the first point (relative: 0)
    last: float
    offset: float  # subtracted from x (relative: the run's first timestamp)


class GroupHistories:
    """Group statistics over the app's HistoryCache, with per-run bucket summaries cached by file signature."""

    def __init__(self, histories: HistoryCache, max_buckets: int = DEFAULT_MAX_BUCKETS) -> None:
        self.histories = histories
        self.max_buckets = max_buckets
        self._extents: OrderedDict[tuple[str, str, str], _Extent] = OrderedDict()
        self._buckets: OrderedDict[tuple[str, str, str, Grid], tuple[Signature, RunBuckets]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.bucketed = 0  # run summaries computed from points (cache misses), for tests and benchmarks

    def series(
        self,
        groups: Sequence[Sequence[Run]],
        key: str,
        *,
        x: XMode = "step",
        buckets: int = 250,
        x_min: float | None = None,
        x_max: float | None = None,
        center: Center = "mean",
    ) -> tuple[Grid | None, list[GroupSeries]]:
        """One GroupSeries per group for metric ``key``, all on one grid (so the groups share an x axis).

        Blocking (may read metric files). Runs without the metric are left out
        of their group (its ``runs`` counts those that have it). x is the step,
        or epoch ms (``time``), or ms since the run's first point (``relative``);
        x_min/x_max narrow the grid to a zoomed range.
        """
        snaps: dict[str, Snapshot] = {}
        extents: dict[str, _Extent] = {}
        for group in groups:
            for run in group:
                ext = self._extent(run, key, x, snaps)
                if ext is not None:
                    extents[run.info.run_id] = ext
        if not extents:
            return None, [empty_series() for _ in groups]
        low = x_min if x_min is not None else min(e.first for e in extents.values())
        high = x_max if x_max is not None else max(e.last for e in extents.values())
        grid = grid_for(low, max(low, high), buckets, integer=x == "step")
        result = []
        for group in groups:
            members = [
                self._run_buckets(run, key, x, grid, extents[run.info.run_id], snaps)
                for run in group
                if run.info.run_id in extents
            ]
            result.append(aggregate(members, center))
        return grid, result

    def _snapshot(self, run: Run, key: str, x: XMode) -> Snapshot | None:
        if run.path.name != run.info.run_id:  # an entry without its own folder has no metric files to read
            return None
        return self.histories.snapshot(run.path, key, "step" if x == "step" else "time")

    def _extent(self, run: Run, key: str, x: XMode, snaps: dict[str, Snapshot]) -> _Extent | None:
        path = metric_files.metric_path(run.path, key)
        sig = signature(path) if path is not None else MISSING
        if sig == MISSING:
            return None
        cache_key = (str(run.path), key, x)
        with self._lock:
            known = self._extents.get(cache_key)
            if known is not None and known.sig == sig:
                self._extents.move_to_end(cache_key)
                return known
        snap = self._snapshot(run, key, x)
        if snap is None or snap.length == 0:
            return None
        snaps[run.info.run_id] = snap
        xs = snap.steps if x == "step" else snap.timestamps
        offset = float(snap.timestamps[0]) if x == "relative" else 0.0
        ext = _Extent(sig, float(xs[0]) - offset, float(xs[snap.length - 1]) - offset, offset)
        with self._lock:
            self._extents[cache_key] = ext
            while len(self._extents) > MAX_EXTENTS:
                self._extents.popitem(last=False)
        return ext

    def _run_buckets(
        self, run: Run, key: str, x: XMode, grid: Grid, ext: _Extent, snaps: dict[str, Snapshot]
    ) -> RunBuckets:
        cache_key = (str(run.path), key, x, grid)
        with self._lock:
            known = self._buckets.get(cache_key)
            if known is not None and known[0] == ext.sig:
                self._buckets.move_to_end(cache_key)
                return known[1]
        snap = snaps.get(run.info.run_id) or self._snapshot(run, key, x)
        if snap is None:
            return bucket_run([], [], 0, grid)
        xs = snap.steps if x == "step" else snap.timestamps
        summary = bucket_run(xs, snap.values, snap.length, grid, ext.offset)
        with self._lock:
            self.bucketed += 1
            old = self._buckets.pop(cache_key, None)
            if old is not None:
                self._held -= len(old[1].mean)
            self._buckets[cache_key] = (ext.sig, summary)
            self._held += grid.count
            while self._held > self.max_buckets and len(self._buckets) > 1:
                _, (_, dropped) = self._buckets.popitem(last=False)
                self._held -= len(dropped.mean)
        return summary
