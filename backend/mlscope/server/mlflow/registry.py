"""MLflow's model registry endpoints: ``registered-models/*``, ``model-versions/*`` and ``model-versions/get-artifact``.

Paths, methods, request fields, schema checks and response shapes follow
mlflow/server/handlers.py (3.17.2), so MLflow's client (``register_model``,
aliases, searches, ``pyfunc.load_model("models:/...")``) and MLflow's UI can
use mlscope as their registry. The work is done by ``index.registry.Registry``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...index.registry import Registry
from ...search.registry import MODELS_MAX_RESULTS_THRESHOLD, VERSIONS_MAX_RESULTS_THRESHOLD
from ...store.artifacts import ArtifactsUnavailable, UnsafePathError, resolve_artifact_path
from ..args import (
    BOOL,
    INT,
    IS_ARRAY,
    IS_INT,
    IS_STRING,
    REQUIRED,
    STRING,
    Message,
    Repeated,
    mlflow_message,
    parse_message,
)
from ..artifacts.access import relative_arg, unavailable
from ..artifacts.files import SANDBOX_CSP, file_response, mlflow_content_type
from ..errors import invalid, not_found
from ..state import artifact_locations_of
from .endpoint import Endpoint, get
from .registry_proto import model_version_json, registered_model_json

Schema = Mapping[str, Sequence[Any]]
KEY_VALUE = Message({"key": STRING, "value": STRING})
_API_DOCS = " See the API docs for more information about request parameters."


def _at_most(name: str, limit: int) -> Callable[[Any], None]:
    """MLflow's ``_assert_less_than_or_equal(int(x), limit)`` with the message its schema check gives."""

    def check(value: Any) -> None:
        try:
            too_big = int(value) > limit
        except (TypeError, ValueError):
            return  # the type check reports it
        if too_big:
            shown = json.dumps(value)
            raise invalid(f"Invalid value {shown} for parameter '{name}' supplied:  Hint: Value was of type "
                          f"'{type(value).__name__}'.{_API_DOCS}")
    return check


def _is_bool(value: Any) -> None:
    """MLflow's ``_assert_bool`` for archive_existing_versions."""
    if not isinstance(value, bool):
        raise invalid(f"Invalid value {json.dumps(value)} for parameter 'archive_existing_versions' supplied:  Hint: Value "
                      f"was of type '{type(value).__name__}'.{_API_DOCS}")


NAME = Message({"name": STRING})
NAME_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING)}
CREATE_MODEL = Message({"name": STRING, "tags": Repeated(KEY_VALUE), "description": STRING, "deployment_job_id": STRING})
CREATE_MODEL_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "tags": (IS_ARRAY,), "description": (IS_STRING,)}
UPDATE_MODEL = Message({"name": STRING, "description": STRING, "deployment_job_id": STRING})
UPDATE_MODEL_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "description": (IS_STRING,)}
RENAME_MODEL = Message({"name": STRING, "new_name": STRING})
RENAME_MODEL_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "new_name": (REQUIRED, IS_STRING)}
SEARCH = Message({"filter": STRING, "max_results": INT, "order_by": Repeated(STRING), "page_token": STRING})
SEARCH_MODELS_SCHEMA: Schema = {"filter": (IS_STRING,), "max_results": (IS_INT, _at_most("max_results", MODELS_MAX_RESULTS_THRESHOLD)),
                                "order_by": (IS_ARRAY,), "page_token": (IS_STRING,)}
SEARCH_VERSIONS_SCHEMA: Schema = {"filter": (IS_STRING,),
                                  "max_results": (IS_INT, _at_most("max_results", VERSIONS_MAX_RESULTS_THRESHOLD)),
                                  "order_by": (IS_ARRAY,), "page_token": (IS_STRING,)}
LATEST_VERSIONS = Message({"name": STRING, "stages": Repeated(STRING)})
LATEST_VERSIONS_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "stages": (IS_ARRAY,)}
MODEL_TAG = Message({"name": STRING, "key": STRING, "value": STRING})
SET_MODEL_TAG_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "key": (REQUIRED, IS_STRING), "value": (IS_STRING,)}
DELETE_MODEL_TAG_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "key": (REQUIRED, IS_STRING)}
ALIAS = Message({"name": STRING, "alias": STRING, "version": STRING})
SET_ALIAS_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "alias": (REQUIRED, IS_STRING), "version": (REQUIRED, IS_STRING)}
ALIAS_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "alias": (REQUIRED, IS_STRING)}
CREATE_VERSION = Message({"name": STRING, "source": STRING, "run_id": STRING, "tags": Repeated(KEY_VALUE),
                          "run_link": STRING, "description": STRING, "model_id": STRING})
CREATE_VERSION_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "source": (REQUIRED, IS_STRING), "run_id": (IS_STRING,),
                                 "tags": (IS_ARRAY,), "run_link": (IS_STRING,), "description": (IS_STRING,),
                                 "model_id": (IS_STRING,)}
VERSION = Message({"name": STRING, "version": STRING})
VERSION_SCHEMA: Schema = {"name": (REQUIRED, IS_STRING), "version": (REQUIRED, IS_STRING)}
UPDATE_VERSION = Message({"name": STRING, "version": STRING, "description": STRING})
UPDATE_VERSION_SCHEMA: Schema = {**VERSION_SCHEMA, "description": (IS_STRING,)}
TRANSITION = Message({"name": STRING, "version": STRING, "stage": STRING, "archive_existing_versions": BOOL})
TRANSITION_SCHEMA: Schema = {**VERSION_SCHEMA, "stage": (REQUIRED, IS_STRING), "archive_existing_versions": (_is_bool,)}
VERSION_TAG = Message({"name": STRING, "version": STRING, "key": STRING, "value": STRING})
SET_VERSION_TAG_SCHEMA: Schema = {**VERSION_SCHEMA, "key": (REQUIRED, IS_STRING), "value": (IS_STRING,)}
DELETE_VERSION_TAG_SCHEMA: Schema = {**VERSION_SCHEMA, "key": (REQUIRED, IS_STRING)}


def registry_of(request: Request) -> Registry:
    """The app's registry, created on first use over the served tree."""
    state = request.app.state
    registry = getattr(state, "registry", None)
    if registry is None:
        registry = state.registry = Registry(state.root)
    return registry


async def message(request: Request, message: Message, schema: Schema) -> dict[str, Any]:
    """The request's fields: the query string for GET (repeated fields as lists), else the JSON body."""
    if request.method != "GET":
        return await mlflow_message(request, message, schema)
    args: dict[str, Any] = {}
    for name, kind in message.fields.items():
        values = request.query_params.getlist(name)
        if not values:
            continue
        if isinstance(kind, Repeated):
            args[name] = values
        elif kind == BOOL:
            if values[-1].lower() not in ("true", "false"):
                raise invalid(f"Invalid boolean value: {values[-1]}, must be 'true' or 'false'.")
            args[name] = values[-1].lower() == "true"
        else:
            args[name] = values[-1]
    return parse_message(args, message, schema)


def _tags(fields: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("key", "")): str(t.get("value", "")) for t in fields.get("tags", [])}


def _model_response(model: Any) -> JSONResponse:
    return JSONResponse({"registered_model": registered_model_json(model)})


def _version_response(version: Any) -> JSONResponse:
    return JSONResponse({"model_version": model_version_json(version)})


# ----------------------------------------------------------- registered models


async def create_registered_model(request: Request) -> JSONResponse:
    f = await message(request, CREATE_MODEL, CREATE_MODEL_SCHEMA)
    registry = registry_of(request)
    return _model_response(await run_in_threadpool(registry.create_model, f.get("name"), _tags(f), f.get("description", "")))


async def get_registered_model(request: Request) -> JSONResponse:
    f = await message(request, NAME, NAME_SCHEMA)
    return _model_response(await run_in_threadpool(registry_of(request).model, f.get("name")))


async def update_registered_model(request: Request) -> JSONResponse:
    f = await message(request, UPDATE_MODEL, UPDATE_MODEL_SCHEMA)
    registry = registry_of(request)
    return _model_response(await run_in_threadpool(registry.update_model, f.get("name"), f.get("description", "")))


async def rename_registered_model(request: Request) -> JSONResponse:
    f = await message(request, RENAME_MODEL, RENAME_MODEL_SCHEMA)
    registry = registry_of(request)
    return _model_response(await run_in_threadpool(registry.rename_model, f.get("name"), f.get("new_name")))


async def delete_registered_model(request: Request) -> JSONResponse:
    f = await message(request, NAME, NAME_SCHEMA)
    await run_in_threadpool(registry_of(request).delete_model, f.get("name"))
    return JSONResponse({})


async def search_registered_models(request: Request) -> JSONResponse:
    f = await message(request, SEARCH, SEARCH_MODELS_SCHEMA)
    registry = registry_of(request)
    page, token = await run_in_threadpool(registry.search_models, f.get("filter"), f.get("order_by", []),
                              f.get("max_results", 100), f.get("page_token"))
    body: dict[str, Any] = {}
    if page:
        body["registered_models"] = [registered_model_json(m) for m in page]
    if token:
        body["next_page_token"] = token
    return JSONResponse(body)


async def get_latest_versions(request: Request) -> JSONResponse:
    f = await message(request, LATEST_VERSIONS, LATEST_VERSIONS_SCHEMA)
    versions = await run_in_threadpool(registry_of(request).latest_versions, f.get("name"), f.get("stages", []))
    return JSONResponse({"model_versions": [model_version_json(v) for v in versions]} if versions else {})


async def set_registered_model_tag(request: Request) -> JSONResponse:
    f = await message(request, MODEL_TAG, SET_MODEL_TAG_SCHEMA)
    await run_in_threadpool(registry_of(request).set_model_tag, f.get("name"), f.get("key"), f.get("value", ""))
    return JSONResponse({})


async def delete_registered_model_tag(request: Request) -> JSONResponse:
    f = await message(request, MODEL_TAG, DELETE_MODEL_TAG_SCHEMA)
    await run_in_threadpool(registry_of(request).delete_model_tag, f.get("name"), f.get("key"))
    return JSONResponse({})


async def set_alias(request: Request) -> JSONResponse:
    f = await message(request, ALIAS, SET_ALIAS_SCHEMA)
    await run_in_threadpool(registry_of(request).set_alias, f.get("name"), f.get("alias"), f.get("version"))
    return JSONResponse({})


async def delete_alias(request: Request) -> JSONResponse:
    f = await message(request, ALIAS, ALIAS_SCHEMA)
    await run_in_threadpool(registry_of(request).delete_alias, f.get("name"), f.get("alias"))
    return JSONResponse({})


async def get_version_by_alias(request: Request) -> JSONResponse:
    f = await message(request, ALIAS, ALIAS_SCHEMA)
    return _version_response(await run_in_threadpool(registry_of(request).version_by_alias, f.get("name"), f.get("alias")))


async def alias(request: Request) -> JSONResponse:
    """One path, three methods, as in MLflow: POST sets, DELETE removes, GET resolves."""
    handler = {"POST": set_alias, "DELETE": delete_alias}.get(request.method, get_version_by_alias)
    return await handler(request)


# ------------------------------------------------------------- model versions


async def create_model_version(request: Request) -> JSONResponse:
    f = await message(request, CREATE_VERSION, CREATE_VERSION_SCHEMA)
    registry = registry_of(request)
    version = await run_in_threadpool(registry.create_version, f.get("name"), f.get("source", ""), f.get("run_id", ""),
                          _tags(f), f.get("run_link", ""), f.get("description", ""), f.get("model_id", ""))
    return _version_response(version)


async def get_model_version(request: Request) -> JSONResponse:
    f = await message(request, VERSION, VERSION_SCHEMA)
    return _version_response(await run_in_threadpool(registry_of(request).version, f.get("name"), f.get("version")))


async def update_model_version(request: Request) -> JSONResponse:
    f = await message(request, UPDATE_VERSION, UPDATE_VERSION_SCHEMA)
    registry = registry_of(request)
    return _version_response(await run_in_threadpool(registry.update_version, f.get("name"), f.get("version"),
                                         f.get("description")))


async def delete_model_version(request: Request) -> JSONResponse:
    f = await message(request, VERSION, VERSION_SCHEMA)
    await run_in_threadpool(registry_of(request).delete_version, f.get("name"), f.get("version"))
    return JSONResponse({})


async def transition_stage(request: Request) -> JSONResponse:
    f = await message(request, TRANSITION, TRANSITION_SCHEMA)
    registry = registry_of(request)
    return _version_response(await run_in_threadpool(registry.transition_stage, f.get("name"), f.get("version"),
                                         f.get("stage"), bool(f.get("archive_existing_versions", False))))


async def get_download_uri(request: Request) -> JSONResponse:
    f = await message(request, VERSION, {})
    return JSONResponse({"artifact_uri": await run_in_threadpool(registry_of(request).download_uri, f.get("name", ""),
                                                     f.get("version", ""))})


async def search_model_versions(request: Request) -> JSONResponse:
    f = await message(request, SEARCH, SEARCH_VERSIONS_SCHEMA)
    registry = registry_of(request)
    page, token = await run_in_threadpool(registry.search_versions, f.get("filter"), f.get("order_by", []),
                              f.get("max_results", VERSIONS_MAX_RESULTS_THRESHOLD), f.get("page_token"))
    body: dict[str, Any] = {}
    if page:
        body["model_versions"] = [model_version_json(v) for v in page]
    if token:
        body["next_page_token"] = token
    return JSONResponse(body)


async def set_model_version_tag(request: Request) -> JSONResponse:
    f = await message(request, VERSION_TAG, SET_VERSION_TAG_SCHEMA)
    registry = registry_of(request)
    await run_in_threadpool(registry.set_version_tag, f.get("name"), f.get("version"), f.get("key"), f.get("value", ""))
    return JSONResponse({})


async def delete_model_version_tag(request: Request) -> JSONResponse:
    f = await message(request, VERSION_TAG, DELETE_VERSION_TAG_SCHEMA)
    await run_in_threadpool(registry_of(request).delete_version_tag, f.get("name"), f.get("version"), f.get("key"))
    return JSONResponse({})


async def get_model_version_artifact(request: Request) -> Response:
    """GET /model-versions/get-artifact?name=&version=&path=: one file of a version, as an attachment."""
    name = request.query_params.get("name")
    version = request.query_params.get("version")
    if not request.query_params.get("path"):
        raise invalid("Missing value for required parameter 'path'.")
    relative = relative_arg(dict(request.query_params))
    registry = registry_of(request)
    locations = artifact_locations_of(request)

    def locate() -> Any:
        try:
            folder = registry.version_files(name, version, locations)
            return resolve_artifact_path(folder, relative)
        except ArtifactsUnavailable as exc:
            raise unavailable(str(exc)) from None
        except UnsafePathError as exc:
            raise invalid(str(exc)) from None
        except FileNotFoundError:
            raise not_found(f"No artifact '{relative}' in model '{name}' version {version}") from None

    path = await run_in_threadpool(locate)
    if path.is_dir():
        raise invalid(f"Artifact path refers to a directory, not a file: '{relative}'")
    filename = PurePosixPath(relative).name
    return await file_response(request, path, filename, mlflow_content_type(filename), csp=SANDBOX_CSP)


def _endpoint(path: str, handler: Any, *methods: str) -> Endpoint:
    return Endpoint(path, handler, tuple(methods))


endpoints: list[Endpoint] = [
    _endpoint("/registered-models/create", create_registered_model, "POST"),
    _endpoint("/registered-models/rename", rename_registered_model, "POST"),
    _endpoint("/registered-models/update", update_registered_model, "PATCH"),
    _endpoint("/registered-models/delete", delete_registered_model, "DELETE"),
    get("/registered-models/get", get_registered_model),
    get("/registered-models/search", search_registered_models),
    Endpoint("/registered-models/get-latest-versions", get_latest_versions, ("GET", "POST"), changes_nothing=True),
    _endpoint("/registered-models/set-tag", set_registered_model_tag, "POST"),
    _endpoint("/registered-models/delete-tag", delete_registered_model_tag, "DELETE"),
    _endpoint("/registered-models/alias", alias, "GET", "POST", "DELETE"),
    _endpoint("/model-versions/create", create_model_version, "POST"),
    _endpoint("/model-versions/update", update_model_version, "PATCH"),
    _endpoint("/model-versions/transition-stage", transition_stage, "POST"),
    _endpoint("/model-versions/delete", delete_model_version, "DELETE"),
    get("/model-versions/get", get_model_version),
    get("/model-versions/search", search_model_versions),
    get("/model-versions/get-download-uri", get_download_uri),
    _endpoint("/model-versions/set-tag", set_model_version_tag, "POST"),
    _endpoint("/model-versions/delete-tag", delete_model_version_tag, "DELETE"),
    Endpoint("/model-versions/get-artifact", get_model_version_artifact, ("GET", "HEAD"), ajax_only=True),
]

# MLflow serves version files at the top level (the UI fetches `model-versions/get-artifact?...` for MLmodel).
routes: list[BaseRoute] = [Route("/model-versions/get-artifact", get_model_version_artifact, methods=["GET", "HEAD"])]
