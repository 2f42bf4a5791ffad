"""Min/max-preserving downsampling (M4): what a chart needs, nothing a chart would miss.

The x range is cut into equal-width buckets (about one per pixel column pair)
and each bucket keeps its first, minimum, maximum and last point. A line drawn
through those points covers exactly the pixels the full series would cover, so
a single-step spike always survives (stride or random sampling can drop it).

Inputs are sequences sorted by x (lists or ``array``); outputs are indices
into them, in x order. Pure functions, no numpy: builtins ``min``/``max`` and
``bisect`` do the per-point work in C, so 100,000 points reduce in a few ms.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

POINTS_PER_BUCKET = 4  # first, min, max, last


def window(xs: Sequence[float], low: float | None, high: float | None, length: int | None = None) -> tuple[int, int]:
    """The index range [start, stop) of points of xs[:length] with low <= x <= high (None: unbounded)."""
    length = len(xs) if length is None else length
    start = 0 if low is None else bisect_left(xs, low, 0, length)
    stop = length if high is None else bisect_right(xs, high, 0, length)
    return start, max(start, stop)


def downsample(
    xs: Sequence[float], values: Sequence[float], target: int, start: int = 0, stop: int | None = None
) -> list[int]:
    """Indices of at most ``target`` points of xs[start:stop] keeping each bucket's first/min/max/last.

    When the range holds ``target`` points or fewer every index is returned
    (exact). NaN never wins min or max (it is not comparable) but is kept when
    it is a bucket's first or last point, so a chart still shows the gap;
    +/-inf take part in max/min like any other number.
    """
    stop = len(xs) if stop is None else stop
    count = stop - start
    if count <= max(target, 0):
        return list(range(start, stop))
    buckets = max(1, target // POINTS_PER_BUCKET)
    if target < POINTS_PER_BUCKET:
        # Too small for one full bucket: first and last (or just the last) are what matter most.
        return [stop - 1] if target <= 1 else [start, stop - 1]
    x0, x1 = xs[start], xs[stop - 1]
    width = (x1 - x0) / buckets
    if not width > 0:
        return _keep_extremes(values, start, stop)
    picked: list[int] = []
    lo = start
    for b in range(1, buckets + 1):
        hi = stop if b == buckets else bisect_left(xs, x0 + width * b, lo, stop)
        if hi > lo:
            picked.extend(_keep_extremes(values, lo, hi))
        lo = hi
    return picked


def _keep_extremes(values: Sequence[float], lo: int, hi: int) -> list[int]:
    """Sorted unique indices of the first, min, max and last point of values[lo:hi]."""
    last = hi - 1
    if hi - lo <= POINTS_PER_BUCKET:
        return list(range(lo, hi))
    chunk = values[lo:hi]
    total = sum(chunk)
    if total == total:  # no NaN (and not both infinities): builtins are exact here
        low_i = lo + chunk.index(min(chunk))
        high_i = lo + chunk.index(max(chunk))
    else:
        finite = [(v, i) for i, v in enumerate(chunk) if not math.isnan(v)]
        if not finite:
            return [lo, last]
        low_i = lo + min(finite)[1]
        high_i = lo + max(finite)[1]
    return sorted({lo, low_i, high_i, last})
