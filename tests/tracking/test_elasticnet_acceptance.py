"""Acceptance (issue 17): MLflow's sklearn_elasticnet_wine example as ``import mlscope as mlflow`` against ``mlscope server``,
its model-logging line through MLflow's own client, gives what the example as ``import mlflow`` gives against ``mlflow server``.

Both trees are read by MLflow's FileStore and compared (ids and clock times aside); the registered
model and its logged model match too, and the model loads back through mlscope with ``mlflow.pyfunc``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tracking.elasticnet_wine import wine_quality_frame
from tests.tracking.tree_snapshot import differences, snapshot
from tests.tracking_servers import ServerProcess, mlflow_server, mlscope_server

SCRIPT = (Path(__file__).parent / "elasticnet_wine.py").read_text()
IMPORT_LINE = "import mlflow  # the test replaces this line"
MODEL_LINE = '    mlflow.sklearn.log_model(model, name="model", registered_model_name="ElasticnetWineModel")  # the test may replace this line'
# mlscope has no model flavours: the model goes through MLflow's client, into the run mlscope started.
MLFLOW_CLIENT_MODEL_LINES = """    import mlflow as mlflow_client

    mlflow_client.set_tracking_uri(mlflow.get_tracking_uri())
    with mlflow_client.start_run(run_id=run_id):
        mlflow_client.sklearn.log_model(model, name="model", registered_model_name="ElasticnetWineModel")"""


def run_example(folder: Path, module: str, tracking_uri: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = SCRIPT
    if module == "mlscope":
        text = text.replace(IMPORT_LINE, "import mlscope as mlflow", 1).replace(MODEL_LINE, MLFLOW_CLIENT_MODEL_LINES, 1)
        assert "import mlscope as mlflow" in text and "mlflow_client.sklearn" in text
    (folder / "train.py").write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=tracking_uri, MLFLOW_ALLOW_FILE_STORE="true", MLFLOW_HTTP_REQUEST_MAX_RETRIES="2")
    result = subprocess.run([sys.executable, "train.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    base = tmp_path_factory.mktemp("elasticnet")
    ours_root = base / "server-mlscope" / "mlruns"
    ours_root.mkdir(parents=True)
    started = {"mlscope": mlscope_server(ours_root).start()}
    try:
        started["mlflow"] = mlflow_server(base / "server-mlflow").start()
        run_example(base / "client-mlscope", "mlscope", started["mlscope"].url)
        run_example(base / "client-mlflow", "mlflow", started["mlflow"].url)
        yield started
    finally:
        for server in started.values():
            server.stop()


def _normalised(tree: dict[str, Any]) -> dict[str, Any]:
    """The log-model history tag holds ids and times: keep what was logged (path, flavours)."""
    for run in tree["elasticnet-wine"]["runs"].values():
        history = run["tags"].pop("mlflow.log-model.history", None)
        if history is not None:
            run["tags"]["mlflow.log-model.history"] = sorted((m.get("artifact_path"), sorted(m.get("flavors", {}))) for m in json.loads(history))
    return tree


def _model_view(url: str) -> dict[str, Any]:
    from mlflow import MlflowClient

    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("elasticnet-wine")
    (model,) = client.search_logged_models([experiment.experiment_id])
    (version,) = client.search_model_versions("name = 'ElasticnetWineModel'")
    files = sorted(f.path for f in client.list_logged_model_artifacts(model.model_id))
    return {"model": (model.name, model.status, sorted(model.params.items()), sorted((m.key, m.value) for m in model.metrics)),
            "files": files, "version": (version.name, version.version, version.status, version.model_id == model.model_id)}


def test_the_example_through_mlscope_server_logs_what_mlflow_server_logs(servers: dict[str, ServerProcess]) -> None:
    ours = _normalised(snapshot(servers["mlscope"].cwd / "mlruns", {"elasticnet-wine"}))
    theirs = _normalised(snapshot(servers["mlflow"].cwd / "mlruns", {"elasticnet-wine"}))
    assert differences(ours, theirs) == []
    assert set(ours["elasticnet-wine"]["runs"]["elasticnet"]["metrics"]) == {"rmse", "r2", "mae"}


def test_the_registered_and_logged_model_match_mlflow_servers(servers: dict[str, ServerProcess]) -> None:
    ours, theirs = _model_view(servers["mlscope"].url), _model_view(servers["mlflow"].url)
    assert ours == theirs
    assert "MLmodel" in ours["files"] and ours["version"][1] == "1"


def test_the_registered_model_loads_back_through_mlscope(servers: dict[str, ServerProcess], monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    import pandas as pd

    monkeypatch.setenv("MLFLOW_TRACKING_URI", servers["mlscope"].url)
    mlflow.set_tracking_uri(servers["mlscope"].url)
    try:
        model = mlflow.pyfunc.load_model("models:/ElasticnetWineModel/1")
        frame: pd.DataFrame = wine_quality_frame().drop(["quality"], axis=1).head(5)
        assert len(model.predict(frame)) == 5
    finally:
        mlflow.set_tracking_uri(None)
