"""`mlscope server` takes mlflow server's flags with their meaning (a drop-in for the tutorial's commands)."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient

from tests.tracking_servers import ServerProcess, mlscope_server

API = "/api/2.0/mlflow"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlscope.cli.main", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def start(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """start(*flags, root=None) runs ``mlscope server`` on a tree (default: tmp/mlruns, not yet created)."""
    started: list[ServerProcess] = []

    def run(*flags: str, root: Path | None = None) -> ServerProcess:
        server = mlscope_server(root or tmp_path / "mlruns", *flags, cwd=tmp_path).start(timeout=60)
        started.append(server)
        return server

    yield run
    for server in started:
        server.stop()


def create_experiment(server: ServerProcess, name: str) -> httpx.Response:
    return httpx.post(server.url + API + "/experiments/create", json={"name": name}, timeout=10)


def test_help_lists_mlflow_servers_flags() -> None:
    result = run_cli("server", "--help")
    assert result.returncode == 0
    for flag in (
        "--backend-store-uri",
        "--default-artifact-root",
        "--artifacts-destination",
        "--serve-artifacts",
        "--no-serve-artifacts",
        "--artifacts-only",
        "--host",
        "--port",
        "--workers",
        "--gunicorn-opts",
        "--uvicorn-opts",
        "--read-only",
    ):
        assert flag in result.stdout, flag


def test_server_creates_a_missing_store_with_the_default_experiment(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start()
    assert (tmp_path / "mlruns" / "0" / "meta.yaml").is_file()
    assert httpx.get(server.url + API + "/experiments/get", params={"experiment_id": "0"}, timeout=10).json()["experiment"]["name"] == "Default"


def test_server_options_it_does_not_use_are_accepted_with_a_note(start) -> None:  # type: ignore[no-untyped-def]
    server = start("--gunicorn-opts", "--timeout 60", "--uvicorn-opts", "--limit-concurrency 10")
    assert create_experiment(server, "ok").status_code == 200
    output = server.output()
    assert "--gunicorn-opts '--timeout 60' is ignored" in output and "--uvicorn-opts '--limit-concurrency 10' is ignored" in output


def test_default_artifact_root_is_where_new_experiments_keep_artifacts(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start("--default-artifact-root", "s3://bucket/artifacts")
    experiment_id = create_experiment(server, "remote-artifacts").json()["experiment_id"]
    experiment = httpx.get(server.url + API + "/experiments/get", params={"experiment_id": experiment_id}, timeout=10).json()["experiment"]
    assert experiment["artifact_location"] == f"s3://bucket/artifacts/{experiment_id}"


def test_serve_artifacts_gives_runs_proxied_artifact_uris_and_no_serve_artifacts_local_ones(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proxied = start()
    local = start("--no-serve-artifacts", root=tmp_path / "other")
    for server, expected in ((proxied, "mlflow-artifacts:/0/"), (local, (tmp_path / "other" / "0").as_uri())):
        run = httpx.post(server.url + API + "/runs/create", json={"experiment_id": "0", "start_time": 1}, timeout=10).json()["run"]
        assert run["info"]["artifact_uri"].startswith(expected)


def test_artifacts_destination_receives_proxied_uploads(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    destination = tmp_path / "store"
    server = start("--artifacts-destination", str(destination))
    run_id = httpx.post(server.url + API + "/runs/create", json={"experiment_id": "0", "start_time": 1}, timeout=10).json()["run"]["info"]["run_id"]
    response = httpx.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/a.txt", content=b"hello", timeout=10)
    assert response.status_code == 200
    assert (destination / "0" / run_id / "artifacts" / "a.txt").read_bytes() == b"hello"


def test_artifacts_only_serves_the_proxy_and_refuses_tracking(start) -> None:  # type: ignore[no-untyped-def]
    tracking = start()
    run_id = httpx.post(tracking.url + API + "/runs/create", json={"experiment_id": "0", "start_time": 1}, timeout=10).json()["run"]["info"]["run_id"]
    tracking.stop()
    server = start("--artifacts-only")
    refused = httpx.get(server.url + API + "/experiments/search", params={"max_results": 10}, timeout=10)
    assert refused.status_code == 503 and "--artifacts-only" in refused.text
    upload = httpx.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/a.txt", content=b"hi", timeout=10)
    assert upload.status_code == 200
    assert httpx.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/a.txt", timeout=10).content == b"hi"


def test_read_only_flag_refuses_writes(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mlruns").mkdir()
    server = start("--read-only")
    assert create_experiment(server, "nope").status_code == 403
    assert "(read-only)" in server.output()


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_a_host_beyond_this_machine_prints_who_can_write(start, host: str, warned: bool) -> None:  # type: ignore[no-untyped-def]
    server = start("--host", host)
    output = server.output()
    assert ("anyone who can reach this port can read and write" in output) is warned
    if warned:
        assert "--allowed-hosts" in output and "--read-only" in output


def test_short_flags_work_as_in_mlflow_server(tmp_path: Path) -> None:
    server = mlscope_server(tmp_path / "mlruns", "-w", "1", cwd=tmp_path)
    server.cmd = [c if c != "--host" else "-h" for c in server.cmd]
    server.cmd = [c if c != "--port" else "-p" for c in server.cmd]
    try:
        assert create_experiment(server.start(timeout=60), "short").status_code == 200
    finally:
        server.stop()


def test_several_workers_share_one_tree_without_losing_writes(start, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Four clients log into one run and each into its own, through two worker processes: every point lands."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    server = start("--workers", "2")
    client = MlflowClient(server.url)
    shared = client.create_run("0").info.run_id

    def work(worker: int) -> str:
        mine = client.create_run("0").info.run_id
        for step in range(50):
            client.log_metric(shared, f"w{worker}", float(step), step=step)
            client.log_metric(mine, "loss", float(step), step=step)
        client.log_param(mine, "worker", str(worker))
        return mine

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        own = list(pool.map(work, range(4)))
    for worker, run_id in enumerate(own):
        assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(50))
        assert client.get_run(run_id).data.params == {"worker": str(worker)}  # whichever worker answers
        assert [m.value for m in client.get_metric_history(shared, f"w{worker}")] == [float(s) for s in range(50)]


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_one_error_line_and_exit_code_2(port: str) -> None:
    result = run_cli("ui", "--port", port)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("mlscope ui: error: argument -p/--port: invalid port")
