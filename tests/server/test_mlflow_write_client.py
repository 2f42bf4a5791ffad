"""MLflow's own Python client logs to ``mlscope server`` over HTTP and reads back what it wrote, at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus, Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from tests.conftest import LiveServer
from tests.reference_trees import file_store

T0 = 1_700_000_000_000


@pytest.fixture
def client(tracking_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    """MLflow's client (and fluent API) pointed at the session's mlscope server, in a fresh experiment."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    # mlflow.set_experiment exports MLFLOW_EXPERIMENT_ID: undone after the test, so no later subprocess inherits it.
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    mlflow.set_tracking_uri(tracking_server.url)
    client = MlflowClient(tracking_server.url)
    experiment_id = client.create_experiment(f"client-{time.monotonic_ns()}")
    mlflow.set_experiment(experiment_id=experiment_id)
    yield client
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def test_fluent_run_reads_back_params_metrics_and_tags(client: MlflowClient) -> None:
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"depth": 3, "optimizer": "adam"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev"})
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.01", "depth": "3", "optimizer": "adam"}
    assert got.data.metrics == {"loss": 0.2, "acc": 0.9, "f1": 0.8}
    assert {k: got.data.tags[k] for k in ("team", "stage", "mlflow.runName")} == {"team": "vision", "stage": "dev", "mlflow.runName": "fluent"}
    assert (got.info.status, got.info.run_name) == ("FINISHED", "fluent")
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [1.0, 0.5, 1 / 3, 0.25, 0.2]


def test_log_batch_writes_every_entity(client: MlflowClient) -> None:
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id())
    metrics = [Metric("m", float(i), T0 + i, i) for i in range(1000)]
    client.log_batch(run.info.run_id, metrics=metrics)
    client.log_batch(run.info.run_id, params=[Param(f"p{i}", str(i)) for i in range(100)], tags=[RunTag("t", "v")])
    got = client.get_run(run.info.run_id)
    assert len(client.get_metric_history(run.info.run_id, "m")) == 1000
    assert (got.data.metrics["m"], len(got.data.params), got.data.tags["t"]) == (999.0, 100, "v")


def test_a_param_logged_again_with_another_value_is_refused(client: MlflowClient) -> None:
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id())
    client.log_param(run.info.run_id, "p", "1")
    with pytest.raises(MlflowException) as refused:
        client.log_param(run.info.run_id, "p", "2")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in refused.value.message


def test_nested_runs_name_their_parent(client: MlflowClient) -> None:
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        mlflow.log_metric("x", 1)
    found = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list")
    assert [r.info.run_id for r in found] == [child.info.run_id]


def test_rename_delete_and_restore_a_run(client: MlflowClient) -> None:
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id(), run_name="before")
    client.set_tag(run.info.run_id, "mlflow.runName", "after")
    assert client.get_run(run.info.run_id).info.run_name == "after"
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert mlflow.search_runs(output_format="list") == []
    client.restore_run(run.info.run_id)
    assert [r.info.run_id for r in mlflow.search_runs(output_format="list")] == [run.info.run_id]


def test_a_deleted_run_refuses_writes(client: MlflowClient) -> None:
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id())
    client.delete_run(run.info.run_id)
    with pytest.raises(MlflowException, match="must be in 'active' lifecycle_stage"):
        client.log_metric(run.info.run_id, "m", 1.0)


def test_rename_tag_and_delete_an_experiment(client: MlflowClient) -> None:
    experiment_id = client.create_experiment(f"exp-{time.monotonic_ns()}", tags={"owner": "me"})
    client.rename_experiment(experiment_id, f"renamed-{experiment_id}")
    client.set_experiment_tag(experiment_id, "note", "hello")
    experiment = client.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags["owner"], experiment.tags["note"]) == (f"renamed-{experiment_id}", "me", "hello")
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    assert client.get_experiment_by_name(f"renamed-{experiment_id}").lifecycle_stage == "active"


def test_log_input_records_the_dataset(client: MlflowClient) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, source="data.csv", name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest, {t.key: t.value for t in i.tags}) for i in inputs] == [
        ("toy", dataset.digest, {"mlflow.data.context": "training"})
    ]
    assert json.loads(inputs[0].dataset.profile) == {"num_rows": 3, "num_elements": 6}


def test_logged_model_lifecycle_through_the_client(client: MlflowClient) -> None:
    experiment_id = mlflow.tracking.fluent._get_experiment_id()
    run = client.create_run(experiment_id)
    model = client.create_logged_model(
        experiment_id, name="clf", source_run_id=run.info.run_id, params={"C": "1.0"}, tags={"kind": "sklearn"}, model_type="classifier"
    )
    assert (model.status, model.artifact_location.startswith("mlflow-artifacts:/")) == (LoggedModelStatus.PENDING, True)
    client.log_model_params(model.model_id, {"max_iter": "500"})
    client.set_logged_model_tags(model.model_id, {"stage": "candidate"})
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    got = client.get_logged_model(model.model_id)
    assert (got.status, got.name, got.model_type, got.source_run_id) == (LoggedModelStatus.READY, "clf", "classifier", run.info.run_id)
    assert (got.params, {k: got.tags[k] for k in ("kind", "stage")}) == ({"C": "1.0", "max_iter": "500"}, {"kind": "sklearn", "stage": "candidate"})
    assert [m.model_id for m in client.search_logged_models([experiment_id])] == [model.model_id]
    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException, match="not found"):
        client.get_logged_model(model.model_id)


def test_a_metric_logged_with_a_model_id_lands_on_the_model_too(client: MlflowClient, tracking_server: LiveServer) -> None:
    experiment_id = mlflow.tracking.fluent._get_experiment_id()
    run = client.create_run(experiment_id)
    model = client.create_logged_model(experiment_id, source_run_id=run.info.run_id)
    client.log_metric(run.info.run_id, "acc", 0.75, timestamp=T0, step=1, model_id=model.model_id)
    line = (tracking_server.root / experiment_id / "models" / model.model_id / "metrics" / "acc").read_text()
    assert line == f"{T0} 0.75 1 {run.info.run_id}\n"


def _metric_rows(metrics: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((m.key, m.value, m.step, m.timestamp, m.run_id, m.model_id, m.dataset_name, m.dataset_digest) for m in metrics)


def test_log_model_then_log_metrics_with_its_id_are_returned_by_get_and_search(client: MlflowClient, tracking_server: LiveServer) -> None:
    from sklearn.linear_model import LogisticRegression

    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), name="clf")
        mlflow.log_metrics({"accuracy": 0.9, "f1": 0.8}, step=1, model_id=info.model_id)
        mlflow.log_metric("accuracy", 0.95, step=2, model_id=info.model_id)
    got = client.get_logged_model(info.model_id)
    assert {m.key: m.value for m in got.metrics} == {"accuracy": 0.95, "f1": 0.8}
    assert {m.run_id for m in got.metrics} == {run.info.run_id}
    found = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    assert [_metric_rows(m.metrics) for m in found] == [_metric_rows(got.metrics)]
    oracle = file_store(tracking_server.root).get_logged_model(info.model_id)  # MLflow's FileStore reading the same tree
    assert _metric_rows(got.metrics) == _metric_rows(oracle.metrics)


def test_logged_model_metrics_keep_the_latest_value_per_dataset(client: MlflowClient, tracking_server: LiveServer) -> None:
    experiment_id = mlflow.tracking.fluent._get_experiment_id()
    run = client.create_run(experiment_id)
    model = client.create_logged_model(experiment_id, source_run_id=run.info.run_id)
    points = [("acc", 0.5, 1, None), ("acc", 0.7, 2, None), ("acc", 0.6, 0, ("eval", "d1")), ("acc", 0.4, 5, ("eval", "d1")),
              ("acc", float("nan"), 9, ("test", "d2")), ("loss", 0.3, 0, None)]
    for key, value, step, dataset in points:
        extra = {"dataset_name": dataset[0], "dataset_digest": dataset[1]} if dataset else {}
        client.log_metric(run.info.run_id, key, value, timestamp=T0 + step, step=step, model_id=model.model_id, **extra)
    ours = _metric_rows(client.get_logged_model(model.model_id).metrics)
    theirs = _metric_rows(file_store(tracking_server.root).get_logged_model(model.model_id).metrics)
    assert repr(ours) == repr(theirs)  # repr: NaN compares equal to NaN
    assert len(ours) == 4


# ------------------------------------------------------------- read your writes


def test_a_logged_metric_is_found_by_the_next_search(client: MlflowClient) -> None:
    """No refresh interval to wait for: every write updates the index in its own request."""
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id())
    for step in range(30):
        client.log_metric(run.info.run_id, "score", float(step), step=step)
        found = client.search_runs([run.info.experiment_id], filter_string=f"metrics.score = {float(step)}")
        assert [r.info.run_id for r in found] == [run.info.run_id]


def test_a_new_param_and_tag_are_found_by_the_next_search(client: MlflowClient) -> None:
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id())
    for i in range(10):
        client.log_param(run.info.run_id, f"p{i}", "x")
        client.set_tag(run.info.run_id, "latest", str(i))
        filter_string = f"params.p{i} = 'x' and tags.latest = '{i}'"
        assert [r.info.run_id for r in client.search_runs([run.info.experiment_id], filter_string=filter_string)] == [run.info.run_id]


def test_the_dashboards_live_feed_reports_a_logged_metric_within_a_second(client: MlflowClient, tracking_server: LiveServer) -> None:
    run = client.create_run(mlflow.tracking.fluent._get_experiment_id())
    events: list[dict[str, Any]] = []
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", tracking_server.url + "/api/mlscope/events", timeout=10) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    opened.set()
                    if run.info.run_id in event["changed"]:
                        events.append(event)
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    logged = time.monotonic()
    client.log_metric(run.info.run_id, "live", 1.0)
    listener.join(timeout=5)
    assert events and time.monotonic() - logged < 1.0


# --------------------------------------------------------------- the tree itself


def test_mlflows_file_store_reads_what_the_client_logged(client: MlflowClient, tracking_server: LiveServer) -> None:
    with mlflow.start_run(run_name="for-filestore") as run:
        mlflow.log_param("p", "v")
        mlflow.log_metric("m", 2.5, step=3)
        mlflow.set_tag("t", "x")
    stored = file_store(Path(tracking_server.root)).get_run(run.info.run_id)
    assert (stored.data.params, stored.data.metrics, stored.data.tags["t"]) == ({"p": "v"}, {"m": 2.5}, "x")
    assert (stored.info.run_name, stored.info.status) == ("for-filestore", "FINISHED")
