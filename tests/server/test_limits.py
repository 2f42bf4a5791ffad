"""Requests and trees that try to make the server hold, walk or read without bound get a bounded answer (issue 18)."""

from __future__ import annotations

import io
import os
import resource
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from mlscope.server.app import create_app
from tests.conftest import LiveServer
from tests.handmade import remove_deep, write_experiment, write_run

API = "/api/2.0/mlflow"


# ------------------------------------------------------------------ request bodies


def _post_chunked_forever(server: LiveServer, path: str) -> tuple[bytes, int]:
    """POST a valid-JSON-so-far chunked body that never ends; (the server's answer, bytes sent before it came)."""
    url = urlsplit(server.url)
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        opening = b'{"experiment_ids": ["0"], "pad": "'
        sock.sendall(b"%x\r\n%s\r\n" % (len(opening), opening))
        answer = bytearray()
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                answer.extend(chunk)
                if b"}" in answer:
                    break
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        piece = b"x" * (1 << 20)
        frame = b"%x\r\n%s\r\n" % (len(piece), piece)
        try:
            while not done.is_set() and sent < (200 << 20):
                sock.sendall(frame)
                sent += len(piece)
        except OSError:
            pass  # the server closed the connection after answering
        reader.join(timeout=30)
    return bytes(answer), sent


def test_a_chunked_body_without_a_length_is_refused_once_it_passes_the_bound(tracking_server: LiveServer) -> None:
    from mlscope.server.security import MAX_JSON_BODY

    answer, sent = _post_chunked_forever(tracking_server, API + "/runs/search")
    assert answer.decode().startswith("HTTP/1.1 400"), answer[:200]
    assert "Request body too large" in answer.decode()
    assert sent < MAX_JSON_BODY + (48 << 20)  # answered soon after the bound, not after the client gave up


def test_the_server_answers_normally_after_refusing_a_chunked_body(tracking_server: LiveServer) -> None:
    import httpx

    _post_chunked_forever(tracking_server, "/api/mlscope/runs/search")
    chunks = iter([b'{"experiment_ids": ', b'["0"]}'])
    response = httpx.post(tracking_server.url + API + "/runs/search", content=chunks, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200


# ------------------------------------------------------------------ damaged trees

RUN, SIBLING = "a" * 32, "c" * 32


def _bytes_name(folder: Path, name: bytes, content: bytes) -> None:
    with open(os.fsencode(folder) + b"/" + name, "wb") as out:
        out.write(content)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Experiment 1: run RUN has a param, a metric and an artifact whose names are not UTF-8; SIBLING is clean."""
    root = tmp_path_factory.mktemp("undecodable") / "mlruns"
    exp = write_experiment(root)
    run_dir = write_run(exp, RUN, name="damaged", metrics={"loss": "1 0.5 0\n"}, params={"lr": "0.1"})
    write_run(exp, SIBLING, name="sibling", metrics={"loss": "1 0.25 0\n"}, params={"lr": "0.2"})
    _bytes_name(run_dir / "params", b"bad\xff", b"v")
    _bytes_name(run_dir / "metrics", b"m\xff", b"7 0.75 3\n")
    _bytes_name(run_dir / "artifacts", b"art\xfe.txt", b"inside")
    (run_dir / "artifacts" / "ok.txt").write_text("fine")
    with TestClient(create_app(root), base_url="http://localhost") as client:
        yield client


def test_a_run_with_an_undecodable_param_name_is_still_found_with_its_siblings(damaged: TestClient) -> None:
    response = damaged.post(API + "/runs/search", json={"experiment_ids": ["1"]})
    assert response.status_code == 200
    assert sorted(r["info"]["run_name"] for r in response.json()["runs"]) == ["damaged", "sibling"]


def test_an_undecodable_param_name_is_served_with_its_bytes_escaped(damaged: TestClient) -> None:
    params = damaged.get(API + "/runs/get", params={"run_id": RUN}).json()["run"]["data"]["params"]
    assert {"key": "bad\\xff", "value": "v"} in params and {"key": "lr", "value": "0.1"} in params


def test_an_undecodable_metric_name_keeps_its_history(damaged: TestClient) -> None:
    response = damaged.get(API + "/metrics/get-history", params={"run_id": RUN, "metric_key": "m\\xff"})
    assert response.status_code == 200
    assert [(m["value"], m["step"]) for m in response.json()["metrics"]] == [(0.75, 3)]


def test_the_dashboards_run_table_and_compare_serve_a_run_with_an_undecodable_name(damaged: TestClient) -> None:
    table = damaged.post("/api/mlscope/runs/search", json={"experiment_ids": ["1"]})
    compare = damaged.post("/api/mlscope/compare", json={"run_ids": [RUN, SIBLING]})
    assert (table.status_code, compare.status_code) == (200, 200)
    assert len(table.json()["runs"]) == 2 and len(compare.json()["runs"]) == 2


@pytest.mark.parametrize("listing", [API + "/artifacts/list", "/api/mlscope/artifacts/list"])
def test_an_undecodable_artifact_name_is_listed_beside_its_siblings(damaged: TestClient, listing: str) -> None:
    response = damaged.get(listing, params={"run_id": RUN})
    assert response.status_code == 200
    assert sorted(f["path"] for f in response.json()["files"]) == ["art\\xfe.txt", "ok.txt"]


@pytest.mark.parametrize("download", ["/get-artifact", "/api/mlscope/artifacts/file"])
def test_an_undecodable_artifact_name_downloads_by_its_listed_path(damaged: TestClient, download: str) -> None:
    response = damaged.get(download, params={"run_uuid": RUN, "run_id": RUN, "path": "art\\xfe.txt"})
    assert (response.status_code, response.content) == (200, b"inside")


def test_the_zip_of_a_run_with_an_undecodable_artifact_name_holds_every_file(damaged: TestClient) -> None:
    response = damaged.get("/api/mlscope/artifacts/zip", params={"run_id": RUN})
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["art\\xfe.txt", "ok.txt"]
    assert archive.read("art\\xfe.txt") == b"inside"


@pytest.fixture
def deep_run(tmp_path: Path) -> Iterator[Path]:
    """A tree whose run RUN has artifacts/top.txt and artifacts/d/d/.../d/leaf.txt, 1,000 folders deep."""
    root = tmp_path / "mlruns"
    run_dir = write_run(write_experiment(root), RUN, name="deep")
    fd = os.open(run_dir / "artifacts", os.O_RDONLY)
    try:
        for _ in range(1000):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as leaf:
            leaf.write(b"bottom")
    finally:
        os.close(fd)
    (run_dir / "artifacts" / "top.txt").write_text("top")
    try:
        yield root
    finally:
        remove_deep(run_dir / "artifacts" / "d")


def test_a_zip_of_1000_deep_artifact_folders_holds_the_deepest_file(deep_run: Path) -> None:
    with TestClient(create_app(deep_run), base_url="http://localhost") as client:
        response = client.get("/api/mlscope/artifacts/zip", params={"run_id": RUN})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["top.txt", "d/" * 1000 + "leaf.txt"]
    assert archive.read("d/" * 1000 + "leaf.txt") == b"bottom"


# ------------------------------------------------------------------ metric keys past a file name's limit

LONG_KEYS = ["k" * 256, "k" * 300, "a/" + "k" * 300, "k" * 5000, "/".join(["k" * 200] * 30)]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("long-keys") / "mlruns"
    write_run(write_experiment(root), RUN, name="r", metrics={"loss": "1 0.5 0\n"})
    with TestClient(create_app(root), base_url="http://localhost") as client:
        yield client


@pytest.mark.parametrize("key", LONG_KEYS, ids=lambda k: f"{len(k)}-chars")
def test_a_metric_key_past_the_file_name_limit_has_an_empty_history_as_in_mlflow(plain: TestClient, key: str) -> None:
    for path in (API + "/metrics/get-history", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"):
        response = plain.get(path, params={"run_id": RUN, "run_ids": RUN, "metric_key": key})
        assert (response.status_code, response.json()["metrics"]) == (200, []), path


@pytest.mark.parametrize("key", LONG_KEYS, ids=lambda k: f"{len(k)}-chars")
def test_the_dashboards_histories_answer_a_metric_key_past_the_file_name_limit(plain: TestClient, key: str) -> None:
    response = plain.post("/api/mlscope/metrics/histories", json={"run_ids": [RUN], "metric_key": key})
    assert response.status_code == 200


# ------------------------------------------------------------------ what one run may cost

HUGE, FINE = "d" * 32, "e" * 32


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def test_a_metric_file_past_the_bound_is_reported_never_read_and_its_siblings_stay(tmp_path: Path) -> None:
    from mlscope.store.metric_files import MAX_METRIC_FILE_BYTES

    root = tmp_path / "mlruns"
    exp = write_experiment(root)
    huge = write_run(exp, HUGE, name="huge", metrics={"loss": "1 0.5 0\n"})
    write_run(exp, FINE, name="fine", metrics={"loss": "1 0.25 0\n"})
    with open(huge / "metrics" / "big", "wb") as sparse:  # 1 GB + 1 byte of holes: no disk used, all of it readable
        sparse.truncate(MAX_METRIC_FILE_BYTES + 1)
    before = _peak_rss_mb()
    with TestClient(create_app(root), base_url="http://localhost") as client:
        names = sorted(r["info"]["run_name"] for r in client.post(API + "/runs/search", json={"experiment_ids": ["1"]}).json()["runs"])
        problems = client.get("/api/mlscope/problems").json()["problems"]
        history = client.get(API + "/metrics/get-history", params={"run_id": HUGE, "metric_key": "big"})
        chart = client.post("/api/mlscope/metrics/histories", json={"run_ids": [HUGE], "metric_key": "big"})
    assert names == ["fine", "huge"]
    assert [p["path"] for p in problems] == [str(huge)] and "'big' file is 1,073,741,825 bytes" in problems[0]["reason"]
    assert history.status_code == 400 and "at most 1,073,741,824 bytes" in history.json()["message"]
    assert chart.status_code == 200
    assert _peak_rss_mb() - before < 256  # reading the file would have taken over 1 GB


def test_a_run_with_more_param_files_than_the_bound_is_reported_and_its_siblings_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlscope.index import run_reads

    monkeypatch.setattr(run_reads, "MAX_KEYS_PER_FOLDER", 1000)  # the real bound is 100,000: the same code path, smaller
    root = tmp_path / "mlruns"
    exp = write_experiment(root)
    crowded = write_run(exp, HUGE, name="crowded", params={f"p{i}": "1" for i in range(1001)})
    write_run(exp, FINE, name="fine", params={"lr": "0.1"})
    with TestClient(create_app(root), base_url="http://localhost") as client:
        runs = client.post(API + "/runs/search", json={"experiment_ids": ["1"]}).json()["runs"]
        problems = client.get("/api/mlscope/problems").json()["problems"]
    assert sorted(r["info"]["run_name"] for r in runs) == ["crowded", "fine"]
    assert [p["path"] for p in problems] == [str(crowded)] and "params/ holds more than 1,000 entries" in problems[0]["reason"]


# ------------------------------------------------------------------ a pathological search and /health

PATTERNS = ["params.long LIKE '%x%x%x%Y'", "params.long ILIKE '%x%x%x%x%Y'", "params.long LIKE '%x%x%Y'"]


def test_health_keeps_answering_while_pathological_like_searches_run(tmp_path: Path) -> None:
    """The issue's freeze: '%x%x%x%Y' on a 5,000-character param held /health for over 30 s."""
    import httpx

    from tests.tracking_servers import mlscope_server

    root = tmp_path / "mlruns"
    exp = write_experiment(root)
    for i in range(20):
        write_run(exp, f"{i:032x}", name=f"r{i}", params={"long": "x" * 5000})
    server = mlscope_server(root, "--no-index-cache").start()
    try:
        statuses: list[int] = []

        def search(pattern: str) -> None:
            response = httpx.post(server.url + API + "/runs/search", json={"experiment_ids": ["1"], "filter": pattern}, timeout=120)
            statuses.append(response.status_code)

        searches = [threading.Thread(target=search, args=(p,)) for p in PATTERNS * 3]
        for thread in searches:
            thread.start()
        longest = 0.0
        while any(t.is_alive() for t in searches):
            started = time.perf_counter()
            assert httpx.get(server.url + "/health", timeout=60).status_code == 200
            longest = max(longest, time.perf_counter() - started)
            time.sleep(0.02)
        for thread in searches:
            thread.join()
    finally:
        server.stop()
    print(f"\nlongest /health answer during {len(searches)} pathological searches: {longest * 1000:.0f} ms "
          f"(load average {os.getloadavg()[0]:.1f})")
    assert statuses == [200] * len(searches)
    assert longest < 5.0  # was over 30 s; the issue's ~100 ms needs a quiet machine (here /health alone can take 0.5 s)


# ------------------------------------------------------------------ wrong types and misplaced files are reported

STAGE, STATUS, CLEAN = "1" * 32, "2" * 32, "3" * 32


@pytest.fixture(scope="module")
def mistyped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, TestClient]]:
    """Experiment 1: a run whose lifecycle_stage is an object, one with status 99, a clean one, and files named like
    a run (in the experiment) and like an experiment (at the root)."""
    import yaml

    root = tmp_path_factory.mktemp("mistyped") / "mlruns"
    exp = write_experiment(root)
    for run_id, name, change in ((STAGE, "stage", {"lifecycle_stage": {"x": 1}}), (STATUS, "status", {"status": 99}), (CLEAN, "clean", {})):
        run_dir = write_run(exp, run_id, name=name)
        meta = yaml.safe_load((run_dir / "meta.yaml").read_text())
        (run_dir / "meta.yaml").write_text(yaml.safe_dump({**meta, **change}))
    (exp / ("4" * 32)).write_text("a file, not a run folder")
    (root / "7").write_text("a file, not an experiment folder")
    with TestClient(create_app(root), base_url="http://localhost") as client:
        yield root, client


def _problems(client: TestClient) -> dict[str, str]:
    return {p["path"]: p["reason"] for p in client.get("/api/mlscope/problems").json()["problems"]}


def test_a_run_whose_lifecycle_stage_is_not_a_stage_is_served_as_active_not_hidden(mistyped: tuple[Path, TestClient]) -> None:
    root, client = mistyped
    runs = client.post(API + "/runs/search", json={"experiment_ids": ["1"]}).json()["runs"]
    assert sorted(r["info"]["run_name"] for r in runs) == ["clean", "stage", "status"]
    assert "lifecycle_stage \"{'x': 1}\" is not 'active' or 'deleted'" in _problems(client)[str(root / "1" / STAGE)]


def test_an_unknown_status_is_served_as_running_and_reported(mistyped: tuple[Path, TestClient]) -> None:
    root, client = mistyped
    run = client.get(API + "/runs/get", params={"run_id": STATUS}).json()["run"]
    assert run["info"]["status"] == "RUNNING"
    assert "status '99' is not an MLflow run status" in _problems(client)[str(root / "1" / STATUS)]


def test_files_where_run_or_experiment_folders_belong_are_reported(mistyped: tuple[Path, TestClient]) -> None:
    root, client = mistyped
    problems = _problems(client)
    assert problems[str(root / "1" / ("4" * 32))] == "a file where a run folder belongs (skipped)"
    assert problems[str(root / "7")] == "a file where an experiment folder belongs (skipped)"
    assert str(root / "1" / CLEAN) not in problems


def test_a_run_past_the_bounds_is_not_read_again_until_its_folders_move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reported once, then left alone: a 1,000,000-param run used to be listed again at every refresh (~1 s each)."""
    from mlscope.index import RunIndex, run_index, run_reads

    monkeypatch.setattr(run_reads, "MAX_KEYS_PER_FOLDER", 1000)
    root = tmp_path / "mlruns"
    crowded = write_run(write_experiment(root), HUGE, name="crowded", params={f"p{i}": "1" for i in range(1001)})
    reads: list[str] = []
    real = run_index.read_details
    def counted(run_dir: str, *args: Any, **kwargs: Any) -> Any:
        if run_dir.startswith(str(root)):  # other tests' live servers in this process read their own trees
            reads.append(run_dir)
        return real(run_dir, *args, **kwargs)

    monkeypatch.setattr(run_index, "read_details", counted)
    index = RunIndex(root)
    index.build()
    assert [p.path for p in index.problems()] == [str(crowded)]
    reads.clear()
    for _ in range(3):
        index.refresh()
    assert reads == []
    (crowded / "params" / "p0").unlink()  # back within the bound: its folder moved, so it is read again
    index.refresh()
    assert reads and set(reads) == {str(crowded)} and index.problems() == []
