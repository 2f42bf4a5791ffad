"""The model registry of a SQL store: what MLflow's registry SqlAlchemyStore wrote, mlscope reads; what mlscope writes, MLflow reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mlscope.store.errors import StoreError
from mlscope.store.sql.registry import SqlRegistry
from mlscope.store.sql.store import SqlStore

from .conftest import mlflow_uri
from .sql_server import SqlServer


def mlflow_registry(uri: str) -> Any:
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    return SqlAlchemyStore(mlflow_uri(uri))


@pytest.fixture
def registry(db_uri: str, tmp_path) -> Iterator[SqlRegistry]:
    store = SqlStore(db_uri, str(tmp_path))
    yield SqlRegistry(store, check_interval=0)
    store.close()


def test_models_mlflow_registered_read_the_same_through_mlscope(registry: SqlRegistry, db_uri: str) -> None:
    from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag

    theirs = mlflow_registry(db_uri)
    theirs.create_registered_model("clf", [RegisteredModelTag("team", "a")], "a classifier")
    for i in range(3):
        theirs.create_model_version("clf", f"s3://bucket/clf/{i}", run_id=f"{i:032x}", tags=[ModelVersionTag("v", str(i))])
    theirs.set_registered_model_alias("clf", "champion", 2)
    theirs.transition_model_version_stage("clf", 3, "Production", archive_existing_versions=False)
    theirs.delete_model_version("clf", 1)
    model = registry.model("clf")
    expected = theirs.get_registered_model("clf")
    assert (model.name, model.description, model.tags, model.aliases) == ("clf", "a classifier", {"team": "a"}, {"champion": "2"})
    assert (model.creation_timestamp, model.last_updated_timestamp) == (expected.creation_timestamp, expected.last_updated_timestamp)
    for number in (2, 3):
        mine, other = registry.version("clf", number), theirs.get_model_version("clf", number)
        assert (mine.source, mine.run_id, mine.current_stage, mine.tags, mine.status, list(mine.aliases)) == (
            other.source, other.run_id, other.current_stage, other.tags, other.status, other.aliases,
        )  # fmt: skip
    with pytest.raises(StoreError, match="not found"):
        registry.version("clf", 1)
    assert [v.version for v in registry.latest_versions("clf")] == [2, 3]


def test_models_mlscope_registers_read_the_same_through_mlflow(registry: SqlRegistry, db_uri: str) -> None:
    registry.create_model("reg", {"team": "b"}, "first")
    for i in range(3):
        registry.writer.create_model_version("reg", f"s3://bucket/reg/{i}", run_id=f"{i:032x}", tags={"v": str(i)})
        registry.index.invalidate()
    registry.set_alias("reg", "best", 2)
    registry.transition_stage("reg", 1, "Staging", False)
    registry.transition_stage("reg", 2, "Staging", True)  # archives version 1
    registry.set_version_tag("reg", 3, "k", "x")
    registry.delete_version("reg", 3)
    registry.update_model("reg", "second")
    theirs = mlflow_registry(db_uri)
    model = theirs.get_registered_model("reg")
    assert (model.description, model.tags, model.aliases) == ("second", {"team": "b"}, {"best": 2})
    assert [(v.version, v.current_stage) for v in theirs.search_model_versions("name = 'reg'")] == [(2, "Staging"), (1, "Archived")]
    assert theirs.get_model_version("reg", 2).tags == {"v": "1"}
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="not found"):
        theirs.get_model_version("reg", 3)
    assert theirs.create_model_version("reg", "s3://bucket/reg/next").version == 4  # a deleted number is never reused


def test_a_renamed_model_keeps_its_versions_tags_and_aliases_for_mlflow(registry: SqlRegistry, db_uri: str) -> None:
    registry.create_model("old", {"t": "1"}, None)
    registry.writer.create_model_version("old", "s3://b/m", tags={"vt": "2"})
    registry.set_alias("old", "prod", 1)
    registry.rename_model("old", "new")
    theirs = mlflow_registry(db_uri).get_registered_model("new")
    assert (theirs.tags, theirs.aliases) == ({"t": "1"}, {"prod": 1})
    assert mlflow_registry(db_uri).get_model_version("new", 1).tags == {"vt": "2"}
    with pytest.raises(StoreError, match="already exists"):
        registry.create_model("new", {}, None)


def test_a_deleted_model_is_gone_with_everything_it_held(registry: SqlRegistry, db_uri: str) -> None:
    registry.create_model("doomed", {"t": "1"}, None)
    registry.writer.create_model_version("doomed", "s3://b/m", tags={"vt": "2"})
    registry.set_alias("doomed", "a", 1)
    registry.delete_model("doomed")
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="not found"):
        mlflow_registry(db_uri).get_registered_model("doomed")
    assert registry.search_models(None, None, 100, None)[0] == []


def test_mlflows_client_registers_a_model_through_mlscope_server_on_a_database(db_uri: str, tmp_path) -> None:
    from mlflow.tracking import MlflowClient

    with SqlServer(db_uri, tmp_path / "mlartifacts") as server:
        client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        run_id = client.create_run("0").info.run_id
        client.create_registered_model("served", tags={"k": "v"})
        version = client.create_model_version("served", f"runs:/{run_id}/model", run_id=run_id)
        client.set_registered_model_alias("served", "live", version.version)
        assert client.get_model_version_by_alias("served", "live").version == "1"
        page = httpx.get(server.url + "/api/2.0/mlflow/registered-models/search")
        assert [m["name"] for m in page.json()["registered_models"]] == ["served"]
    theirs = mlflow_registry(db_uri)
    assert theirs.get_model_version("served", 1).run_id == run_id
    assert theirs.get_registered_model("served").aliases == {"live": 1}
