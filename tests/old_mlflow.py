"""Older MLflow releases as oracles: each in its own venv (mlflow-skinny, made once under the temp folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def old_mlflow_python(version: str) -> Path:
    """The python of a venv holding mlflow-skinny==version; the test is skipped when it cannot be installed."""
    venv = Path(tempfile.gettempdir()) / f"mlscope-tests-mlflow-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
            subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"mlflow-skinny=={version}"], check=True, capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"MLflow {version} could not be installed in {venv}: {exc}")
    return python


def run_python(python: Path | str, script: str, *args: str) -> str:
    """Run a script with the file store allowed; its last line of output (the test fails with its stderr)."""
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
    result = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
