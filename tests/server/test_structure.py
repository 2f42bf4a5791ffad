"""The server's shape: HTTP only, MLflow's endpoints under both prefixes, no tracking client loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlscope.server import mlflow
from mlscope.server.app import create_app
from mlscope.server.routes import AJAX_PREFIX, MLFLOW_PREFIXES


def test_serving_a_tree_does_not_import_the_tracking_client(tmp_path: Path) -> None:
    code = (
        "import sys, pathlib; from mlscope.server.app import create_app; "
        f"create_app(pathlib.Path({str(tmp_path)!r})); "
        "print(sorted(m for m in sys.modules if m.startswith('mlscope.tracking')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_every_mlflow_endpoint_is_mounted_under_both_prefixes(tmp_path: Path) -> None:
    paths = {route.path for route in create_app(tmp_path).routes}
    for endpoint in mlflow.ENDPOINTS:
        prefixes = (AJAX_PREFIX,) if endpoint.ajax_only else MLFLOW_PREFIXES
        for prefix in prefixes:
            assert prefix + endpoint.path in paths
