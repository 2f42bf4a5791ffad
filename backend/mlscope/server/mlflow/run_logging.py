"""MLflow's endpoints that log into a run: metrics, params, tags, batches, dataset inputs and model outputs."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...index.tracking_writes import MetricPoint
from ...store import validation
from ...store.model import DatasetInput
from ..args import json_body, mlflow_message, parse_message
from ..errors import invalid
from ..state import writes_of
from . import messages as m
from .endpoint import Endpoint, post

EMPTY: dict[str, Any] = {}


def _point(item: dict[str, Any]) -> MetricPoint:
    return MetricPoint(
        key=item.get("key", ""),
        value=item.get("value", 0.0),
        timestamp=item.get("timestamp", 0),
        step=item.get("step", 0),
        dataset_name=item.get("dataset_name") or None,
        dataset_digest=item.get("dataset_digest") or None,
        model_id=item.get("model_id") or None,
    )


async def log_metric(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.LOG_METRIC, m.LOG_METRIC_SCHEMA)
    run_id = body.get("run_id") or body.get("run_uuid") or ""
    await run_in_threadpool(writes_of(request).log_metric, run_id, _point(body))
    return JSONResponse(EMPTY)


async def log_param(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.LOG_PARAM, m.LOG_PARAM_SCHEMA)
    run_id = body.get("run_id") or body.get("run_uuid") or ""
    await run_in_threadpool(writes_of(request).log_param, run_id, body.get("key", ""), body.get("value", ""))
    return JSONResponse(EMPTY)


async def set_tag(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.SET_TAG, m.SET_TAG_SCHEMA)
    run_id = body.get("run_id") or body.get("run_uuid") or ""
    await run_in_threadpool(writes_of(request).set_tag, run_id, body.get("key", ""), body.get("value", ""))
    return JSONResponse(EMPTY)


async def delete_tag(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.DELETE_TAG, m.DELETE_TAG_SCHEMA)
    await run_in_threadpool(writes_of(request).delete_tag, body.get("run_id", ""), body.get("key", ""))
    return JSONResponse(EMPTY)


async def log_batch(request: Request) -> JSONResponse:
    raw, size = await json_body(request)
    validation.check_batch_size(size)
    body = parse_message(raw, m.LOG_BATCH, m.LOG_BATCH_SCHEMA)
    metrics = [_point(item) for item in body.get("metrics", [])]
    await run_in_threadpool(writes_of(request).log_batch, body.get("run_id", ""), metrics, m.pairs(body.get("params")), m.pairs(body.get("tags")))
    return JSONResponse(EMPTY)


def _dataset(item: dict[str, Any]) -> DatasetInput:
    dataset = item.get("dataset") or {}
    return DatasetInput(
        name=dataset.get("name", ""),
        digest=dataset.get("digest", ""),
        source_type=dataset.get("source_type", ""),
        source=dataset.get("source", ""),
        schema=dataset.get("schema", ""),
        profile=dataset.get("profile", ""),
        tags=dict(m.pairs(item.get("tags"))),
    )


async def log_inputs(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.LOG_INPUTS, m.LOG_INPUTS_SCHEMA)
    datasets = [_dataset(item) for item in body.get("datasets", [])]
    models = [item.get("model_id", "") for item in body.get("models", [])]
    await run_in_threadpool(writes_of(request).log_inputs, body.get("run_id", ""), datasets, models)
    return JSONResponse(EMPTY)


async def log_model(request: Request) -> JSONResponse:
    """runs/log-model: MLflow's log_model records the model in the run's mlflow.log-model.history tag."""
    body = await mlflow_message(request, m.LOG_MODEL, m.LOG_MODEL_SCHEMA)
    model_json = body.get("model_json", "")
    try:
        model = json.loads(model_json)
    except ValueError:
        model = None
    if not isinstance(model, dict):
        raise invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.")
    missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
    if missing:
        raise invalid(f"Model json is missing mandatory fields: {missing}")
    await run_in_threadpool(writes_of(request).record_logged_model, body.get("run_id", ""), model)
    return JSONResponse(EMPTY)


async def log_outputs(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.LOG_OUTPUTS, m.LOG_OUTPUTS_SCHEMA)
    models = [(item.get("model_id", ""), item.get("step", 0)) for item in body.get("models", [])]
    await run_in_threadpool(writes_of(request).log_outputs, body.get("run_id", ""), models)
    return JSONResponse(EMPTY)


endpoints: list[Endpoint] = [
    post("/runs/log-metric", log_metric),
    post("/runs/log-parameter", log_param),
    post("/runs/set-tag", set_tag),
    post("/runs/delete-tag", delete_tag),
    post("/runs/log-batch", log_batch),
    post("/runs/log-inputs", log_inputs),
    post("/runs/outputs", log_outputs),
    post("/runs/log-model", log_model),
]
