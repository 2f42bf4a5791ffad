"""Registry writes are guarded like every other write: bad requests, cross-site pages and --read-only are refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mlscope.server.app import create_app
from mlscope.server.settings import ServerSettings

Tree = tuple[Path, dict[str, Any]]
API = "/api/2.0/mlflow"


def _client(root: Path, **settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(root, settings=ServerSettings(**settings)), base_url="http://localhost") as client:
        yield client


@pytest.fixture
def tree_copy(registry_tree: Tree, tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    shutil.copytree(registry_tree[0], root)
    return root


@pytest.fixture
def client(tree_copy: Path) -> Iterator[TestClient]:
    yield from _client(tree_copy)


@pytest.fixture
def read_only(tree_copy: Path) -> Iterator[TestClient]:
    yield from _client(tree_copy, read_only=True)


def test_a_create_without_a_name_is_mlflows_400(client: TestClient) -> None:
    response = client.post(f"{API}/registered-models/create", json={})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Missing value for required parameter 'name'.")


def test_a_non_boolean_archive_flag_is_refused(client: TestClient) -> None:
    response = client.post(f"{API}/model-versions/transition-stage",
                           json={"name": "fraud-detector", "version": "3", "stage": "Production",
                                 "archive_existing_versions": "yes"})
    assert response.status_code == 400
    assert "archive_existing_versions" in response.json()["message"]


def test_a_tag_list_that_is_not_a_list_is_refused(client: TestClient) -> None:
    response = client.post(f"{API}/registered-models/create", json={"name": "x", "tags": "team=risk"})
    assert response.status_code == 400


def test_a_write_from_another_site_is_refused(client: TestClient, tree_copy: Path) -> None:
    response = client.post(f"{API}/registered-models/create", json={"name": "evil"},
                           headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert not (tree_copy / "models" / "evil").exists()


def test_a_delete_from_another_site_is_refused(client: TestClient, tree_copy: Path) -> None:
    response = client.request("DELETE", f"{API}/registered-models/delete", json={"name": "fraud-detector"},
                              headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert (tree_copy / "models" / "fraud-detector").is_dir()


def test_read_only_refuses_registry_writes(read_only: TestClient, tree_copy: Path) -> None:
    response = read_only.post(f"{API}/registered-models/create", json={"name": "new"})
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")
    assert not (tree_copy / "models" / "new").exists()


def test_read_only_still_answers_registry_reads(read_only: TestClient) -> None:
    assert read_only.get(f"{API}/registered-models/search").status_code == 200
    assert read_only.get(f"{API}/registered-models/alias", params={"name": "fraud-detector", "alias": "champion"}).status_code == 200
    response = read_only.post(f"{API}/registered-models/get-latest-versions", json={"name": "fraud-detector"})
    assert response.status_code == 200
