"""Compact runs-table rows: the summary columns plus only the param/metric/tag keys asked for.

The table shows a handful of fields per run; shipping MLflow's full run JSON
for 10,000 runs (every param, metric and tag) is what makes MLflow's UI slow
on wide experiments, so rows carry only what the screen can show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...index.logged_models import logged_models_of
from ...store.model import LoggedModel, Run
from ..mlflow.proto import float_json

PARENT_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
COMMIT_TAG = "mlflow.source.git.commit"
MODEL_HISTORY_TAG = "mlflow.log-model.history"

@dataclass(frozen=True, slots=True)
class Columns:
    """Which key columns the client shows."""

    params: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def _history_models(run: Run) -> list[str]:
    """Legacy (MLflow 2) models logged as artifacts, from the mlflow.log-model.history tag."""
    raw = run.tags.get(MODEL_HISTORY_TAG)
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    return [str(e.get("artifact_path")) for e in entries if isinstance(e, dict) and e.get("artifact_path")]


def models_summary(run: Run, models_by_id: dict[str, LoggedModel]) -> list[dict[str, Any]]:
    """Models a run produced: 3.x outputs and logged models naming it as source, plus legacy artifact models."""
    found: dict[str, dict[str, Any]] = {}
    for ref in run.model_outputs:
        model = models_by_id.get(ref.model_id)
        found[ref.model_id] = {"model_id": ref.model_id, "name": model.name if model else ref.model_id}
    for model in models_by_id.values():
        if model.source_run_id == run.info.run_id and model.model_id not in found:
            found[model.model_id] = {"model_id": model.model_id, "name": model.name or model.model_id}
    legacy = [{"model_id": None, "name": path} for path in _history_models(run)]
    return [*found.values(), *legacy]


def row_json(run: Run, columns: Columns, models_by_id: dict[str, LoggedModel]) -> dict[str, Any]:
    info = run.info
    tags = run.tags
    row: dict[str, Any] = {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "lifecycle_stage": info.lifecycle_stage,
        "user": tags.get(USER_TAG) or info.user_id,
        "source": tags.get(SOURCE_NAME_TAG, ""),
        "source_type": tags.get(SOURCE_TYPE_TAG, ""),
        "commit": tags.get(COMMIT_TAG, ""),
        "parent_run_id": tags.get(PARENT_TAG),
        "models": models_summary(run, models_by_id),
        "datasets": [{"name": d.name, "digest": d.digest, "context": d.context} for d in run.dataset_inputs],
        "params": {k: run.params[k] for k in columns.params if k in run.params},
        "metrics": {k: float_json(run.metrics[k].value) for k in columns.metrics if k in run.metrics},
        "tags": {k: tags[k] for k in columns.tags if k in tags},
    }
    return row


def models_for(runs: Iterable[Run], experiment_dirs: dict[str, Path]) -> dict[str, LoggedModel]:
    """Logged models of every experiment the runs belong to (blocking file reads: call off the loop)."""
    models: dict[str, LoggedModel] = {}
    for exp_id in {r.info.experiment_id for r in runs}:
        if exp_id in experiment_dirs:
            models.update(logged_models_of(experiment_dirs[exp_id]))
    return models
