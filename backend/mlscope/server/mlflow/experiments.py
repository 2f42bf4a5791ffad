"""MLflow's experiments endpoints: search, get, get-by-name."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...search import SearchError
from ...search import search_experiments as search_experiment_list
from ..args import int_arg, list_arg, request_args, string_arg
from ..errors import invalid, not_found
from ..state import index_of
from .endpoint import Endpoint, get
from .proto import experiment_json


async def search_experiments(request: Request) -> JSONResponse:
    args = await request_args(request)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    try:
        page, token = search_experiment_list(
            index.experiments(),
            filter_string=string_arg(args, "filter") or "",
            order_by=list_arg(args, "order_by"),
            max_results=int_arg(args, "max_results", default=1000),
            page_token=string_arg(args, "page_token"),
            view_type=string_arg(args, "view_type", default="ACTIVE_ONLY"),
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


endpoints: list[Endpoint] = [
    Endpoint("/experiments/search", search_experiments, ("GET", "POST")),
    get("/experiments/get", get_experiment),
    get("/experiments/get-by-name", get_experiment_by_name),
]
