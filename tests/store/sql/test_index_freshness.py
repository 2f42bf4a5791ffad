"""The SQL index stays current: its own writes at once, other mlscope replicas by NOTIFY, other writers by polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mlscope.search.queries import RunQueries, RunQuery
from mlscope.store.sql import reads
from mlscope.store.sql import run_index as run_index_module
from mlscope.store.sql.run_index import SqlRunIndex
from mlscope.store.sql.store import SqlStore

from .conftest import mlflow_store


@pytest.fixture
def opened(db_uri: str, tmp_path) -> Iterator[Callable[[], tuple[SqlStore, SqlRunIndex]]]:
    """opened() is one more mlscope process on the test's database: a store and its built index."""
    made: list[tuple[SqlStore, SqlRunIndex]] = []

    def open_one() -> tuple[SqlStore, SqlRunIndex]:
        store = SqlStore(db_uri, str(tmp_path / "artifacts"))
        index = SqlRunIndex(store)
        index.build()
        made.append((store, index))
        return store, index

    yield open_one
    for store, index in made:
        index.close()
        store.close()


def _finished_run(store: SqlStore) -> str:
    writer = store.require_writer()
    run_id = writer.create_run("0", "u", start_time=1000)
    writer.update_run_info(run_id, "FINISHED", 2000)
    return run_id


def test_a_write_through_the_index_is_seen_before_it_returns(opened) -> None:
    store, index = opened()
    writer = store.require_writer()
    before = index.version
    experiment_id = writer.create_experiment("fresh")
    run_id = writer.create_run(experiment_id, "u", run_name="r")
    writer.log_batch(run_id, metrics=[("m", 2.0, 1, 1)], params={"p": "1"}, tags={"t": "x"})
    run = index.run(run_id)
    assert (run.info.run_name, run.params, run.tags["t"], run.metrics["m"].value) == ("r", {"p": "1"}, "x", 2.0)
    assert index.experiment(experiment_id).name == "fresh"
    assert [r.run_id for r in index.runs([experiment_id])] == [run_id]
    assert index.version > before and run_id in index.changed_since(before)
    writer.delete_run(run_id)
    assert index.run(run_id).info.lifecycle_stage == "deleted"
    assert index.run_counts()[experiment_id] == {"active": 0, "deleted": 1}


def test_nothing_written_means_a_refresh_changes_nothing(opened) -> None:
    _, index = opened()
    version = index.version
    assert [index.refresh() for _ in range(3)] == [0, 0, 0]
    assert index.version == version


def test_runs_mlflow_creates_and_logs_to_are_seen_after_a_refresh(opened, db_uri: str, tmp_path) -> None:
    _, index = opened()
    mlflow = mlflow_store(db_uri, str(tmp_path))
    from mlflow.entities import Metric, Param, RunStatus, RunTag

    run_id = mlflow.create_run("0", "alice", int(time.time() * 1000), [RunTag("k", "v")], "by-mlflow").info.run_id
    index.refresh()
    assert index.run(run_id).info.run_name == "by-mlflow"
    mlflow.log_batch(run_id, [Metric("loss", 0.5, 6000, 3)], [Param("lr", "0.1")], [RunTag("k", "w")])
    index.refresh()
    run = index.run(run_id)
    assert (run.metrics["loss"].value, run.params, run.tags["k"]) == (0.5, {"lr": "0.1"}, "w")
    mlflow.update_run_info(run_id, RunStatus.FINISHED, 7000, None)
    index.refresh()
    assert (index.run(run_id).info.status, index.run(run_id).info.end_time) == ("FINISHED", 7000)


def test_changes_mlflow_makes_in_place_are_seen_within_one_lap(opened, db_uri: str, tmp_path, monkeypatch) -> None:
    store, index = opened()
    run_ids = [_finished_run(store) for _ in range(4)]
    monkeypatch.setattr(run_index_module, "QUICK_SLICE", 2)
    monkeypatch.setattr(run_index_module, "DEEP_SLICE", 2)
    index.refresh()
    mlflow = mlflow_store(db_uri, str(tmp_path))
    from mlflow.entities import RunTag

    mlflow.delete_run(run_ids[1])
    mlflow.set_tag(run_ids[2], RunTag("mlflow.runName", "renamed"))
    experiment_id = mlflow.create_experiment("from-mlflow")
    imported = mlflow.create_run(experiment_id, "u", 1000, [], "imported").info.run_id  # an old start time
    for _ in range(4):  # a lap: 5 runs, 2 a refresh
        index.refresh()
    assert index.run(run_ids[1]).info.lifecycle_stage == "deleted"
    assert index.run(run_ids[2]).info.run_name == "renamed"
    assert index.experiment(experiment_id).name == "from-mlflow"
    assert index.run(imported).info.run_name == "imported"


def test_a_replica_hears_another_replicas_writes_on_its_next_refresh(opened, request) -> None:
    if "postgresql" not in request.node.callspec.id:
        pytest.skip("replicas share a database through PostgreSQL's NOTIFY")
    store_a, index_a = opened()
    store_b, index_b = opened()
    run_id = _finished_run(store_a)
    index_b.refresh()
    assert index_b.run(run_id) is not None
    # An in-place change to an old, finished run: no rotating check would reach it in one refresh at this size.
    index_b._checks_left = 0
    index_b.refresh = _refresh_without_checks(index_b)
    store_a.require_writer().set_tag(run_id, "note", "from A")
    index_b.refresh()
    assert index_b.run(run_id).tags["note"] == "from A"


def _refresh_without_checks(index: SqlRunIndex) -> Callable[[], int]:
    """Only what the watch reports (NOTIFY, the gate), none of the rotating checks."""

    def refresh() -> int:
        changes = index._watch.poll()
        return index._reload(changes.run_ids, changes.experiment_ids)

    return refresh


def test_a_page_asked_before_the_details_are_loaded_carries_them(db_uri: str, tmp_path, monkeypatch) -> None:
    """A cold start answers the first page once runs are listed: that page's params, tags and metrics come from the database."""
    store = SqlStore(db_uri, str(tmp_path / "artifacts"))
    writer = store.require_writer()
    run_id = writer.create_run("0", "u", start_time=1000, run_name="r")
    writer.log_batch(run_id, metrics=[("m", 2.0, 1, 1)], params={"p": "1"}, tags={"t": "x"})
    index = SqlRunIndex(store)
    gate, load = threading.Event(), reads.RunDetails.load

    def held_build(details: reads.RunDetails, conn, run_ids):  # the build's whole-table read waits for the gate
        if run_ids is None:
            gate.wait(30)
        return load(details, conn, run_ids)

    monkeypatch.setattr(reads.RunDetails, "load", held_build)
    build = threading.Thread(target=index.build)
    build.start()
    try:
        assert index.wait_listed(30) and not index.ready
        page, _ = RunQueries(index).page(RunQuery(("0",)), 100, None)
        run = page[0]
        assert (run.run_id, run.params, run.tags["t"], run.metrics["m"].value) == (run_id, {"p": "1"}, "x", 2.0)
    finally:
        gate.set()
        build.join()
        index.close()
        store.close()


def test_another_replicas_write_wakes_the_index_without_a_timed_refresh(opened, request) -> None:
    if "postgresql" not in request.node.callspec.id:
        pytest.skip("replicas share a database through PostgreSQL's NOTIFY")
    store_a, _ = opened()
    _, index_b = opened()
    run_id = store_a.require_writer().create_run("0", "u", start_time=1000, run_name="from A")
    deadline = time.monotonic() + 10
    while index_b.run(run_id) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert index_b.run(run_id).info.run_name == "from A"
