"""Many MLflow clients logging into ``mlscope server`` at once: nothing lost or reordered, never a 5xx.

A smaller version of issue 10's load (20 processes into 20 runs and 4 into one
run, for a minute): 6 client processes each log into their own run and 3 into
one shared run, while this test searches the runs. The clients run with
``MLFLOW_HTTP_REQUEST_MAX_RETRIES=0``, so any 5xx makes one fail instead of
being retried away. Afterwards every point is in its metric file, each
writer's points in the order it logged them, and MLflow's FileStore reads the tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reference_trees import file_store
from tests.tracking_servers import mlscope_server

SOLO_WRITERS = 6
SHARED_WRITERS = 3
POINTS = 100  # log_metric calls per writer
BATCH_EVERY = 10  # and a log_batch of 10 points every 10 steps
SPREAD = 1_000_000  # value = writer * SPREAD + step, so each line says who wrote it

WRITER = f'''
import sys, time
from mlflow import MlflowClient
from mlflow.entities import Metric
url, run_id, writer = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = MlflowClient(url)
for step in range({POINTS}):
    client.log_metric(run_id, "shared", writer * {SPREAD} + step, step=step)
    if step % {BATCH_EVERY} == 0:
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(f"batch_{{writer}}", float(step + k), now, step + k) for k in range({BATCH_EVERY})])
client.log_param(run_id, f"writer_{{writer}}", "done")
client.set_tag(run_id, f"finished_{{writer}}", str({POINTS}))
'''


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Runs, who wrote into which, and the statuses of the searches made while the writers ran."""
    from mlflow import MlflowClient

    base = tmp_path_factory.mktemp("concurrency")
    root = base / "mlruns"
    root.mkdir()
    server = mlscope_server(root).start()
    try:
        client = MlflowClient(server.url)
        experiment_id = client.create_experiment("load")
        solo = [client.create_run(experiment_id).info.run_id for _ in range(SOLO_WRITERS)]
        shared = client.create_run(experiment_id).info.run_id
        plan = [(run_id, writer) for writer, run_id in enumerate(solo)] + [(shared, SOLO_WRITERS + i) for i in range(SHARED_WRITERS)]
        (base / "writer.py").write_text(WRITER)
        env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
        procs = [
            subprocess.Popen([sys.executable, str(base / "writer.py"), server.url, run_id, str(writer)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for run_id, writer in plan
        ]
        statuses = []
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while any(p.poll() is None for p in procs):
                answer = http.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id], "filter": "metrics.shared >= 0"})
                statuses.append(answer.status_code)
                time.sleep(0.05)
        failures = [(p.args, p.returncode, p.communicate()[1][-2000:]) for p in procs if p.returncode != 0]
        yield {"root": root, "server": server, "experiment": experiment_id, "plan": plan, "solo": solo,
               "shared": shared, "statuses": statuses, "failures": failures}
    finally:
        server.stop()


def metric_lines(root: Path, experiment_id: str, run_id: str, key: str) -> list[tuple[float, int]]:
    text = (root / experiment_id / run_id / "metrics" / key).read_text()
    return [(float(parts[1]), int(parts[2])) for parts in (line.split() for line in text.splitlines())]


def test_no_client_saw_an_error(logged: dict[str, Any]) -> None:
    assert logged["failures"] == []


def test_searches_during_the_load_never_failed(logged: dict[str, Any]) -> None:
    assert logged["statuses"] and set(logged["statuses"]) == {200}


def test_every_writer_has_every_point_in_the_order_it_logged_them(logged: dict[str, Any]) -> None:
    for run_id, writer in logged["plan"]:
        mine = [(value, step) for value, step in metric_lines(logged["root"], logged["experiment"], run_id, "shared") if value // SPREAD == writer]
        assert mine == [(writer * SPREAD + step, step) for step in range(POINTS)], f"writer {writer}"


def test_the_shared_run_holds_exactly_the_shared_writers_points(logged: dict[str, Any]) -> None:
    lines = metric_lines(logged["root"], logged["experiment"], logged["shared"], "shared")
    assert len(lines) == SHARED_WRITERS * POINTS


def test_batches_params_and_tags_all_arrived(logged: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(logged["server"].url)
    for run_id, writer in logged["plan"]:
        run = client.get_run(run_id)
        assert run.data.params[f"writer_{writer}"] == "done" and run.data.tags[f"finished_{writer}"] == str(POINTS)
        assert len(client.get_metric_history(run_id, f"batch_{writer}")) == POINTS


def test_mlflows_file_store_reads_every_run(logged: dict[str, Any]) -> None:
    store = file_store(logged["root"])
    runs = store.search_runs([logged["experiment"]], None, 1, max_results=1000)
    assert len(runs) == SOLO_WRITERS + 1
    for run in runs:
        assert len(store.get_metric_history(run.info.run_id, "shared")) == (SHARED_WRITERS if run.info.run_id == logged["shared"] else 1) * POINTS
