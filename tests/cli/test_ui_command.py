"""`mlscope ui` serves a tree, prints its URL, stops cleanly; user mistakes are one line and exit 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.handmade import write_experiment, write_run

MLSCOPE = [sys.executable, "-m", "mlscope.cli.main"]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MLSCOPE, *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    write_run(write_experiment(root, "1", "exp"), "a" * 32, name="handsome-goose-822")
    return root


def assert_one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_missing_folder_is_a_one_line_error(tmp_path):
    assert_one_line_error(run_cli("ui", "--backend-store-uri", str(tmp_path / "nope")), "does not exist")


def test_folder_that_is_not_mlruns_is_a_one_line_error(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "readme.txt").write_text("hi")
    assert_one_line_error(run_cli("ui", "--backend-store-uri", str(tmp_path / "stuff")), "not an mlruns folder")


def test_remote_uri_is_a_one_line_error():
    assert_one_line_error(run_cli("ui", "--backend-store-uri", "s3://bucket/mlruns"), "not a local path")


def test_port_in_use_is_a_one_line_error(tree):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert_one_line_error(run_cli("ui", "--backend-store-uri", str(tree), "--port", str(port)), "already in use")


def test_server_alias_accepts_the_same_options():
    result = run_cli("server", "--help")
    assert result.returncode == 0 and "--backend-store-uri" in result.stdout and "--allowed-hosts" in result.stdout


def serve_and_stop(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[str, str, int]:
    port = free_port()
    proc = subprocess.Popen([*MLSCOPE, *args, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    try:
        deadline = time.time() + 30
        body = ""
        while time.time() < deadline:
            try:
                body = httpx.post(f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search", json={"experiment_ids": ["1"]}, timeout=5).text
                break
            except httpx.HTTPError:
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    return body, out + err, proc.returncode


def test_ui_serves_the_tree_prints_the_url_and_stops_on_ctrl_c(tree):
    body, output, code = serve_and_stop(["ui", "--backend-store-uri", tree.as_uri()])
    assert "handsome-goose-822" in body
    assert "http://localhost:" in output
    assert code == 0 and "Traceback" not in output


def test_default_store_is_mlflow_tracking_uri_when_local(tree, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": tree.as_uri()}
    body, _, _ = serve_and_stop(["ui"], env=env, cwd=tmp_path)
    assert "handsome-goose-822" in body


def test_default_store_is_local_mlruns(tree):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    body, _, _ = serve_and_stop(["ui"], env=env, cwd=tree.parent)
    assert "handsome-goose-822" in body


def test_incomplete_frontend_is_a_one_line_error_naming_the_missing_file(tree, tmp_path):
    import shutil

    from mlscope.server.app import frontend_dir

    # A copy of the installed package whose vendor build is gone, as in a wheel built without it.
    package = Path(__import__("mlscope").__file__).parent
    site = tmp_path / "site"
    shutil.copytree(package, site / "mlscope", ignore=shutil.ignore_patterns("frontend"))
    shutil.copytree(frontend_dir(), site / "mlscope" / "frontend", ignore=shutil.ignore_patterns("uPlot.esm.js"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    assert_one_line_error(run_cli("ui", "--backend-store-uri", str(tree), env=env, cwd=tmp_path), "vendor/uplot/uPlot.esm.js")
