"""MLflow's experiments endpoints: search, get, get-by-name; create, update (rename), delete, restore, tags."""

from __future__ import annotations

from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...search import SearchError
from ...search import search_experiments as search_experiment_list
from ..args import int_arg, list_arg, mlflow_message, request_args, string_arg
from ..errors import invalid, not_found
from ..state import index_of, writes_of
from . import messages as m
from .endpoint import Endpoint, get, post, search
from .proto import experiment_json

EMPTY: dict[str, Any] = {}


_T = TypeVar("_T")


def _or(value: _T | None, default: _T) -> _T:
    """The parsed argument, or its default when parsing gave None (the defaults above are never None)."""
    return default if value is None else value


async def search_experiments(request: Request) -> JSONResponse:
    args = await request_args(request)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    try:
        page, token = search_experiment_list(
            index.experiments(),
            filter_string=string_arg(args, "filter") or "",
            order_by=list_arg(args, "order_by"),
            max_results=_or(int_arg(args, "max_results", default=1000), 1000),
            page_token=string_arg(args, "page_token"),
            view_type=_or(string_arg(args, "view_type", default="ACTIVE_ONLY"), "ACTIVE_ONLY"),
        )
    except SearchError as exc:
        raise invalid(exc.message) from None
    body: dict[str, Any] = {"experiments": [experiment_json(e) for e in page]}
    if token:
        body["next_page_token"] = token
    return JSONResponse(body)


async def get_experiment(request: Request) -> JSONResponse:
    args = await request_args(request)
    experiment_id = string_arg(args, "experiment_id", required=True)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    experiment = index.experiment(str(experiment_id))
    if experiment is None:
        raise not_found(f"Could not find experiment with ID {experiment_id}")
    return JSONResponse({"experiment": experiment_json(experiment)})


async def get_experiment_by_name(request: Request) -> JSONResponse:
    args = await request_args(request)
    name = string_arg(args, "experiment_name", required=True)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    matches = [e for e in index.experiments() if e.name == name]
    # An active experiment wins over a deleted one of the same name.
    matches.sort(key=lambda e: e.lifecycle_stage != "active")
    if not matches:
        raise not_found(f"Could not find experiment with name '{name}'")
    return JSONResponse({"experiment": experiment_json(matches[0])})


# --------------------------------------------------------------------- writes


async def create_experiment(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.CREATE_EXPERIMENT, m.CREATE_EXPERIMENT_SCHEMA)
    writes = writes_of(request)
    experiment_id = await run_in_threadpool(
        writes.create_experiment, body.get("name", ""), body.get("artifact_location") or None, m.pairs(body.get("tags"))
    )
    return JSONResponse({"experiment_id": experiment_id})


async def update_experiment(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.UPDATE_EXPERIMENT, m.UPDATE_EXPERIMENT_SCHEMA)
    await run_in_threadpool(writes_of(request).rename_experiment, body.get("experiment_id", ""), body.get("new_name", ""))
    return JSONResponse(EMPTY)


async def delete_experiment(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.EXPERIMENT_ID, m.EXPERIMENT_ID_SCHEMA)
    await run_in_threadpool(writes_of(request).delete_experiment, body.get("experiment_id", ""))
    return JSONResponse(EMPTY)


async def restore_experiment(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.EXPERIMENT_ID, m.EXPERIMENT_ID_SCHEMA)
    await run_in_threadpool(writes_of(request).restore_experiment, body.get("experiment_id", ""))
    return JSONResponse(EMPTY)


async def set_experiment_tag(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.SET_EXPERIMENT_TAG, m.SET_EXPERIMENT_TAG_SCHEMA)
    writes = writes_of(request)
    await run_in_threadpool(writes.set_experiment_tag, body.get("experiment_id", ""), body.get("key", ""), body.get("value", ""))
    return JSONResponse(EMPTY)


async def delete_experiment_tag(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.DELETE_EXPERIMENT_TAG, m.DELETE_EXPERIMENT_TAG_SCHEMA)
    await run_in_threadpool(writes_of(request).delete_experiment_tag, body.get("experiment_id", ""), body.get("key", ""))
    return JSONResponse(EMPTY)


endpoints: list[Endpoint] = [
    search("/experiments/search", search_experiments, ("GET", "POST")),
    get("/experiments/get", get_experiment),
    get("/experiments/get-by-name", get_experiment_by_name),
    post("/experiments/create", create_experiment),
    post("/experiments/update", update_experiment),
    post("/experiments/delete", delete_experiment),
    post("/experiments/restore", restore_experiment),
    post("/experiments/set-experiment-tag", set_experiment_tag),
    post("/experiments/delete-experiment-tag", delete_experiment_tag),
]
