"""A short load: readers hammer one live run's history while mlscope and MLflow's client append to it (issue 18, under load).

The issue's run: 20 clients for 60 s while ``import mlscope`` and MLflow's
client append to one run with ~284,000 points; MLflow's get-history re-read
the whole file per call and p99 reached 19 s. Here, at a size ``make test``
affords: 8 reader threads for 10 s against ``mlscope server`` (its own
process) on a run seeded with 200,000 points, while one MLflow client (through
the server) and one ``import mlscope`` process (into the tree) append.
Nothing may fail or be lost. Latency and memory are not asserted here (on a
shared machine they measure the machine); they are bench figures.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.handmade import write_experiment, write_run
from tests.tracking_servers import mlscope_server

RUN = "f" * 32
API = "/api/2.0/mlflow"
SEEDED = 200_000
READERS = 8
SECONDS = 10.0
APPENDS = 200  # points each writer appends

MLFLOW_WRITER = f"""
import sys
from mlflow import MlflowClient
client = MlflowClient(sys.argv[1])
for i in range({APPENDS}):
    client.log_metric("{RUN}", "loss", 0.5, timestamp=2_000_000_000_000 + i, step={SEEDED} + i)
"""
MLSCOPE_WRITER = f"""
import sys, time
import mlscope
mlscope.set_tracking_uri(sys.argv[1])
with mlscope.start_run(run_id="{RUN}"):
    for i in range({APPENDS}):
        mlscope.log_metric("loss", 0.25, step={SEEDED + 10_000} + i)
        time.sleep(0.01)
"""


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("load") / "mlruns"
    seeded = "".join(f"{1_700_000_000_000 + i} {1.0 / (i + 1)} {i}\n" for i in range(SEEDED))
    write_run(write_experiment(root), RUN, name="live", status=1, metrics={"loss": seeded})
    server = mlscope_server(root, "--no-index-cache").start()
    try:
        url = server.url
        httpx.get(url + API + "/metrics/get-history", params={"run_id": RUN, "metric_key": "loss", "max_results": 1}, timeout=60)
        writers = [
            subprocess.Popen([sys.executable, "-c", MLFLOW_WRITER, url]),
            subprocess.Popen([sys.executable, "-c", MLSCOPE_WRITER, str(root)]),
        ]
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + SECONDS
        requests = [
            ("GET", API + "/metrics/get-history", {"params": {"run_id": RUN, "metric_key": "loss", "max_results": 1000}}),
            ("POST", API + "/runs/search", {"json": {"experiment_ids": ["1"]}}),
            ("POST", "/api/mlscope/metrics/histories", {"json": {"run_ids": [RUN], "metric_key": "loss"}}),
            ("GET", "/health", {}),
        ]

        def reader(n: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                i = n
                while time.monotonic() < stop_at:
                    method, path, kwargs = requests[i % len(requests)]
                    i += 1
                    started = time.perf_counter()
                    try:
                        status = client.request(method, path, **kwargs).status_code
                        problem = None if status < 400 else f"{path}: {status}"
                    except httpx.HTTPError as exc:
                        problem = f"{path}: {exc!r}"
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                        if problem:
                            failures.append(problem)

        threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = [writer.wait(timeout=120) for writer in writers]
        final = httpx.get(url + API + "/metrics/get-history", params={"run_id": RUN, "metric_key": "loss"}, timeout=60).json()["metrics"]
        yield {
            "root": root, "codes": codes, "failures": failures, "count": len(latencies), "final": final,
        }
    finally:
        server.stop()


def test_no_request_fails_while_two_writers_append_to_the_run_being_read(load: dict[str, Any]) -> None:
    assert load["codes"] == [0, 0]
    assert load["failures"] == [] and load["count"] > 0


def test_no_appended_point_is_lost(load: dict[str, Any]) -> None:
    lines = (load["root"] / "1" / RUN / "metrics" / "loss").read_text().splitlines()
    assert len(lines) == SEEDED + 2 * APPENDS
    assert len(load["final"]) == SEEDED + 2 * APPENDS  # and MLflow's get-history serves every one of them
