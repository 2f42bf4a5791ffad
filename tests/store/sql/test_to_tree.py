"""`mlscope migrate` SQL -> mlruns: what SqlAlchemyStore returns from the database, MLflow's FileStore returns from the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mlflow.entities import ViewType

from mlscope.store.errors import StoreError
from mlscope.store.sql.points import stored_value
from mlscope.store.sql.store import SqlStore
from mlscope.store.sql.to_tree import sql_to_tree
from tests.reference_trees import file_store

from .conftest import MlflowDatabase


@pytest.fixture(scope="module")
def copied(mlflow_db: MlflowDatabase, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    store = SqlStore(mlflow_db.uri, str(mlflow_db.artifact_root), read_only=True)
    target = tmp_path_factory.mktemp("copy") / "mlruns"
    counts = sql_to_tree(store, target)
    store.close()
    return target, counts


def test_every_run_reads_back_through_mlflows_file_store_as_sqlalchemystore_returns_it(copied, mlflow_db: MlflowDatabase) -> None:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    target, _ = copied
    files = file_store(target)
    theirs = mlflow_db.store.search_runs(mlflow_db.experiment_ids, "", ViewType.ALL, max_results=1000)
    assert len(theirs) == 31
    for run in theirs:
        mine = files.get_run(run.info.run_id)
        assert mine.info.to_proto() == run.info.to_proto()
        assert (mine.data.params, mine.data.tags) == (run.data.params, run.data.tags)
        for key in run.data.metrics:
            ours = sorted((m.timestamp, m.step, *stored_value(m.value)) for m in files.get_metric_history(run.info.run_id, key))
            expected = sorted((m.timestamp, m.step, *stored_value(m.value)) for m in mlflow_db.store.get_metric_history(run.info.run_id, key))
            assert ours == expected
        datasets = sorted((d.dataset.name, d.dataset.digest, tuple((t.key, t.value) for t in d.tags)) for d in run.inputs.dataset_inputs)
        assert sorted((d.dataset.name, d.dataset.digest, tuple((t.key, t.value) for t in d.tags)) for d in mine.inputs.dataset_inputs) == datasets


def test_experiments_deleted_ones_included_read_back_through_the_file_store(copied, mlflow_db: MlflowDatabase) -> None:
    target, counts = copied
    files = file_store(target)
    theirs = {e.experiment_id: e for e in mlflow_db.store.search_experiments(view_type=ViewType.ALL)}
    ours = {e.experiment_id: e for e in files.search_experiments(view_type=ViewType.ALL)}
    assert set(ours) == set(theirs) and counts["experiments"] == len(theirs)
    for experiment_id, other in theirs.items():
        mine = ours[experiment_id]
        assert (mine.name, mine.lifecycle_stage, mine.tags, mine.artifact_location) == (other.name, other.lifecycle_stage, other.tags, other.artifact_location)


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(mlflow_db: MlflowDatabase, tmp_path: Path) -> None:
    (tmp_path / "mlruns").mkdir()
    (tmp_path / "mlruns" / "keep.txt").write_text("mine")
    store = SqlStore(mlflow_db.uri, str(tmp_path), read_only=True)
    with pytest.raises(StoreError, match="not empty"):
        sql_to_tree(store, tmp_path / "mlruns")
    store.close()
    assert [p.name for p in (tmp_path / "mlruns").iterdir()] == ["keep.txt"]


def test_the_registry_comes_along_and_mlflows_registry_file_store_reads_it(db_uri: str, tmp_path: Path) -> None:
    from mlflow.entities.model_registry import RegisteredModelTag
    from mlflow.store.model_registry.file_store import FileStore
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    from .conftest import mlflow_uri

    theirs = SqlAlchemyStore(mlflow_uri(db_uri))
    theirs.create_registered_model("clf", [RegisteredModelTag("team", "a")], "desc")
    theirs.create_model_version("clf", "s3://b/1")
    theirs.create_model_version("clf", "s3://b/2")
    theirs.set_registered_model_alias("clf", "champion", 2)
    theirs.delete_model_version("clf", 1)
    store = SqlStore(db_uri, str(tmp_path), read_only=True)
    counts = sql_to_tree(store, tmp_path / "mlruns")
    store.close()
    assert (counts["registered_models"], counts["model_versions"]) == (1, 2)
    files = FileStore(str(tmp_path / "mlruns"))
    model = files.get_registered_model("clf")
    assert (model.description, model.tags, model.aliases) == ("desc", {"team": "a"}, {"champion": "2"})  # FileStore reads alias files as text
    assert [v.version for v in files.search_model_versions("name = 'clf'", max_results=10)] == [2]
    assert files.get_model_version("clf", 2).source == "s3://b/2"
