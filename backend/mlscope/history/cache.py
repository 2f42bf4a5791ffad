"""A bounded cache of parsed metric histories, kept current by reading only what was appended.

Charts ask for the same histories again and again (zoom, live follow, another
tab), and a training run only ever appends to its metric files. Each entry is
keyed by (run folder, key) and remembers the file's stat signature and the
byte offset of its last complete line: an unchanged file costs one stat, a
grown one costs reading the new bytes. Memory is bounded by the total number
of points held (least recently used entries are dropped first).
"""

from __future__ import annotations

import bisect
import os
import stat
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..index.run_reads import SAFE_OPEN, read_rest
from ..index.signatures import INODE_MASK, MISSING, Signature
from ..store import metric_files, reader
from ..store.model import Metric

T = TypeVar("T")

DEFAULT_MAX_POINTS = 5_000_000  # ~120 MB of arrays (3 x 8 bytes per point)
# Histories kept as Metric objects for MLflow's get-history (~150 bytes a point, so only the most recently asked for):
# a call then costs the points appended since the last one, not 284,000 objects made again (issue 18, under load).
MAX_MATERIALIZED = 4
PAGE_BYTES = 64 << 20  # rendered get-history pages kept (a 25,000-point page is ~3 MB)


@dataclass(slots=True)
class SeriesData:
    """One metric file's points in file order, plus sorted views built on demand.

    ``steps``/``values``/``timestamps`` are parallel arrays. ``ordered(by)``
    returns them sorted by step (ties by timestamp) or by timestamp; a file
    written in order needs no copy.
    """

    steps: array = field(default_factory=lambda: array("q"))
    values: array = field(default_factory=lambda: array("d"))
    timestamps: array = field(default_factory=lambda: array("q"))
    skipped: int = 0  # lines that could not be parsed (reported, not fatal)
    error: str | None = None  # why the first skipped line could not be parsed (MLflow's endpoints refuse such files)
    datasets: dict[int, tuple[str, str]] = field(default_factory=dict)  # point index -> (dataset name, digest), 5-field lines
    _sorted: dict[str, tuple[int, tuple[array, array, array]]] = field(default_factory=dict)  # by -> (points covered, arrays)
    metrics: list[Metric] = field(default_factory=list)  # the first points as Metric objects (HistoryCache.history)
    sort_lock: threading.Lock = field(default_factory=threading.Lock)  # ordered() runs under it

    def __len__(self) -> int:
        return len(self.values)

    def extend(self, data: bytes, key: str) -> None:
        """Append the points of complete metric lines; unparsable lines are counted, not fatal."""
        columns = metric_files.metric_columns(data)
        arrays = None
        if columns is not None:  # the common file: every line "ts value step"
            try:  # an array made from a list is about twice as fast as extended by one
                arrays = array("q", columns[0]), array("d", columns[1]), array("q", columns[2])
            except OverflowError:  # a timestamp or step past int64: the line parser reports it
                arrays = None
        if arrays is not None:
            if len(self.values):
                self.timestamps.extend(arrays[0])
                self.values.extend(arrays[1])
                self.steps.extend(arrays[2])
            else:
                self.timestamps, self.values, self.steps = arrays
        else:
            for line in data.decode("utf-8", errors="replace").split("\n"):
                if not line.strip():
                    continue
                try:
                    point = metric_files.parse_metric_line(key, line)
                except reader.MalformedError as exc:
                    self.skipped += 1
                    self.error = self.error or str(exc)
                    continue
                if point.dataset_name is not None:
                    self.datasets[len(self.values)] = (point.dataset_name, point.dataset_digest or "")
                self.steps.append(point.step)
                self.values.append(point.value)
                self.timestamps.append(point.timestamp)

    def ordered(self, by: str) -> tuple[array, array, array]:
        """(steps, values, timestamps) sorted by "step" or "time".

        Kept per order with the number of points it covers and brought up to date by what was appended since:
        points appended in order extend the file-order arrays themselves; points out of order (two writers
        appending to one metric) are merged into a sorted copy, a few memory copies in C instead of sorting
        every point again in Python (0.2-0.4 s at 290,000 points, once per append, under load).
        """
        count = len(self.values)
        cached = self._sorted.get(by)
        if cached is not None and cached[0] == count:
            return cached[1]
        primary, secondary = (self.steps, self.timestamps) if by == "step" else (self.timestamps, self.steps)
        result: tuple[array, array, array] | None = None
        if cached is not None and count - cached[0] <= max(64, count // 8):
            covered, arrays = cached
            if arrays[0] is self.steps and is_sorted(primary[max(covered - 1, 0) : count]):
                result = arrays  # still in order: the file-order arrays are the sorted view
            else:
                if arrays[0] is self.steps:  # out of order from here on: a copy of the sorted part to merge into
                    arrays = (self.steps[:covered], self.values[:covered], self.timestamps[:covered])
                result = self._merged(arrays, covered, count, by)
        if result is None:
            if is_sorted(primary):
                result = (self.steps, self.values, self.timestamps)
            else:  # by (primary, secondary), stable: two sorts with C-level keys (a lambda making tuples costs 1.5x)
                order = sorted(range(count), key=secondary.__getitem__)
                order.sort(key=primary.__getitem__)
                result = (
                    array("q", [self.steps[i] for i in order]),
                    array("d", [self.values[i] for i in order]),
                    array("q", [self.timestamps[i] for i in order]),
                )
        self._sorted[by] = (count, result)
        return result

    def _merged(self, arrays: tuple[array, array, array], start: int, end: int, by: str) -> tuple[array, array, array]:
        """New sorted arrays: ``arrays`` (sorted) with the points start..end-1 inserted where they sort (after equal
        keys, so ties keep file order). ``arrays`` are never changed: snapshots taken from them stay valid."""
        steps, values, stamps = arrays
        primary, secondary = (steps, stamps) if by == "step" else (stamps, steps)
        new_primary, new_secondary = (self.steps, self.timestamps) if by == "step" else (self.timestamps, self.steps)
        added = sorted(range(start, end), key=lambda i: (new_primary[i], new_secondary[i]))
        out = (array("q"), array("d"), array("q"))
        previous = 0
        for i in added:
            low = bisect.bisect_left(primary, new_primary[i])
            high = bisect.bisect_right(primary, new_primary[i], low)
            at = max(bisect.bisect_right(secondary, new_secondary[i], low, high), previous)
            out[0].extend(steps[previous:at])
            out[1].extend(values[previous:at])
            out[2].extend(stamps[previous:at])
            out[0].append(self.steps[i])
            out[1].append(self.values[i])
            out[2].append(self.timestamps[i])
            previous = at
        out[0].extend(steps[previous:])
        out[1].extend(values[previous:])
        out[2].extend(stamps[previous:])
        return out


def is_sorted(xs: array, length: int | None = None) -> bool:
    """Whether xs[:length] never decreases (integer arrays: steps, timestamps). A sort of already sorted data is one C-level pass (timsort
    finds one run), about 10x faster than comparing neighbours in a Python generator."""
    head = xs if length is None or length >= len(xs) else xs[:length]
    as_list = head.tolist()
    return as_list == sorted(as_list)


def _signature(run_dir: Path, path: Path) -> Signature:
    """The signature of a metric's file (path: run_dir/metrics/key, no '..' in key); MISSING also for a key no file
    can be named (a lone surrogate from a JSON body), and for anything the index does not list as a metric: a
    symlink (out of the tree, or a loop inventing ``loop/acc``), a file below a symlinked folder, a FIFO (opening
    it would block forever), a folder."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return MISSING
        metrics = run_dir / "metrics"
        folder = path.parent
        while folder != metrics:
            if os.path.islink(folder) or folder == folder.parent:
                return MISSING
            folder = folder.parent
        if os.path.islink(metrics):
            return MISSING
    except (OSError, UnicodeEncodeError, ValueError):
        return MISSING
    return (st.st_mtime_ns, st.st_size, st.st_ino & INODE_MASK)


def _grew(seen: Signature, held: Signature, offset: int) -> bool:
    """Whether the file seen now is the one read before (``held``, read up to ``offset``) with lines appended.

    A read goes to the end of the file, past the size its signature was taken at: a file that grew but is still
    shorter than the offset has not been replaced (it used to be read again whole: 290,000 points under load)."""
    return held != MISSING and seen[2] == held[2] and seen[1] >= min(offset, held[1])


def _not_newer(seen: Signature, held: Signature) -> bool:
    """Whether a file seen with signature ``seen`` is no newer than the one the cache already read (``held``): the
    same file, not modified later, not longer. A request that stat'ed the file just before another one updated the
    entry must not take the entry back: it used to drop every point and read the whole file again (290,000
    points: ~1 s under the entry's lock, every request for the history behind it; under load p99 of 10-20 s)."""
    return held != MISSING and seen[2] == held[2] and seen[0] <= held[0] and seen[1] <= held[1]


def _read_from(path: str, offset: int) -> bytes | None:
    """A metric file's bytes from offset to its end; None when it cannot be read or is no longer a regular file
    (replaced by a FIFO or a folder since the stat: never opened blocking, never through a final symlink)."""
    try:
        fd = os.open(path, SAFE_OPEN)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.lseek(fd, offset, os.SEEK_SET)
        return read_rest(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Sorted parallel arrays valid up to ``length`` (arrays may grow later; never read past it)."""

    steps: array
    values: array
    timestamps: array
    length: int
    skipped: int
    datasets: int = 0  # points logged with a dataset (5-field lines), which these arrays do not carry


@dataclass(slots=True)
class _Entry:
    sig: Signature = MISSING
    offset: int = 0
    data: SeriesData = field(default_factory=SeriesData)
    lock: threading.Lock = field(default_factory=threading.Lock)


class HistoryCache:
    """Parsed histories by (run_dir, key); thread-safe, LRU-bounded by point count."""

    def __init__(self, max_points: int = DEFAULT_MAX_POINTS) -> None:
        self.max_points = max_points
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._points = 0
        self._lock = threading.Lock()
        self._materialized: OrderedDict[tuple[str, str], SeriesData] = OrderedDict()  # LRU of SeriesData.metrics kept
        self._materialize_lock = threading.Lock()
        self._pages: OrderedDict[tuple[str, str, int, int], tuple[SeriesData, bytes]] = OrderedDict()  # history_page's full pages
        self._page_bytes = 0
        self._pages_lock = threading.Lock()
        self.reads = 0  # bytes read from disk, for tests and benchmarks

    @property
    def points(self) -> int:
        return self._points

    def stamp(self, run_dir: Path, key: str) -> Signature:
        """What moves whenever the history of (run_dir, key) may have changed: the metric file's signature
        (MISSING when there is no such metric). Caches built on histories keep a result while it holds."""
        path = metric_files.metric_path(run_dir, key)
        return MISSING if path is None else _signature(run_dir, path)

    def snapshot(self, run_dir: Path, key: str, by: str = "step") -> Snapshot | None:
        """The current history of one metric sorted ``by`` "step" or "time"; None when the run has no such metric."""
        current = self._current(run_dir, key, lambda data: None)
        if current is None:
            return None
        data = current[0]
        # Sorted under the series' own lock, not the entry's: get-history pages (file order) never wait behind a
        # sort, and an append lands while one runs (the view then covers at least what the update read).
        with data.sort_lock:
            steps, values, timestamps = data.ordered(by)
            length = data._sorted[by][0]
        return Snapshot(steps, values, timestamps, length, data.skipped, len(data.datasets))

    def history_page(self, run_dir: Path, key: str, offset: int, limit: int | None,
                     render: Callable[[array, array, array, dict[int, tuple[str, str]], int, int, int], bytes]) -> bytes | None:
        """MLflow's get-history answer for points offset..offset+limit-1 in file order, rendered by
        ``render(steps, values, timestamps, datasets, start, end, length)``; None when the run has no such metric,
        MalformedError when the file holds garbage.

        A full page of an appended-to file never changes, so its rendered bytes are kept (up to PAGE_BYTES in
        all): MLflow's client reads a live 290,000-point history in pages of 25,000, and each page was made again
        from every point on every call (~80 ms, 20 clients: seconds). No Metric object is made per point.
        """
        current = self._current(run_dir, key, lambda data: (data.steps, data.values, data.timestamps, data.datasets))
        if current is None:
            return None
        data, length, (steps, values, timestamps, datasets) = current
        if data.error is not None:
            raise reader.MalformedError(data.error)
        end = length if limit is None else min(length, offset + limit)
        if limit is None or offset + limit > length:  # the last page still grows: made each time (it is short)
            return render(steps, values, timestamps, datasets, offset, end, length)
        page_key = (str(run_dir), key, offset, limit)
        with self._pages_lock:
            kept = self._pages.get(page_key)
            if kept is not None and kept[0] is data:
                self._pages.move_to_end(page_key)
                return kept[1]
        body = render(steps, values, timestamps, datasets, offset, end, length)
        with self._pages_lock:
            old = self._pages.pop(page_key, None)
            self._page_bytes += len(body) - (len(old[1]) if old else 0)
            self._pages[page_key] = (data, body)
            while self._page_bytes > PAGE_BYTES and len(self._pages) > 1:
                self._page_bytes -= len(self._pages.popitem(last=False)[1][1])
        return body

    def history(self, run_dir: Path, key: str) -> list[Metric]:
        """Every point of one metric in file order, as MLflow's get-history endpoints return them.

        Served from the same cache as the charts, so a repeated or live call
        reads only what was appended. An empty list when the run has no such
        metric; MalformedError when the file holds a line that is not a
        metric (MLflow's FileStore refuses such a file too).
        """
        current = self._current(run_dir, key, lambda data: (data.steps, data.values, data.timestamps, dict(data.datasets)))
        if current is None:
            return []
        data, length, (steps, values, timestamps, datasets) = current
        if data.error is not None:
            raise reader.MalformedError(data.error)
        cache_key = (str(run_dir), key)
        with self._materialize_lock:  # made once, then only the appended points (a file replaced is a new SeriesData)
            points = data.metrics
            for i in range(len(points), length):
                dataset = datasets.get(i)
                points.append(Metric(key, values[i], timestamps[i], steps[i], *dataset) if dataset else
                              Metric(key, values[i], timestamps[i], steps[i]))
            page = points[:length]
            kept = self._materialized
            kept[cache_key] = data
            kept.move_to_end(cache_key)
            while len(kept) > MAX_MATERIALIZED:
                kept.popitem(last=False)[1].metrics = []
        return page

    def _current(self, run_dir: Path, key: str, view: Callable[[SeriesData], T]) -> tuple[SeriesData, int, T] | None:
        """Bring one history up to date and take ``view`` of it under its lock (with its length then)."""
        path = metric_files.metric_path(run_dir, key)
        if path is None:
            return None
        sig = _signature(run_dir, path)
        cache_key = (str(run_dir), key)
        with self._lock:
            entry = self._entries.get(cache_key)
            if entry is None:
                if sig == MISSING:
                    return None
                entry = self._entries[cache_key] = _Entry()
            self._entries.move_to_end(cache_key)
        # What was appended is read before taking the entry's lock and used if nobody updated the entry meanwhile:
        # under 20 clients and two writers nearly every request finds the file grown, and a read under the lock
        # gave the GIL away at each system call and queued every request for this history behind it (seconds).
        prefetched = None
        known_sig, known_offset = entry.sig, entry.offset
        if sig != MISSING and sig != known_sig and not _not_newer(sig, known_sig):
            start = known_offset if _grew(sig, known_sig, known_offset) else 0
            if sig[1] - start <= metric_files.MAX_METRIC_FILE_BYTES:
                prefetched = (known_sig, known_offset, start, _read_from(str(path), start))
        with entry.lock:
            before = len(entry.data)
            if sig == MISSING:
                self._drop(cache_key, entry)
                return None
            if sig != entry.sig and not _not_newer(sig, entry.sig):
                usable = prefetched is not None and prefetched[0] == entry.sig and prefetched[1] == entry.offset
                self._update(entry, str(path), key, sig, prefetched[2:] if usable and prefetched is not None else None)
            data = entry.data
            seen = view(data)
            length = len(data)
            grown = length - before
        if grown:
            with self._lock:
                self._points += grown
                self._evict(keep=cache_key)
        return data, length, seen

    def _update(self, entry: _Entry, path: str, key: str, sig: Signature, prefetched: tuple[int, bytes | None] | None = None) -> None:
        """Read what was appended since the last read, or the whole file when it was replaced
        (``prefetched``: (offset, bytes) read from there without the lock, for the entry as it still is)."""
        appended = _grew(sig, entry.sig, entry.offset)
        if not appended:
            entry.data, entry.offset = SeriesData(), 0
        if sig[1] - entry.offset > metric_files.MAX_METRIC_FILE_BYTES:  # refused, not read into memory
            entry.data, entry.offset, entry.sig = SeriesData(), 0, sig
            entry.data.error = str(metric_files.too_large(key, sig[1]))
            return
        if prefetched is not None and prefetched[0] == entry.offset:
            read = prefetched[1]
        else:
            read = _read_from(path, entry.offset)
        if read is None:
            return
        data = read
        self.reads += len(data)
        consumed = data.rfind(b"\n") + 1
        if entry.offset == 0 and consumed == 0 and data.strip():
            # One line and no newline (very old writers, or a torn first write): use it if it parses,
            # but leave the offset so the completed line is read again once it has its newline.
            probe = SeriesData()
            probe.extend(data, key)
            if not probe.skipped:
                entry.data = probe
            entry.sig = sig
            return
        if entry.offset == 0 and len(entry.data):
            entry.data = SeriesData()  # drop a provisional single-line read
        entry.data.extend(data[:consumed], key)
        entry.offset += consumed
        entry.sig = sig

    def _drop(self, cache_key: tuple[str, str], entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(cache_key) is entry:
                del self._entries[cache_key]
                self._points -= len(entry.data)

    def _evict(self, keep: tuple[str, str]) -> None:
        """Drop least recently used entries until the point budget holds (never the one just read)."""
        while self._points > self.max_points and len(self._entries) > 1:
            oldest_key = next(iter(self._entries))
            if oldest_key == keep:
                self._entries.move_to_end(oldest_key)
                oldest_key = next(iter(self._entries))
            old = self._entries.pop(oldest_key)
            self._points -= len(old.data)
