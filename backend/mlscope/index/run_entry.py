"""One run as the index keeps it: parsed data plus the signatures it was read at.

Refreshing an entry re-reads only files whose signature moved; metric files
that grew are read from where the last read stopped (appends are the common
case while a run trains). A shallow check looks only at folder signatures,
which move when a key is added or removed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..store import reader
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
    kv_sigs: dict[str, Signature] = field(default_factory=dict)  # "params/x", "tags/y" -> sig
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

    def files_changed(self) -> bool:
        """Quick check: did a key appear or vanish, or a known metric file move, since the last read?

        A stat per folder and per metric file; param or tag values rewritten in
        place are left to the slow deep check.
        """
        if self._folder_sigs() != self.folder_sigs:
            return True
        return any(signature(state.path) != state.sig for state in self.metric_files.values())

    @property
    def last_activity_ns(self) -> int:
        """When the run last wrote anything we track (meta.yaml or a metric file)."""
        return max([self.meta_sig[0], *(state.sig[0] for state in self.metric_files.values())])

    def _folder_sigs(self) -> tuple[Signature, ...]:
        return tuple(signature(self.base + name) for name in DETAIL_FOLDERS)

    def load_details(self) -> bool:
        """Deep read: bring params, tags, metrics and inputs up to date; True when anything changed.

        Raises MalformedError when a metric file holds garbage.
        """
        folder_sigs = self._folder_sigs()
        previous = self.run
        params, params_changed = self._sync_key_values("params", previous.params if previous else {})
        tags, tags_changed = self._sync_key_values("tags", previous.tags if previous else {})
        metrics, metrics_changed = self._sync_metrics()
        io_changed = previous is None or folder_sigs[3:] != self.folder_sigs[3:]
        self.folder_sigs = folder_sigs
        if not (previous is None or params_changed or tags_changed or metrics_changed or io_changed):
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

    def _sync_key_values(self, folder: str, current: dict[str, str]) -> tuple[dict[str, str], bool]:
        files = reader.key_files(Path(self.base + folder))
        prefix = folder + "/"
        seen = set()
        values = dict(current)
        changed = False
        for key, path in files:
            sig_key = prefix + key
            seen.add(sig_key)
            sig = signature(path)
            if self.kv_sigs.get(sig_key) == sig and key in values:
                continue
            try:
                with open(path, "rb") as handle:
                    values[key] = handle.read().decode("utf-8", errors="replace")
            except OSError:
                continue
            self.kv_sigs[sig_key] = sig
            changed = True
        for sig_key in [k for k in self.kv_sigs if k.startswith(prefix) and k not in seen]:
            del self.kv_sigs[sig_key]
            values.pop(sig_key[len(prefix) :], None)
            changed = True
        return values, changed

    def _sync_metrics(self) -> tuple[dict[str, Metric], bool]:
        changed = False
        seen = set()
        for key, path in reader.key_files(Path(self.base + "metrics")):
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
                    latest = reader.latest_in_lines(key, data)
                except reader.MalformedError:
                    latest = None
            else:
                latest = reader.latest_in_lines(key, data[:consumed]) if consumed else None
            if appended and state is not None and state.latest is not None:
                latest = reader.latest_of([state.latest, latest] if latest else [state.latest])
            self.metric_files[key] = MetricFileState(path, sig, start + consumed, latest)
            changed = True
        for key in [k for k in self.metric_files if k not in seen]:
            del self.metric_files[key]
            changed = True
        if not changed and self.run is not None:
            return self.run.metrics, False
        return {k: s.latest for k, s in self.metric_files.items() if s.latest is not None}, True
