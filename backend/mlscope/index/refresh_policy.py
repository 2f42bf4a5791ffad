"""Which runs a refresh looks at: hot ones every time, the others in rotating slices.

A refresh never rescans the tree. It checks the hot runs (changed in the last
HOT_SECONDS, or RUNNING and active in the last ACTIVE_SECONDS: crashed runs
stay RUNNING forever and must not cost every second), then a rotating slice
of the other RUNNING runs' metric files (a job that logs once an epoch is
seen within seconds even in a 100,000-run tree, whose general lap takes
minutes), then a rotating slice of QUICK_SLICE others with a quick stat
check, then a small rotating slice with a full re-read (values rewritten in
place). A refresh with nothing changed costs 40-90 ms of CPU at 10,000 runs,
nearly all of it the quick slice's ~15,000 stats; a change anywhere is seen
within one lap.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from .run_reads import read_details

if TYPE_CHECKING:
    from .run_entry import RunEntry
    from .run_index import RunIndex

HOT_SECONDS = 120.0  # a run seen changing this recently is checked on every refresh
ACTIVE_SECONDS = 600.0  # a RUNNING run that wrote within this is checked on every refresh
RUNNING_SLICE = 200  # quiet RUNNING runs whose metric files are stat'ed per refresh, round robin
QUICK_SLICE = 500  # other runs quick-checked per refresh, round robin (10,000 runs: a lap in 20 refreshes)
DEEP_SLICE = 20  # runs fully re-read per refresh, round robin (catches values rewritten in place)


class Due(NamedTuple):
    """What a refresh must sync, found without the index lock (see due_runs)."""

    now: float
    hot: list[RunEntry]  # hot runs whose meta.yaml or metric files moved
    running: list[RunEntry]  # quiet RUNNING runs of this refresh's slice whose meta.yaml or metric files moved
    running_count: int  # the RUNNING slice's size (its cursor moves by it)
    quick: list[RunEntry]  # runs of the quick slice whose meta.yaml or watched files moved
    quick_count: int  # the quick slice's size (the cursor moves by it)
    deep: list[tuple[RunEntry, bytes, Any, tuple[Any, ...] | None]]  # (entry, sigs and run read from, details record)
    deep_count: int


def due_runs(index: RunIndex) -> Due:
    """The stat checks and deep re-reads of a refresh, done without the index lock.

    Thousands of stat calls and a few hundred small reads: under the lock, each
    system call gave the GIL away and waited to get it back behind every busy
    request thread, so a 130 ms refresh held the lock for 1-4.6 s under 20
    clients and every request needing a run waited behind it (issue 18, p99 of
    seconds). A stale answer is harmless: a run that looked unchanged is checked
    again next lap, and a deep read is adopted only if the run did not change
    meanwhile (its signatures and details are the very objects it was read from).
    """
    now = time.time()
    runs = index._runs
    entries = list(runs.values())
    active_since = int((now - ACTIVE_SECONDS) * 1e9)
    hot = {rid: runs[rid] for rid, until in list(index._hot_until.items()) if until > now and rid in runs}
    quiet_running = []
    for entry in entries:
        if entry.info.status == "RUNNING":
            if entry.last_activity_ns >= active_since:
                hot[entry.info.run_id] = entry
            else:
                quiet_running.append(entry)
    running = [e for e in _slice(quiet_running, index._running_cursor, RUNNING_SLICE) if e.info.run_id not in hot]
    quick = _slice(entries, index._quick_cursor, QUICK_SLICE)
    deep = _slice(entries, index._deep_cursor, DEEP_SLICE)
    due_hot = [e for e in hot.values() if e.meta_changed() or e.files_changed(metrics_only=True)]
    due_running = [e for e in running if e.meta_changed() or e.files_changed(metrics_only=True)]
    due_quick = [e for e in quick if e.info.run_id not in hot and (e.meta_changed() or e.files_changed())]
    deep_reads: list[tuple[RunEntry, bytes, Any, tuple[Any, ...] | None]] = []
    for entry in deep:
        sigs, run = entry.sigs, entry.run
        if entry.info.run_id in index._failed or entry.meta_changed() or run is None:
            deep_reads.append((entry, sigs, run, None))  # read under the lock, as before
        else:
            deep_reads.append((entry, sigs, run, read_details(str(entry.run_dir), str(entry.exp_dir), entry.previous(), full=True)))
    return Due(now, due_hot, due_running, min(len(quiet_running), RUNNING_SLICE), due_quick, len(quick), deep_reads, len(deep))


def refresh_runs(index: RunIndex, due: Due | None = None) -> int:
    """Sync the runs due for a look (call with the index lock held; ``due`` from due_runs, called before without
    it, else found now); returns how many changed."""
    if due is None:
        due = due_runs(index)
    now, runs, changed = due.now, index._runs, 0
    for entry in (*due.hot, *due.running):
        if runs.get(entry.info.run_id) is entry:
            changed += index._sync_entry(entry, check="metrics", now=now)
    index._running_cursor += due.running_count
    for entry in due.quick:
        if runs.get(entry.info.run_id) is entry:
            changed += index._sync_entry(entry, check="files", now=now)
    index._quick_cursor += due.quick_count
    index._deep_cursor += due.deep_count
    for entry, sigs, run, record in due.deep:
        rid = entry.info.run_id
        if runs.get(rid) is not entry:
            continue
        if record is None or entry.sigs is not sigs or entry.run is not run:
            changed += index._sync_entry(entry, check="full", now=now)
        elif index.adopt_details(entry, record):
            index._hot_until[rid] = now + HOT_SECONDS
            index._mark_changed(rid)
            changed += 1
    for rid in [r for r, until in index._hot_until.items() if until <= now]:
        del index._hot_until[rid]
    return changed


def _slice(entries: list[RunEntry], cursor: int, size: int) -> list[RunEntry]:
    """The next `size` runs after the cursor, wrapping around (the caller advances the cursor)."""
    if not entries:
        return []
    start = cursor % len(entries)
    return (entries[start:] + entries[:start])[:size]
