"""Acceptance: MLflow's own client, pointed at mlscope, gets what it gets from MLflow's FileStore.

MLflow's client reads ``file:`` artifact URIs straight from disk once runs/get
has told it where they are, so the first tests prove mlscope hands out the
right artifact_uri. The REST endpoints themselves are checked with MLflow's
own request code and protobuf parser (``call_endpoint`` + ``ListArtifacts``),
and ``get-artifact`` bytes against MLflow's download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.reference_trees import mlflow_client


def infos(files: list[Any]) -> list[tuple[str, bool, int | None]]:
    return [(f.path, f.is_dir, f.file_size) for f in files]


@pytest.fixture(scope="module")
def clients(reference_tree: tuple[Path, dict[str, Any]], reference_server: LiveServer) -> tuple[Any, Any]:
    from mlflow import MlflowClient

    return MlflowClient(reference_server.url), mlflow_client(reference_tree[0])


# With a path, MLflow's client lists through its runs:/ repository, which first asks the server for the
# run's logged models (POST logged-models/search): an MLflow REST endpoint mlflow_api does not serve yet.


@pytest.mark.parametrize(
    "path",
    [
        None,
        "notes",
        "nope",
    ],
)
def test_list_artifacts_matches_the_file_store(
    clients: tuple[Any, Any], reference_tree: tuple[Path, dict[str, Any]], path: str | None
) -> None:
    over_http, on_disk = clients
    run_id = reference_tree[1]["runs"]["parent"]
    assert infos(over_http.list_artifacts(run_id, path)) == infos(on_disk.list_artifacts(run_id, path))


def test_download_artifacts_matches_the_file_store(
    clients: tuple[Any, Any], reference_tree: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    over_http, on_disk = clients
    run_id = reference_tree[1]["runs"]["parent"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got = Path(over_http.download_artifacts(run_id, "notes", str(tmp_path / "a")))
    expected = Path(on_disk.download_artifacts(run_id, "notes", str(tmp_path / "b")))
    assert (got / "hello.txt").read_bytes() == (expected / "hello.txt").read_bytes() == b"hello from mlflow\n"


@pytest.mark.parametrize("path", ["", "notes"])
def test_rest_listing_parses_with_mlflows_protobuf_and_equals_the_local_repository(
    reference_tree: tuple[Path, dict[str, Any]], reference_server: LiveServer, path: str
) -> None:
    from mlflow.protos.service_pb2 import ListArtifacts
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
    from mlflow.utils.rest_utils import MlflowHostCreds, call_endpoint

    run_id = reference_tree[1]["runs"]["parent"]
    body = json.dumps({"run_id": run_id, "path": path} if path else {"run_id": run_id})
    response = call_endpoint(
        MlflowHostCreds(reference_server.url), "/api/2.0/mlflow/artifacts/list", "GET", body, ListArtifacts.Response()
    )
    run = mlflow_client(reference_tree[0]).get_run(run_id)
    expected = LocalArtifactRepository(run.info.artifact_uri).list_artifacts(path or None)
    assert [(f.path, f.is_dir, f.file_size or None) for f in response.files] == infos(expected)
    assert response.root_uri == run.info.artifact_uri


@pytest.mark.parametrize("path", ["notes/hello.txt", "config.json", "config.yaml"])
def test_get_artifact_bytes_equal_mlflows_download(
    reference_tree: tuple[Path, dict[str, Any]], reference_server: LiveServer, tmp_path: Path, path: str
) -> None:
    run_id = reference_tree[1]["runs"]["parent"]
    expected = Path(mlflow_client(reference_tree[0]).download_artifacts(run_id, path, str(tmp_path))).read_bytes()
    response = httpx.get(f"{reference_server.url}/get-artifact", params={"run_uuid": run_id, "path": path})
    assert response.status_code == 200 and response.content == expected
    assert response.headers["content-type"].startswith("text/plain")
