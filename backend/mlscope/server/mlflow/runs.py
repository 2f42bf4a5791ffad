"""MLflow's runs endpoints: search and get."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...index import RunIndex
from ...search.queries import RunQuery
from ...store.model import Run
from ..args import int_arg, list_arg, request_args, string_arg
from ..errors import invalid, not_found
from ..state import index_of, queries_of
from .endpoint import Endpoint, get, post
from .proto import run_json


def get_run_or_404(index: RunIndex, run_id: str) -> Run:
    run = index.run(run_id)
    if run is None:
        raise not_found(f"Run '{run_id}' not found")
    return run


async def search_runs(request: Request) -> JSONResponse:
    args = await request_args(request)
    query = RunQuery(
        experiment_ids=tuple(list_arg(args, "experiment_ids")),
        filter=string_arg(args, "filter") or "",
        order_by=tuple(list_arg(args, "order_by")),
        view_type=string_arg(args, "run_view_type") or "ACTIVE_ONLY",
    )
    max_results = int_arg(args, "max_results", default=1000)
    page, token = await run_in_threadpool(queries_of(request).page, query, max_results, string_arg(args, "page_token"))
    body: dict[str, Any] = {"runs": [run_json(run) for run in page]}
    if token:
        body["next_page_token"] = token
    return JSONResponse(body)


async def get_run(request: Request) -> JSONResponse:
    args = await request_args(request)
    run_id = string_arg(args, "run_id") or string_arg(args, "run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    run = await run_in_threadpool(get_run_or_404, index, run_id)
    return JSONResponse({"run": run_json(run)})


endpoints: list[Endpoint] = [
    post("/runs/search", search_runs),
    get("/runs/get", get_run),
]
