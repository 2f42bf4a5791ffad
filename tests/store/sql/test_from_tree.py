"""`mlscope migrate` tree -> SQL: what MLflow's FileStore holds, MLflow's SqlAlchemyStore then returns; atomic; duplicates dropped."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from mlflow.entities import ViewType

from mlscope.store.errors import StoreError
from mlscope.store.sql.from_tree import tree_to_sql
from mlscope.store.sql.points import stored_value
from mlscope.store.sql.store import SqlStore
from tests.reference_trees import file_store, write_reference_tree

from .conftest import mlflow_store


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree") / "mlruns"
    write_reference_tree(root)
    return root


def _copied(tree: Path, uri: str, tmp_path: Path) -> tuple[Any, Any]:
    store = SqlStore(uri, str(tmp_path))
    report = tree_to_sql(tree, store)
    store.close()
    return report, mlflow_store(uri, str(tmp_path))


def test_everything_mlflows_file_store_returns_the_sql_store_returns_after_the_copy(tree: Path, db_uri: str, tmp_path) -> None:
    report, sql = _copied(tree, db_uri, tmp_path)
    files = file_store(tree)
    assert report.skipped == []
    experiments = {e.experiment_id: e for e in files.search_experiments(view_type=ViewType.ALL)}
    copied = {e.experiment_id: e for e in sql.search_experiments(view_type=ViewType.ALL)}
    rename = report.renumbered_experiments
    assert {rename.get(i, i) for i in experiments} | {"0"} == set(copied)  # a SQL store always has MLflow's Default
    for experiment_id, experiment in experiments.items():
        other = copied[rename.get(experiment_id, experiment_id)]
        assert (other.name, other.artifact_location, other.lifecycle_stage, other.tags, other.creation_time) == (
            experiment.name, experiment.artifact_location, experiment.lifecycle_stage, experiment.tags, experiment.creation_time,
        )  # fmt: skip
    runs = files.search_runs(list(experiments), "", ViewType.ALL, max_results=50000)
    assert len(runs) >= 9
    for run in runs:
        other = sql.get_run(run.info.run_id)
        i, o = run.info, other.info
        assert (i.run_name, i.user_id, i.status, i.start_time, i.end_time, i.lifecycle_stage, i.artifact_uri) == (
            o.run_name, o.user_id, o.status, o.start_time, o.end_time, o.lifecycle_stage, o.artifact_uri,
        )  # fmt: skip
        assert (other.data.params, other.data.tags) == (run.data.params, run.data.tags)
        assert set(other.data.metrics) == set(run.data.metrics)
        for key in run.data.metrics:
            # As MLflow's SQL store keeps values: NaN as 0 + is_nan, infinities as the largest floats.
            ours = sorted((m.timestamp, m.step, *stored_value(m.value)) for m in sql.get_metric_history(run.info.run_id, key))
            theirs = sorted((m.timestamp, m.step, *stored_value(m.value)) for m in files.get_metric_history(run.info.run_id, key))
            assert ours == theirs
        datasets = sorted((d.dataset.name, d.dataset.digest, d.dataset.source) for d in run.inputs.dataset_inputs)
        assert sorted((d.dataset.name, d.dataset.digest, d.dataset.source) for d in other.inputs.dataset_inputs) == datasets


def test_the_copy_counts_what_it_wrote_and_mlflow_opens_it(tree: Path, db_uri: str, tmp_path) -> None:
    report, sql = _copied(tree, db_uri, tmp_path)
    assert report.counts["runs"] == len(sql.search_runs([e.experiment_id for e in sql.search_experiments(view_type=ViewType.ALL)], "", ViewType.ALL, max_results=50000))
    assert report.counts["metrics"] > report.counts["latest_metrics"] > 0
    assert report.counts["logged_models"] >= 1


def test_exact_duplicate_metric_lines_are_dropped_and_counted(tree: Path, db_uri: str, tmp_path) -> None:
    copy = tmp_path / "mlruns"
    shutil.copytree(tree, copy)
    metric = next(p for p in copy.glob("*/*/metrics/*") if p.is_file() and p.read_text().strip())
    first = metric.read_text().splitlines()[0]
    with metric.open("a") as handle:
        handle.write(first + "\n" + first + "\n")
    report, _ = _copied(copy, db_uri, tmp_path)
    assert report.duplicate_metric_points == 2


def test_a_destination_with_runs_is_refused_and_left_as_it_was(tree: Path, db_uri: str, tmp_path) -> None:
    store = SqlStore(db_uri, str(tmp_path))
    run_id = store.require_writer().create_run("0", "u")
    with pytest.raises(StoreError, match="already holds runs"):
        tree_to_sql(tree, store)
    assert [r.run_id for r in store.runs([run_id])] == [run_id]
    assert [e.experiment_id for e in store.experiments()] == ["0"]


def test_a_copy_that_fails_halfway_writes_nothing(tree: Path, db_uri: str, tmp_path) -> None:
    copy = tmp_path / "mlruns"
    shutil.copytree(tree, copy)
    run_dirs = sorted(p.parent for p in copy.glob("*/*/meta.yaml") if (p.parent / "metrics").is_dir())
    store = SqlStore(db_uri, str(tmp_path))
    (copy / "models").mkdir(exist_ok=True)
    broken = copy / "models" / "broken"
    broken.mkdir()
    (broken / "meta.yaml").write_text("name: broken\n")
    (broken / "version-1").mkdir()
    (broken / "version-1" / "meta.yaml").write_text("name: broken\nversion: 1\n")
    (broken / "version-2").mkdir()
    (broken / "version-2" / "meta.yaml").write_text("name: broken\nversion: 1\n")  # one version twice: the registry, copied last, fails
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        tree_to_sql(copy, store)
    assert store.runs([run_dirs[0].name]) == []
    assert [e.experiment_id for e in store.experiments()] == ["0"]
