"""MLflow's proxied artifact API (``/api/2.0/mlflow-artifacts``): uploads land in the run's artifacts/ folder.

MLflow's own server is the oracle for statuses and shapes (side by side, same
requests); MLflow's client repository (``MlflowArtifactsRepository``) uploads,
lists, downloads and deletes through mlscope; then safety: traversal in every
spelling, metadata out of reach, interrupted uploads that leave nothing.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlscope.server.settings import ServerSettings
from mlscope.store.artifact_uris import run_artifact_uri
from mlscope.store.writer import TreeWriter
from tests.conftest import LiveServer
from tests.tracking_servers import ServerProcess, mlflow_server

PROXY = "/api/2.0/mlflow-artifacts"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(root, experiment id, run id): one run whose artifact_uri is what the tracking server gives runs."""
    root = tmp_path_factory.mktemp("proxy") / "mlruns"
    writer = TreeWriter(root)
    experiment_id = writer.create_experiment("proxied")
    run_id = writer.create_run(experiment_id, "tester")
    meta = (root / experiment_id / run_id / "meta.yaml").read_text()
    proxied = run_artifact_uri(root, experiment_id, writer.get_experiment(experiment_id).artifact_location, run_id)
    (root / experiment_id / run_id / "meta.yaml").write_text(meta.replace(writer.run_meta(run_id)["artifact_uri"], proxied))
    return root, experiment_id, run_id


@pytest.fixture(scope="module")
def server(tree: tuple[Path, str, str], serve: Callable[..., LiveServer]) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def run_path(tree: tuple[Path, str, str]) -> str:
    """The run's artifact folder behind the proxy: <exp>/<run>/artifacts."""
    return f"{tree[1]}/{tree[2]}/artifacts"


@pytest.fixture(scope="module")
def run_dir(tree: tuple[Path, str, str]) -> Path:
    return tree[0] / tree[1] / tree[2]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """MLflow's own server with --serve-artifacts (its default), storing into ./mlartifacts."""
    server = mlflow_server(tmp_path_factory.mktemp("mlflow-proxy")).start()
    yield server
    server.stop()


def poll(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def files_on_disk(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------- side by side with MLflow


def exchange(client: httpx.Client, base: str, run_path: str) -> list[tuple[int, Any]]:
    """The same sequence of proxy calls, answered as (status, parsed body or bytes)."""
    answers: list[tuple[int, Any]] = []

    def record(response: httpx.Response) -> None:
        kind = response.headers.get("content-type", "")
        body: Any = response.json() if kind.startswith("application/json") and response.content else response.content
        answers.append((response.status_code, body))

    record(client.put(f"{base}{PROXY}/artifacts/{run_path}/side/a.txt", content=b"hello"))
    record(client.put(f"{base}{PROXY}/artifacts/{run_path}/side/sub/empty.txt", content=b""))
    record(client.get(f"{base}{PROXY}/artifacts", params={"path": f"{run_path}/side"}))
    record(client.get(f"{base}{PROXY}/artifacts", params={"path": f"{run_path}/side/a.txt"}))
    record(client.get(f"{base}{PROXY}/artifacts", params={"path": f"{run_path}/side/nothing-here"}))
    record(client.get(f"{base}{PROXY}/artifacts/{run_path}/side/a.txt"))
    record(client.get(f"{base}{PROXY}/artifacts/{run_path}/side/missing.txt"))
    record(client.put(f"{base}{PROXY}/artifacts/{run_path}/side/.artifact.uploading.x", content=b"x"))
    record(client.delete(f"{base}{PROXY}/artifacts/{run_path}/side/a.txt"))
    record(client.delete(f"{base}{PROXY}/artifacts/{run_path}/side/never-existed"))
    record(client.get(f"{base}{PROXY}/artifacts", params={"path": f"{run_path}/side"}))
    record(client.post(f"{base}{PROXY}/mpu/create/{run_path}", json={"path": "big.bin", "num_parts": 2}))
    record(client.get(f"{base}{PROXY}/presigned/{run_path}/side/sub/empty.txt"))
    return answers


def comparable(answers: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Error bodies compared by code (messages name different roots); MLflow's sqlstate/error_class left out."""
    return [(status, body["error_code"] if isinstance(body, dict) and "error_code" in body else body) for status, body in answers]


def test_proxy_answers_as_mlflows_server_does(client: httpx.Client, reference: ServerProcess, run_path: str) -> None:
    ours = exchange(client, "", run_path)
    with httpx.Client(timeout=30) as theirs_client:
        theirs = exchange(theirs_client, reference.url, run_path)
    assert comparable(ours) == comparable(theirs)


def test_upload_lands_in_the_runs_own_artifacts_folder(client: httpx.Client, run_path: str, run_dir: Path) -> None:
    assert client.put(f"{PROXY}/artifacts/{run_path}/outputs/test.txt", content=b"hello world").status_code == 200
    assert (run_dir / "artifacts" / "outputs" / "test.txt").read_bytes() == b"hello world"


def test_ajax_prefix_serves_the_same_api(client: httpx.Client, run_path: str) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/ajax.txt", content=b"via ajax")
    assert client.get(f"/ajax-api/2.0/mlflow-artifacts/artifacts/{run_path}/ajax.txt").content == b"via ajax"


def test_large_uploads_stream_to_disk_intact(client: httpx.Client, run_path: str, run_dir: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length, so the server streams
        for start in range(0, len(payload), 256 * 1024):
            yield payload[start : start + 256 * 1024]

    assert client.put(f"{PROXY}/artifacts/{run_path}/big/weights.bin", content=chunks()).status_code == 200
    assert (run_dir / "artifacts" / "big" / "weights.bin").read_bytes() == payload
    assert client.get(f"{PROXY}/artifacts/{run_path}/big/weights.bin").content == payload


def test_download_is_an_attachment_that_never_sniffs(client: httpx.Client, run_path: str) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/page.html", content=b"<script>alert(1)</script>")
    response = client.get(f"{PROXY}/artifacts/{run_path}/page.html")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


def test_download_resumes_with_a_range_and_answers_head(client: httpx.Client, run_path: str) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/ranged.txt", content=b"0123456789")
    partial = client.get(f"{PROXY}/artifacts/{run_path}/ranged.txt", headers={"Range": "bytes=4-"})
    assert partial.status_code == 206 and partial.content == b"456789"
    head = client.head(f"{PROXY}/artifacts/{run_path}/ranged.txt")
    assert head.status_code == 200 and head.headers["content-length"] == "10"
    whole = client.get(f"{PROXY}/artifacts/{run_path}/ranged.txt")
    assert whole.content == b"0123456789" and whole.headers["etag"] == head.headers["etag"]


def test_deleting_a_folder_removes_it_whole(client: httpx.Client, run_path: str, run_dir: Path) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/gone/a.txt", content=b"a")
    client.put(f"{PROXY}/artifacts/{run_path}/gone/deep/b.txt", content=b"b")
    assert client.delete(f"{PROXY}/artifacts/{run_path}/gone").status_code == 200
    assert not (run_dir / "artifacts" / "gone").exists()


# ------------------------------------------------------------ MLflow's client


def test_mlflows_client_repository_round_trips_through_the_proxy(
    server: LiveServer, run_path: str, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository

    # Ask for multipart uploads: mlscope answers 501 like MLflow's local store, and the client falls back to PUT.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1024")
    source = tmp_path / "outputs"
    (source / "nested").mkdir(parents=True)
    (source / "test.txt").write_text("hello")
    (source / "nested" / "big.bin").write_bytes(os.urandom(4096))
    repo = MlflowArtifactsRepository(f"mlflow-artifacts:/{run_path}/client", tracking_uri=server.url)
    repo.log_artifacts(str(source), "outputs")
    assert files_on_disk(run_dir / "artifacts" / "client") == ["outputs/nested/big.bin", "outputs/test.txt"]
    assert [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts("outputs")] == [
        ("outputs/nested", True, None),
        ("outputs/test.txt", False, 5),
    ]
    (tmp_path / "down").mkdir()
    downloaded = Path(repo.download_artifacts("outputs", str(tmp_path / "down")))
    assert files_on_disk(downloaded) == ["nested/big.bin", "test.txt"]
    assert (downloaded / "nested" / "big.bin").read_bytes() == (source / "nested" / "big.bin").read_bytes()
    repo.delete_artifacts("outputs/nested")
    assert files_on_disk(run_dir / "artifacts" / "client") == ["outputs/test.txt"]


def test_the_dashboard_reads_a_proxied_run_from_the_tree(client: httpx.Client, tree: tuple[Path, str, str], run_path: str) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/shown/in-ui.txt", content=b"seen by the dashboard")
    run_id = tree[2]
    listed = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "shown"}).json()
    assert listed["root_uri"] == f"mlflow-artifacts:/{run_path}"
    assert listed["files"] == [{"path": "shown/in-ui.txt", "is_dir": False, "file_size": 21}]
    got = client.get("/get-artifact", params={"run_uuid": run_id, "path": "shown/in-ui.txt"})
    assert got.content == b"seen by the dashboard"


# ------------------------------------------------------------------- safety

TRAVERSALS = [
    "{run}/../meta.yaml",
    "{run}/%2e%2e/meta.yaml",
    "{run}/%2E%2E%2Fmeta.yaml",
    "{run}/x/..%2F..%2F..%2Fmeta.yaml",
    "{run}/..%5Cmeta.yaml",
    "{run}/a%00.txt",
    "%2Fetc%2Fpasswd",
    "{exp}/{run_id}/meta.yaml",
    "{exp}/{run_id}/params/injected",
    "{exp}/{run_id}/tags/artifacts/injected",
    "{exp}/meta.yaml",
    "{exp}/new-run/artifacts/x.txt",
    "{exp}/tags/artifacts/x.txt",
    ".trash/{exp}/{run_id}/artifacts/x.txt",
]


def raw_request(port: int, method: str, target: str, body: bytes = b"", declared: int | None = None) -> bytes:
    """An HTTP request exactly as written (no client-side path normalisation); the raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        length = len(body) if declared is None else declared
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("method", ["PUT", "DELETE", "GET"])
@pytest.mark.parametrize("template", TRAVERSALS)
def test_traversal_and_metadata_paths_are_refused(
    server: LiveServer, tree: tuple[Path, str, str], run_path: str, run_dir: Path, method: str, template: str
) -> None:
    root, experiment_id, run_id = tree
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and "artifacts" not in p.parts}
    meta = (root / experiment_id / "meta.yaml").read_bytes()
    target = PROXY + "/artifacts/" + template.format(run=run_path, exp=experiment_id, run_id=run_id)
    answer = raw_request(server.port, method, target, b"pwned")
    assert status_of(answer) in (400, 404)
    assert b"pwned" not in answer and b"run_id:" not in answer
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and "artifacts" not in p.parts} == before
    assert (root / experiment_id / "meta.yaml").read_bytes() == meta
    assert sorted(p.name for p in (root / experiment_id).iterdir()) == sorted(["meta.yaml", run_id])


def test_listing_cannot_leave_the_artifact_folder(client: httpx.Client, tree: tuple[Path, str, str]) -> None:
    _, experiment_id, run_id = tree
    for path in (f"{experiment_id}/{run_id}", f"{experiment_id}/{run_id}/artifacts/../params", "", "/etc"):
        assert client.get(f"{PROXY}/artifacts", params={"path": path}).status_code == 400


def test_a_symlink_in_the_artifacts_cannot_carry_a_write_out(
    client: httpx.Client, run_path: str, run_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, run_dir / "artifacts" / "escape")
    response = client.put(f"{PROXY}/artifacts/{run_path}/escape/x.txt", content=b"pwned")
    assert response.status_code == 400 and list(outside.iterdir()) == []
    assert client.delete(f"{PROXY}/artifacts/{run_path}/escape/x.txt").status_code == 400


@pytest.mark.parametrize("size", [64 * 1024, 3 * 1024 * 1024], ids=["whole-body", "streamed"])
def test_an_interrupted_upload_leaves_no_file(server: LiveServer, run_path: str, run_dir: Path, size: int) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = f"PUT {PROXY}/artifacts/{run_path}/cut/model-{size}.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n\r\n"
        sock.sendall(head.encode() + os.urandom(size // 2))
        if size > 1024 * 1024:  # streamed: the first megabyte is on disk, under a hidden name, before the cut
            cut = run_dir / "artifacts" / "cut"
            assert poll(lambda: cut.is_dir() and any(p.name.startswith(".artifact.uploading.") for p in cut.iterdir()))
        else:
            time.sleep(0.3)
    cut = run_dir / "artifacts" / "cut"
    assert poll(lambda: not cut.exists() or not any(cut.iterdir()))  # the partial temp file is removed too


def test_an_interrupted_upload_keeps_the_previous_version(client: httpx.Client, server: LiveServer, run_path: str, run_dir: Path) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/keep.bin", content=b"version 1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = f"PUT {PROXY}/artifacts/{run_path}/keep.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
        sock.sendall(head.encode() + b"v2" * 100)
    time.sleep(0.3)
    assert (run_dir / "artifacts" / "keep.bin").read_bytes() == b"version 1"


# ------------------------------------------------ trees written by mlflow server


@pytest.fixture(scope="module")
def mlflow_written(reference: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A run logged through MLflow's server: its files sit in <server cwd>/mlartifacts, beside the tree."""
    from mlflow import MlflowClient

    client = MlflowClient(reference.url)
    experiment_id = client.create_experiment("through-mlflow-server")
    run = client.create_run(experiment_id)
    source = tmp_path_factory.mktemp("mlflow-source")
    (source / "notes.txt").write_text("logged through mlflow server")
    client.log_artifact(run.info.run_id, str(source / "notes.txt"), "docs")
    model = client.create_logged_model(experiment_id, name="served-model", source_run_id=run.info.run_id)
    (source / "MLmodel").write_text("flavors: {}\n")
    client.log_model_artifact(model.model_id, str(source / "MLmodel"))
    client.set_terminated(run.info.run_id)
    return reference.cwd / "mlruns", experiment_id, run.info.run_id


def test_a_tree_written_through_mlflow_server_serves_its_mlartifacts(
    mlflow_written: tuple[Path, str, str], serve: Callable[..., LiveServer]
) -> None:
    root, experiment_id, run_id = mlflow_written
    assert f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts" in (root / experiment_id / run_id / "meta.yaml").read_text()
    ours = serve(root)
    with httpx.Client(base_url=ours.url, timeout=30) as client:
        listed = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "docs"}).json()
        assert listed["files"] == [{"path": "docs/notes.txt", "is_dir": False, "file_size": 28}]
        assert client.get("/get-artifact", params={"run_uuid": run_id, "path": "docs/notes.txt"}).text == "logged through mlflow server"
        proxied = client.get(f"{PROXY}/artifacts/{experiment_id}/{run_id}/artifacts/docs/notes.txt")
        assert proxied.text == "logged through mlflow server"


@contextmanager
def served(root: Path, **options: Any) -> Iterator[httpx.Client]:
    """A client of a server for ``root`` started with the given ServerSettings options."""
    server = LiveServer(root, settings=ServerSettings(**options)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def test_a_logged_model_written_through_mlflow_server_serves_its_mlartifacts(
    mlflow_written: tuple[Path, str, str], serve: Callable[..., LiveServer]
) -> None:
    root, experiment_id, run_id = mlflow_written
    [model_dir] = [p for p in (root / experiment_id / "models").iterdir() if (p / "meta.yaml").is_file()]
    assert "mlflow-artifacts:/" in (model_dir / "meta.yaml").read_text()
    with httpx.Client(base_url=serve(root).url, timeout=30) as client:
        listed = client.get("/api/mlscope/artifacts/list", params={"run_id": run_id, "model_id": model_dir.name, "path": ""}).json()
        assert [f["path"] for f in listed["files"]] == ["MLmodel"]
        got = client.get("/api/mlscope/artifacts/file", params={"run_id": run_id, "model_id": model_dir.name, "path": "MLmodel"})
        assert got.text == "flavors: {}\n"


def test_an_explicit_artifacts_destination_is_read_and_written(mlflow_written: tuple[Path, str, str]) -> None:
    root, experiment_id, run_id = mlflow_written
    destination = root.parent / "mlartifacts"
    with served(root, artifacts_destination=str(destination)) as client:
        path = f"{experiment_id}/{run_id}/artifacts/docs/notes.txt"
        assert client.get(f"{PROXY}/artifacts/{path}").text == "logged through mlflow server"
        assert client.put(f"{PROXY}/artifacts/custom/place/artifacts/x.txt", content=b"x").status_code == 200
    assert (destination / "custom" / "place" / "artifacts" / "x.txt").read_bytes() == b"x"


# ------------------------------------------------------------- server options


def test_without_serve_artifacts_the_proxy_is_unavailable(tree: tuple[Path, str, str], run_path: str) -> None:
    with served(tree[0], serve_artifacts=False) as client:
        for response in (client.get(f"{PROXY}/artifacts/{run_path}/outputs/test.txt"),
                         client.put(f"{PROXY}/artifacts/{run_path}/x.txt", content=b"x"),
                         client.get(f"{PROXY}/artifacts", params={"path": run_path})):
            assert response.status_code == 503 and "--no-serve-artifacts" in response.json()["message"]


def test_a_read_only_server_serves_downloads_and_refuses_uploads_and_deletes(
    client: httpx.Client, tree: tuple[Path, str, str], run_path: str, run_dir: Path
) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/kept.txt", content=b"kept")
    with served(tree[0], read_only=True) as read_only:
        assert read_only.get(f"{PROXY}/artifacts/{run_path}/kept.txt").content == b"kept"
        for response in (read_only.put(f"{PROXY}/artifacts/{run_path}/new.txt", content=b"x"),
                         read_only.delete(f"{PROXY}/artifacts/{run_path}/kept.txt")):
            assert response.status_code == 403 and response.json()["error_code"] == "PERMISSION_DENIED"
    assert (run_dir / "artifacts" / "kept.txt").read_bytes() == b"kept" and not (run_dir / "artifacts" / "new.txt").exists()


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_a_page_on_another_site_cannot_upload_or_delete(
    client: httpx.Client, run_path: str, run_dir: Path, headers: dict[str, str]
) -> None:
    client.put(f"{PROXY}/artifacts/{run_path}/victim.txt", content=b"mine")
    assert client.put(f"{PROXY}/artifacts/{run_path}/planted.txt", content=b"x", headers=headers).status_code == 403
    assert client.delete(f"{PROXY}/artifacts/{run_path}/victim.txt", headers=headers).status_code == 403
    assert (run_dir / "artifacts" / "victim.txt").exists() and not (run_dir / "artifacts" / "planted.txt").exists()
