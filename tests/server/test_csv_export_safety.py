"""CSV export: cells a spreadsheet would run as formulas are neutralised; the file is never sniffed (issue 18)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from starlette.testclient import TestClient

from mlscope.server.app import create_app
from tests.handmade import write_experiment, write_run


def test_export_neutralises_formula_cells_and_keeps_numbers(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, "1", "exp")
    params = {"a": '=HYPERLINK("http://evil")', "b": "+1+cmd", "c": "@SUM(A1)", "d": "-0.5", "e": "-x"}
    write_run(exp, "a" * 32, name="=1+1", params=params)
    with TestClient(create_app(tmp_path), base_url="http://localhost") as client:
        client.app.state.index.wait_ready(30)  # type: ignore[attr-defined]
        answer = client.get("/api/mlscope/runs/export.csv", params=[("experiment_ids", "1"), *(("params", k) for k in "abcde")])
    rows = list(csv.reader(io.StringIO(answer.text)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Name"] == "'=1+1"
    assert [row[f"params.{k}"] for k in "abcde"] == ["'" + params["a"], "'+1+cmd", "'@SUM(A1)", "-0.5", "'-x"]
    assert answer.headers["x-content-type-options"] == "nosniff"
