"""MLflow 3 logged models, read-only: `logged-models/search` and `logged-models/<id>`.

MLflow's own client needs them to list a run's artifacts over HTTP (it looks
for the run's logged models by name), so they belong to the REST contract.
HTTP only: the search itself is the store's (search/logged_models.py answers
as FileStore does over the tree, store/sql/model_search.py as SqlAlchemyStore
does in the database); a filter, order_by or datasets either refuses is a 400.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...index.logged_models import find_logged_model, search_logged_models_in
from ...search import SEARCH_MAX_RESULTS_THRESHOLD
from ...search.paging import make_page_token
from ..args import int_arg, list_arg, page_offset, request_args, string_arg
from ..errors import invalid, not_found
from ..state import index_of
from . import logged_model_writes
from .endpoint import Endpoint, get, search
from .proto import logged_model_json


async def search_logged_models(request: Request) -> JSONResponse:
    args = await request_args(request)
    experiment_ids = list_arg(args, "experiment_ids")
    if not experiment_ids:
        raise invalid("Missing value for required parameter 'experiment_ids'.")
    max_results = int_arg(args, "max_results", default=100, low=0, high=SEARCH_MAX_RESULTS_THRESHOLD) or 100  # 0: MLflow's default
    offset = page_offset(args)
    found, more = await run_in_threadpool(
        search_logged_models_in, index_of(request), experiment_ids, string_arg(args, "filter"), args.get("datasets"), args.get("order_by"), offset, max_results,
    )  # fmt: skip
    body: dict[str, Any] = {"models": [logged_model_json(m) for m in found]}
    if more:
        body["next_page_token"] = make_page_token(offset + max_results)
    return JSONResponse(body)


async def get_logged_model(request: Request) -> JSONResponse:
    model_id = request.path_params["model_id"]
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    model = await run_in_threadpool(find_logged_model, index, model_id)
    if model is None:
        raise not_found(f"Model '{model_id}' not found")
    return JSONResponse({"model": logged_model_json(model)})


endpoints: list[Endpoint] = [
    search("/logged-models/search", search_logged_models),
    get("/logged-models/{model_id:str}", get_logged_model),
    *logged_model_writes.endpoints,
]
