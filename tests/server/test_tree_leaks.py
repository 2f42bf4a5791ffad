"""A damaged or crafted run never serves a file from outside the tree (issue 18, leaks 1 and 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from mlscope.server.app import create_app
from tests.handmade import write_experiment, write_run

API = "/api/2.0/mlflow"
RUN = "b" * 32
SECRET = "do-not-serve-me"


def _client(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(root), base_url="http://localhost") as client:
        yield client


def _set_meta(run_dir: Path, **fields: object) -> None:
    meta = yaml.safe_load((run_dir / "meta.yaml").read_text())
    meta.update(fields)
    (run_dir / "meta.yaml").write_text(yaml.safe_dump(meta))


@pytest.fixture
def cwd_with_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's working directory holds ./artifacts/secret.txt and ./metrics/loss, which no run may reach."""
    cwd = tmp_path / "cwd"
    (cwd / "artifacts").mkdir(parents=True)
    (cwd / "artifacts" / "secret.txt").write_text(SECRET)
    (cwd / "metrics").mkdir()
    (cwd / "metrics" / "loss").write_text(SECRET + "\n")
    monkeypatch.chdir(cwd)
    return cwd


def test_a_run_whose_details_fail_to_load_never_reads_the_servers_working_directory(tmp_path: Path, cwd_with_secrets: Path) -> None:
    root = tmp_path / "mlruns"
    exp = write_experiment(root)
    run_dir = write_run(exp, RUN, name="damaged", metrics={"loss": "garbage line\n"})
    _set_meta(run_dir, artifact_uri="file:///nonexistent/moved/tree/artifacts")
    for client in _client(root):
        listing = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": RUN})
        download = client.get("/get-artifact", params={"run_uuid": RUN, "path": "secret.txt"})
        history = client.get(API + "/metrics/get-history", params={"run_id": RUN, "metric_key": "loss"})
        assert listing.status_code == 200 and "secret.txt" not in listing.text
        assert download.status_code == 404
        for response in (listing, download, history):
            assert SECRET not in response.text
