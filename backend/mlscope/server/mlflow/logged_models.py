"""MLflow 3 logged models, read-only: `logged-models/search` and `logged-models/<id>`.

MLflow's own client needs them to list a run's artifacts over HTTP (it looks
for the run's logged models by name), so they belong to the REST contract.
The filter accepts what MLflow's client sends: `attr = 'value'` clauses
joined by AND on name, model_id, source_run_id, model_type and status.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...index import RunIndex
from ...index.logged_models import logged_models_of
from ...search import SEARCH_MAX_RESULTS_THRESHOLD
from ...search.paging import make_page_token, paginate
from ...store.model import DELETED, LoggedModel
from ..args import int_arg, list_arg, page_offset, request_args, string_arg
from ..errors import invalid, not_found
from ..state import index_of
from . import logged_model_writes
from .endpoint import Endpoint, get, search
from .proto import logged_model_json

FILTER_FIELDS = ("name", "model_id", "source_run_id", "model_type", "status")
_CLAUSE = re.compile(r"\s*(?:attributes\.)?(\w+)\s*=\s*'((?:[^']|'')*)'\s*", re.I)
_AND = re.compile(r"\s+AND\s+", re.I)


def parse_model_filter(text: str) -> list[tuple[str, str]]:
    if not text.strip():
        return []
    clauses = []
    for part in _AND.split(text.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None or match.group(1).lower() not in FILTER_FIELDS:
            raise invalid(f"Unsupported logged model filter {part!r}: use <field> = '<value>' on {', '.join(FILTER_FIELDS)}, joined by AND")
        clauses.append((match.group(1).lower(), match.group(2).replace("''", "'")))
    return clauses


def models_in(index: RunIndex, experiment_ids: list[str]) -> list[LoggedModel]:
    found: list[LoggedModel] = []
    for experiment_id in experiment_ids:
        experiment = index.experiment(experiment_id)
        if experiment is not None:
            found.extend(m for m in logged_models_of(experiment.path).values() if m.lifecycle_stage != DELETED)
    return found


async def search_logged_models(request: Request) -> JSONResponse:
    args = await request_args(request)
    experiment_ids = list_arg(args, "experiment_ids")
    if not experiment_ids:
        raise invalid("Missing value for required parameter 'experiment_ids'.")
    max_results = int_arg(args, "max_results", default=100, low=1, high=SEARCH_MAX_RESULTS_THRESHOLD) or 100
    offset = page_offset(args)
    index = index_of(request)
    in_database = getattr(index, "search_logged_models", None)  # a SQL store searches as SqlAlchemyStore does
    if in_database is not None:
        found, more = await run_in_threadpool(
            in_database, experiment_ids, string_arg(args, "filter"), args.get("datasets"), args.get("order_by"), offset, max_results
        )
        body: dict[str, Any] = {"models": [logged_model_json(m) for m in found]}
        if more:
            body["next_page_token"] = make_page_token(offset + max_results)
        return JSONResponse(body)
    clauses = parse_model_filter(string_arg(args, "filter") or "")
    await run_in_threadpool(index.wait_listed)
    models = await run_in_threadpool(models_in, index, experiment_ids)
    matching = [m for m in models if all(str(getattr(m, field) or "") == value for field, value in clauses)]
    matching.sort(key=lambda m: (-(m.creation_timestamp or 0), m.model_id))
    page, token = paginate(matching, offset, max_results)
    body = {"models": [logged_model_json(m) for m in page]}
    if token:
        body["next_page_token"] = token
    return JSONResponse(body)


async def get_logged_model(request: Request) -> JSONResponse:
    model_id = request.path_params["model_id"]
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    experiments = [e.experiment_id for e in index.experiments()]
    models = await run_in_threadpool(models_in, index, experiments)
    for model in models:
        if model.model_id == model_id:
            return JSONResponse({"model": logged_model_json(model)})
    raise not_found(f"Model '{model_id}' not found")


endpoints: list[Endpoint] = [
    search("/logged-models/search", search_logged_models),
    get("/logged-models/{model_id:str}", get_logged_model),
    *logged_model_writes.endpoints,
]
