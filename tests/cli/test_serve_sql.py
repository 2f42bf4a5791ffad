"""`mlscope server|ui --backend-store-uri sqlite:///...`: says which store it opened, serves MLflow's client, artifacts proxied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.tracking import MlflowClient

from tests.tracking_servers import BIN, ServerProcess, free_port


def _server(command: str, cwd: Path, *args: str) -> ServerProcess:
    port = free_port()
    cmd = [str(BIN / "mlscope"), command, "--host", "127.0.0.1", "--port", str(port), *args]
    return ServerProcess(f"mlscope {command}", cmd, port, cwd / f"mlscope-{port}.log", cwd, env={"MLFLOW_TRACKING_URI": ""})


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = _server("server", tmp_path, "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}").start()
    yield server
    server.stop()


def test_the_first_line_names_the_database_it_opened(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    first = sqlite_server.output().splitlines()[0]
    assert first.startswith("mlscope ") and f"serving SQLite database {tmp_path / 'mlflow.db'} (MLflow schema dc11669786a5, read-write" in first


def test_mlflows_client_logs_a_run_and_an_artifact_that_mlflow_reads_from_the_database(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=sqlite_server.url)
    experiment_id = client.create_experiment("served")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_metric(run_id, "loss", 0.5, step=2)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    client.log_artifact(run_id, str(notes))
    client.set_terminated(run_id)
    assert [a.path for a in client.list_artifacts(run_id)] == ["notes.txt"]
    assert Path(client.download_artifacts(run_id, "notes.txt", str(tmp_path))).read_text() == "hello"
    run = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", "mlflow-artifacts:/").get_run(run_id)
    assert (run.data.params, run.data.metrics, run.info.status) == ({"lr": "0.1"}, {"loss": 0.5}, "FINISHED")
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    assert (tmp_path / "mlartifacts" / experiment_id / run_id / "artifacts" / "notes.txt").read_text() == "hello"


def test_ui_opens_mlflow_db_when_there_is_no_mlruns_folder(tmp_path: Path) -> None:
    SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path)).create_experiment("in-the-db")
    server = _server("ui", tmp_path).start()
    try:
        assert f"serving SQLite database {Path('mlflow.db')}" in server.output().splitlines()[0] or "serving SQLite database mlflow.db" in server.output()
        names = [e.name for e in MlflowClient(tracking_uri=server.url).search_experiments()]
        assert "in-the-db" in names
    finally:
        server.stop()
