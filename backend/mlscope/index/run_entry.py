"""One run as the index keeps it: parsed data plus the signatures it was read at.

Refreshing an entry re-reads only files whose signature moved; metric files
that grew are read from where the last read stopped (appends are the common
case while a run trains). A shallow check looks only at folder signatures,
which move when a key is added or removed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..store import metric_files, paths, reader
from ..store.model import Metric, Run, RunInfo
from .signatures import Signature, signature

DETAIL_FOLDERS = ("metrics", "params", "tags", "inputs", "outputs")


@dataclass(slots=True)
class MetricFileState:
    path: str
    sig: Signature
    offset: int  # bytes consumed up to the last complete line
    latest: Metric | None


@dataclass(slots=True)
class RunEntry:
    run_dir: Path
    exp_dir: Path
    info: RunInfo
    meta_sig: Signature
    run: Run | None = None  # details (params, tags, metrics); None until loaded
    folder_sigs: tuple[Signature, ...] = ()  # signatures of DETAIL_FOLDERS at the last deep read
    metric_dir_sigs: tuple[tuple[str, Signature], ...] = ()  # metrics/ and its subfolders (nested keys)
    metric_files: dict[str, MetricFileState] = field(default_factory=dict)
    base: str = ""  # str(run_dir) + "/": string paths avoid pathlib's cost in hot loops

    def __post_init__(self) -> None:
        self.base = str(self.run_dir) + os.sep

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
        """Quick check: a stat per folder and per metric file, no reads.

        Catches appended metric lines, new metric keys (also under nested
        folders), and, unless metrics_only, new params, tags, inputs and
        outputs. Param or tag values rewritten in place are left to the slow
        deep check.
        """
        if any(signature(path) != sig for path, sig in self.metric_dir_sigs):
            return True
        if not metrics_only and self._folder_sigs() != self.folder_sigs:
            return True
        return any(signature(state.path) != state.sig for state in self.metric_files.values())

    @property
    def last_activity_ns(self) -> int:
        """When the run last wrote anything we track (meta.yaml or a metric file)."""
        return max([self.meta_sig[0], *(state.sig[0] for state in self.metric_files.values())])

    def _folder_sigs(self) -> tuple[Signature, ...]:
        return tuple(signature(self.base + name) for name in DETAIL_FOLDERS)

    def load_details(self, full: bool = True) -> bool:
        """Bring params, tags, metrics and inputs up to date; True when anything changed.

        Params and tags are re-read when their folder changed (a key came or
        went) or when ``full``; metric files are read from where the last
        read stopped. Raises MalformedError when a metric file holds garbage.
        """
        folder_sigs = self._folder_sigs()
        previous = self.run
        fresh = previous is None or full

        def moved(i: int) -> bool:
            return fresh or folder_sigs[i] != self.folder_sigs[i]

        params = _interned(reader.read_key_values(Path(self.base + "params"))) if moved(1) else previous.params  # type: ignore[union-attr]
        tags = _interned(reader.read_key_values(Path(self.base + "tags"))) if moved(2) else previous.tags  # type: ignore[union-attr]
        metrics, metrics_changed = self._sync_metrics()
        io_changed = previous is None or folder_sigs[3:] != self.folder_sigs[3:]
        self.folder_sigs = folder_sigs
        if previous is not None and not (metrics_changed or io_changed or params != previous.params or tags != previous.tags):
            return False
        if io_changed:
            datasets, model_inputs = reader.read_inputs(self.run_dir, self.exp_dir)
            outputs = reader.read_outputs(self.run_dir)
        else:
            assert previous is not None
            datasets, model_inputs, outputs = previous.dataset_inputs, previous.model_inputs, previous.model_outputs
        info = self.info
        if not info.run_name and tags.get("mlflow.runName"):
            info = replace(info, run_name=tags["mlflow.runName"])
        self.run = Run(info, params, tags, metrics, datasets, model_inputs, outputs, self.run_dir)
        return True

    def _sync_metrics(self) -> tuple[dict[str, Metric], bool]:
        changed = False
        seen = set()
        for key, path in paths.key_files(Path(self.base + "metrics")):
            key = sys.intern(key)
            seen.add(key)
            sig = signature(path)
            state = self.metric_files.get(key)
            if state is not None and state.sig == sig:
                continue
            appended = state is not None and sig[2] == state.sig[2] and sig[1] >= state.offset
            start = state.offset if (appended and state is not None) else 0
            with open(path, "rb") as handle:
                handle.seek(start)
                data = handle.read()
            consumed = data.rfind(b"\n") + 1
            if start == 0 and consumed == 0 and data.strip():
                # One line and no newline: a 1.x file, or a torn first write. Take it if it parses.
                try:
                    latest = metric_files.latest_in_lines(key, data)
                except reader.MalformedError:
                    latest = None
            else:
                latest = metric_files.latest_in_lines(key, data[:consumed]) if consumed else None
            if appended and state is not None and state.latest is not None:
                latest = metric_files.latest_of([state.latest, latest] if latest else [state.latest])
            self.metric_files[key] = MetricFileState(path, sig, start + consumed, latest)
            changed = True
        for key in [k for k in self.metric_files if k not in seen]:
            del self.metric_files[key]
            changed = True
        folders = {self.base + "metrics"} | {self.base + "metrics/" + key.rsplit("/", 1)[0] for key in seen if "/" in key}
        self.metric_dir_sigs = tuple((path, signature(path)) for path in sorted(folders))
        if not changed and self.run is not None:
            return self.run.metrics, False
        return {k: s.latest for k, s in self.metric_files.items() if s.latest is not None}, True


def _interned(values: dict[str, str]) -> dict[str, str]:
    """Keys (and short values) repeat across thousands of runs: share one string object each."""
    return {sys.intern(k): (sys.intern(v) if len(v) <= 64 else v) for k, v in values.items()}
