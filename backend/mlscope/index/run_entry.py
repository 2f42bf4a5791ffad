"""One run as the index keeps it: parsed data plus the signatures it was read at.

Refreshing an entry re-reads only files whose signature moved; metric files
that grew are read from where the last read stopped (appends are the common
case while a run trains).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..store import reader
from ..store.model import Metric, Run, RunInfo
from .signatures import MISSING, Signature, signature


@dataclass(slots=True)
class MetricFileState:
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
    kv_sigs: dict[str, Signature] = field(default_factory=dict)  # "params/x", "tags/y" -> sig
    metric_files: dict[str, MetricFileState] = field(default_factory=dict)
    io_sigs: tuple[Signature, Signature] = (MISSING, MISSING)  # inputs/, outputs/ dirs

    def with_info(self, info: RunInfo) -> None:
        self.info = info
        if self.run is not None:
            name = info.run_name or self.run.tags.get("mlflow.runName", "")
            self.run = replace(self.run, info=replace(info, run_name=name))

    def load_details(self) -> bool:
        """Bring params, tags, metrics and inputs up to date; True when anything changed.

        Raises MalformedError when a metric file holds garbage.
        """
        changed = self.run is None
        params, params_changed = self._sync_key_values("params", self.run.params if self.run else {})
        tags, tags_changed = self._sync_key_values("tags", self.run.tags if self.run else {})
        metrics, metrics_changed = self._sync_metrics()
        io_sigs = (signature(self.run_dir / "inputs"), signature(self.run_dir / "outputs"))
        io_changed = io_sigs != self.io_sigs or self.run is None
        changed = changed or params_changed or tags_changed or metrics_changed or io_changed
        if not changed:
            return False
        if io_changed:
            datasets, model_inputs = reader.read_inputs(self.run_dir, self.exp_dir)
            outputs = reader.read_outputs(self.run_dir)
            self.io_sigs = io_sigs
        else:
            assert self.run is not None
            datasets, model_inputs, outputs = self.run.dataset_inputs, self.run.model_inputs, self.run.model_outputs
        info = self.info
        if not info.run_name and tags.get("mlflow.runName"):
            info = replace(info, run_name=tags["mlflow.runName"])
        self.run = Run(info, params, tags, metrics, datasets, model_inputs, outputs, self.run_dir)
        return True

    def _sync_key_values(self, folder: str, current: dict[str, str]) -> tuple[dict[str, str], bool]:
        files = reader.key_files(self.run_dir / folder)
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
            values.pop(sig_key[len(prefix):], None)
            changed = True
        return values, changed

    def _sync_metrics(self) -> tuple[dict[str, Metric], bool]:
        files = reader.key_files(self.run_dir / "metrics")
        changed = False
        seen = set()
        for key, path in files:
            seen.add(key)
            sig = signature(path)
            state = self.metric_files.get(key)
            if state is not None and state.sig == sig:
                continue
            grew = state is not None and sig[2] == state.sig[2] and sig[1] >= state.offset
            start = state.offset if (grew and state is not None) else 0
            with open(path, "rb") as handle:
                handle.seek(start)
                data = handle.read()
            text, consumed = reader.complete_text(data)
            if start == 0 and consumed == 0 and data.strip():
                # One line without a newline (very old writers): accept it only if it parses.
                try:
                    points = reader.parse_metric_lines(key, data.decode("utf-8", errors="replace"))
                except reader.MalformedError:
                    points = []
            else:
                points = reader.parse_metric_lines(key, text)
            previous = state.latest if (grew and state is not None) else None
            latest = reader.latest_of(points + ([previous] if previous else []))
            self.metric_files[key] = MetricFileState(sig, start + consumed, latest)
            changed = True
        for key in [k for k in self.metric_files if k not in seen]:
            del self.metric_files[key]
            changed = True
        if not changed and self.run is not None:
            return self.run.metrics, False
        metrics = {k: s.latest for k, s in self.metric_files.items() if s.latest is not None}
        return metrics, True


def metric_dirs_exist(run_dir: Path) -> bool:
    return os.path.isdir(run_dir / "metrics") and os.path.isdir(run_dir / "params")
