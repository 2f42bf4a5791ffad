"""What a tree holds, as MLflow's own FileStore reads it, with ids and clock times taken out so two trees compare.

Runs are keyed by name, parent ids become parent names, image files are compared
by their pixels (PNG/WebP encoders differ byte-wise), generated file names lose
their uuid, and metric timestamps are kept only when a script gave them (small numbers).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.reference_trees import file_store

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CLOCK = 10**12  # epoch milliseconds from a clock are above this; timestamps a script chose are below


def _value(number: float) -> Any:
    return "nan" if math.isnan(number) else number


def artifact_folder(uri: str, root: Path) -> Path:
    """A run's artifact folder: file: URIs as they are; mlflow-artifacts: under the tree or a server's ./mlartifacts."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(parts.path)
    assert parts.scheme == "mlflow-artifacts", uri
    for base in (root.parent / "mlartifacts", root):
        candidate = base / parts.path.lstrip("/")
        if candidate.exists():
            return candidate
    return root.parent / "mlartifacts" / parts.path.lstrip("/")


def file_content(path: Path) -> Any:
    if path.suffix in (".png", ".webp"):
        from PIL import Image

        with Image.open(path) as image:
            return ("image", image.size, image.convert("RGBA").tobytes())
    if path.suffix == ".json":
        return ("json", json.loads(path.read_text()))
    return ("bytes", path.read_bytes())


def artifacts(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        return {}
    return {UUID.sub("<uuid>", p.relative_to(folder).as_posix()): file_content(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def snapshot(root: Path, experiments: set[str] | None = None) -> dict[str, Any]:
    """Every experiment of the tree (or only those named)."""
    from mlflow.entities import ViewType

    store = file_store(root)
    found: dict[str, Any] = {}
    for experiment in store.search_experiments(view_type=ViewType.ALL, max_results=1000):
        if experiments is not None and experiment.name not in experiments:
            continue
        runs = store.search_runs([experiment.experiment_id], "", ViewType.ALL, max_results=1000)
        names = {r.info.run_id: r.info.run_name for r in runs}
        shaped = {}
        for run in runs:
            info, data = run.info, run.data
            tags = dict(data.tags)
            if "mlflow.parentRunId" in tags:
                tags["mlflow.parentRunId"] = names.get(tags["mlflow.parentRunId"], "?")
            histories = {
                key: [(m.step, _value(m.value), m.timestamp if m.timestamp < CLOCK else None) for m in store.get_metric_history(info.run_id, key)]
                for key in data.metrics
            }
            datasets = sorted(
                (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema or "", d.dataset.profile or "",
                 tuple(sorted((t.key, t.value) for t in d.tags)))
                for d in (run.inputs.dataset_inputs if run.inputs else [])
            )  # fmt: skip
            shaped[info.run_name] = {
                "status": info.status, "lifecycle": info.lifecycle_stage, "params": dict(data.params),
                "metrics": {k: _value(v) for k, v in data.metrics.items()}, "histories": histories, "tags": tags,
                "datasets": datasets, "artifacts": artifacts(artifact_folder(info.artifact_uri, root)),
                "ended": info.end_time is not None,
            }  # fmt: skip
        found[experiment.name] = {"lifecycle": experiment.lifecycle_stage, "tags": dict(experiment.tags), "runs": shaped}
    return found


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Readable differences between two snapshots (empty when equal)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours:
                out.append(f"{path}/{key}: missing in mlscope's tree")
            elif key not in theirs:
                out.append(f"{path}/{key}: only in mlscope's tree")
            else:
                out.extend(differences(ours[key], theirs[key], f"{path}/{key}"))
        return out
    if ours != theirs:
        return [f"{path}: mlscope {str(ours)[:300]!s} != mlflow {str(theirs)[:300]!s}"]
    return []
