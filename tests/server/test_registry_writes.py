"""Registry writes through mlscope's REST API, driven by MLflow's own client; MLflow's FileStore reads them back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.registry_trees import mlflow_model_fields, mlflow_version_fields, registry_store
from tests.registry_trees import write_registry_tree as write_tree

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("registry-writes") / "mlruns"
    return root, write_tree(root)


@pytest.fixture(scope="module")
def server(tree: Tree, serve: Any) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server.url, registry_uri=server.url)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_registered_model_with_tags_and_description(client: Any, tree: Tree) -> None:
    name = unique("created")
    made = client.create_registered_model(name, tags={"team": "risk"}, description="Scores payments")
    assert (made.name, made.tags, made.description) == (name, {"team": "risk"}, "Scores payments")
    stored = mlflow_model_fields(registry_store(tree[0]).get_registered_model(name))
    assert (stored["tags"], stored["description"]) == ({"team": "risk"}, "Scores payments")


def test_create_model_version_from_a_run_artifact_folder(client: Any, tree: Tree) -> None:
    name = unique("from-run")
    client.create_registered_model(name)
    run_id = tree[1]["run"]
    version = client.create_model_version(name, tree[1]["artifacts"][run_id], run_id=run_id, tags={"k": "v"},
                                          description="first")
    assert (version.version, version.run_id, version.tags, version.description) == ("1", run_id, {"k": "v"}, "first")
    stored = mlflow_version_fields(registry_store(tree[0]).get_model_version(name, "1"))
    assert (stored["run_id"], stored["tags"], stored["source"]) == (run_id, {"k": "v"}, tree[1]["artifacts"][run_id])


def test_create_model_version_from_a_logged_model_fills_in_its_run(client: Any, tree: Tree) -> None:
    name = unique("from-logged")
    client.create_registered_model(name)
    model_id = tree[1]["logged_model"]
    version = client.create_model_version(name, f"models:/{model_id}", model_id=model_id)
    assert version.run_id == tree[1]["run"]
    assert registry_store(tree[0]).get_model_version_download_uri(name, "1").endswith(f"{model_id}/artifacts")


def test_creating_a_version_links_the_logged_model(client: Any, tree: Tree) -> None:
    name = unique("linked")
    client.create_registered_model(name)
    model_id = tree[1]["logged_model"]
    client.create_model_version(name, f"models:/{model_id}", model_id=model_id)
    tag = client.get_logged_model(model_id).tags["mlflow.modelVersions"]
    assert {"name": name, "version": 1} in __import__("json").loads(tag)


def test_a_local_source_outside_the_runs_artifacts_is_refused(server: LiveServer, tree: Tree) -> None:
    name = unique("escape")
    httpx.post(f"{server.url}/api/2.0/mlflow/registered-models/create", json={"name": name}, timeout=10)
    response = httpx.post(f"{server.url}/api/2.0/mlflow/model-versions/create",
                          json={"name": name, "source": "/etc", "run_id": tree[1]["run"]}, timeout=10)
    assert response.status_code == 400
    assert "Invalid model version source" in response.json()["message"]


def test_a_runs_uri_for_another_run_is_refused(server: LiveServer, tree: Tree) -> None:
    name = unique("other-run")
    httpx.post(f"{server.url}/api/2.0/mlflow/registered-models/create", json={"name": name}, timeout=10)
    response = httpx.post(f"{server.url}/api/2.0/mlflow/model-versions/create",
                          json={"name": name, "source": f"runs:/{tree[1]['run']}/model", "run_id": tree[1]["other_run"]},
                          timeout=10)
    assert response.status_code == 400


def test_a_models_uri_source_copies_the_lineage_of_that_version(client: Any, tree: Tree) -> None:
    name = unique("promoted")
    client.create_registered_model(name)
    version = client.create_model_version(name, "models:/fraud-detector/2")
    assert (version.source, version.run_id) == ("models:/fraud-detector/2", tree[1]["run"])


def test_aliases_set_resolve_and_delete(client: Any) -> None:
    name = unique("aliased")
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, "s3://bucket/model")
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    client.delete_registered_model_alias(name, "champion")
    assert client.get_registered_model(name).aliases == {}


def test_search_sees_a_model_created_a_moment_ago(client: Any) -> None:
    name = unique("fresh")
    client.create_registered_model(name, tags={"batch": name})
    found = client.search_registered_models(filter_string=f"tags.batch = '{name}'")
    assert [m.name for m in found] == [name]


def test_search_model_versions_by_name(client: Any) -> None:
    name = unique("versions")
    client.create_registered_model(name)
    for _ in range(3):
        client.create_model_version(name, "s3://bucket/model")
    found = client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3"]


def test_update_and_tags_of_a_version(client: Any, tree: Tree) -> None:
    name = unique("edited")
    client.create_registered_model(name)
    client.create_model_version(name, "s3://bucket/model")
    client.update_model_version(name, "1", "better words")
    client.set_model_version_tag(name, "1", "gate", "passed")
    client.delete_model_version_tag(name, "1", "gate")
    client.set_model_version_tag(name, "1", "owner", "ana")
    stored = mlflow_version_fields(registry_store(tree[0]).get_model_version(name, "1"))
    assert (stored["description"], stored["tags"]) == ("better words", {"owner": "ana"})


def test_update_rename_and_tags_of_a_model(client: Any, tree: Tree) -> None:
    name, new_name = unique("before"), unique("after")
    client.create_registered_model(name)
    client.update_registered_model(name, "described")
    client.set_registered_model_tag(name, "k", "v")
    client.delete_registered_model_tag(name, "k")
    client.set_registered_model_tag(name, "kept", "yes")
    client.rename_registered_model(name, new_name)
    stored = mlflow_model_fields(registry_store(tree[0]).get_registered_model(new_name))
    assert (stored["description"], stored["tags"]) == ("described", {"kept": "yes"})
    with pytest.raises(Exception, match="not found"):
        client.get_registered_model(name)


def test_transition_stage_archives_the_previous_production_version(client: Any) -> None:
    name = unique("staged")
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, "s3://bucket/model")
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    stages = {v.version: v.current_stage for v in client.search_model_versions(f"name = '{name}'")}
    assert stages == {"1": "Archived", "2": "Production"}
    assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["2"]


def test_delete_version_and_model(client: Any, tree: Tree) -> None:
    name = unique("doomed")
    client.create_registered_model(name)
    client.create_model_version(name, "s3://bucket/model")
    client.delete_model_version(name, "1")
    assert client.search_model_versions(f"name = '{name}'") == []
    client.delete_registered_model(name)
    assert not (tree[0] / "models" / name).exists()


def test_creating_an_existing_model_is_mlflows_error(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    name = unique("twice")
    client.create_registered_model(name)
    with pytest.raises(MlflowException) as caught:
        client.create_registered_model(name)
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_a_reserved_alias_is_refused(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    name = unique("reserved")
    client.create_registered_model(name)
    client.create_model_version(name, "s3://bucket/model")
    with pytest.raises(MlflowException, match="reserved"):
        client.set_registered_model_alias(name, "latest", "1")
