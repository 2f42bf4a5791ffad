"""MLflow's registry REST API over a tree MLflow wrote: every read as MLflow's FileStore + handlers render it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.registry_trees import registry_store

Tree = tuple[Path, dict[str, Any]]
PREFIXES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"]


@pytest.fixture(scope="module")
def server(registry_tree: Tree, serve: Any) -> LiveServer:
    return serve(registry_tree[0])


def proto_json(entity: Any) -> dict[str, Any]:
    """What MLflow's handlers send for an entity (message_to_json of its proto)."""
    from mlflow.utils.proto_json_utils import message_to_json

    return normalized(json.loads(message_to_json(entity.to_proto())))


def normalized(body: Any) -> Any:
    """Lists MLflow orders by directory listing (tags, aliases, latest versions) put in one order."""
    if isinstance(body, dict):
        out = {k: normalized(v) for k, v in body.items()}
        for key in ("tags",):
            if key in out:
                out[key] = sorted(out[key], key=lambda t: t["key"])
        if "aliases" in out:
            out["aliases"] = sorted(out["aliases"], key=lambda a: a["alias"] if isinstance(a, dict) else a)
        if "latest_versions" in out:
            out["latest_versions"] = sorted(out["latest_versions"], key=lambda v: int(v["version"]))
        return out
    if isinstance(body, list):
        return [normalized(item) for item in body]
    return body


def api(server: LiveServer, path: str, prefix: str = PREFIXES[0], **params: Any) -> httpx.Response:
    return httpx.get(f"{server.url}{prefix}{path}", params=params, timeout=10)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_registered_model_matches_mlflow(server: LiveServer, registry_tree: Tree, prefix: str) -> None:
    oracle = registry_store(registry_tree[0])
    for name in ("fraud-detector", "Churn Model", "empty-model", "with-deleted", "model.v2.dots", "модель-ü"):
        body = api(server, "/registered-models/get", prefix, name=name).json()
        assert normalized(body["registered_model"]) == proto_json(oracle.get_registered_model(name)), name


def test_get_model_version_matches_mlflow(server: LiveServer, registry_tree: Tree) -> None:
    oracle = registry_store(registry_tree[0])
    for name, version in (("fraud-detector", "1"), ("fraud-detector", "2"), ("fraud-detector", "4"), ("Churn Model", "1"),
                          ("модель-ü", "1")):
        body = api(server, "/model-versions/get", name=name, version=version).json()
        assert normalized(body["model_version"]) == proto_json(oracle.get_model_version(name, version))


def test_search_registered_models_matches_mlflow(server: LiveServer, registry_tree: Tree) -> None:
    oracle = registry_store(registry_tree[0])
    body = api(server, "/registered-models/search", filter="name LIKE '%e%'", order_by="last_updated_timestamp DESC").json()
    theirs = oracle.search_registered_models("name LIKE '%e%'", 100, ["last_updated_timestamp DESC"], None)
    assert [normalized(m) for m in body["registered_models"]] == [proto_json(m) for m in theirs]


def test_search_model_versions_matches_mlflow(server: LiveServer, registry_tree: Tree) -> None:
    oracle = registry_store(registry_tree[0])
    run_id = registry_tree[1]["run"]
    body = api(server, "/model-versions/search", filter=f"run_id = '{run_id}'").json()
    theirs = oracle.search_model_versions(f"run_id = '{run_id}'", 200_000, None, None)
    assert [normalized(v) for v in body["model_versions"]] == [proto_json(v) for v in theirs]


def test_registered_model_search_pages_with_mlflows_tokens(server: LiveServer, registry_tree: Tree) -> None:
    first = api(server, "/registered-models/search", max_results=2).json()
    second = api(server, "/registered-models/search", max_results=2, page_token=first["next_page_token"]).json()
    theirs = registry_store(registry_tree[0]).search_registered_models(None, 2, None, None)
    assert first["next_page_token"] == theirs.token.decode()
    names = [m["name"] for m in first["registered_models"] + second["registered_models"]]
    assert names == sorted(names) and len(set(names)) == 4


def test_get_model_version_by_alias_matches_mlflow(server: LiveServer, registry_tree: Tree) -> None:
    oracle = registry_store(registry_tree[0])
    for alias in ("champion", "challenger", "latest"):
        body = api(server, "/registered-models/alias", name="fraud-detector", alias=alias).json()
        assert normalized(body["model_version"]) == proto_json(oracle.get_model_version_by_alias("fraud-detector", alias))


def test_get_latest_versions_by_stage(server: LiveServer) -> None:
    body = httpx.post(f"{server.url}/api/2.0/mlflow/registered-models/get-latest-versions",
                      json={"name": "fraud-detector", "stages": ["Production", "staging"]}, timeout=10).json()
    assert sorted((v["version"], v["current_stage"]) for v in body["model_versions"]) == [("2", "Production"),
                                                                                           ("3", "Staging")]


def test_download_uri_is_mlflows(server: LiveServer, registry_tree: Tree) -> None:
    body = api(server, "/model-versions/get-download-uri", name="fraud-detector", version="4").json()
    assert body == {"artifact_uri": registry_store(registry_tree[0]).get_model_version_download_uri("fraud-detector", "4")}


def test_a_version_file_is_served_from_the_run_artifacts(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/model-versions/get-artifact", params={"name": "fraud-detector", "version": "2",
                                                                               "path": "MLmodel"}, timeout=10)
    assert response.status_code == 200
    assert "python_function" in response.text
    assert response.headers["content-disposition"].startswith("attachment")


def test_a_version_file_is_served_from_a_logged_model(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/ajax-api/2.0/mlflow/model-versions/get-artifact",
                         params={"name": "fraud-detector", "version": "4", "path": "MLmodel"}, timeout=10)
    assert response.status_code == 200 and "flavors" in response.text


@pytest.mark.parametrize("path", ["../../meta.yaml", "/etc/passwd", "a/../../x"])
def test_version_file_paths_cannot_escape(server: LiveServer, path: str) -> None:
    response = httpx.get(f"{server.url}/model-versions/get-artifact",
                         params={"name": "fraud-detector", "version": "2", "path": path}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_missing_model_is_mlflows_404(server: LiveServer) -> None:
    response = api(server, "/registered-models/get", name="nope")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert response.json()["message"] == "Registered Model with name=nope not found"


def test_a_deleted_version_is_not_found(server: LiveServer) -> None:
    response = api(server, "/model-versions/get", name="with-deleted", version="1")
    assert response.status_code == 404


def test_an_unknown_alias_is_mlflows_400(server: LiveServer) -> None:
    response = api(server, "/registered-models/alias", name="fraud-detector", alias="nope")
    assert (response.status_code, response.json()["message"]) == (400, "Registered model alias nope not found.")


def test_a_missing_required_parameter_is_a_400(server: LiveServer) -> None:
    response = api(server, "/registered-models/get")
    assert response.status_code == 400
    assert "Missing value for required parameter 'name'" in response.json()["message"]


def test_a_bad_filter_is_a_400_with_the_position(server: LiveServer) -> None:
    response = api(server, "/registered-models/search", filter="name = 'a' OR name = 'b'")
    assert response.status_code == 400
    assert "position 11" in response.json()["message"]


def test_more_than_1000_models_per_page_is_refused(server: LiveServer) -> None:
    assert api(server, "/registered-models/search", max_results=1001).status_code == 400


def test_prompts_are_left_out_of_searches(server: LiveServer) -> None:
    names = [m["name"] for m in api(server, "/registered-models/search").json()["registered_models"]]
    assert "my-prompt" not in names and "fraud-detector" in names
