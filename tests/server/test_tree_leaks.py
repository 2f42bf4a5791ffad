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


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[Path, Path]:
    """A tree with one run (artifacts/model.txt inside it) and a folder outside the tree holding a secret."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    root = tmp_path / "mlruns"
    run_dir = write_run(write_experiment(root), RUN, name="crafted", params={"lr": "0.1"}, tags={"team": "a"})
    (run_dir / "artifacts" / "model.txt").write_text("weights")
    return root, outside


def _artifact_texts(root: Path) -> list[str]:
    texts = []
    for client in _client(root):
        texts.append(client.get(API + "/artifacts/list", params={"run_id": RUN}).text)
        texts.append(client.get("/get-artifact", params={"run_uuid": RUN, "path": "passwd"}).text)
    return texts


def test_an_artifact_uri_outside_the_tree_is_not_served(crafted: tuple[Path, Path]) -> None:
    root, outside = crafted
    _set_meta(root / "1" / RUN, artifact_uri=outside.as_uri())
    texts = _artifact_texts(root)
    assert not any(SECRET in t or '"passwd"' in t for t in texts)
    assert "outside the served tree" in texts[0]


def test_an_artifacts_folder_symlinked_out_of_the_tree_is_not_served(crafted: tuple[Path, Path]) -> None:
    root, outside = crafted
    artifacts = root / "1" / RUN / "artifacts"
    (artifacts / "model.txt").unlink()
    artifacts.rmdir()
    artifacts.symlink_to(outside)
    assert not any(SECRET in t or '"passwd"' in t for t in _artifact_texts(root))


def test_an_artifact_root_in_mlartifacts_beside_the_tree_is_served(crafted: tuple[Path, Path]) -> None:
    root, _ = crafted
    beside = root.parent / "mlartifacts" / "1" / RUN / "artifacts"
    beside.mkdir(parents=True)
    (beside / "beside.txt").write_text("ok")
    _set_meta(root / "1" / RUN, artifact_uri=beside.as_uri())
    for client in _client(root):
        assert client.get("/get-artifact", params={"run_uuid": RUN, "path": "beside.txt"}).text == "ok"


def test_a_temp_file_left_by_a_killed_writer_is_not_listed(crafted: tuple[Path, Path]) -> None:
    root, _ = crafted
    (root / "1" / RUN / "artifacts" / ".mlscope-tmp-123-model.txt").write_text("half")
    for client in _client(root):
        listing = client.get(API + "/artifacts/list", params={"run_id": RUN}).json()
    assert [f["path"] for f in listing["files"]] == ["model.txt"]
