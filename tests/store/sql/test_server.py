"""mlscope serving a SQL store over MLflow's REST API: what MLflow's client reads through it is what SqlAlchemyStore holds,
and what MLflow's client writes through it, SqlAlchemyStore reads back."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.tracking import MlflowClient

from tests.search.test_parity_mlflow import CASES

from .conftest import MlflowDatabase, mlflow_store
from .sql_server import SqlServer


@pytest.fixture(scope="module")
def served(mlflow_db: MlflowDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlServer]:
    with SqlServer(mlflow_db.uri, tmp_path_factory.mktemp("mlartifacts")) as server:
        yield server


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_runs_read_through_mlscope_equal_sqlalchemystores(served: SqlServer, mlflow_db: MlflowDatabase) -> None:
    client = MlflowClient(tracking_uri=served.url)
    theirs = mlflow_db.store.search_runs(mlflow_db.experiment_ids, "", ViewType.ALL, max_results=1000)
    ours = {r.info.run_id: r for r in client.search_runs(mlflow_db.experiment_ids, "", ViewType.ALL, max_results=1000)}
    assert set(ours) == {r.info.run_id for r in theirs}
    for other in theirs:
        mine = client.get_run(other.info.run_id)
        assert mine.info.to_proto() == other.info.to_proto()
        assert (mine.data.params, mine.data.tags) == (other.data.params, other.data.tags)
        assert set(mine.data.metrics) == set(other.data.metrics)
        assert all(_same(mine.data.metrics[k], v) for k, v in other.data.metrics.items())
        for key in other.data.metrics:
            history = client.get_metric_history(other.info.run_id, key)
            expected = mlflow_db.store.get_metric_history(other.info.run_id, key)
            assert [(m.timestamp, m.step) for m in history] == [(m.timestamp, m.step) for m in expected]
            assert all(_same(a.value, b.value) for a, b in zip(history, expected, strict=True))
        datasets = sorted((d.dataset.name, d.dataset.digest, d.dataset.source) for d in other.inputs.dataset_inputs)
        assert sorted((d.dataset.name, d.dataset.digest, d.dataset.source) for d in mine.inputs.dataset_inputs) == datasets


def test_experiments_read_through_mlscope_equal_sqlalchemystores(served: SqlServer, mlflow_db: MlflowDatabase) -> None:
    client = MlflowClient(tracking_uri=served.url)
    theirs = {e.experiment_id: e for e in mlflow_db.store.search_experiments(view_type=ViewType.ALL)}
    ours = {e.experiment_id: e for e in client.search_experiments(view_type=ViewType.ALL)}
    assert set(ours) == set(theirs)
    for experiment_id, other in theirs.items():
        mine = ours[experiment_id]
        assert (mine.name, mine.artifact_location, mine.lifecycle_stage, mine.tags, mine.creation_time) == (
            other.name, other.artifact_location, other.lifecycle_stage, other.tags, other.creation_time,
        )  # fmt: skip


@pytest.mark.parametrize(("filter_string", "order_by"), CASES[::4], ids=[f"{f!s}|{','.join(o)}" for f, o in CASES[::4]])
def test_runs_search_over_rest_matches_sqlalchemystore(served: SqlServer, mlflow_db: MlflowDatabase, filter_string: str, order_by: list[str]) -> None:
    from mlflow.exceptions import MlflowException

    try:
        expected = [r.info.run_id for r in mlflow_db.store.search_runs(mlflow_db.experiment_ids, filter_string, ViewType.ACTIVE_ONLY, 1000, order_by)]
    except MlflowException:
        answer = httpx.post(served.url + "/api/2.0/mlflow/runs/search", json={"experiment_ids": mlflow_db.experiment_ids, "filter": filter_string, "order_by": order_by})
        assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        return
    body = {"experiment_ids": mlflow_db.experiment_ids, "filter": filter_string, "order_by": order_by, "max_results": 1000}
    answer = httpx.post(served.url + "/api/2.0/mlflow/runs/search", json=body)
    assert answer.status_code == 200
    assert [r["info"]["run_id"] for r in answer.json().get("runs", [])] == expected


def test_the_dashboards_run_page_and_charts_read_the_database(served: SqlServer, mlflow_db: MlflowDatabase) -> None:
    run = next(r for r in mlflow_db.store.search_runs(mlflow_db.experiment_ids, "", ViewType.ACTIVE_ONLY, 1000) if "train/loss" in r.data.metrics)
    page = httpx.get(served.url + "/api/mlscope/run", params={"run_id": run.info.run_id})
    assert page.status_code == 200, page.text
    histories = httpx.get(served.url + "/api/mlscope/metrics/histories", params={"run_ids": run.info.run_id, "keys": "train/loss"})
    assert histories.status_code == 200, histories.text
    assert "train/loss" in histories.text


@pytest.fixture
def fresh_server(db_uri: str, tmp_path) -> Iterator[SqlServer]:
    with SqlServer(db_uri, tmp_path / "mlartifacts", default_artifact_root=str(tmp_path / "artifacts")) as server:
        yield server


def test_runs_mlflows_client_logs_through_mlscope_read_back_identically_by_sqlalchemystore(fresh_server: SqlServer, db_uri: str, tmp_path) -> None:
    client = MlflowClient(tracking_uri=fresh_server.url)
    experiment_id = client.create_experiment("through-mlscope", tags={"team": "a"})
    run = client.create_run(experiment_id, run_name="logged", tags={"stage": "dev"})
    run_id = run.info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", v, 1000 + i, i) for i, v in enumerate([3.0, 2.0, math.nan, 1.0])],
                     params=[Param("lr", "0.1")], tags=[RunTag("note", "hi")])
    client.log_metric(run_id, "acc", 0.9, timestamp=5000, step=7)
    client.set_terminated(run_id, "FINISHED", end_time=9000)
    oracle = mlflow_store(db_uri, str(tmp_path))
    theirs = oracle.get_run(run_id)
    mine = client.get_run(run_id)
    assert mine.info.to_proto() == theirs.info.to_proto()
    assert (mine.data.params, mine.data.tags) == (theirs.data.params, theirs.data.tags)
    assert theirs.data.metrics == {"loss": 1.0, "acc": 0.9}
    assert [m.value for m in oracle.get_metric_history(run_id, "loss")][:2] == [3.0, 2.0]
    assert oracle.get_experiment(experiment_id).tags == {"team": "a"}


def test_a_refused_write_gets_mlflows_error_and_changes_nothing(fresh_server: SqlServer) -> None:
    client = MlflowClient(tracking_uri=fresh_server.url)
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "lr", "0.1")
    answer = httpx.post(fresh_server.url + "/api/2.0/mlflow/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.2"})
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE" and "Changing param values is not allowed" in answer.json()["message"]
    missing = httpx.post(fresh_server.url + "/api/2.0/mlflow/runs/log-metric", json={"run_id": "f" * 32, "key": "m", "value": 1, "timestamp": 1})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_run(run_id).data.params == {"lr": "0.1"}


def _search(server: SqlServer, filter_string: str) -> list[str]:
    answer = httpx.post(server.url + "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"], "filter": filter_string})
    return [r["info"]["run_id"] for r in answer.json().get("runs", [])]


def test_two_replicas_on_one_database_see_each_others_writes_within_a_second(new_db, tmp_path, request) -> None:
    if "postgresql" not in request.node.callspec.id:
        pytest.skip("replicas share one PostgreSQL database")
    uri = new_db()
    with SqlServer(uri, tmp_path / "a") as first, SqlServer(uri, tmp_path / "b") as second:
        run_id = MlflowClient(tracking_uri=first.url).create_run("0").info.run_id
        MlflowClient(tracking_uri=first.url).log_metric(run_id, "acc", 0.75, step=3)
        started = time.monotonic()
        while (visible := run_id in _search(second, "metrics.acc > 0.7")) is False and time.monotonic() - started < 5:
            time.sleep(0.02)
        seen_after = time.monotonic() - started
        assert visible
        assert seen_after < 1.0


def test_twenty_clients_logging_through_two_replicas_lose_nothing(new_db, tmp_path, request) -> None:
    if "postgresql" not in request.node.callspec.id:
        pytest.skip("replicas share one PostgreSQL database")
    uri = new_db()
    with SqlServer(uri, tmp_path / "a") as first, SqlServer(uri, tmp_path / "b") as second:
        run_ids = [MlflowClient(tracking_uri=first.url).create_run("0").info.run_id for _ in range(4)]
        errors: list[Any] = []

        def log(worker: int) -> None:
            server = (first, second)[worker % 2]
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for step in range(15):
                    body = {"run_id": run_ids[worker % 4], "metrics": [{"key": f"w{worker}", "value": step, "timestamp": 1000 + step, "step": step}],
                            "params": [{"key": f"p{worker}", "value": "x"}] if step == 0 else [], "tags": [{"key": f"t{worker}", "value": str(step)}]}
                    answer = http.post("/api/2.0/mlflow/runs/log-batch", json=body)
                    if answer.status_code != 200:
                        errors.append(answer.text)

        threads = [threading.Thread(target=log, args=(w,)) for w in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        oracle = mlflow_store(uri, str(tmp_path))
        for worker in range(20):
            run_id = run_ids[worker % 4]
            assert [m.step for m in oracle.get_metric_history(run_id, f"w{worker}")] == list(range(15))
            run = oracle.get_run(run_id)
            assert (run.data.metrics[f"w{worker}"], run.data.params[f"p{worker}"], run.data.tags[f"t{worker}"]) == (14, "x", "14")


def test_chart_group_statistics_are_computed_from_the_database_histories(served: SqlServer, mlflow_db: MlflowDatabase) -> None:
    runs = mlflow_db.store.search_runs(mlflow_db.experiment_ids, "", ViewType.ACTIVE_ONLY, 1000)
    members = [r.info.run_id for r in runs if "train/loss" in r.data.metrics][:6]
    body = {"groups": [{"id": "g", "run_ids": members}], "keys": ["train/loss"]}
    answer = httpx.post(served.url + "/api/mlscope/charts/group-histories", json=body)
    assert answer.status_code == 200, answer.text
    [series] = answer.json()["series"]
    assert series["runs"] == len(members)
    at_step_2 = series["center"][series["x"].index(2)]  # every run logged train/loss = 99 at step 2
    assert at_step_2 == 99.0


def test_the_live_view_on_one_replica_hears_of_a_metric_logged_through_the_other(new_db, tmp_path, request) -> None:
    import json

    if "postgresql" not in request.node.callspec.id:
        pytest.skip("replicas share one PostgreSQL database")
    uri = new_db()
    with SqlServer(uri, tmp_path / "a") as first, SqlServer(uri, tmp_path / "b") as second:
        run_id = MlflowClient(tracking_uri=second.url).create_run("0").info.run_id
        heard: list[dict[str, Any]] = []
        with httpx.stream("GET", first.url + "/api/mlscope/events", timeout=20) as events:
            lines = events.iter_lines()
            for line in lines:  # the stream's first event: the version now
                if line.startswith("data:"):
                    break
            MlflowClient(tracking_uri=second.url).log_metric(run_id, "loss", 0.5, step=1)
            started = time.monotonic()
            for line in lines:
                if line.startswith("data:"):
                    heard.append(json.loads(line[5:]))
                    if run_id in heard[-1]["changed"] or time.monotonic() - started > 10:
                        break
        assert heard and run_id in heard[-1]["changed"] and heard[-1]["statuses"][run_id] == "RUNNING"
        assert MlflowClient(tracking_uri=first.url).get_run(run_id).data.metrics == {"loss": 0.5}
