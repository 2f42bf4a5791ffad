"""The SQL store's tracking-write service: MLflow's checks first, one transaction per call, its own reads see the write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlscope.index.tracking_writes import MetricPoint
from mlscope.store.errors import StoreError
from mlscope.store.sql.backend import SqlBackend, open_sql_backend

from .conftest import mlflow_store


@pytest.fixture
def backend(db_uri: str, tmp_path) -> Iterator[SqlBackend]:
    opened = open_sql_backend(db_uri, default_artifact_root=str(tmp_path / "artifacts"))
    opened.index.build()
    yield opened
    opened.close()


def test_a_created_run_comes_back_from_the_index_with_its_tags(backend: SqlBackend) -> None:
    run = backend.writes.create_run("0", "alice", 1000, "named", [("team", "a")])
    assert (run.info.run_name, run.info.user_id, run.tags) == ("named", "alice", {"team": "a", "mlflow.runName": "named"})
    assert backend.index.run(run.run_id) == run


def test_log_batch_is_checked_before_anything_is_written(backend: SqlBackend) -> None:
    run_id = backend.writes.create_run("0", "u", 1000, "", []).run_id
    with pytest.raises(StoreError, match="Duplicate parameter keys"):
        backend.writes.log_batch(run_id, [MetricPoint("m", 1.0, 1, 0)], [("p", "1"), ("p", "2")], [])
    with pytest.raises(StoreError, match="at most 1000 metrics"):
        backend.writes.log_batch(run_id, [MetricPoint("m", 1.0, i, i) for i in range(1001)], [], [])
    assert backend.index.run(run_id).metrics == {}


def test_update_run_returns_the_new_info(backend: SqlBackend) -> None:
    run_id = backend.writes.create_run("0", "u", 1000, "", []).run_id
    info = backend.writes.update_run(run_id, "KILLED", 5000, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("KILLED", 5000, "renamed")


def test_a_metric_logged_for_a_model_lands_in_mlflows_model_metrics(backend: SqlBackend, db_uri: str, tmp_path) -> None:
    mlflow = mlflow_store(db_uri, str(tmp_path))
    run_id = backend.writes.create_run("0", "u", 1000, "", []).run_id
    model = mlflow.create_logged_model("0", name="m", source_run_id=run_id)
    backend.writes.log_metric(run_id, MetricPoint("acc", 0.9, 10, 1, "ds", "d1", model.model_id))
    assert [(m.key, m.value, m.step, m.dataset_name) for m in mlflow.get_logged_model(model.model_id).metrics] == [("acc", 0.9, 1, "ds")]
    with pytest.raises(StoreError) as error:
        backend.writes.log_metric(run_id, MetricPoint("acc", 0.9, 10, 1, None, None, "m-missing"))
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_histories_for_charts_come_from_the_database_and_follow_new_points(backend: SqlBackend) -> None:
    run = backend.writes.create_run("0", "u", 1000, "", [])
    backend.writes.log_batch(run.run_id, [MetricPoint("loss", 3.0, 30, 2), MetricPoint("loss", 1.0, 10, 0), MetricPoint("loss", 2.0, 20, 1)], [], [])
    path = backend.index.run(run.run_id).path
    snap = backend.histories.snapshot(path, "loss", "step")
    assert (list(snap.steps), list(snap.values), snap.length) == ([0, 1, 2], [1.0, 2.0, 3.0], 3)
    backend.writes.log_metric(run.run_id, MetricPoint("loss", 0.5, 40, 3))
    assert list(backend.histories.snapshot(path, "loss", "time").values) == [1.0, 2.0, 3.0, 0.5]
    assert backend.histories.snapshot(path, "absent", "step") is None


def test_new_experiments_of_a_server_proxying_artifacts_get_mlflow_artifacts_uris(db_uri: str) -> None:
    opened = open_sql_backend(db_uri)
    try:
        opened.index.build()
        experiment_id = opened.writes.create_experiment("proxied", None, [])
        assert opened.writes.experiment(experiment_id).artifact_location == f"mlflow-artifacts:/{experiment_id}"
        run = opened.writes.create_run(experiment_id, "u", 1, "", [])
        assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run.run_id}/artifacts"
        assert run.path.name == run.run_id
    finally:
        opened.close()


def test_histories_stamp_moves_when_the_run_changes_and_is_missing_without_the_metric(backend: SqlBackend) -> None:
    from mlscope.index.signatures import MISSING

    run = backend.writes.create_run("0", "u", 1000, "", [])
    path = backend.index.run(run.run_id).path
    assert backend.histories.stamp(path, "loss") == MISSING
    backend.writes.log_metric(run.run_id, MetricPoint("loss", 1.0, 10, 0))
    first = backend.histories.stamp(path, "loss")
    backend.writes.log_metric(run.run_id, MetricPoint("loss", 0.5, 20, 1))
    assert first != MISSING and backend.histories.stamp(path, "loss") != first
    assert [(m.value, m.step) for m in backend.histories.history(path, "loss")] == [(1.0, 0), (0.5, 1)]
