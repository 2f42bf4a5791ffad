"""MLflow's REST read API over the index, under /api/2.0/mlflow and /ajax-api/2.0/mlflow.

Request parsing, validation messages and response shapes follow MLflow's
handlers so MLflow's own client can point at mlscope.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route

from .. import __version__, search
from ..index import RunIndex
from ..store import metric_files, reader
from ..store.model import Metric, Run
from .errors import invalid, not_found
from .params import index_of, int_arg, list_arg, page_offset, queries_of, request_args, string_arg
from .proto import experiment_json, metric_json, run_json
from .run_queries import RunQuery

MAX_RUNS_HISTORY_BULK = 100
MAX_RESULTS_PER_RUN = 2500
MAX_HISTORY_BULK_RESULTS = 25000


def get_run_or_404(index: RunIndex, run_id: str) -> Run:
    run = index.run(run_id)
    if run is None:
        raise not_found(f"Run '{run_id}' not found")
    return run


# ---------------------------------------------------------------- experiments


async def search_experiments(request: Request) -> JSONResponse:
    args = await request_args(request)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    try:
        page, token = search.search_experiments(
            index.experiments(),
            filter_string=string_arg(args, "filter") or "",
            order_by=list_arg(args, "order_by"),
            max_results=int_arg(args, "max_results", default=1000),
            page_token=string_arg(args, "page_token"),
            view_type=string_arg(args, "view_type", default="ACTIVE_ONLY"),
        )
    except search.SearchError as exc:
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


# ----------------------------------------------------------------------- runs


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


# -------------------------------------------------------------------- metrics


def history_of(index: RunIndex, run_id: str, key: str) -> list[Metric]:
    run = get_run_or_404(index, run_id)
    try:
        return metric_files.read_metric_history(run.path, key)
    except reader.MalformedError as exc:
        raise invalid(str(exc)) from None


async def get_metric_history(request: Request) -> JSONResponse:
    args = await request_args(request)
    run_id = string_arg(args, "run_id") or string_arg(args, "run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    key = string_arg(args, "metric_key", required=True)
    max_results = int_arg(args, "max_results", low=1)
    offset = page_offset(args)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    points = await run_in_threadpool(history_of, index, run_id, str(key))
    body: dict[str, Any] = {}
    if max_results is not None:
        page = points[offset : offset + max_results]
        if offset + max_results < len(points):
            body["next_page_token"] = search.make_page_token(offset + max_results)
    else:
        page = points[offset:]
    body = {"metrics": [metric_json(m) for m in page], **body}
    return JSONResponse(body)


def sample_bulk_interval(
    histories: dict[str, list[Metric]], max_results: int, start_step: int | None, end_step: int | None
) -> list[tuple[str, Metric]]:
    """MLflow's step-uniform sampling (AbstractStore.get_metric_history_bulk_interval), kept for API parity.

    mlscope's own charts use the min/max-preserving downsampler instead.
    """
    all_runs = [[m.step for m in points] for points in histories.values()]
    mins_and_maxes = {step for steps in all_runs if steps for step in (min(steps), max(steps))}
    all_steps = sorted({step for steps in all_runs for step in steps})
    if start_step is None or end_step is None:
        start_step, end_step = 0, (all_steps[-1] if all_steps else 0)
    mins_and_maxes = {s for s in mins_and_maxes if start_step <= s <= end_step}
    start_idx = bisect.bisect_left(all_steps, start_step)
    end_idx = bisect.bisect_right(all_steps, end_step)
    if end_idx - start_idx <= max_results:
        sampled = set(all_steps[start_idx:end_idx])
    else:
        interval = (end_idx - start_idx) / max_results
        sampled = {all_steps[start_idx + int(i * interval)] for i in range(max_results) if start_idx + int(i * interval) < end_idx}
        sampled.add(all_steps[end_idx - 1])
    steps = sorted(sampled | mins_and_maxes)
    per_run = max(max_results, len(steps))
    step_set = set(steps)
    result: list[tuple[str, Metric]] = []
    for run_id, points in histories.items():
        rows = sorted((m for m in points if m.step in step_set), key=lambda m: (m.step, m.timestamp))
        result.extend((run_id, rows[i]) for i in _evenly_spaced_indices(len(rows), per_run))
    return result


def _evenly_spaced_indices(total: int, count: int) -> list[int]:
    if total <= 0:
        return []
    if total <= count:
        return list(range(total))
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


async def get_metric_history_bulk_interval(request: Request) -> JSONResponse:
    args = await request_args(request)
    run_ids = list_arg(args, "run_ids")
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_RUNS_HISTORY_BULK:
        raise invalid(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_HISTORY_BULK} run_ids. Received {len(run_ids)} run_ids."
        )
    key = str(string_arg(args, "metric_key", required=True))
    max_results = int_arg(args, "max_results", default=MAX_RESULTS_PER_RUN, low=1, high=MAX_RESULTS_PER_RUN)
    start_step = int_arg(args, "start_step")
    end_step = int_arg(args, "end_step")
    if (start_step is None) != (end_step is None):
        raise invalid("If either start step or end step are specified, both must be specified.")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise invalid(f"end_step must be greater than start_step. Found start_step={start_step} and end_step={end_step}.")
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)

    def sample() -> list[tuple[str, Metric]]:
        histories = {rid: history_of(index, rid, key) for rid in dict.fromkeys(run_ids)}
        return sample_bulk_interval(histories, int(max_results or MAX_RESULTS_PER_RUN), start_step, end_step)

    rows = await run_in_threadpool(sample)
    return JSONResponse({"metrics": [metric_json(m, run_id) for run_id, m in rows]})


async def get_metric_history_bulk(request: Request) -> JSONResponse:
    args = await request_args(request)
    run_ids = list_arg(args, "run_id")
    if not run_ids:
        raise invalid("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_ids) > MAX_RUNS_HISTORY_BULK:
        raise invalid(f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_HISTORY_BULK} run_ids.")
    key = str(string_arg(args, "metric_key", required=True))
    max_results = int_arg(args, "max_results", default=MAX_HISTORY_BULK_RESULTS, low=1)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)

    def collect() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for rid in run_ids:
            points = sorted(history_of(index, rid, key), key=lambda m: (m.timestamp, m.step, m.value))
            rows.extend(metric_json(m, rid) for m in points)
        return rows[: min(int(max_results or MAX_HISTORY_BULK_RESULTS), MAX_HISTORY_BULK_RESULTS)]

    return JSONResponse({"metrics": await run_in_threadpool(collect)})


# ------------------------------------------------------------------- service


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("OK")


async def version(request: Request) -> PlainTextResponse:
    return PlainTextResponse(__version__)


def _both_prefixes(path: str, endpoint: Callable[..., Any], methods: list[str]) -> list[Route]:
    return [Route(f"{prefix}{path}", endpoint, methods=methods) for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")]


routes: list[BaseRoute] = [
    *_both_prefixes("/experiments/search", search_experiments, ["GET", "POST"]),
    *_both_prefixes("/experiments/get", get_experiment, ["GET"]),
    *_both_prefixes("/experiments/get-by-name", get_experiment_by_name, ["GET"]),
    *_both_prefixes("/runs/search", search_runs, ["POST"]),
    *_both_prefixes("/runs/get", get_run, ["GET"]),
    *_both_prefixes("/metrics/get-history", get_metric_history, ["GET"]),
    *_both_prefixes("/metrics/get-history-bulk-interval", get_metric_history_bulk_interval, ["GET"]),
    Route("/ajax-api/2.0/mlflow/metrics/get-history-bulk", get_metric_history_bulk, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/version", version, methods=["GET"]),
]
