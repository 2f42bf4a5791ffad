"""mlscope's chart endpoints: downsampled metric histories and a live change feed (SSE).

``/api/mlscope/metrics/histories`` (GET or POST) answers many (run, key)
series at once, each cut to the visible x range and reduced server-side to
about the chart's pixel width with first/min/max/last buckets, so spikes
survive and the browser never receives points it cannot draw.

``/api/mlscope/events`` streams index changes as Server-Sent Events so open
pages can re-request just the series of runs that moved.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...history.sampled import Sampled, SampledHistories
from ...index import RunIndex
from ..args import int_arg, list_arg, request_args, string_arg
from ..errors import invalid, not_found
from ..mlflow.proto import float_json
from ..state import history_cache, index_of

MAX_RUNS = 100
MAX_KEYS = 50
MAX_SERIES = 1000
DEFAULT_POINTS = 1000
MAX_POINTS = 5000
X_MODES = ("step", "time", "relative")

EVENT_POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
STREAM_LIFETIME_SECONDS = 300.0  # then the browser reconnects with Last-Event-ID: bounds a stuck shutdown
MAX_CHANGED_PER_EVENT = 2000  # beyond this the client is told to reload everything instead


# ----------------------------------------------------------------- histories


def _number_arg(args: dict[str, Any], name: str) -> float | None:
    raw = args.get(name)
    if isinstance(raw, list):
        raw = raw[-1]
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value {raw!r} for parameter '{name}': expected a number.") from None
    if isinstance(raw, bool) or value != value or value in (float("inf"), float("-inf")):
        raise invalid(f"Invalid value {raw!r} for parameter '{name}': expected a finite number.")
    return value


def parse_history_request(args: dict[str, Any]) -> dict[str, Any]:
    """Validate the request; every problem is a 400 naming the parameter."""
    run_ids = list(dict.fromkeys(list_arg(args, "run_ids") or list_arg(args, "run_id")))
    keys = list(dict.fromkeys(list_arg(args, "keys") or list_arg(args, "key") or list_arg(args, "metric_key")))
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_RUNS:
        raise invalid(f"Too many runs: {len(run_ids)} run_ids requested, at most {MAX_RUNS} per request.")
    if not keys:
        raise invalid("Missing value for required parameter 'keys'.")
    if len(keys) > MAX_KEYS:
        raise invalid(f"Too many keys: {len(keys)} requested, at most {MAX_KEYS} per request.")
    if len(keys) * len(run_ids) > MAX_SERIES:
        raise invalid(f"Too many series: {len(run_ids)} runs x {len(keys)} keys, at most {MAX_SERIES} per request.")
    x = string_arg(args, "x", default="step")
    if x not in X_MODES:
        raise invalid(f"Invalid value {x!r} for parameter 'x': expected one of {', '.join(X_MODES)}.")
    points = int_arg(args, "points", default=DEFAULT_POINTS, low=4, high=MAX_POINTS)
    x_min, x_max = _number_arg(args, "x_min"), _number_arg(args, "x_max")
    start_step, end_step = _number_arg(args, "start_step"), _number_arg(args, "end_step")
    if start_step is not None or end_step is not None:
        if x != "step":
            raise invalid("start_step/end_step apply to x=step only; use x_min/x_max for time ranges.")
        x_min = start_step if start_step is not None else x_min
        x_max = end_step if end_step is not None else x_max
    if x_min is not None and x_max is not None and x_min > x_max:
        raise invalid(f"Invalid range: the start ({x_min:g}) is after the end ({x_max:g}).")
    return {"run_ids": run_ids, "keys": keys, "x": x, "points": points, "x_min": x_min, "x_max": x_max}


_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode


def series_fields(sampled: Sampled) -> bytes:
    """A reduced series' fields as a JSON fragment (kept by SampledHistories; spliced into each answer).

    Values JSON cannot carry are the strings "NaN", "Infinity", "-Infinity"
    (MLflow's proto-JSON convention). ``total`` counts the points in the
    range, ``shown`` those sent. For x="relative" the range is in
    milliseconds since the series' first point (``start_timestamp``).
    ``monotonic``: steps and timestamps both never decrease, so the client
    may draw the same points against the other x axis without asking again.
    """
    body: dict[str, Any] = {
        "steps": sampled.steps,
        "values": sampled.values if sampled.finite else [float_json(v) for v in sampled.values],
        "timestamps": sampled.timestamps,
        "total": sampled.total,
        "shown": len(sampled),
        "start_timestamp": sampled.start_timestamp,
        "monotonic": sampled.monotonic,
    }
    if sampled.skipped:
        body["skipped_lines"] = sampled.skipped
    return _encode(body)[1:-1].encode()


EMPTY_FIELDS = b'"steps":[],"values":[],"timestamps":[],"total":0,"shown":0'


def collect_histories(index: RunIndex, sampled: SampledHistories[bytes], query: dict[str, Any]) -> bytes:
    """Blocking: look runs up and read (cached) histories; the answer's JSON. Unknown run ids are a 404."""
    runs = {}
    for run_id in query["run_ids"]:
        run = index.run(run_id)
        if run is None:
            raise not_found(f"Run with id={run_id} not found")
        runs[run_id] = run
    parts = []
    for run_id, run in runs.items():
        for key in query["keys"]:
            fields = None
            if run.path.name == run_id:  # an entry without its own folder has no metric files to read
                fields = sampled.series(
                    run.path, key, x=query["x"], points=query["points"], x_min=query["x_min"], x_max=query["x_max"]
                )
            # json.dumps escapes non-ASCII, so a key with a lone surrogate is still valid JSON (never a 500)
            parts.append(b'{"run_id":%s,"key":%s,%s}' % (json.dumps(run_id).encode(), json.dumps(key).encode(), fields or EMPTY_FIELDS))
    head = _encode({"x": query["x"], "points": query["points"]})[:-1].encode()
    return head + b',"series":[' + b",".join(parts) + b"]}"


def sampled_of(request: Request) -> SampledHistories[bytes]:
    """Reduced whole-range series (as JSON) over the app's one history cache, created on first use."""
    histories = history_cache(request)
    sampled = getattr(request.app.state, "sampled_histories", None)
    if sampled is None or sampled.histories is not histories:
        disk = getattr(request.app.state, "series_store", None)
        sampled = request.app.state.sampled_histories = SampledHistories(histories, series_fields, disk=disk)
    return sampled


async def get_histories(request: Request) -> Response:
    query = parse_history_request(await request_args(request))
    body = await run_in_threadpool(collect_histories, index_of(request), sampled_of(request), query)
    return Response(body, media_type="application/json")


# -------------------------------------------------------------------- events


def _since_arg(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("since")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            f"Invalid value {raw!r} for 'since' / Last-Event-ID: expected an index version (integer)."
        ) from None
    if value < 0:
        raise invalid(f"Invalid value {value} for 'since': must be >= 0.")
    return value


def change_event(index: RunIndex, since: int) -> dict[str, Any]:
    """Blocking: what changed after version ``since``, with the current status of each changed run.

    A removed run has status null. When too much changed (or ``since`` is from
    another server lifetime) the event says ``reset`` and lists nothing: the
    client should reload what it shows.
    """
    version = index.version
    if since > version:
        return {"version": version, "changed": [], "statuses": {}, "reset": True}
    changed = index.changed_since(since)
    if len(changed) > MAX_CHANGED_PER_EVENT:
        return {"version": version, "changed": [], "statuses": {}, "reset": True}
    statuses: dict[str, str | None] = {}
    for run_id in changed:
        run = index.run(run_id)
        statuses[run_id] = run.info.status if run is not None else None
    return {"version": version, "changed": changed, "statuses": statuses}


def _sse(event: dict[str, Any]) -> str:
    return f"id: {event['version']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _stopping(request: Request) -> bool:
    """The app's shutdown flag, if app.py provides one (see module docstring)."""
    flag = getattr(request.app.state, "shutting_down", None)
    return bool(flag is not None and flag.is_set())


async def event_stream(request: Request, index: RunIndex, since: int | None) -> AsyncIterator[str]:
    """Change events every EVENT_POLL_SECONDS while the index version moves; heartbeats between."""
    yield "retry: 1000\n\n"
    await run_in_threadpool(index.wait_ready, 30)
    last = index.version
    first: dict[str, Any] = (
        await run_in_threadpool(change_event, index, since)
        if since is not None
        else {"version": last, "changed": [], "statuses": {}}
    )
    last = first["version"]
    yield _sse(first)
    opened = beat = time.monotonic()
    while not _stopping(request) and time.monotonic() - opened < STREAM_LIFETIME_SECONDS:
        await asyncio.sleep(EVENT_POLL_SECONDS)
        if await request.is_disconnected():
            return
        if index.version != last:
            event = await run_in_threadpool(change_event, index, last)
            last = event["version"]
            beat = time.monotonic()
            yield _sse(event)
        elif time.monotonic() - beat >= HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield ": heartbeat\n\n"


async def get_events(request: Request) -> StreamingResponse:
    since = _since_arg(request)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        event_stream(request, index_of(request), since), media_type="text/event-stream", headers=headers
    )


routes: list[BaseRoute] = [
    Route("/api/mlscope/metrics/histories", get_histories, methods=["GET", "POST"]),
    Route("/api/mlscope/events", get_events, methods=["GET"]),
]
