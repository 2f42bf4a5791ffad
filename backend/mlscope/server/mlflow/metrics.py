"""MLflow's metric-history endpoints: get-history, get-history-bulk-interval, get-history-bulk (ajax only)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...history import HistoryCache
from ...history.bulk_interval import sample_bulk_interval, sample_snapshots
from ...index import RunIndex
from ...search import make_page_token
from ...store import reader
from ...store.model import Metric
from ..args import int_arg, list_arg, page_offset, request_args, string_arg
from ..errors import invalid
from ..state import history_cache, index_of
from .endpoint import Endpoint, get
from .proto import float_json, metric_json
from .runs import get_run_or_404

MAX_RUNS_HISTORY_BULK = 100
MAX_RESULTS_PER_RUN = 2500
MAX_HISTORY_BULK_RESULTS = 25000


def history_of(index: RunIndex, histories: HistoryCache, run_id: str, key: str) -> list[Metric]:
    """A run's history of one metric in file order, from the charts' history cache (only appended bytes are read)."""
    run = get_run_or_404(index, run_id)
    from_store = getattr(index, "metric_history", None)  # a SQL store's index reads its metrics table
    if from_store is not None:
        return from_store(run_id, key)
    try:
        return histories.history(run.path, key)
    except reader.MalformedError as exc:
        raise invalid(str(exc)) from None


def history_page(index: RunIndex, histories: HistoryCache, run_id: str, key: str, offset: int, max_results: int | None) -> bytes:
    """get-history's answer from the file store's history cache: the page's points rendered from the cached arrays."""
    run = get_run_or_404(index, run_id)

    def render(steps: Any, values: Any, stamps: Any, datasets: dict[int, tuple[str, str]], start: int, end: int, length: int) -> bytes:
        metrics = []
        for i in range(start, end):
            point: dict[str, Any] = {"key": key, "value": float_json(values[i]), "timestamp": stamps[i], "step": steps[i]}
            dataset = datasets.get(i) if datasets else None
            if dataset is not None:
                point["dataset_name"], point["dataset_digest"] = dataset
            point["run_id"] = run_id
            metrics.append(point)
        body: dict[str, Any] = {"metrics": metrics}
        if max_results is not None and offset + max_results < length:
            body["next_page_token"] = make_page_token(offset + max_results)
        return bytes(JSONResponse(body).body)

    try:
        page = histories.history_page(run.path, key, offset, max_results, render)
    except reader.MalformedError as exc:
        raise invalid(str(exc)) from None
    return page if page is not None else render([], [], [], {}, 0, 0, 0)


async def get_metric_history(request: Request) -> Response:
    args = await request_args(request)
    run_id = string_arg(args, "run_id") or string_arg(args, "run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    key = string_arg(args, "metric_key", required=True)
    max_results = int_arg(args, "max_results", low=1)
    offset = page_offset(args)
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    if getattr(index, "metric_history", None) is None:  # a file store: pages from the history cache, full ones kept
        answer = await run_in_threadpool(history_page, index, history_cache(request), run_id, str(key), offset, max_results)
        return Response(answer, media_type="application/json")
    points = await run_in_threadpool(history_of, index, history_cache(request), run_id, str(key))
    body: dict[str, Any] = {}
    if max_results is not None:
        page = points[offset : offset + max_results]
        if offset + max_results < len(points):
            body["next_page_token"] = make_page_token(offset + max_results)
    else:
        page = points[offset:]
    body = {"metrics": [metric_json(m, run_id) for m in page], **body}
    return JSONResponse(body)


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
    index, cache = index_of(request), history_cache(request)
    await run_in_threadpool(index.wait_listed)

    def sample() -> list[tuple[str, Metric]]:
        limit = int(max_results or MAX_RESULTS_PER_RUN)
        if getattr(index, "metric_history", None) is None:  # a file store: from the step-sorted cache, no Metric per point
            snapshots = {}
            for rid in dict.fromkeys(run_ids):
                snap = cache.snapshot(get_run_or_404(index, rid).path, key, "step")
                if snap is not None and (snap.skipped or snap.datasets):
                    break  # garbage lines (a 400 from history_of) or dataset points: the general path
                if snap is not None:
                    snapshots[rid] = snap
            else:
                return sample_snapshots(snapshots, key, limit, start_step, end_step)
        histories = {rid: history_of(index, cache, rid, key) for rid in dict.fromkeys(run_ids)}
        return sample_bulk_interval(histories, limit, start_step, end_step)

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
    index, cache = index_of(request), history_cache(request)
    await run_in_threadpool(index.wait_listed)

    def collect() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for rid in run_ids:
            points = sorted(history_of(index, cache, rid, key), key=lambda m: (m.timestamp, m.step, m.value))
            rows.extend(metric_json(m, rid) for m in points)
        return rows[: min(int(max_results or MAX_HISTORY_BULK_RESULTS), MAX_HISTORY_BULK_RESULTS)]

    return JSONResponse({"metrics": await run_in_threadpool(collect)})


endpoints: list[Endpoint] = [
    get("/metrics/get-history", get_metric_history),
    get("/metrics/get-history-bulk-interval", get_metric_history_bulk_interval),
    Endpoint("/metrics/get-history-bulk", get_metric_history_bulk, ("GET",), ajax_only=True),
]
