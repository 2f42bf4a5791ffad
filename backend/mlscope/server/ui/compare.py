"""POST /api/mlscope/compare: everything the compare-runs page shows about a set of runs, in one answer.

One request per selection keeps the page instant with hundreds of runs: info,
params, tags, latest metrics and a summary of each metric's whole history
(min, max, last logged, point count). Runs that cannot be found come back as
per-run error entries so one stale id in a shared link does not blank the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...history.summaries import HistorySummaries, HistorySummary
from ...index import RunIndex
from ...store.model import Run
from ..args import request_args
from ..errors import invalid
from ..mlflow.proto import float_json
from ..state import history_cache, index_of

MAX_COMPARE_RUNS = 500

# System tags shown as the run's info rows; repeating them as tag rows would only add noise.
INFO_TAGS = frozenset(
    {"mlflow.runName", "mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.source.git.commit"}
)


# ------------------------------------------------------------------ history summaries


def summary_json(summary: HistorySummary) -> dict[str, Any]:
    if not summary.count or summary.last is None:
        return {"min": None, "max": None, "last": None, "count": 0}
    return {"min": float_json(summary.low), "max": float_json(summary.high), "last": float_json(summary.last), "count": summary.count}


def summaries_of(request: Request) -> HistorySummaries:
    """Summaries over the app's one history cache (shared with the charts' endpoint), created on first use."""
    histories = history_cache(request)
    summaries = getattr(request.app.state, "compare_summaries", None)
    if summaries is None or summaries.histories is not histories:
        summaries = request.app.state.compare_summaries = HistorySummaries(histories)
    return summaries


# ------------------------------------------------------------------ one run


def info_json(run: Run, experiment_name: str | None) -> dict[str, Any]:
    info = run.info
    duration = info.end_time - info.start_time if info.start_time is not None and info.end_time is not None else None
    return {
        "run_name": info.run_name,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
        "experiment_id": info.experiment_id,
        "experiment_name": experiment_name,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration_ms": duration,
        "user": run.tags.get("mlflow.user") or info.user_id or None,
        "source": run.tags.get("mlflow.source.name"),
        "source_type": run.tags.get("mlflow.source.type"),
        "commit": run.tags.get("mlflow.source.git.commit"),
    }


def metrics_json(run: Run, summaries: HistorySummaries) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in sorted(run.metrics):
        latest = run.metrics[key]
        body[key] = {
            "latest": float_json(latest.value),
            "step": latest.step,
            "timestamp": latest.timestamp,
            **summary_json(summaries.summary(run.path, key)),
        }
    return body


def run_comparison_json(run: Run, experiment_name: str | None, summaries: HistorySummaries) -> dict[str, Any]:
    return {
        "run_id": run.info.run_id,
        "info": info_json(run, experiment_name),
        "params": dict(sorted(run.params.items())),
        "tags": {k: v for k, v in sorted(run.tags.items()) if k not in INFO_TAGS},
        "metrics": metrics_json(run, summaries),
    }


def compare_runs(index: RunIndex, run_ids: Iterable[str], summaries: HistorySummaries) -> list[dict[str, Any]]:
    """The comparison of each requested run, in request order; blocking (reads histories)."""
    index.wait_listed()
    names = {e.experiment_id: e.name for e in index.experiments()}
    entries: list[dict[str, Any]] = []
    for run_id in run_ids:
        run = index.run(run_id)
        if run is None:
            entries.append(
                {"run_id": run_id, "error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Run '{run_id}' not found"}
            )
        else:
            entries.append(run_comparison_json(run, names.get(run.info.experiment_id), summaries))
    return entries


# ------------------------------------------------------------------ HTTP


def run_ids_arg(args: dict[str, Any]) -> list[str]:
    """The requested ids, de-duplicated in order; a clear 400 for anything that is not a list of id strings."""
    raw = args.get("run_ids")
    if raw is None:
        raise invalid("Missing value for required parameter 'run_ids' (a list of run ids).")
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise invalid("Invalid value for parameter 'run_ids': expected a list of non-empty run id strings.")
    ids = list(dict.fromkeys(v.strip() for v in raw))
    if len(ids) > MAX_COMPARE_RUNS:
        raise invalid(f"Too many runs to compare: {len(ids)} requested, at most {MAX_COMPARE_RUNS} allowed.")
    return ids


async def compare(request: Request) -> JSONResponse:
    args = await request_args(request)
    run_ids = run_ids_arg(args)
    entries = await run_in_threadpool(compare_runs, index_of(request), run_ids, summaries_of(request))
    return JSONResponse({"runs": entries})


routes: list[BaseRoute] = [Route("/api/mlscope/compare", compare, methods=["POST"])]
