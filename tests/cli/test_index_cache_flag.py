"""`mlscope ui|server` keeps the index's snapshot in the user's cache directory unless told not to."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.handmade import write_experiment, write_run
from tests.tracking_servers import mlscope_server


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    write_run(write_experiment(root, "1"), "a" * 32, name="alpha", metrics={"loss": "1 0.5 0\n"})
    return root


def serve_once(tree: Path, cache_home: Path, *flags: str) -> list[Path]:
    """Start and stop a server on the tree; the snapshot files then in cache_home."""
    server = mlscope_server(tree, *flags)
    server.env["XDG_CACHE_HOME"] = str(cache_home)
    try:
        server.start(timeout=60)
        # A metric filter waits for the full index: once it answers, the snapshot is due.
        found = httpx.post(server.url + "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["1"], "filter": "metrics.loss > 0"}, timeout=60)
        assert len(found.json()["runs"]) == 1
    finally:
        server.stop()  # the snapshot is written once the index is built, and at shutdown
    folder = cache_home / "mlscope" / "index"
    return sorted(folder.glob("*.idx")) if folder.is_dir() else []


def test_the_server_keeps_the_index_snapshot_in_the_user_cache_directory(tree, tmp_path):
    files = serve_once(tree, tmp_path / "xdg")
    assert len(files) == 1 and (files[0].stat().st_mode & 0o777) == 0o600
    assert not any(name.endswith(".idx") for _, _, names in os.walk(tree) for name in names)


def test_no_index_cache_writes_no_snapshot(tree, tmp_path):
    assert serve_once(tree, tmp_path / "xdg", "--no-index-cache") == []
