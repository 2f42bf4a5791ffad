"""MLflow's metric-history endpoints read through the dashboard's history cache: a repeat reads nothing, an append only its bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mlscope.server.app import create_app
from tests.handmade import write_experiment, write_run

RUN = "a" * 32
LINES = "".join(f"{1000 + i} {i / 1000} {i}\n" for i in range(1000))
ENDPOINTS = (
    ("/api/2.0/mlflow/metrics/get-history", {"run_id": RUN, "metric_key": "loss"}),
    ("/api/2.0/mlflow/metrics/get-history-bulk-interval", {"run_ids": RUN, "metric_key": "loss", "max_results": 2500}),
    ("/ajax-api/2.0/mlflow/metrics/get-history-bulk", {"run_id": RUN, "metric_key": "loss"}),
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_run(write_experiment(tmp_path, "1", "exp"), RUN, metrics={"loss": LINES})
    return tmp_path


@pytest.fixture
def client(tree: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tree), base_url="http://localhost") as test_client:
        test_client.app.state.index.wait_ready(30)  # type: ignore[attr-defined]
        yield test_client


def bytes_read(client: TestClient) -> int:
    cache = getattr(client.app.state, "history_cache", None)  # type: ignore[attr-defined]
    return 0 if cache is None else int(cache.reads)


def points(client: TestClient, path: str, params: dict[str, object]) -> list[dict[str, object]]:
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["metrics"])


@pytest.mark.parametrize(("path", "params"), ENDPOINTS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_repeated_history_request_reads_no_file(client: TestClient, path: str, params: dict[str, object]) -> None:
    assert len(points(client, path, params)) == 1000
    assert bytes_read(client) == len(LINES)  # the first request read the file through the cache
    assert len(points(client, path, params)) == 1000
    assert bytes_read(client) == len(LINES)


@pytest.mark.parametrize(("path", "params"), ENDPOINTS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_history_request_after_an_append_reads_only_the_appended_bytes(client: TestClient, tree: Path, path: str,
                                                                          params: dict[str, object]) -> None:
    points(client, path, params)
    before = bytes_read(client)
    line = "5000 9.5 1000\n"
    with open(tree / "1" / RUN / "metrics" / "loss", "a") as handle:
        handle.write(line)
    assert {"key": "loss", "value": 9.5, "timestamp": 5000, "step": 1000}.items() <= points(client, path, params)[-1].items()
    assert bytes_read(client) - before == len(line)
