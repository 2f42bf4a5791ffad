"""mlscope writes MLflow's tables as MLflow's SqlAlchemyStore does: MLflow reads back exactly what was written."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from mlscope.store.errors import StoreError
from mlscope.store.model import DatasetInput
from mlscope.store.sql.store import SqlStore

from .conftest import mlflow_store, mlflow_uri

TRAIN = DatasetInput("train", "d1", "local", '{"uri": "/data/train"}', '{"cols": 2}', '{"rows": 5}', {"mlflow.data.context": "training"})
EVAL = DatasetInput("eval", "d2", "local", '{"uri": "/data/eval"}', "", "", {})


@pytest.fixture
def ours(db_uri: str, tmp_path) -> SqlStore:
    store = SqlStore(db_uri, str(tmp_path / "artifacts"))
    yield store
    store.close()


def _rows(uri: str, query: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(mlflow_uri(uri))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


def test_a_run_mlscope_writes_reads_back_identically_through_mlflow(ours: SqlStore, db_uri: str, tmp_path) -> None:
    writer = ours.require_writer()
    experiment_id = writer.create_experiment("exp", tags={"team": "vision"})
    run_id = writer.create_run(experiment_id, "alice", start_time=1000, run_name="first", tags={"stage": "dev"})
    writer.log_batch(
        run_id,
        metrics=[("loss", 1.5, 1001, 0), ("loss", 0.5, 1002, 1), ("nan", math.nan, 1003, 0), ("inf", math.inf, 1004, 2)],
        params={"lr": "0.1", "batch size": "32"},
        tags={"note": "hello"},
    )
    writer.log_inputs(run_id, [TRAIN, EVAL], models=["m-123"])
    writer.update_run_info(run_id, "FINISHED", 2000)

    mlflow = mlflow_store(db_uri, str(tmp_path / "artifacts"))
    run = mlflow.get_run(run_id)
    assert (run.info.run_name, run.info.user_id, run.info.status, run.info.start_time, run.info.end_time) == ("first", "alice", "FINISHED", 1000, 2000)
    assert run.info.artifact_uri == f"{tmp_path / 'artifacts'}/{experiment_id}/{run_id}/artifacts"
    assert run.data.params == {"lr": "0.1", "batch size": "32"}
    assert run.data.tags == {"mlflow.runName": "first", "stage": "dev", "note": "hello"}
    assert run.data.metrics["loss"] == 0.5 and math.isnan(run.data.metrics["nan"]) and run.data.metrics["inf"] == 1.7976931348623157e308
    assert [(m.value, m.timestamp, m.step) for m in mlflow.get_metric_history(run_id, "loss")] == [(1.5, 1001, 0), (0.5, 1002, 1)]
    inputs = sorted(run.inputs.dataset_inputs, key=lambda d: d.dataset.name)
    assert [(d.dataset.name, d.dataset.digest, d.dataset.source, d.dataset.schema, d.dataset.profile) for d in inputs] == [
        ("eval", "d2", '{"uri": "/data/eval"}', None, None),
        ("train", "d1", '{"uri": "/data/train"}', '{"cols": 2}', '{"rows": 5}'),
    ]
    assert [(t.key, t.value) for t in inputs[1].tags] == [("mlflow.data.context", "training")]
    assert [m.model_id for m in run.inputs.model_inputs] == ["m-123"]
    assert mlflow.get_experiment(experiment_id).tags == {"team": "vision"}


# The same operations, through MLflow's store and through mlscope's writer: the tables must end up equal.
OPERATIONS: list[tuple[str, Any]] = [
    ("metrics", [("acc", 0.5, 10, 0), ("acc", 0.7, 9, 1), ("acc", 0.6, 11, 1)]),  # latest: max by (step, timestamp, value)
    ("metrics", [("acc", 0.9, 5, 1)]),  # older timestamp at the same step: not the latest
    ("metrics", [("acc", 0.2, 11, 1)]),  # same step and timestamp, lower value: not the latest
    ("metrics", [("acc", 0.8, 11, 1)]),  # same step and timestamp, higher value: the latest
    ("metrics", [("loss", math.nan, 3, 4), ("loss", 1.0, 3, 4)]),  # NaN is stored as 0: 1.0 wins
    ("metrics", [("loss", -math.inf, 1, 9)]),
    ("metrics", [("dup", 1.0, 1, 1), ("dup", 1.0, 1, 1)]),  # an exact duplicate in one batch
    ("metrics", [("dup", 1.0, 1, 1)]),  # ...and again in a later one
    ("metrics", [("nanonly", math.nan, 1, 0), ("nanonly", math.nan, 1, 0)]),
    ("params", {"a": "1", "b": "2"}),
    ("params", {"a": "1"}),  # the same value again is fine
    ("tags", {"t": "1", "u": "2"}),
    ("tags", {"t": "3"}),  # tags are overwritten
]


def _apply_mlflow(store: Any, run_id: str) -> None:
    from mlflow.entities import Metric, Param, RunTag

    for kind, payload in OPERATIONS:
        if kind == "metrics":
            store.log_batch(run_id, [Metric(k, v, ts, s) for k, v, ts, s in payload], [], [])
        elif kind == "params":
            store.log_batch(run_id, [], [Param(k, v) for k, v in payload.items()], [])
        else:
            store.log_batch(run_id, [], [], [RunTag(k, v) for k, v in payload.items()])


def _apply_mlscope(store: SqlStore, run_id: str) -> None:
    writer = store.require_writer()
    for kind, payload in OPERATIONS:
        if kind == "metrics":
            writer.log_batch(run_id, metrics=payload)
        elif kind == "params":
            writer.log_batch(run_id, params=payload)
        else:
            writer.log_batch(run_id, tags=payload)


def _table(uri: str, run_id: str, table: str, columns: str) -> list[tuple[Any, ...]]:
    return sorted(_rows(uri, f"SELECT {columns} FROM {table} WHERE run_uuid = '{run_id}'"), key=repr)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("latest_metrics", "key, value, timestamp, step, is_nan"),
        ("metrics", "key, value, timestamp, step, is_nan"),
        ("params", "key, value"),
        ("tags", "key, value"),
    ],
)
def test_the_tables_hold_what_mlflow_would_have_written(new_db, tmp_path, table: str, columns: str) -> None:
    theirs_uri, ours_uri = new_db(), new_db()
    mlflow = mlflow_store(theirs_uri, str(tmp_path))
    mlflow_run = mlflow.create_run("0", "u", 0, [], "r").info.run_id
    _apply_mlflow(mlflow, mlflow_run)
    ours = SqlStore(ours_uri, str(tmp_path))
    our_run = ours.require_writer().create_run("0", "u", 0, "r")
    _apply_mlscope(ours, our_run)
    assert _table(ours_uri, our_run, table, columns) == _table(theirs_uri, mlflow_run, table, columns)


def test_a_param_cannot_change_and_a_batch_with_a_changed_param_writes_nothing(ours: SqlStore, db_uri: str) -> None:
    writer = ours.require_writer()
    run_id = writer.create_run("0", "u")
    writer.log_param(run_id, "lr", "0.1")
    writer.log_param(run_id, "lr", "0.1")
    with pytest.raises(StoreError, match="Changing param values is not allowed. Param with key='lr'") as error:
        writer.log_param(run_id, "lr", "0.2")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(StoreError, match="Changing param values is not allowed"):
        writer.log_batch(run_id, metrics=[("m", 1.0, 1, 0)], params={"new": "x", "lr": "0.3"}, tags={"t": "v"})
    assert ours.runs([run_id])[0].params == {"lr": "0.1"}
    assert _rows(db_uri, f"SELECT count(*) FROM metrics WHERE run_uuid = '{run_id}'") == [(0,)]
    assert "t" not in ours.runs([run_id])[0].tags


def test_setting_the_run_name_tag_renames_the_run(ours: SqlStore, db_uri: str, tmp_path) -> None:
    writer = ours.require_writer()
    run_id = writer.create_run("0", "u", run_name="before")
    writer.set_tag(run_id, "mlflow.runName", "after")
    run = mlflow_store(db_uri, str(tmp_path)).get_run(run_id)
    assert (run.info.run_name, run.data.tags["mlflow.runName"]) == ("after", "after")


def test_a_deleted_run_refuses_writes_until_restored(ours: SqlStore) -> None:
    writer = ours.require_writer()
    run_id = writer.create_run("0", "u")
    writer.delete_run(run_id)
    assert ours.runs([run_id])[0].info.lifecycle_stage == "deleted"
    with pytest.raises(StoreError, match="must be in the 'active' state"):
        writer.log_metrics(run_id, [("m", 1.0, 1, 0)])
    writer.restore_run(run_id)
    writer.log_metrics(run_id, [("m", 1.0, 1, 0)])
    assert ours.runs([run_id])[0].metrics["m"].value == 1.0


def test_unknown_runs_and_experiments_are_resource_does_not_exist(ours: SqlStore) -> None:
    writer = ours.require_writer()
    for call in (lambda: writer.log_param("nope", "a", "b"), lambda: writer.create_run("999", "u"), lambda: writer.create_run("x", "u")):
        with pytest.raises(StoreError) as error:
            call()
        assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_deleting_an_experiment_deletes_its_runs_and_restoring_restores_them(ours: SqlStore, db_uri: str, tmp_path) -> None:
    writer = ours.require_writer()
    experiment_id = writer.create_experiment("to-delete")
    run_id = writer.create_run(experiment_id, "u")
    writer.delete_experiment(experiment_id)
    mlflow = mlflow_store(db_uri, str(tmp_path))
    assert mlflow.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert mlflow.get_run(run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(StoreError, match="must be in the 'active' state"):
        writer.create_run(experiment_id, "u")
    writer.restore_experiment(experiment_id)
    assert mlflow.get_run(run_id).info.lifecycle_stage == "active"


def test_experiment_names_are_unique_and_renames_are_checked(ours: SqlStore) -> None:
    writer = ours.require_writer()
    first = writer.create_experiment("one")
    writer.create_experiment("two")
    with pytest.raises(StoreError) as error:
        writer.create_experiment("one")
    assert error.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(StoreError) as error:
        writer.rename_experiment(first, "two")
    assert error.value.error_code == "RESOURCE_ALREADY_EXISTS"
    writer.rename_experiment(first, "uno")
    assert writer.get_experiment(first).name == "uno"


def test_experiment_tags_are_set_overwritten_and_deleted(ours: SqlStore) -> None:
    writer = ours.require_writer()
    experiment_id = writer.create_experiment("tagged")
    writer.set_experiment_tag(experiment_id, "k", "1")
    writer.set_experiment_tag(experiment_id, "k", "2")
    assert writer.get_experiment(experiment_id).tags == {"k": "2"}
    writer.delete_experiment_tag(experiment_id, "k")
    with pytest.raises(StoreError, match="No tag with name: k") as error:
        writer.delete_experiment_tag(experiment_id, "k")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_run_tag_is_deleted_once(ours: SqlStore) -> None:
    writer = ours.require_writer()
    run_id = writer.create_run("0", "u")
    writer.set_tag(run_id, "k", "v")
    writer.delete_tag(run_id, "k")
    with pytest.raises(StoreError, match="No tag with name: k in run") as error:
        writer.delete_tag(run_id, "k")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_dataset_is_stored_once_per_experiment_and_linked_once_per_run(ours: SqlStore, db_uri: str) -> None:
    writer = ours.require_writer()
    first, second = writer.create_run("0", "u"), writer.create_run("0", "u")
    writer.log_inputs(first, [TRAIN, TRAIN])
    writer.log_inputs(first, [TRAIN])
    writer.log_inputs(second, [TRAIN])
    assert _rows(db_uri, "SELECT count(*) FROM datasets") == [(1,)]
    assert _rows(db_uri, "SELECT count(*) FROM inputs") == [(2,)]
    assert _rows(db_uri, "SELECT count(*) FROM input_tags") == [(2,)]


def test_a_new_experiments_artifacts_go_under_the_default_artifact_root(ours: SqlStore, tmp_path) -> None:
    writer = ours.require_writer()
    experiment_id = writer.create_experiment("arts")
    assert writer.get_experiment(experiment_id).artifact_location == f"{tmp_path / 'artifacts'}/{experiment_id}"
    named = writer.create_experiment("elsewhere", artifact_location="s3://bucket/x")
    assert writer.get_experiment(named).artifact_location == "s3://bucket/x"


def test_concurrent_writers_to_one_run_lose_nothing(ours: SqlStore) -> None:
    writer = ours.require_writer()
    run_id = writer.create_run("0", "u")
    errors: list[BaseException] = []

    def log(worker: int) -> None:
        try:
            for step in range(25):
                writer.log_batch(run_id, metrics=[("shared", float(worker * 100 + step), 1000 + step, step), (f"own{worker}", 1.0, step, step)])
                writer.set_tag(run_id, f"w{worker}", str(step))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    run = ours.runs([run_id])[0]
    assert len(ours.metric_history(run_id, "shared")) == 8 * 25
    assert run.metrics["shared"].value == 724.0  # step 24, timestamp 1024, the highest value among equals
    assert {k: v for k, v in run.tags.items() if k.startswith("w")} == {f"w{w}": "24" for w in range(8)}


def test_a_write_the_database_cannot_take_now_is_temporarily_unavailable_not_a_crash(tmp_path) -> None:
    import sqlite3

    from mlscope.store.sql.engine import engine_for
    from mlscope.store.sql.writes import SqlWriter

    path = tmp_path / "locked.db"
    SqlStore(f"sqlite:///{path}", str(tmp_path)).close()
    writer = SqlWriter(engine_for(f"sqlite:///{path}", sqlite_busy_ms=100), str(tmp_path))
    run_id = writer.create_run("0", "u")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        with pytest.raises(StoreError) as error:
            writer.log_param(run_id, "lr", "0.1")
        assert error.value.error_code == "TEMPORARILY_UNAVAILABLE" and "locked" in error.value.message
    finally:
        other.execute("ROLLBACK")
        other.close()
    writer.log_param(run_id, "lr", "0.1")  # and it goes through once the lock is gone
