"""`pip install .` builds a real wheel that carries the frontend and its committed vendor files, and serves them."""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[1]


def test_wheel_includes_frontend_and_vendor_files(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("mlscope-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "mlscope/server/app.py",
        "mlscope/frontend/index.html",
        "mlscope/frontend/app.js",
        "mlscope/frontend/vendor/preact/preact.mjs",
        "mlscope/frontend/vendor/uplot/uPlot.esm.js",
        "mlscope/frontend/vendor/echarts/echarts.esm.min.mjs",
    ):
        assert expected in names, expected
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "mlscope = mlscope.cli.main:main" in entry_points


def test_runtime_dependencies_are_only_the_four():
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(d.split(">")[0].split("=")[0] for d in deps) == ["aiofiles", "pyyaml", "starlette", "uvicorn"]


def test_every_backend_package_is_listed_for_the_wheel():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO / "backend").parts) for init in (REPO / "backend" / "mlscope").rglob("__init__.py")
    }
    assert on_disk <= listed, on_disk - listed


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def installed_from_fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding the wheel that plain `pip wheel .` builds from a fresh clone of the committed tree."""
    work = tmp_path_factory.mktemp("fresh-clone")
    subprocess.run(["git", "clone", "-q", str(REPO), str(work / "clone")], check=True, timeout=120)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(work / "clone")],
        check=True, capture_output=True, timeout=600,
    )
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next((work / "dist").glob("mlscope-*.whl"))
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    return venv


@pytest.mark.ui
def test_wheel_from_a_fresh_clone_serves_a_page_whose_modules_all_load(installed_from_fresh_clone, tmp_path, page):
    from tests.handmade import write_experiment, write_run

    root = tmp_path / "mlruns"
    write_run(write_experiment(root, "1", "packaged-exp"), "b" * 32, name="packaged-run")
    port = _free_port()
    proc = subprocess.Popen(
        [str(installed_from_fresh_clone / "bin" / "mlscope"), "ui", "--backend-store-uri", str(root), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
    try:
        deadline = time.time() + 30
        while not _answers(f"http://127.0.0.1:{port}/health"):
            assert proc.poll() is None and time.time() < deadline, "the installed mlscope did not start"
            time.sleep(0.1)
        page.goto(f"http://127.0.0.1:{port}/#/experiments/1")
        expect(page.get_by_text("packaged-run")).to_be_visible(timeout=20_000)
        assert failed == []
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
