"""`pip install .` builds a real wheel that carries the frontend and its npm-provided vendor files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

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
