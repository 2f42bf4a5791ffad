"""Group statistics of many runs' histories: mean or median per x with ± std and min–max bands.

Runs log at their own steps (or times), so their points are first put on one
shared grid of x buckets: each run's points in a bucket become that run's
mean, min and max there (min/max keep a one-step spike of one run in the
group's min–max band, as the single-run downsampler keeps it in a line). The
group's line and bands are statistics across runs per bucket. When the x
range holds no more steps than there are buckets, each bucket is exactly one
step and the statistics are exact per-step values.

Grids are aligned: bucket widths are powers of two (x is an integer, a step
or milliseconds) and bucket edges are multiples of the width. That is what
makes the caches work. Each run's points are summarised once per metric file
version on its own fine base grid (at most BASE_BUCKETS buckets of sum,
count, min, max); any coarser aligned grid, whatever the chart's width or
zoom, is merged from that summary without reading the file again, and the
merged result is cached per grid, so regrouping the same runs another way, or
switching mean/median or the band, costs one pass over runs x buckets.
With a SeriesStore (disk.py) the base summaries are also kept on disk per
metric file version, so a server start does not read the files again.
Non-finite values (NaN, ±inf) are left out of every statistic.
"""

from __future__ import annotations

import math
import os
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import mul, sub
from typing import Any, Literal

from ..index.signatures import MISSING, Signature
from ..store import metric_files
from ..store.model import Run
from .cache import HistoryCache, Snapshot
from .disk import SeriesStore

XMode = Literal["step", "time", "relative"]
Center = Literal["mean", "median"]

BASE_BUCKETS = 512  # a run's base summary: the finest grid kept per metric file (merged into coarser ones)
DEFAULT_MAX_BUCKETS = 4_000_000  # buckets held over all cached summaries (6 floats each: ~190 MB at most)
INF = math.inf


@dataclass(frozen=True, slots=True)
class Grid:
    """Buckets [x0 + i*width, x0 + (i+1)*width) for i < count; width a power of two, x0 a multiple of it."""

    x0: int
    width: int
    count: int

    def edge(self, i: int) -> int:
        return self.x0 + self.width * i


def grid_for(low: float, high: float, buckets: int) -> Grid:
    """The aligned grid over [low, high] with the narrowest power-of-two width giving at most ``buckets``
    buckets (or 2, when one aligned bucket cannot hold the range)."""
    low_i, high_i = math.floor(low), math.floor(max(low, high))
    width = 1
    # Once a bucket is as wide as the range, it straddles at most one edge: 2 buckets (not 1) is the least.
    while (high_i // width) - (low_i // width) + 1 > max(1, buckets) and width <= high_i - low_i:
        width *= 2
    x0 = (low_i // width) * width
    return Grid(x0, width, (high_i - x0) // width + 1)


@dataclass(frozen=True, slots=True)
class Summary:
    """One run's points on a grid, per bucket: sum and count of finite values, min and max (+inf / -inf
    where it has none), the x of its first and last point (+inf / -inf there); ``points`` in range."""

    grid: Grid
    sums: array
    counts: array
    low: array
    high: array
    first_x: array
    last_x: array
    points: int
    means: list[float] | None = field(init=False, default=None, repr=False, compare=False)

    def mean(self) -> list[float]:
        """Per bucket; NaN where the run has none. Computed once, when first averaged into a group (a summary is
        cached per grid and averaged at every regrouping; a base summary merged onto coarser grids never is)."""
        means = self.means
        if means is None:
            means = [s / c if c else math.nan for s, c in zip(self.sums, self.counts, strict=True)]
            object.__setattr__(self, "means", means)
        return means

    def kept(self) -> tuple[Any, ...]:
        """Plain data for the SeriesStore."""
        g = self.grid
        arrays = (self.sums, self.counts, self.low, self.high, self.first_x, self.last_x)
        return (g.x0, g.width, g.count, *(a.tobytes() for a in arrays), self.points)

    @staticmethod
    def from_kept(kept: Any) -> Summary | None:
        """The inverse of ``kept``; None for anything else."""
        if not (isinstance(kept, tuple) and len(kept) == 10 and all(isinstance(v, int) for v in (*kept[:3], kept[9]))):
            return None
        grid = Grid(kept[0], kept[1], kept[2])
        arrays = []
        for raw in kept[3:9]:
            if not isinstance(raw, bytes) or len(raw) != 8 * grid.count:
                return None
            values = array("d")
            values.frombytes(raw)
            arrays.append(values)
        sums, counts, low, high, first_x, last_x = arrays
        return Summary(grid, sums, counts, low, high, first_x, last_x, kept[9])


def summarise(xs: Sequence[float], values: Sequence[float], length: int, grid: Grid, offset: float = 0) -> Summary:
    """Summarise the sorted points xs[:length] (x = xs[i] - offset) on ``grid``; non-finite values are skipped."""
    if length and offset == 0 and _consecutive(xs, length):
        dense = _summarise_consecutive(int(xs[0]), values, length, grid)
        if dense is not None:
            return dense
    return summarise_points(xs, values, length, grid, offset)


def summarise_points(xs: Sequence[float], values: Sequence[float], length: int, grid: Grid, offset: float = 0) -> Summary:
    """``summarise`` for any sorted points: a bisect and a slice per bucket."""
    n = grid.count
    sums, counts = array("d", [0.0]) * n, array("d", [0.0]) * n
    low, first_x = array("d", [INF]) * n, array("d", [INF]) * n
    high, last_x = array("d", [-INF]) * n, array("d", [-INF]) * n
    start = bisect_left(xs, grid.x0 + offset, 0, length)
    stop = bisect_left(xs, grid.edge(n) + offset, start, length)
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
                sums[b], counts[b], low[b], high[b] = total, len(chunk), min(chunk), max(chunk)
                first_x[b], last_x[b] = xs[lo] - offset, xs[hi - 1] - offset
        lo = hi
    return Summary(grid, sums, counts, low, high, first_x, last_x, stop - start)


def _consecutive(xs: Sequence[float], length: int) -> bool:
    """Whether xs[:length] are the consecutive integers xs[0], xs[0] + 1, ... (a run logging every step)."""
    first = xs[0]
    if xs[length - 1] - first != length - 1 or first != int(first):
        return False
    return list(xs[:length]) == list(range(int(first), int(first) + length))


def _summarise_consecutive(x_first: int, values: Sequence[float], length: int, grid: Grid) -> Summary | None:
    """``summarise`` for points at consecutive steps: buckets are fixed-size runs of values, reduced in C
    (zip of one iterator w times). None when a value is not finite (the general path skips those)."""
    n, w = grid.count, grid.width
    lo = max(0, grid.x0 - x_first)
    hi = min(length, grid.edge(n) - x_first)
    sums, counts = array("d", [0.0]) * n, array("d", [0.0]) * n
    low, first_x = array("d", [INF]) * n, array("d", [INF]) * n
    high, last_x = array("d", [-INF]) * n, array("d", [-INF]) * n
    if hi <= lo:
        return Summary(grid, sums, counts, low, high, first_x, last_x, 0)
    chunk = values[lo:hi]
    if not math.isfinite(sum(chunk)):
        return None
    b0 = (x_first + lo - grid.x0) // w
    start = x_first + lo
    if w == 1:  # one point per bucket: the values are the statistics
        m = hi - lo
        sums[b0 : b0 + m] = low[b0 : b0 + m] = high[b0 : b0 + m] = array("d", chunk)
        counts[b0 : b0 + m] = array("d", [1.0]) * m
        first_x[b0 : b0 + m] = last_x[b0 : b0 + m] = array("d", range(start, start + m))
        return Summary(grid, sums, counts, low, high, first_x, last_x, m)
    head = min(hi, grid.edge(b0 + 1) - x_first) - lo  # points in the first (maybe partial) bucket
    pieces: list[Sequence[float]] = [chunk[:head]]
    body = chunk[head:]
    full = len(body) // w
    pieces.extend(zip(*[iter(body[: full * w])] * w, strict=False))
    if len(body) > full * w:
        pieces.append(body[full * w :])
    ends = [start + head - 1] + [start + head + (i + 1) * w - 1 for i in range(len(pieces) - 1)]
    ends[-1] = x_first + hi - 1
    sums[b0 : b0 + len(pieces)] = array("d", map(sum, pieces))
    counts[b0 : b0 + len(pieces)] = array("d", map(len, pieces))
    low[b0 : b0 + len(pieces)] = array("d", map(min, pieces))
    high[b0 : b0 + len(pieces)] = array("d", map(max, pieces))
    firsts = [start] + [start + head + i * w for i in range(len(pieces) - 1)]
    first_x[b0 : b0 + len(pieces)] = array("d", firsts)
    last_x[b0 : b0 + len(pieces)] = array("d", ends)
    return Summary(grid, sums, counts, low, high, first_x, last_x, hi - lo)


def coarsen(base: Summary, grid: Grid) -> Summary | None:
    """``base`` merged onto a coarser aligned grid (None when the grid is finer than the base's).

    Each coarse bucket is ``ratio`` consecutive base buckets (both grids are aligned powers of two), so
    the merge is C-level: the base columns padded with empty buckets to cover the grid exactly, cut in
    runs of ``ratio`` (zip of one iterator ``ratio`` times), each run reduced by sum/min/max.
    """
    fine = base.grid
    if grid.width < fine.width or grid.width % fine.width:
        return None
    n, ratio = grid.count, grid.width // fine.width
    shift = (grid.x0 - fine.x0) // fine.width  # base index of the grid's first bucket (may be < 0 or beyond)
    lo = max(0, shift)
    hi = max(lo, min(fine.count, shift + n * ratio))  # base buckets [lo, hi) fall inside the grid
    before = min(n * ratio, max(0, -shift))
    after = n * ratio - before - (hi - lo)

    def merged(column: array, empty: float, reduce: Callable[[tuple[float, ...]], float]) -> array:
        padded = [empty] * before + column[lo:hi].tolist() + [empty] * after
        return array("d", map(reduce, zip(*[iter(padded)] * ratio, strict=False)))

    counts = merged(base.counts, 0.0, sum)
    return Summary(
        grid, merged(base.sums, 0.0, sum), counts, merged(base.low, INF, min), merged(base.high, -INF, max),
        merged(base.first_x, INF, min), merged(base.last_x, -INF, max), int(sum(counts)),
    )


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


def aggregate(members: Sequence[Summary], center: Center = "mean") -> GroupSeries:
    """Statistics across the members' summaries on one grid (buckets no member has are left out).

    Per bucket the work is C-level (zip, map, fsum, sorted) over the members'
    cached means: grouping 1,000 runs is a few hundred thousand numbers.
    """
    out = GroupSeries([], [], [], [], [], [], [], len(members), sum(m.points for m in members))
    if not members:
        return out
    columns = zip(
        zip(*(m.mean() for m in members), strict=True),
        map(min, zip(*(m.low for m in members), strict=True)),
        map(max, zip(*(m.high for m in members), strict=True)),
        map(min, zip(*(m.first_x for m in members), strict=True)),
        map(max, zip(*(m.last_x for m in members), strict=True)),
        strict=True,
    )
    for means, low, high, first, last in columns:
        if first == INF:
            continue
        total = math.fsum(means)
        present: Sequence[float] = means
        if total != total:  # NaN marks members without data in this bucket
            present = [v for v in means if v == v]
            total = math.fsum(present)
        k = len(present)
        mu = total / k
        deviations = list(map(sub, present, repeat(mu, k)))
        out.x.append((first + last) / 2)
        out.mean.append(mu)
        out.center.append(mu if center == "mean" else _median(present))
        out.std.append(math.sqrt(math.fsum(map(mul, deviations, deviations)) / k))
        out.low.append(low)
        out.high.append(high)
        out.count.append(k)
    return out


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True, slots=True)
class _Base:
    sig: Signature
    summary: Summary
    first: float  # x of the run's first and last point
    last: float
    offset: float  # subtracted from x (relative: the run's first timestamp)
    folder: str  # the run's folder, as the cache keys name it
    disk_path: str | None = None  # its metric file, as the SeriesStore names it (None: not kept on disk)


class GroupHistories:
    """Group statistics over the app's HistoryCache, with per-run summaries cached by metric-file signature."""

    def __init__(self, histories: HistoryCache, max_buckets: int = DEFAULT_MAX_BUCKETS, disk: SeriesStore | None = None) -> None:
        self.histories = histories
        self.max_buckets = max_buckets
        self.disk = disk  # base summaries kept across restarts (file stores only: their stamps are file signatures)
        self._cache: OrderedDict[tuple[str, str, str, Grid | None], tuple[Signature, _Base | Summary]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.read = 0  # run histories summarised from their points (cache misses), for tests and benchmarks
        self.from_disk = 0  # summaries (base or on a grid) taken from the SeriesStore

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
        bases: dict[str, _Base] = {}
        for group in groups:
            for run in group:
                base = self._base(run, key, x, snaps)
                if base is not None:
                    bases[run.info.run_id] = base
        if not bases:
            return None, [empty_series() for _ in groups]
        low = x_min if x_min is not None else min(b.first for b in bases.values())
        high = x_max if x_max is not None else max(b.last for b in bases.values())
        grid = grid_for(low, high, buckets)
        keep = x_min is None and x_max is None  # whole-range grids go to disk too (a zoom's rarely repeats)
        result = []
        for group in groups:
            members = [self._on_grid(run, key, x, grid, bases[run.info.run_id], snaps, keep) for run in group
                       if run.info.run_id in bases]
            result.append(aggregate(members, center))
        return grid, result

    def _get(self, cache_key: tuple[str, str, str, Grid | None], sig: Signature) -> _Base | Summary | None:
        with self._lock:
            known = self._cache.get(cache_key)
            if known is None or known[0] != sig:
                return None
            self._cache.move_to_end(cache_key)
            return known[1]

    def _put(self, cache_key: tuple[str, str, str, Grid | None], sig: Signature, value: _Base | Summary, size: int) -> None:
        with self._lock:
            old = self._cache.pop(cache_key, None)
            if old is not None:
                self._held -= _size(old[1])
            self._cache[cache_key] = (sig, value)
            self._held += size
            while self._held > self.max_buckets and len(self._cache) > 1:
                _, (_, dropped) = self._cache.popitem(last=False)
                self._held -= _size(dropped)

    def _snapshot(self, run: Run, key: str, x: XMode) -> Snapshot | None:
        if run.path.name != run.info.run_id:  # an entry without its own folder has no metric files to read
            return None
        return self.histories.snapshot(run.path, key, "step" if x == "step" else "time")

    def _base(self, run: Run, key: str, x: XMode, snaps: dict[str, Snapshot]) -> _Base | None:
        """The run's base summary (its own fine grid over its whole history), read only when the file changed."""
        path = run.path  # built per access: once here (its string is kept in the _Base)
        sig = self.histories.stamp(path, key)  # the metric file's signature (a SQL store: the run's version)
        if sig == MISSING:
            return None
        folder = str(path)
        cache_key = (folder, key, x, None)
        known = self._get(cache_key, sig)
        if isinstance(known, _Base):
            return known
        disk_path = None
        if self.disk is not None and run.path.name == run.info.run_id:
            metric = metric_files.metric_path(path, key)
            disk_path = None if metric is None else os.path.abspath(metric)
            entries = {} if disk_path is None else self.disk.entries(disk_path, sig)
            kept = entries.get(("group-base", x))
            if isinstance(kept, tuple) and len(kept) == 4 and all(isinstance(v, (int, float)) for v in kept[1:]):
                summary = Summary.from_kept(kept[0])
                if summary is not None:
                    base = _Base(sig, summary, kept[1], kept[2], kept[3], folder, disk_path)
                    self._put(cache_key, sig, base, summary.grid.count)
                    taken = 1
                    for entry, value in entries.items():  # its summaries on whole-range grids: no second read
                        if isinstance(entry, tuple) and len(entry) == 5 and entry[:2] == ("group-grid", x):
                            on_grid = Summary.from_kept(value)
                            if on_grid is not None and (on_grid.grid.x0, on_grid.grid.width, on_grid.grid.count) == entry[2:]:
                                self._put((folder, key, x, on_grid.grid), sig, on_grid, on_grid.grid.count)
                                taken += 1
                    with self._lock:
                        self.from_disk += taken
                    return base
        snap = self._snapshot(run, key, x)
        if snap is None or snap.length == 0:
            return None
        snaps[run.info.run_id] = snap
        xs = snap.steps if x == "step" else snap.timestamps
        offset = snap.timestamps[0] if x == "relative" else 0
        first, last = xs[0] - offset, xs[snap.length - 1] - offset
        summary = summarise(xs, snap.values, snap.length, grid_for(first, last, BASE_BUCKETS), offset)
        base = _Base(sig, summary, first, last, offset, folder, disk_path)
        with self._lock:
            self.read += 1
        self._put(cache_key, sig, base, summary.grid.count)
        if disk_path is not None and self.disk is not None:
            self.disk.put(disk_path, sig, ("group-base", x), (summary.kept(), first, last, offset))
        return base

    def _on_grid(
        self, run: Run, key: str, x: XMode, grid: Grid, base: _Base, snaps: dict[str, Snapshot], keep: bool = False
    ) -> Summary:
        """The run on ``grid``: cached (in memory, else on disk when ``keep``), else merged from its base summary,
        else (a finer zoom) from its points."""
        if base.summary.grid == grid:
            return base.summary
        cache_key = (base.folder, key, x, grid)
        known = self._get(cache_key, base.sig)
        if isinstance(known, Summary):
            return known
        summary = coarsen(base.summary, grid)
        if summary is None:
            snap = snaps.get(run.info.run_id) or self._snapshot(run, key, x)
            if snap is None:
                return summarise([], [], 0, grid)
            with self._lock:
                self.read += 1
            xs = snap.steps if x == "step" else snap.timestamps
            summary = summarise(xs, snap.values, snap.length, grid, base.offset)
        self._put(cache_key, base.sig, summary, grid.count)
        if keep and base.disk_path is not None and self.disk is not None:
            self.disk.put(base.disk_path, base.sig, ("group-grid", x, grid.x0, grid.width, grid.count), summary.kept())
        return summary


def _size(value: _Base | Summary) -> int:
    return (value.summary if isinstance(value, _Base) else value).grid.count
