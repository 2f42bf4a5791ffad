"""Acceptance: one script of MLflow's common tracking calls, run as ``import mlflow`` and as ``import mlscope as mlflow``.

Each run writes its own folder; MLflow's FileStore reads both trees and they hold the
same experiments, runs, params, metrics, histories, tags, datasets and artifacts
(ids and clock times aside). The same script also runs through mlscope's REST client
against MLflow's own tracking server, compared with MLflow's client against another one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tracking.tree_snapshot import differences, snapshot
from tests.tracking_servers import mlflow_server

SCRIPT = (Path(__file__).parent / "common_calls.py").read_text()
IMPORTS = {"mlflow": "import mlflow", "mlscope": "import mlscope as mlflow"}
SCRIPT_EXPERIMENTS = {"common-calls", "to-delete", "to-restore"}


def run_script(folder: Path, module: str, tracking_uri: str) -> None:
    """The script as train.py in folder (the same relative name for both, so source tags match)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = SCRIPT.replace("import mlflow  # the test replaces this line", IMPORTS[module], 1)
    assert text != SCRIPT
    (folder / "train.py").write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=tracking_uri, MLFLOW_ALLOW_FILE_STORE="true", MLFLOW_HTTP_REQUEST_MAX_RETRIES="2")
    result = subprocess.run([sys.executable, "train.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture(scope="module")
def local_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("acceptance-local")
    trees = {}
    for module in IMPORTS:
        root = base / module / "mlruns"
        run_script(base / module, module, root.as_uri())
        trees[module] = root
    return trees


@pytest.fixture(scope="module")
def server_trees(tmp_path_factory: pytest.TempPathFactory, mlflow_server_process: Any) -> Iterator[dict[str, Path]]:
    """Each import logging through its own ``mlflow server`` (file store, proxied artifacts in ./mlartifacts):
    mlscope's client through the session's server, MLflow's through one of its own."""
    base = tmp_path_factory.mktemp("acceptance-rest")
    theirs = mlflow_server(base / "server-mlflow").start()
    try:
        run_script(base / "client-mlscope", "mlscope", mlflow_server_process.url)
        run_script(base / "client-mlflow", "mlflow", theirs.url)
        yield {"mlscope": mlflow_server_process.cwd / "mlruns", "mlflow": base / "server-mlflow" / "mlruns"}
    finally:
        theirs.stop()


def test_the_script_writes_the_same_tree_as_mlflow(local_trees: dict[str, Path]) -> None:
    ours, theirs = snapshot(local_trees["mlscope"]), snapshot(local_trees["mlflow"])
    assert differences(ours, theirs) == []


def test_the_trees_hold_what_the_script_logged(local_trees: dict[str, Path]) -> None:
    """Guards the comparison itself: the snapshot sees every kind of thing the script logs."""
    runs = snapshot(local_trees["mlscope"])["common-calls"]["runs"]
    parent = runs["parent"]
    assert parent["params"]["table_rows"] == "3" and parent["tags"]["param_error"] == "INVALID_PARAMETER_VALUE"
    assert [name for name, *_ in parent["datasets"]] == ["dataset", "iris-train", "tensors"]
    assert "eval/table.json" in parent["artifacts"] and "images/samples~pred+step+3+timestamp+1234+<uuid>+compressed.webp" in parent["artifacts"]
    assert runs["child-a"]["tags"]["mlflow.parentRunId"] == "parent" and len(runs["batch-renamed"]["histories"]["m"]) == 1500
    assert runs["deleted"]["lifecycle"] == "deleted" and runs["killed"]["status"] == "KILLED"


def test_the_script_over_rest_writes_the_same_tree_as_mlflows_client(server_trees: dict[str, Path]) -> None:
    ours, theirs = (snapshot(server_trees[module], SCRIPT_EXPERIMENTS) for module in ("mlscope", "mlflow"))
    assert differences(ours, theirs) == []
    assert ours["common-calls"]["runs"]["parent"]["artifacts"]  # the proxied uploads landed


@pytest.fixture(scope="module")
def mlscope_server_tree(tmp_path_factory: pytest.TempPathFactory, mlscope_server_process: Any) -> Path:
    """``import mlscope as mlflow`` logging through ``mlscope server`` (artifacts land inside its tree)."""
    run_script(tmp_path_factory.mktemp("acceptance-mlscope-server"), "mlscope", mlscope_server_process.url)
    return Path(mlscope_server_process.cwd) / "mlruns"


def test_the_script_through_mlscope_server_writes_the_same_tree_as_mlflow_through_its_server(
    mlscope_server_tree: Path, server_trees: dict[str, Path]
) -> None:
    ours, theirs = snapshot(mlscope_server_tree, SCRIPT_EXPERIMENTS), snapshot(server_trees["mlflow"], SCRIPT_EXPERIMENTS)
    assert differences(ours, theirs) == []
    assert ours["common-calls"]["runs"]["parent"]["artifacts"]
