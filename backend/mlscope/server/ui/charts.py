"""The experiment page's chart view: runs in view, groups, group histories, param importance.

- ``POST /api/mlscope/charts/runs``: the runs the charts show, i.e. the first
  ``limit`` top-level rows of the runs table's query (same filter, order,
  lifecycle, experiments) plus pinned runs, with params and latest metrics
  (for bar, scatter and parallel-coordinates charts) and their metric keys.
- ``POST /api/mlscope/charts/groups``: every matching run (children too, up
  to ``limit``) grouped by params/tags, with mean/min/max of latest metrics.
- ``POST /api/mlscope/charts/group-histories``: per group and metric, the
  mean or median per aligned x with std and min–max bands (history/grouping).
- ``POST /api/mlscope/charts/importance``: params ranked for one metric.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...analysis import GroupFieldError, group_runs, latest_stats, param_importance, parse_group_field
from ...history.grouping import GroupHistories, GroupSeries
from ...index import RunIndex
from ...search.queries import RunQueries
from ...store.interface import RunSource
from ...store.model import Run
from ..args import int_arg, list_arg, request_args, string_arg
from ..errors import invalid
from ..mlflow.proto import float_json
from ..state import history_cache, index_of, queries_of
from .histories import X_MODES, _number_arg
from .runs_table import Matches, parse_query

DEFAULT_IN_VIEW = 10
MAX_IN_VIEW = 100
MAX_PINNED = 100
DEFAULT_GROUPED = 1000
MAX_GROUPED = 1000
MAX_GROUP_BY = 5
MAX_GROUP_METRICS = 50
MAX_GROUPS = 100
MAX_GROUP_RUNS = 5000
MAX_GROUP_KEYS = 20
DEFAULT_BUCKETS = 250
MAX_BUCKETS = 1000
MAX_IMPORTANCE_RUNS = 5000
CENTERS = ("mean", "median")


def _json(body: dict[str, Any]) -> Response:
    """The answer as JSON with non-ASCII escaped: names echoed from the request (a lone surrogate in a JSON
    string) stay valid JSON instead of failing to encode (a 500)."""
    return Response(json.dumps(body, allow_nan=False, separators=(",", ":")).encode(), media_type="application/json")


def _ids_arg(args: dict[str, Any], name: str, limit: int) -> list[str]:
    ids = list(dict.fromkeys(v.strip() for v in list_arg(args, name) if v.strip()))
    if len(ids) > limit:
        raise invalid(f"Too many values for '{name}': {len(ids)}, at most {limit}.")
    return ids


def _run_lookup(index: RunSource, ids: list[str], exclude: set[str]) -> tuple[list[Run], list[str]]:
    """Runs by id (not already in ``exclude``), and the ids that name no run."""
    found, unknown = [], []
    for run_id in ids:
        if run_id in exclude:
            continue
        run = index.run(run_id)
        if run is None:
            unknown.append(run_id)
        else:
            found.append(run)
    return found, unknown


# ------------------------------------------------------------------ runs in view


def run_entry(run: Run, pinned: bool) -> dict[str, Any]:
    """A run as the chart view (and the compare page's plots) read it."""
    info = run.info
    return {
        "run_id": info.run_id,
        "info": {"run_name": info.run_name, "experiment_id": info.experiment_id, "status": info.status,
                 "lifecycle_stage": info.lifecycle_stage, "start_time": info.start_time},
        "params": dict(sorted(run.params.items())),
        "metrics": {k: {"latest": float_json(m.value), "step": m.step, "timestamp": m.timestamp}
                    for k, m in sorted(run.metrics.items())},
        "pinned": pinned,
    }


def runs_in_view(queries: RunQueries, args: dict[str, Any]) -> dict[str, Any]:
    query = parse_query(args)
    limit = int_arg(args, "limit", default=DEFAULT_IN_VIEW, low=1, high=MAX_IN_VIEW) or DEFAULT_IN_VIEW
    pinned = _ids_arg(args, "pinned", MAX_PINNED)
    index = queries.index
    matches = Matches(queries.matches(query))
    first = matches.top[:limit]
    extra, unknown = _run_lookup(index, pinned, {r.info.run_id for r in first})
    runs = index.with_details([*first, *extra])
    pinned_set = set(pinned)
    keys = sorted({k for run in runs for k in run.metrics})
    return {
        "runs": [run_entry(run, run.info.run_id in pinned_set) for run in runs],
        "metric_keys": keys,
        "total": len(matches.runs),
        "count": len(matches.top),
        "limit": limit,
        "unknown_pinned": unknown,
    }


async def post_runs(request: Request) -> Response:
    args = await request_args(request)
    return _json(await run_in_threadpool(runs_in_view, queries_of(request), args))


# ------------------------------------------------------------------ groups


def _group_fields(args: dict[str, Any]) -> list[Any]:
    names = list(dict.fromkeys(list_arg(args, "group_by")))
    if not names:
        raise invalid("Missing value for required parameter 'group_by' (e.g. [\"params.lr\"]).")
    if len(names) > MAX_GROUP_BY:
        raise invalid(f"Too many group_by fields: {len(names)}, at most {MAX_GROUP_BY}.")
    try:
        return [parse_group_field(name) for name in names]
    except GroupFieldError as exc:
        raise invalid(str(exc)) from None


def _stats_json(runs: list[Run], key: str) -> dict[str, Any]:
    stats = latest_stats(runs, key)
    return {"mean": stats.mean, "min": stats.low, "max": stats.high, "count": stats.count}


def run_groups(queries: RunQueries, args: dict[str, Any]) -> dict[str, Any]:
    query = parse_query(args)
    fields = _group_fields(args)
    limit = int_arg(args, "limit", default=DEFAULT_GROUPED, low=1, high=MAX_GROUPED) or DEFAULT_GROUPED
    pinned = _ids_arg(args, "pinned", MAX_PINNED)
    hidden = set(_ids_arg(args, "hidden", MAX_GROUP_RUNS))
    metrics = list(dict.fromkeys(list_arg(args, "metrics")))
    if len(metrics) > MAX_GROUP_METRICS:
        raise invalid(f"Too many metrics: {len(metrics)}, at most {MAX_GROUP_METRICS}.")
    index = queries.index
    matches = queries.matches(query)
    first = matches[:limit]
    extra, unknown = _run_lookup(index, pinned, {r.info.run_id for r in first})
    runs = index.with_details([*first, *extra])
    groups = []
    for group in group_runs(runs, fields):
        shown = [r for r in group.runs if r.info.run_id not in hidden]
        groups.append({
            "id": group.group_id,
            "values": list(group.values),
            "runs": [{"run_id": r.info.run_id, "run_name": r.info.run_name, "experiment_id": r.info.experiment_id,
                      "status": r.info.status, "hidden": r.info.run_id in hidden,
                      "metrics": {k: float_json(r.metrics[k].value) for k in metrics if k in r.metrics}}
                     for r in group.runs],
            "metrics": {key: _stats_json(shown, key) for key in metrics},
        })
    return {
        "group_by": [f.name for f in fields],
        "groups": groups,
        "metric_keys": sorted({k for run in runs for k in run.metrics}),
        "total": len(matches),
        "grouped": len(runs),
        "truncated": len(matches) > limit,
        "limit": limit,
        "unknown_pinned": unknown,
    }


async def post_groups(request: Request) -> Response:
    args = await request_args(request)
    return _json(await run_in_threadpool(run_groups, queries_of(request), args))


# ------------------------------------------------------------------ group histories


def parse_group_histories(args: dict[str, Any]) -> dict[str, Any]:
    raw = args.get("groups")
    if not isinstance(raw, list) or not raw:
        raise invalid("Missing value for required parameter 'groups': a list of {\"id\": ..., \"run_ids\": [...]}.")
    if len(raw) > MAX_GROUPS:
        raise invalid(f"Too many groups: {len(raw)}, at most {MAX_GROUPS}.")
    groups: list[tuple[str, list[str]]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("run_ids"), list):
            raise invalid("Invalid value in 'groups': each group is {\"id\": \"...\", \"run_ids\": [\"...\"]}.")
        ids = item["run_ids"]
        if not all(isinstance(v, str) for v in ids):
            raise invalid(f"Invalid value in 'groups': the run_ids of group {item['id']!r} must be strings.")
        groups.append((item["id"], list(dict.fromkeys(ids))))
    total = sum(len(ids) for _, ids in groups)
    if total > MAX_GROUP_RUNS:
        raise invalid(f"Too many runs in groups: {total}, at most {MAX_GROUP_RUNS}.")
    keys = list(dict.fromkeys(list_arg(args, "keys") or list_arg(args, "key")))
    if not keys:
        raise invalid("Missing value for required parameter 'keys'.")
    if len(keys) > MAX_GROUP_KEYS:
        raise invalid(f"Too many keys: {len(keys)}, at most {MAX_GROUP_KEYS}.")
    x = string_arg(args, "x", default="step")
    if x not in X_MODES:
        raise invalid(f"Invalid value {x!r} for parameter 'x': expected one of {', '.join(X_MODES)}.")
    center = string_arg(args, "aggregate", default="mean")
    if center not in CENTERS:
        raise invalid(f"Invalid value {center!r} for parameter 'aggregate': expected one of {', '.join(CENTERS)}.")
    buckets = int_arg(args, "buckets", default=DEFAULT_BUCKETS, low=1, high=MAX_BUCKETS)
    x_min, x_max = _number_arg(args, "x_min"), _number_arg(args, "x_max")
    if x_min is not None and x_max is not None and x_min > x_max:
        raise invalid(f"Invalid range: the start ({x_min:g}) is after the end ({x_max:g}).")
    return {"groups": groups, "keys": keys, "x": x, "center": center, "buckets": buckets, "x_min": x_min, "x_max": x_max}


def group_series_json(group_id: str, key: str, series: GroupSeries) -> dict[str, Any]:
    return {
        "group": group_id, "key": key, "runs": series.runs, "points": series.points,
        "x": series.x, "center": series.center, "mean": series.mean, "std": series.std,
        "min": series.low, "max": series.high, "count": series.count,
    }


def group_histories(index: RunIndex, grouping: GroupHistories, query: dict[str, Any]) -> dict[str, Any]:
    unknown: list[str] = []
    groups: list[list[Run]] = []
    for _, ids in query["groups"]:
        found, missing = _run_lookup(index, ids, set())
        groups.append(found)
        unknown.extend(missing)
    series: list[dict[str, Any]] = []
    grids: dict[str, dict[str, int] | None] = {}
    for key in query["keys"]:
        grid, per_group = grouping.series(
            groups, key, x=query["x"], buckets=query["buckets"], x_min=query["x_min"], x_max=query["x_max"],
            center=query["center"],
        )
        grids[key] = None if grid is None else {"x0": grid.x0, "width": grid.width, "count": grid.count}
        series.extend(group_series_json(gid, key, s) for (gid, _), s in zip(query["groups"], per_group, strict=True))
    return {"x": query["x"], "aggregate": query["center"], "grids": grids, "series": series, "unknown_runs": unknown}


def grouping_of(request: Request) -> GroupHistories:
    """Group statistics over the app's one history cache, created on first use."""
    histories = history_cache(request)
    grouping = getattr(request.app.state, "group_histories", None)
    if grouping is None or grouping.histories is not histories:
        disk = getattr(request.app.state, "series_store", None)
        grouping = request.app.state.group_histories = GroupHistories(histories, disk=disk)
    return grouping


async def post_group_histories(request: Request) -> Response:
    query = parse_group_histories(await request_args(request))
    body = await run_in_threadpool(group_histories, index_of(request), grouping_of(request), query)
    return _json(body)


# ------------------------------------------------------------------ importance


def importance(index: RunIndex, args: dict[str, Any]) -> dict[str, Any]:
    metric = string_arg(args, "metric", required=True)
    run_ids = _ids_arg(args, "run_ids", MAX_IMPORTANCE_RUNS)
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'.")
    params = list_arg(args, "params") if "params" in args else None
    runs, unknown = _run_lookup(index, run_ids, set())
    result = param_importance(index.with_details(runs), metric or "", params)
    return {
        "metric": result.metric,
        "method": "variance of the metric's ranks explained (epsilon squared), Spearman correlation",
        "used": result.used,
        "missing": result.missing + len(unknown),
        "note": result.note,
        "params": [{"key": p.key, "kind": p.kind, "importance": p.importance, "correlation": p.correlation,
                    "distinct": p.distinct, "present": p.present} for p in result.params],
    }


async def post_importance(request: Request) -> Response:
    args = await request_args(request)
    return _json(await run_in_threadpool(importance, index_of(request), args))


# Every endpoint here only reads (a POST for its long JSON body): a --read-only server answers them.
READ_POSTS = ("/api/mlscope/charts/runs", "/api/mlscope/charts/groups", "/api/mlscope/charts/group-histories",
              "/api/mlscope/charts/importance")

routes: list[BaseRoute] = [
    Route("/api/mlscope/charts/runs", post_runs, methods=["POST"]),
    Route("/api/mlscope/charts/groups", post_groups, methods=["POST"]),
    Route("/api/mlscope/charts/group-histories", post_group_histories, methods=["POST"]),
    Route("/api/mlscope/charts/importance", post_importance, methods=["POST"]),
]
