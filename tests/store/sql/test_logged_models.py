"""MLflow 3 logged models written by mlscope into a SQL store read back identically through MLflow's SqlAlchemyStore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlscope.store.errors import StoreError
from mlscope.store.sql.logged_models import SqlLoggedModelWrites
from mlscope.store.sql.store import SqlStore

from .conftest import mlflow_store


@pytest.fixture
def models(db_uri: str, tmp_path) -> Iterator[SqlLoggedModelWrites]:
    store = SqlStore(db_uri, str(tmp_path / "artifacts"))
    yield SqlLoggedModelWrites(store)
    store.close()


def test_a_model_created_and_finalized_by_mlscope_is_what_mlflow_reads(models: SqlLoggedModelWrites, db_uri: str, tmp_path) -> None:
    run_id = models.store.require_writer().create_run("0", "u")
    model = models.create("0", "clf", "sklearn", run_id, [("alpha", "0.5")], [("team", "a")])
    assert (model.status, model.name) == ("LOGGED_MODEL_PENDING", "clf")
    models.finalize(model.model_id, "LOGGED_MODEL_READY")
    models.set_tags(model.model_id, [("team", "b"), ("stage", "x")])
    theirs = mlflow_store(db_uri, str(tmp_path / "artifacts")).get_logged_model(model.model_id)
    assert (theirs.name, theirs.model_type, theirs.source_run_id, str(theirs.status)) == ("clf", "sklearn", run_id, "READY")
    assert theirs.artifact_location == f"{tmp_path / 'artifacts'}/0/models/{model.model_id}/artifacts"
    assert theirs.params == {"alpha": "0.5"} and theirs.tags == {"team": "b", "stage": "x"}
    assert [m.model_id for m in models.models(["0"])] == [model.model_id]


def test_a_deleted_model_is_gone_for_mlscope_and_mlflow(models: SqlLoggedModelWrites, db_uri: str, tmp_path) -> None:
    model = models.create("0", None, "", "", [], [])
    models.delete(model.model_id)
    with pytest.raises(StoreError) as error:
        models.get(model.model_id)
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert models.models() == []
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="not found"):
        mlflow_store(db_uri, str(tmp_path)).get_logged_model(model.model_id)


def test_unknown_models_and_tags_are_resource_does_not_exist(models: SqlLoggedModelWrites) -> None:
    model = models.create("0", "m", "", "", [], [])
    for call in (lambda: models.finalize("m-nope", "LOGGED_MODEL_READY"), lambda: models.delete_tag(model.model_id, "absent")):
        with pytest.raises(StoreError) as error:
            call()
        assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_the_dashboards_logged_model_lookup_by_experiment_folder_reads_the_database(db_uri: str, tmp_path) -> None:
    from mlscope.index.logged_models import logged_models_of
    from mlscope.store.sql.backend import open_sql_backend

    backend = open_sql_backend(db_uri, default_artifact_root=str(tmp_path))
    try:
        backend.index.build()
        experiment = backend.index.experiment("0")
        assert logged_models_of(experiment.path) == {}
        model = backend.model_writes.create("0", "clf", "", "", [], [])
        assert list(logged_models_of(backend.index.experiment("0").path)) == [model.model_id]
        backend.model_writes.delete(model.model_id)
        assert logged_models_of(backend.index.experiment("0").path) == {}
    finally:
        backend.close()
