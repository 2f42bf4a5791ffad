"""The benchmark's bookkeeping: targets in the table, columns kept per tree, server CPU time."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from bench import run
from bench.measure import Server


def test_table_says_no_where_a_figure_misses_the_issue_target() -> None:
    text = run.table(10_000, {"mlscope": {"page_1000": (35.0, 20), "csv_export": (400.0, 5)}})
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()}
    assert rows["runs/search 1,000 runs by start_time (warm) (ms)"].endswith("| <= 20.0 | NO |")
    assert rows["CSV export of every run (mlscope's runs table) (ms)"].endswith("| <= 1,000 | yes |")


def test_table_shows_mlflow_time_over_mlscope_time() -> None:
    text = run.table(10_000, {"mlscope": {"page_100": (2.0, 30)}, "MLflow SQLite": {"page_100": (300.0, 5)}})
    assert "| 300 (n=5) | 150x |" in text


@pytest.fixture
def trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(run, "TREES", tmp_path)
    monkeypatch.setattr("bench.servers.TREES", tmp_path)
    (tmp_path / "runs-10.json").write_text(json.dumps({"stamp": {"runs": 10}, "files": 280, "seconds": 0.5}))
    return tmp_path


def test_a_servers_column_is_reused_on_the_same_tree(trees: Path) -> None:
    run.save_column(10, "MLflow SQLite", {"page_100": (300.0, 5)}, {"page_sorted": ["a", "b"]})
    found = run.saved_column(10, "MLflow SQLite")
    assert found is not None
    assert (found["rows"], found["pages"]) == ({"page_100": (300.0, 5)}, {"page_sorted": ["a", "b"]})


def test_a_servers_column_from_another_tree_is_not_reused(trees: Path) -> None:
    run.save_column(10, "MLflow SQLite", {"page_100": (300.0, 5)}, {})
    (trees / "runs-10.json").write_text(json.dumps({"stamp": {"runs": 10}, "files": 281, "seconds": 0.6}))
    assert run.saved_column(10, "MLflow SQLite") is None


def test_server_cpu_time_counts_its_work(tmp_path: Path) -> None:
    busy = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    server = Server("busy", [sys.executable, "-c", busy], 0, tmp_path / "busy.log").start()
    try:
        deadline = time.perf_counter() + 60
        while server.cpu_s() < 0.3 and time.perf_counter() < deadline:
            time.sleep(0.05)
        assert 0.3 <= server.cpu_s() < 5
    finally:
        server.stop()
