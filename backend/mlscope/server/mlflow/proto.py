"""MLflow's proto-JSON shapes for experiments, runs and metrics.

Non-finite floats become the strings "NaN", "Infinity", "-Infinity" as
protobuf's JSON mapping does; empty repeated fields are left out as MLflow's
``message_to_json`` does.
"""

from __future__ import annotations

import math
from typing import Any

from ...store.model import Experiment, LoggedModel, Metric, ModelMetric, Run, RunInfo


def float_json(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
    }
    if experiment.last_update_time is not None:
        body["last_update_time"] = experiment.last_update_time
    if experiment.creation_time is not None:
        body["creation_time"] = experiment.creation_time
    if experiment.tags:
        body["tags"] = key_values(experiment.tags)
    body["workspace"] = "default"  # MLflow 3's workspaces: a file store has the one
    return body


def metric_json(metric: Metric, run_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": metric.key,
        "value": float_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.dataset_name is not None:
        body["dataset_name"] = metric.dataset_name
        body["dataset_digest"] = metric.dataset_digest
    if run_id is not None:
        body["run_id"] = run_id
    return body


def run_info_json(run: Run | RunInfo) -> dict[str, Any]:
    info = run.info if isinstance(run, Run) else run
    body: dict[str, Any] = {
        "run_uuid": info.run_id,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.start_time is not None:
        body["start_time"] = info.start_time
    if info.end_time is not None:
        body["end_time"] = info.end_time
    return body


def run_json(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if run.metrics:
        data["metrics"] = [metric_json(m, run.info.run_id) for m in run.metrics.values()]
    if run.params:
        data["params"] = key_values(run.params)
    if run.tags:
        data["tags"] = key_values(run.tags)
    inputs: dict[str, Any] = {}
    if run.dataset_inputs:
        inputs["dataset_inputs"] = [
            {
                **({"tags": key_values(d.tags)} if d.tags else {}),
                "dataset": {
                    "name": d.name,
                    "digest": d.digest,
                    "source_type": d.source_type,
                    "source": d.source,
                    **({"schema": d.schema} if d.schema else {}),
                    **({"profile": d.profile} if d.profile else {}),
                },
            }
            for d in run.dataset_inputs
        ]
    if run.model_inputs:
        inputs["model_inputs"] = [{"model_id": m.model_id} for m in run.model_inputs]
    outputs: dict[str, Any] = {}
    if run.model_outputs:
        outputs["model_outputs"] = [{"model_id": m.model_id, "step": m.step or 0} for m in run.model_outputs]
    return {"info": run_info_json(run), "data": data, "inputs": inputs, "outputs": outputs}


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "artifact_uri": model.artifact_location,
        "status": model.status,
    }
    optional = {
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "source_run_id": model.source_run_id,
        "model_type": model.model_type,
    }
    info.update({k: v for k, v in optional.items() if v is not None})
    if model.tags:
        info["tags"] = key_values(model.tags)
    data: dict[str, Any] = {"params": key_values(model.params)} if model.params else {}
    if model.metrics:
        data["metrics"] = [model_metric_json(m, model.model_id) for m in model.metrics]
    return {"info": info, "data": data}


def model_metric_json(metric: ModelMetric, model_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"key": metric.key, "value": float_json(metric.value), "timestamp": metric.timestamp, "step": metric.step}
    if metric.dataset_name is not None:
        body["dataset_name"] = metric.dataset_name
        body["dataset_digest"] = metric.dataset_digest
    body["model_id"] = model_id
    if metric.run_id is not None:
        body["run_id"] = metric.run_id
    return body
