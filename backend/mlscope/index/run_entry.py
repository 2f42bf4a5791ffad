"""One run as the index keeps it: parsed data plus the signatures it was read at.

Kept small because a tree may hold 100,000 runs: the watched paths are a
shared ``Layout`` and their signatures one packed ``bytes``. A quick check
stats those paths and compares bytes; details are (re-)read by
``run_reads.read_details``, given what was read before so only what moved
is read again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..store.model import DatasetInput, Metric, ModelRef, Run, RunInfo
from .layout import Layout, layout_of
from .run_reads import DetailsRecord, Previous
from .signatures import Signature, newest_mtime, packed_signatures, signature


@dataclass(slots=True)
class RunEntry:
    run_dir: Path
    exp_dir: Path
    info: RunInfo
    meta_sig: Signature
    run: Run | None = None  # details (params, tags, metrics); None until loaded
    layout: Layout | None = None  # what is watched; None until details are loaded
    sigs: bytes = b""  # packed signatures of layout.paths at the last read
    offsets: tuple[int, ...] | None = None  # bytes consumed per metric file; None: each file up to its size
    info_ns: int = 0  # wall time meta_sig was taken (the info read) ...
    read_ns: int = 0  # ... and the oldest of sigs: a file changed again within its mtime's granularity could hide

    @property
    def base(self) -> str:
        """str(run_dir) + "/" (pathlib caches the str): string paths avoid pathlib's cost in hot loops."""
        return str(self.run_dir) + os.sep

    @property
    def meta_path(self) -> str:
        return self.base + "meta.yaml"

    def with_info(self, info: RunInfo) -> None:
        self.info = info
        if self.run is not None:
            name = info.run_name or self.run.tags.get("mlflow.runName", "")
            self.run = replace(self.run, info=replace(info, run_name=name))

    def meta_changed(self) -> bool:
        return signature(self.meta_path) != self.meta_sig

    def files_changed(self, metrics_only: bool = False) -> bool:
        """Quick check: one stat per watched folder and metric file, no reads.

        Catches appended metric lines, new metric keys (also under nested
        folders), and, unless metrics_only, new params, tags, inputs and
        outputs. Values rewritten in place (a tag set again) are left to the
        slow deep check.
        """
        layout, base = self.layout, self.base
        if layout is None:
            return True
        if packed_signatures(base, layout.metric_paths()) != self.sigs[layout.metrics_at :]:
            return True
        return not metrics_only and packed_signatures(base, layout.folder_paths()) != self.sigs[: layout.tags_at]

    @property
    def last_activity_ns(self) -> int:
        """When the run last wrote anything we track (meta.yaml or a metric file)."""
        if self.layout is None:
            return self.meta_sig[0]
        return max(self.meta_sig[0], newest_mtime(self.sigs[self.layout.metric_files_at :]))

    def newest_mtime_ns(self) -> int:
        return max(self.meta_sig[0], newest_mtime(self.sigs))

    def racy(self, window_ns: int) -> bool:
        """True when a file may have changed again since it was read without its signature moving.

        mtimes are coarse (a clock tick, up to seconds on network filesystems):
        a file written within ``window_ns`` before it was read could be
        rewritten in the same tick with the same size. Such runs are not
        trusted from the persistent cache; they are read again.
        """
        if self.meta_sig[0] >= self.info_ns - window_ns:
            return True
        return self.layout is not None and newest_mtime(self.sigs) >= self.read_ns - window_ns

    def previous(self) -> Previous | None:
        """What read_details may reuse (None when details were never read)."""
        run, layout = self.run, self.layout
        if run is None or layout is None:
            return None
        latest = tuple(point_of(run.metrics.get(key)) for key in layout.metric_keys)
        datasets = tuple((d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags) for d in run.dataset_inputs)
        inputs = (datasets, tuple(m.model_id for m in run.model_inputs))
        outputs = tuple((m.model_id, m.step) for m in run.model_outputs)
        return Previous(layout, self.sigs, self.offsets, self.read_ns, run.params, run.tags, latest, inputs, outputs)

    def apply(self, record: DetailsRecord, datasets: dict[Any, DatasetInput]) -> bool:
        """Take a details record ("ok", ...); True when anything a query could see changed."""
        _, layout_key, sigs, offsets, read_ns, params, tags, latest, inputs, outputs = record
        layout = layout_of(*layout_key)
        previous = self.run
        self.read_ns = read_ns
        if previous is not None and sigs == self.sigs and layout is self.layout and offsets == self.offsets \
                and params == previous.params and tags == previous.tags and self._same_details(latest, inputs, outputs):
            return False
        metrics = {key: Metric(key, *point) for key, point in zip(layout.metric_keys, latest, strict=True) if point is not None}
        dataset_inputs = tuple(_shared_dataset(d, datasets) for d in inputs[0])
        info = self.info
        if not info.run_name and tags.get("mlflow.runName"):
            info = replace(info, run_name=tags["mlflow.runName"])
        self.run = Run(info, params, tags, metrics, dataset_inputs, tuple(ModelRef(m) for m in inputs[1]),
                       tuple(ModelRef(m, s) for m, s in outputs), self.run_dir)
        self.layout, self.sigs, self.offsets = layout, sigs, offsets
        return True

    def _same_details(self, latest: tuple[Any, ...], inputs: tuple[Any, ...], outputs: tuple[Any, ...]) -> bool:
        """Latest points, inputs and outputs equal to what the entry holds (NaN equal to NaN)."""
        held = self.previous()
        if held is None or held.inputs != inputs or held.outputs != outputs:
            return False
        return all(a == b or (a is not None and b is not None and _same_point(a, b)) for a, b in zip(held.latest, latest, strict=True))


def point_of(metric: Metric | None) -> tuple[Any, ...] | None:
    if metric is None:
        return None
    if metric.dataset_name is not None:
        return (metric.value, metric.timestamp, metric.step, metric.dataset_name, metric.dataset_digest)
    return (metric.value, metric.timestamp, metric.step)


def _same_point(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b, strict=True))


def _shared_dataset(fields: tuple[Any, ...], shared: dict[Any, DatasetInput]) -> DatasetInput:
    """Runs of an experiment mostly use the same few datasets: one object each."""
    key = (*fields[:6], tuple(fields[6].items()))
    found = shared.get(key)
    if found is None:
        found = shared[key] = DatasetInput(*fields)
    return found
