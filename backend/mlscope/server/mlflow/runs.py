"""MLflow's runs endpoints: search and get; create, update (status, end time, name), delete, restore."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...index import RunIndex
from ...index.run_json import json_list
from ...search.queries import RunQuery
from ...store.model import Run
from ..args import int_arg, list_arg, mlflow_message, request_args, string_arg
from ..errors import invalid, not_found
from ..state import index_of, queries_of, run_json_cache, settings_of, writes_of
from . import messages as m
from . import run_logging
from .endpoint import Endpoint, get, post, search
from .proto import run_info_json, run_json


def get_run_or_404(index: RunIndex, run_id: str) -> Run:
    run = index.run(run_id)
    if run is None:
        raise not_found(f"Run '{run_id}' not found")
    return run


async def search_runs(request: Request) -> Response:
    args = await request_args(request)
    query = RunQuery(
        experiment_ids=tuple(list_arg(args, "experiment_ids")),
        filter=string_arg(args, "filter") or "",
        order_by=tuple(list_arg(args, "order_by")),
        view_type=string_arg(args, "run_view_type") or "ACTIVE_ONLY",
    )
    max_results = int_arg(args, "max_results", default=1000)
    page_token = string_arg(args, "page_token")
    index = index_of(request)
    pages = _answers(request)
    key = (query, max_results, page_token, index.version) if index.ready else None  # the index moved: a new key
    answer = pages.get(key) if key is not None else None
    if answer is None:
        answer = await run_in_threadpool(_search_answer, request, query, max_results, page_token)
        if key is not None:
            pages.put(key, answer)
    return Response(answer, media_type="application/json")


def _search_answer(request: Request, query: RunQuery, max_results: int | None, page_token: str | None) -> bytes:
    page, token = queries_of(request).page(query, max_results, page_token)
    runs = json_list(run_json_cache(request).encoded_many(page))  # each run encoded once per change
    tail = b',"next_page_token":' + json.dumps(token).encode() if token else b""
    return b'{"runs":' + runs + tail + b"}"


class Answers:
    """The last few runs/search answers, whole, by (query, page, index version): a repeated search (a dashboard
    polling, replicas behind a load balancer) is sent again without leaving the event loop; an index change
    makes every key new, and old answers age out."""

    def __init__(self, entries: int = 32, max_bytes: int = 16 << 20) -> None:
        self.entries, self.max_bytes, self.bytes = entries, max_bytes, 0
        self._items: OrderedDict[Any, bytes] = OrderedDict()

    def get(self, key: Any) -> bytes | None:  # event loop only: no lock needed
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Any, answer: bytes) -> None:
        if len(answer) > self.max_bytes // 4:
            return
        old = self._items.pop(key, None)
        self.bytes += len(answer) - (len(old) if old is not None else 0)
        self._items[key] = answer
        while len(self._items) > self.entries or self.bytes > self.max_bytes:
            self.bytes -= len(self._items.popitem(last=False)[1])


def _answers(request: Request) -> Answers:
    state = request.app.state
    found = getattr(state, "runs_search_answers", None)
    if found is None:
        found = state.runs_search_answers = Answers()
    return found


async def get_run(request: Request) -> Response:
    args = await request_args(request)
    run_id = string_arg(args, "run_id") or string_arg(args, "run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    if settings_of(request).workers > 1:  # another worker process may have written it a moment ago
        await run_in_threadpool(writes_of(request).refresh_run, run_id)
    run = await run_in_threadpool(get_run_or_404, index, run_id)
    return Response(b'{"run":' + run_json_cache(request).encoded(run) + b"}", media_type="application/json")


# --------------------------------------------------------------------- writes


async def create_run(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.CREATE_RUN, m.CREATE_RUN_SCHEMA)
    run = await run_in_threadpool(
        writes_of(request).create_run,
        body.get("experiment_id", ""),
        body.get("user_id", ""),
        body.get("start_time", 0),
        body.get("run_name", ""),
        m.pairs(body.get("tags")),
    )
    return JSONResponse({"run": run_json(run)})


async def update_run(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.UPDATE_RUN, m.UPDATE_RUN_SCHEMA)
    run_id = body.get("run_id") or body.get("run_uuid") or ""
    info = await run_in_threadpool(writes_of(request).update_run, run_id, body.get("status"), body.get("end_time"), body.get("run_name"))
    return JSONResponse({"run_info": run_info_json(info)})


async def delete_run(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.RUN_ID, m.RUN_ID_SCHEMA)
    await run_in_threadpool(writes_of(request).delete_run, body.get("run_id", ""))
    return JSONResponse({})


async def restore_run(request: Request) -> JSONResponse:
    body = await mlflow_message(request, m.RUN_ID, m.RUN_ID_SCHEMA)
    await run_in_threadpool(writes_of(request).restore_run, body.get("run_id", ""))
    return JSONResponse({})


endpoints: list[Endpoint] = [
    search("/runs/search", search_runs),
    get("/runs/get", get_run),
    post("/runs/create", create_run),
    post("/runs/update", update_run),
    post("/runs/delete", delete_run),
    post("/runs/restore", restore_run),
    *run_logging.endpoints,
]
