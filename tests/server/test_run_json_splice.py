"""MLflow's runs/search and runs/get answer from runs encoded once per change, spliced into the response."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mlscope.server.app import create_app
from mlscope.server.mlflow.proto import run_json
from tests.handmade import write_experiment, write_run

SEARCH = "/api/2.0/mlflow/runs/search"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    exp = write_experiment(tmp_path, "1", "exp")
    for i in range(5):
        write_run(exp, f"{i:032x}", start=1000 + i, name=f"r{i}", metrics={"loss": f"1 {i / 10} 0\n"}, params={"lr": "0.1"})
    return tmp_path


@pytest.fixture
def client(tree: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tree), base_url="http://localhost") as test_client:
        test_client.app.state.index.wait_ready(30)  # type: ignore[attr-defined]
        yield test_client


def test_search_page_is_the_runs_json_and_a_token(client):
    answer = client.post(SEARCH, json={"experiment_ids": ["1"], "max_results": 2})
    index = client.app.state.index  # type: ignore[attr-defined]
    expected = [run_json(index.run(f"{i:032x}")) for i in (4, 3)]
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["runs"] == expected and answer.json()["next_page_token"]


def test_last_page_has_no_token(client):
    answer = client.post(SEARCH, json={"experiment_ids": ["1"], "max_results": 5}).json()
    assert len(answer["runs"]) == 5 and "next_page_token" not in answer


def test_empty_search_is_an_empty_list(client):
    assert client.post(SEARCH, json={"experiment_ids": ["1"], "filter": "params.lr = '9'"}).json() == {"runs": []}


def test_a_run_changed_on_disk_is_served_with_its_new_values(client, tree):
    client.post(SEARCH, json={"experiment_ids": ["1"]})
    with open(tree / "1" / f"{2:032x}" / "metrics" / "loss", "a") as handle:
        handle.write("2 7.5 1\n")
    client.app.state.index.note_writes(run_ids=[f"{2:032x}"], deep=False)  # type: ignore[attr-defined]
    runs = {r["info"]["run_id"]: r for r in client.post(SEARCH, json={"experiment_ids": ["1"]}).json()["runs"]}
    assert runs[f"{2:032x}"]["data"]["metrics"][0]["value"] == 7.5
    got = client.get("/api/2.0/mlflow/runs/get", params={"run_id": f"{2:032x}"}).json()
    assert got["run"]["data"]["metrics"][0]["value"] == 7.5


def test_repeated_pages_encode_each_run_once(client):
    for _ in range(3):
        client.post(SEARCH, json={"experiment_ids": ["1"]})
    assert client.app.state.run_json_cache.encodes == 5  # type: ignore[attr-defined]
