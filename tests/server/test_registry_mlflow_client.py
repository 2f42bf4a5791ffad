"""MLflow's own client against mlscope server, end to end: register a logged model, alias it, load it back.

Two ways a tree gets its model: logged locally by MLflow (file: artifact URIs,
the server only serves the registry), and logged through mlscope server
itself (artifacts uploaded and downloaded through the proxied artifact API).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import LiveServer

X = np.array([[1.0], [2.0], [3.0]])
Y = np.array([2.0, 4.0, 6.0])


@pytest.fixture
def tracking(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Set MLflow's global tracking URI for one test (``tracking(uri)``) and put it back afterwards."""
    import mlflow
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    stack: list[Any] = []

    def use(uri: str) -> Any:
        context = _use_tracking_uri(uri)
        context.__enter__()
        stack.append(context)
        return mlflow

    yield use
    while stack:
        stack.pop().__exit__(None, None, None)


def _log_sklearn_model(mlflow: Any) -> str:
    from sklearn.linear_model import LinearRegression

    # An explicit experiment: an earlier test in the session may have left another one active.
    experiment_id = mlflow.MlflowClient().create_experiment(f"registry-e2e-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.sklearn.log_model(LinearRegression().fit(X, Y), name="model", input_example=X[:1])
    return run.info.run_id


@pytest.fixture(scope="module")
def local_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tree whose model MLflow logged locally (file: artifact URIs)."""
    import mlflow
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    root = tmp_path_factory.mktemp("client-local") / "mlruns"
    with _use_tracking_uri(root.as_uri()):
        run_id = _log_sklearn_model(mlflow)
    return root, run_id


def test_register_model_from_a_runs_uri_then_load_it_by_alias(local_tree: tuple[Path, str], serve: Any,
                                                               tracking: Any) -> None:
    root, run_id = local_tree
    server: LiveServer = serve(root)
    mlflow = tracking(server.url)
    version = mlflow.register_model(f"runs:/{run_id}/model", "regression")
    assert (version.name, version.version, version.run_id) == ("regression", "1", run_id)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("regression", "champion", version.version)
    assert client.get_model_version_by_alias("regression", "champion").version == "1"
    model = mlflow.pyfunc.load_model("models:/regression@champion")
    assert model.predict(np.array([[5.0]])).tolist() == pytest.approx([10.0])


def test_load_by_version_number_and_search(local_tree: tuple[Path, str], serve: Any, tracking: Any) -> None:
    root, run_id = local_tree
    mlflow = tracking(serve(root).url)
    mlflow.register_model(f"runs:/{run_id}/model", "by-number")
    client = mlflow.MlflowClient()
    assert [m.name for m in client.search_registered_models(filter_string="name = 'by-number'")] == ["by-number"]
    assert [v.run_id for v in client.search_model_versions(f"run_id = '{run_id}'") if v.name == "by-number"] == [run_id]
    model = mlflow.pyfunc.load_model("models:/by-number/1")
    assert model.predict(np.array([[1.5]])).tolist() == pytest.approx([3.0])


def test_register_links_the_version_on_the_logged_model(local_tree: tuple[Path, str], serve: Any, tracking: Any) -> None:
    import json

    root, run_id = local_tree
    mlflow = tracking(serve(root).url)
    version = mlflow.register_model(f"runs:/{run_id}/model", "linked-model")
    client = mlflow.MlflowClient()
    model_id = client.get_model_version("linked-model", version.version).model_id or \
        client.search_logged_models(experiment_ids=[client.get_run(run_id).info.experiment_id])[0].model_id
    links = json.loads(client.get_logged_model(model_id).tags["mlflow.modelVersions"])
    assert {"name": "linked-model", "version": int(version.version)} in [
        {"name": link["name"], "version": int(link["version"])} for link in links
    ]


def test_everything_through_mlscope_server(tmp_path: Path, serve: Any, tracking: Any) -> None:
    """Log (artifacts uploaded through the proxy), register, alias and load, with only the server's URL."""
    root = tmp_path / "mlruns"
    root.mkdir()
    mlflow = tracking(serve(root).url)
    run_id = _log_sklearn_model(mlflow)
    assert mlflow.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    version = mlflow.register_model(f"runs:/{run_id}/model", "served")
    mlflow.MlflowClient().set_registered_model_alias("served", "prod", version.version)
    model = mlflow.pyfunc.load_model("models:/served@prod")
    assert model.predict(np.array([[4.0]])).tolist() == pytest.approx([8.0])
