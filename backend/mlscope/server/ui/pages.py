"""mlscope's own endpoints for the shell, experiments list and run page, under /api/mlscope.

MLflow's REST shapes stay in ``server/mlflow``; these answer exactly what the
views show (run counts per experiment, index progress, problems, one run
with its parent, children and logged-model names) in one request each.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...index import RunIndex
from ...index.logged_models import logged_models_of
from ...store.artifacts import models_of_run
from ...store.model import DELETED, Run
from ..args import list_arg, request_args, string_arg
from ..errors import invalid, not_found
from ..mlflow.proto import float_json
from ..state import index_of, settings_of
from .rows import PARENT_TAG


async def status(request: Request) -> JSONResponse:
    """Index progress, so the shell can show 'indexing 1,200 / 10,000' while the first build runs; and read_only."""
    index = index_of(request)
    progress = index.progress
    return JSONResponse(
        {
            "phase": progress.phase,
            "done": progress.done,
            "total": progress.total,
            "started": int(progress.started * 1000),
            "finished": int(progress.finished * 1000) if progress.finished else None,
            "ready": index.ready,
            "version": index.version,
            "read_only": settings_of(request).read_only,  # the dashboard hides its edit controls then
        }
    )


async def problems(request: Request) -> JSONResponse:
    """Folders and files the index skipped, with why, so nothing disappears silently."""
    index = index_of(request)
    found = await run_in_threadpool(index.problems)
    return JSONResponse({"problems": [{"path": p.path, "reason": p.reason, "kind": p.kind} for p in found]})


async def experiments(request: Request) -> JSONResponse:
    """Every experiment (deleted ones flagged) with active and deleted run counts."""
    index = index_of(request)
    await run_in_threadpool(index.wait_listed)
    counts = index.run_counts()
    body: list[dict[str, Any]] = []
    for exp in index.experiments():
        count = counts.get(exp.experiment_id, {"active": 0, "deleted": 0})
        body.append(
            {
                "experiment_id": exp.experiment_id,
                "name": exp.name,
                "lifecycle_stage": exp.lifecycle_stage,
                "deleted": exp.lifecycle_stage == DELETED,
                "creation_time": exp.creation_time,
                "last_update_time": exp.last_update_time,
                "description": exp.tags.get("mlflow.note.content", ""),
                "runs": count["active"],
                "deleted_runs": count["deleted"],
            }
        )
    body.sort(key=lambda e: (e["deleted"], e["name"].lower()))
    return JSONResponse({"experiments": body})


def keys_of(index: RunIndex, experiment_ids: list[str]) -> dict[str, Any]:
    """Every key, and how many active runs have each param and metric (the table's default columns are the commonest)."""
    params: Counter[str] = Counter()
    metrics: Counter[str] = Counter()
    tags: set[str] = set()
    for run in index.runs(experiment_ids or None, details=True):
        active = run.info.lifecycle_stage != DELETED
        params.update({key: active for key in run.params})
        metrics.update({key: active for key in run.metrics})
        tags.update(run.tags)
    return {
        "params": sorted(params),
        "metrics": sorted(metrics),
        "tags": sorted(tags),
        "counts": {"params": dict(params), "metrics": dict(metrics)},
    }


async def keys(request: Request) -> JSONResponse:
    """Param, metric and tag keys present in the selected experiments: column chooser and autocomplete."""
    args = await request_args(request)
    experiment_ids = list_arg(args, "experiment_ids")
    index = index_of(request)
    return JSONResponse(await run_in_threadpool(keys_of, index, experiment_ids))


def _link(run: Run) -> dict[str, Any]:
    info = run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "lifecycle_stage": info.lifecycle_stage,
    }


def full_run(index: RunIndex, run_id: str) -> dict[str, Any]:
    """Everything the run page shows, with parent, children and model names resolved."""
    index.wait_listed()
    run = index.run(run_id)
    if run is None:
        raise not_found(f"Run '{run_id}' not found")
    info = run.info
    experiment = index.experiment(info.experiment_id)
    parent_id = run.tags.get(PARENT_TAG)
    parent = index.run(parent_id) if parent_id else None
    index.wait_ready()
    children = sorted(
        (r for r in index.runs([info.experiment_id]) if r.tags.get(PARENT_TAG) == run_id),
        key=lambda r: (-(r.info.start_time or 0), r.info.run_id),
    )
    models = logged_models_of(experiment.path) if experiment else {}
    outputs = [
        {"model_id": m.model_id, "step": m.step, "name": models[m.model_id].name if m.model_id in models else None}
        for m in run.model_outputs
    ]
    output_ids = {m.model_id for m in run.model_outputs}
    logged = [
        {
            "model_id": m.model_id,
            "name": m.name,
            "status": m.status,
            "model_type": m.model_type,
            "creation_timestamp": m.creation_timestamp,
            "params": m.params,
            "artifact_location": m.artifact_location,
            "output": m.model_id in output_ids,
        }
        for m in models_of_run(run, list(models.values()))
    ]
    return {
        "run": {
            "info": asdict(info),
            "params": dict(sorted(run.params.items())),
            "metrics": [
                {"key": m.key, "value": float_json(m.value), "step": m.step, "timestamp": m.timestamp}
                for m in sorted(run.metrics.values(), key=lambda m: m.key)
            ],
            "tags": dict(sorted(run.tags.items())),
            "datasets": [
                {
                    "name": d.name,
                    "digest": d.digest,
                    "source_type": d.source_type,
                    "source": d.source,
                    "context": d.context,
                    "schema": d.schema,
                    "profile": d.profile,
                }
                for d in run.dataset_inputs
            ],
            "model_inputs": [{"model_id": m.model_id, "name": models[m.model_id].name if m.model_id in models else None} for m in run.model_inputs],
            "model_outputs": outputs,
            "logged_models": logged,
        },
        "experiment": {
            "experiment_id": info.experiment_id,
            "name": experiment.name if experiment else "",
            "lifecycle_stage": experiment.lifecycle_stage if experiment else "",
        },
        "parent": _link(parent) if parent else ({"run_id": parent_id, "missing": True} if parent_id else None),
        "children": [_link(c) for c in children],
    }


async def get_run(request: Request) -> JSONResponse:
    args = await request_args(request)
    run_id = string_arg(args, "run_id")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    index = index_of(request)
    return JSONResponse(await run_in_threadpool(full_run, index, run_id))


routes: list[BaseRoute] = [
    Route("/api/mlscope/status", status, methods=["GET"]),
    Route("/api/mlscope/problems", problems, methods=["GET"]),
    Route("/api/mlscope/experiments", experiments, methods=["GET"]),
    Route("/api/mlscope/keys", keys, methods=["GET", "POST"]),
    Route("/api/mlscope/run", get_run, methods=["GET"]),
]
