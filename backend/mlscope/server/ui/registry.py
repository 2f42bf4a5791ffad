"""mlscope's registry endpoints for its model and model-version pages, under /api/mlscope/registry.

MLflow's registry API (server/mlflow/registry.py) answers the Models list and
every edit; these two add what a page shows beside MLflow's entities in one
request: the source run of each version (name, experiment, status, latest
metrics), and where a version's files are among the tree's runs and logged
models, so the existing artifact browser and MLmodel summary can show them.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...index import RunIndex
from ...store.registry_model import ModelVersion
from ..args import request_args, string_arg
from ..errors import invalid
from ..mlflow.proto import float_json
from ..mlflow.registry import registry_of
from ..mlflow.registry_proto import model_version_json, registered_model_json
from ..state import artifact_locations_of, index_of


def run_summary(index: RunIndex, run_id: str | None, with_metrics: bool = False) -> dict[str, Any] | None:
    """A version's source run as its pages show it; None when the version names no run or the run is gone."""
    if not run_id:
        return None
    run = index.run(run_id)
    if run is None:
        return {"run_id": run_id, "missing": True}
    experiment = index.experiment(run.info.experiment_id)
    body: dict[str, Any] = {
        "run_id": run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "experiment_name": experiment.name if experiment else None,
        "status": run.info.status,
        "lifecycle_stage": run.info.lifecycle_stage,
        "start_time": run.info.start_time,
    }
    if with_metrics:
        body["metrics"] = [{"key": m.key, "value": float_json(m.value), "step": m.step}
                           for m in sorted(run.metrics.values(), key=lambda m: m.key)]
        body["params"] = dict(sorted(run.params.items()))
    return body


def _version_row(index: RunIndex, version: ModelVersion) -> dict[str, Any]:
    return {**model_version_json(version), "run": run_summary(index, version.run_id)}


async def model_page(request: Request) -> JSONResponse:
    """GET /api/mlscope/registry/model?name= — the model and all its live versions (newest first) with their runs."""
    args = await request_args(request)
    name = string_arg(args, "name", required=True)
    registry = registry_of(request)
    index = index_of(request)

    def collect() -> dict[str, Any]:
        model = registry.model(name)
        versions = sorted(model.live_versions, key=lambda v: v.version, reverse=True)
        return {"registered_model": registered_model_json(model), "versions": [_version_row(index, v) for v in versions]}

    await run_in_threadpool(index.wait_listed)
    return JSONResponse(await run_in_threadpool(collect))


async def version_page(request: Request) -> JSONResponse:
    """GET /api/mlscope/registry/version?name=&version= — the version, its run with metrics, where its files are."""
    args = await request_args(request)
    name = string_arg(args, "name", required=True)
    number = string_arg(args, "version", required=True)
    registry = registry_of(request)
    index = index_of(request)
    locations = artifact_locations_of(request)

    def collect() -> dict[str, Any]:
        model = registry.model(name)
        version = registry.version(name, number)
        files, unavailable = registry.version_files_in_tree(version, locations)
        return {
            "model_version": model_version_json(version),
            "registered_model": {"name": model.name, "aliases": [{"alias": a, "version": v} for a, v in sorted(model.aliases.items())],
                                 "versions": [v.version for v in model.live_versions]},
            "model_id": version.model_id,
            "download_uri": version.download_uri,
            "run": run_summary(index, version.run_id, with_metrics=True),
            "files": {"run_id": files.run_id, "model_id": files.model_id, "path": files.path} if files else None,
            "files_unavailable": unavailable,
        }

    await run_in_threadpool(index.wait_listed)
    return JSONResponse(await run_in_threadpool(collect))


async def run_versions(request: Request) -> JSONResponse:
    """GET /api/mlscope/registry/run-versions?run_id= — the live model versions registered from one run."""
    args = await request_args(request)
    run_id = string_arg(args, "run_id", required=True)
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    registry = registry_of(request)
    versions = await run_in_threadpool(registry.versions_of_run, run_id)
    ordered = sorted(versions, key=lambda v: (v.name, -v.version))
    return JSONResponse({"model_versions": [model_version_json(v) for v in ordered]})


routes: list[BaseRoute] = [
    Route("/api/mlscope/registry/model", model_page, methods=["GET"]),
    Route("/api/mlscope/registry/version", version_page, methods=["GET"]),
    Route("/api/mlscope/registry/run-versions", run_versions, methods=["GET"]),
]
