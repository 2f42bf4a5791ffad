"""What the persistent cache holds, and how the index is saved into it and taken back out.

Per run: the RunInfo fields with the meta.yaml signature they were read at,
and, when details were read, the layout, a BLAKE2b digest of the watched
paths' signatures, params, tags, latest metric points, inputs and outputs.
On restart a run is trusted only if its meta.yaml signature and the digest of
a fresh stat of its watched paths both match; anything else is read again.

Runs read within RACY_NS of a write to one of their files are not trusted:
mtimes are coarse (a kernel tick, seconds on some network filesystems), so a
second write in the same tick with the same size would not move the
signature. Before saving, such runs that have been quiet since are read
again, so a long-running server does not leave many of them behind.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store.model import Experiment
from .run_entry import point_of
from .run_reads import info_fields, read_details, read_info
from .signatures import RACY_NS

if TYPE_CHECKING:
    from .run_entry import RunEntry
    from .run_index import RunIndex

log = logging.getLogger("mlscope")

SLICE = 2000  # runs copied per hold of the index lock while saving (requests wait at most a few ms)


def digest(sigs: bytes) -> bytes:
    return hashlib.blake2b(sigs, digest_size=16).digest()


def _experiment_fields(experiment: Experiment) -> tuple[Any, ...]:
    return (experiment.experiment_id, experiment.name, experiment.artifact_location, experiment.lifecycle_stage,
            experiment.creation_time, experiment.last_update_time, experiment.tags, str(experiment.path))


def _details_of(entry: RunEntry, layouts: dict[Any, int]) -> tuple[Any, ...] | None:
    run, layout = entry.run, entry.layout
    if run is None or layout is None:
        return None
    index = layouts.setdefault(layout.key, len(layouts))
    latest = tuple(point_of(run.metrics.get(key)) for key in layout.metric_keys)
    datasets = tuple((d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags) for d in run.dataset_inputs)
    inputs = (datasets, tuple(m.model_id for m in run.model_inputs))
    outputs = tuple((m.model_id, m.step) for m in run.model_outputs)
    return (index, digest(entry.sigs), entry.offsets, entry.read_ns, run.params, run.tags, latest, inputs, outputs)


def settle(index: RunIndex, now_ns: int) -> int:
    """Read again the runs that are racy but have been quiet for RACY_NS, so they can be trusted; how many."""
    with index._lock:
        candidates = [e for e in index._runs.values() if e.racy(RACY_NS)]
    settled = 0
    for start in range(0, len(candidates), SLICE):
        with index._lock:
            index._next_version, index._dirty = index.version + 1, False
            for entry in candidates[start : start + SLICE]:
                if index._runs.get(entry.info.run_id) is not entry or entry.newest_mtime_ns() >= now_ns - RACY_NS:
                    continue
                settled += 1
                if reread(index, entry):
                    index._mark_changed(entry.info.run_id)
            if index._dirty and index._ready.is_set():
                index.version = index._next_version
    return settled


def reread(index: RunIndex, entry: RunEntry) -> bool:
    """Read a run's meta.yaml and details afresh (nothing reused); True when anything changed."""
    from ..store.model import RunInfo

    _, meta_sig, fields, problem, read_ns = read_info(str(entry.run_dir), entry.info.experiment_id)
    changed = False
    if fields is not None:
        entry.meta_sig, entry.info_ns = meta_sig, read_ns
        if info_fields(entry.info) != fields:
            entry.with_info(RunInfo(*fields))
            changed = True
    record = read_details(str(entry.run_dir), str(entry.exp_dir))
    return index.adopt_details(entry, record) or changed


def save(index: RunIndex) -> None:
    """Write the index to its cache file (blocking; call from a worker thread)."""
    cache = index.cache
    if cache is None:
        return
    started = time.perf_counter()
    now_ns = time.time_ns()
    settle(index, now_ns)
    version = index.version
    with index._lock:
        experiments = list(index._experiments.values())
        entries = list(index._runs.values())
    exp_numbers: dict[str, int] = {}
    exp_records = []
    for number, exp_entry in enumerate(experiments):
        exp_numbers[exp_entry.experiment.experiment_id] = number
        exp_records.append(_experiment_fields(exp_entry.experiment))
    layouts: dict[Any, int] = {}
    saved = 0

    def records() -> Iterator[Any]:
        """The snapshot as the cache file holds it: head, one list of run records per slice, tail (layouts)."""
        nonlocal saved
        yield {"root": cache.root, "saved_ns": now_ns, "experiments": exp_records}
        for start in range(0, len(entries), SLICE):
            runs = []
            with index._lock:
                for entry in entries[start : start + SLICE]:
                    exp_number = exp_numbers.get(entry.info.experiment_id)
                    if exp_number is None or index._runs.get(entry.info.run_id) is not entry:
                        continue
                    if entry.meta_sig[0] >= entry.info_ns - RACY_NS:
                        continue  # not trusted: the restart lists the folder and reads it like a new run
                    details = None if entry.newest_mtime_ns() >= entry.read_ns - RACY_NS else _details_of(entry, layouts)
                    runs.append((exp_number, info_fields(entry.info), entry.meta_sig, entry.info_ns, details))
            saved += len(runs)
            yield runs
        yield {"layouts": sorted(layouts, key=layouts.__getitem__)}

    try:
        size = cache.save(records())
    except OSError as exc:
        log.warning("cannot write the index cache %s: %s", cache.path, exc)
        return
    index.saved_version, index.saved_at = version, time.time()
    log.info("index cache: %d runs saved to %s (%.1f MB) in %.2f s", saved, cache.path, size / 1e6,
             time.perf_counter() - started)


class Restored:
    """A loaded snapshot, turned into plain pieces the startup adopts (raises on content of the wrong shape)."""

    def __init__(self, records: Any, root: str) -> None:
        if not isinstance(records, list) or len(records) < 2 or not isinstance(records[0], dict) \
                or not isinstance(records[-1], dict) or not all(isinstance(part, list) for part in records[1:-1]):
            raise ValueError("snapshot of the wrong shape")
        payload = {**records[0], **records[-1]}
        if payload.get("root") != root:
            raise ValueError("snapshot of another tree")
        self.experiments: list[Experiment] = []
        for fields in payload["experiments"]:
            experiment_id, name, location, stage, created, updated, tags, path = fields
            if not isinstance(tags, dict):
                raise ValueError("experiment tags are not a mapping")
            self.experiments.append(Experiment(experiment_id, name, location, stage, created, updated, tags=tags, path=Path(path)))
        self.layouts: list[tuple[tuple[str, ...], ...]] = [tuple(tuple(part) for part in key) for key in payload["layouts"]]
        self.records: list[Any] = [run for part in records[1:-1] for run in part]  # checked as adopted (see runs())

    def runs(self) -> Iterator[tuple[Experiment, tuple[Any, ...], tuple[int, int, int], int, tuple[Any, ...] | None]]:
        """(experiment, RunInfo fields, meta.yaml signature, when it was read, cached details or None) per run."""
        experiments = self.experiments
        for number, fields, meta_sig, info_ns, details in self.records:
            if type(fields) is not tuple or len(fields) != 10 or type(meta_sig) is not tuple or len(meta_sig) != 3 \
                    or type(info_ns) is not int:
                raise ValueError("run record of the wrong shape")
            if details is not None and (len(details) != 9 or type(details[4]) is not dict or type(details[5]) is not dict):
                raise ValueError("run details of the wrong shape")
            yield experiments[number], fields, meta_sig, info_ns, details

    def details_record(self, details: tuple[Any, ...], sigs: bytes) -> tuple[Any, ...]:
        """A run_reads details record from cached details and the freshly probed signatures."""
        layout, _, offsets, read_ns, params, tags, latest, inputs, outputs = details
        return ("ok", self.layouts[layout], sigs, offsets, read_ns, params, tags, latest, inputs, outputs)
