"""The runs CSV streams in batches of rows and still holds every run once."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from starlette.testclient import TestClient

from mlscope.server.app import create_app
from mlscope.server.ui import runs_table
from tests.handmade import write_experiment, write_run


def test_export_of_more_runs_than_a_batch_lists_each_run_once(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(runs_table, "CSV_BATCH", 7)
    exp = write_experiment(tmp_path, "1", "exp")
    ids = [f"{i:032x}" for i in range(30)]
    for i, run_id in enumerate(ids):
        write_run(exp, run_id, start=1000 + i, name=f"r{i}", params={"lr": str(i)})
    with TestClient(create_app(tmp_path), base_url="http://localhost") as client:
        client.app.state.index.wait_ready(30)  # type: ignore[attr-defined]
        answer = client.get("/api/mlscope/runs/export.csv", params={"experiment_ids": "1", "params": "lr"})
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][0] == "Run ID" and rows[0][-1] == "params.lr"
    assert sorted(row[0] for row in rows[1:]) == ids
    assert {row[0]: row[-1] for row in rows[1:]}[ids[12]] == "12"
