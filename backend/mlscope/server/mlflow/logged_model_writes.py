"""MLflow 3's logged-model writes, as ``mlflow.<flavor>.log_model`` calls them: create, finalize, tags, params, delete."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..args import mlflow_message
from ..state import model_writes_of
from . import messages as m
from .endpoint import Endpoint, post
from .proto import logged_model_json


async def create_logged_model(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.CREATE_LOGGED_MODEL, m.CREATE_LOGGED_MODEL_SCHEMA)
    model = await run_in_threadpool(
        model_writes_of(request).create,
        body.get("experiment_id", ""),
        body.get("name") or None,
        body.get("model_type", ""),
        body.get("source_run_id", ""),
        m.pairs(body.get("params")),
        m.pairs(body.get("tags")),
    )
    return JSONResponse({"model": logged_model_json(model)})


async def finalize_logged_model(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.FINALIZE_LOGGED_MODEL, m.FINALIZE_LOGGED_MODEL_SCHEMA)
    status = body.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED")
    model = await run_in_threadpool(model_writes_of(request).finalize, body.get("model_id", ""), status)
    return JSONResponse({"model": logged_model_json(model)})


async def delete_logged_model(request: Request) -> JSONResponse:
    await run_in_threadpool(model_writes_of(request).delete, request.path_params["model_id"])
    return JSONResponse({})


async def set_logged_model_tags(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.SET_LOGGED_MODEL_TAGS, m.SET_LOGGED_MODEL_TAGS_SCHEMA)
    await run_in_threadpool(model_writes_of(request).set_tags, request.path_params["model_id"], m.pairs(body.get("tags")))
    return JSONResponse({})


async def delete_logged_model_tag(request: Request) -> JSONResponse:
    params = request.path_params
    await run_in_threadpool(model_writes_of(request).delete_tag, params["model_id"], params["tag_key"])
    return JSONResponse({})


async def log_logged_model_params(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.LOG_LOGGED_MODEL_PARAMS, m.LOG_LOGGED_MODEL_PARAMS_SCHEMA)
    await run_in_threadpool(model_writes_of(request).log_params, request.path_params["model_id"], m.pairs(body.get("params")))
    return JSONResponse({})


endpoints: list[Endpoint] = [
    post("/logged-models", create_logged_model),
    Endpoint("/logged-models/{model_id:str}", finalize_logged_model, ("PATCH",)),
    Endpoint("/logged-models/{model_id:str}", delete_logged_model, ("DELETE",)),
    Endpoint("/logged-models/{model_id:str}/tags", set_logged_model_tags, ("PATCH",)),
    Endpoint("/logged-models/{model_id:str}/tags/{tag_key:path}", delete_logged_model_tag, ("DELETE",)),
    post("/logged-models/{model_id:str}/params", log_logged_model_params),
]
