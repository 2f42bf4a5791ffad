"""The SQL index returns what MLflow's SqlAlchemyStore returns, on databases MLflow 3.17.2 wrote (SQLite, PostgreSQL)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from mlflow.entities import ViewType

from mlscope.search import search_runs
from mlscope.store.sql import reads
from mlscope.store.sql.run_index import SqlRunIndex
from mlscope.store.sql.store import SqlStore
from tests.search.test_parity_mlflow import CASES

from .conftest import MlflowDatabase

PAGE = 7


@pytest.fixture(scope="module")
def index(mlflow_db: MlflowDatabase) -> Iterator[SqlRunIndex]:
    store = SqlStore(mlflow_db.uri, str(mlflow_db.artifact_root), read_only=True)
    index = SqlRunIndex(store)
    index.build()
    yield index
    index.close()
    store.close()


def _same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _all_mlflow_runs(db: MlflowDatabase) -> list:
    experiments = [e.experiment_id for e in db.store.search_experiments(view_type=ViewType.ALL)]
    return db.store.search_runs(experiments, "", ViewType.ALL, max_results=50000)


def test_each_runs_folder_is_the_one_beside_its_artifacts(index: SqlRunIndex) -> None:
    runs = index.runs()
    assert runs and all(run.path == reads.run_dir(run.info) for run in runs)


def test_experiments_equal_mlflows(index: SqlRunIndex, mlflow_db: MlflowDatabase) -> None:
    theirs = {e.experiment_id: e for e in mlflow_db.store.search_experiments(view_type=ViewType.ALL)}
    ours = {e.experiment_id: e for e in index.experiments()}
    assert set(ours) == set(theirs)
    for experiment_id, mine in ours.items():
        other = theirs[experiment_id]
        assert (mine.name, mine.artifact_location, mine.lifecycle_stage, mine.creation_time, mine.last_update_time, mine.tags) == (
            other.name, other.artifact_location, other.lifecycle_stage, other.creation_time, other.last_update_time, other.tags,
        )  # fmt: skip


def test_run_infos_params_and_tags_equal_mlflows(index: SqlRunIndex, mlflow_db: MlflowDatabase) -> None:
    theirs = _all_mlflow_runs(mlflow_db)
    assert len(theirs) == 31
    for other in theirs:
        mine = index.run(other.info.run_id)
        assert mine is not None
        i, o = mine.info, other.info
        assert (i.experiment_id, i.run_name, i.user_id, i.status, i.start_time, i.end_time, i.lifecycle_stage, i.artifact_uri) == (
            o.experiment_id, o.run_name, o.user_id, o.status, o.start_time, o.end_time, o.lifecycle_stage, o.artifact_uri,
        )  # fmt: skip
        assert mine.params == other.data.params
        assert mine.tags == other.data.tags


def test_latest_metrics_equal_mlflows(index: SqlRunIndex, mlflow_db: MlflowDatabase) -> None:
    for other in _all_mlflow_runs(mlflow_db):
        mine = index.run(other.info.run_id)
        theirs = {m.key: m for m in other.data._metric_objs}
        assert set(mine.metrics) == set(theirs)
        for key, metric in mine.metrics.items():
            assert _same_value(metric.value, theirs[key].value), key
            assert (metric.timestamp, metric.step) == (theirs[key].timestamp, theirs[key].step), key


def test_metric_histories_equal_mlflows(index: SqlRunIndex, mlflow_db: MlflowDatabase) -> None:
    for other in _all_mlflow_runs(mlflow_db):
        for key in other.data.metrics:
            theirs = mlflow_db.store.get_metric_history(other.info.run_id, key)
            mine = index.metric_history(other.info.run_id, key)
            assert [(m.timestamp, m.step) for m in mine] == [(m.timestamp, m.step) for m in theirs]
            assert all(_same_value(a.value, b.value) for a, b in zip(mine, theirs, strict=True))


def test_dataset_inputs_equal_mlflows(index: SqlRunIndex, mlflow_db: MlflowDatabase) -> None:
    with_inputs = 0
    for other in _all_mlflow_runs(mlflow_db):
        mine = index.run(other.info.run_id)
        theirs = sorted(
            ((d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, {t.key: t.value for t in d.tags})
             for d in other.inputs.dataset_inputs), key=repr,
        )  # fmt: skip
        ours = sorted(((d.name, d.digest, d.source_type, d.source, d.tags) for d in mine.dataset_inputs), key=repr)
        assert ours == theirs
        with_inputs += bool(ours)
    assert with_inputs >= 10


def _mlflow_pages(db: MlflowDatabase, filter_string: str, order_by: list[str]) -> list[list[str]]:
    pages, token = [], None
    while True:
        page = db.store.search_runs(db.experiment_ids, filter_string, ViewType.ACTIVE_ONLY, PAGE, order_by, token)
        pages.append([run.info.run_id for run in page])
        token = page.token
        if not token:
            return pages


def _mlscope_pages(index: SqlRunIndex, db: MlflowDatabase, filter_string: str, order_by: list[str]) -> list[list[str]]:
    pages, token = [], None
    while True:
        page, token = search_runs(index.runs(db.experiment_ids), filter_string, order_by, PAGE, token, "ACTIVE_ONLY")
        pages.append([run.run_id for run in page])
        if not token:
            return pages


@pytest.mark.parametrize(("filter_string", "order_by"), CASES, ids=[f"{f!s}|{','.join(o)}" for f, o in CASES])
def test_runs_search_matches_sqlalchemystore_page_by_page(index: SqlRunIndex, mlflow_db: MlflowDatabase, filter_string: str,
                                                           order_by: list[str]) -> None:
    from mlflow.exceptions import MlflowException

    from mlscope.search import SearchError

    try:
        expected = _mlflow_pages(mlflow_db, filter_string, order_by)
    except MlflowException:
        with pytest.raises(SearchError):
            _mlscope_pages(index, mlflow_db, filter_string, order_by)
        return
    assert _mlscope_pages(index, mlflow_db, filter_string, order_by) == expected
