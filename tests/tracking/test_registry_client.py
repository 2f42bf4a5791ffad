"""The registry on mlscope's client: every write is read back by MLflow's own registry (FileStore, or the server).

Locally the oracle is MLflow's registry FileStore over the same folder; over
REST the same calls go to MLflow's server and to mlscope's, and MLflow's
client reads back what mlscope's wrote.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

import mlscope
from mlscope.store.meta_yaml import read_yaml
from mlscope.tracking import fluent
from mlscope.tracking.client import MlscopeClient
from tests.registry_trees import (
    MLMODEL,
    mlflow_model_fields,
    mlflow_version_fields,
    registry_store,
    tracking_uri,
    version_fields,
)


def client_model_fields(model: Any) -> dict[str, Any]:
    return {
        "name": model.name, "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp, "description": model.description,
        "tags": dict(model.tags), "aliases": dict(model.aliases),
        "latest_versions": sorted((version_fields(v) for v in model.latest_versions), key=lambda f: f["version"]),
    }  # fmt: skip


def run_with_model_folder(client: MlscopeClient, experiment_id: str = "0") -> str:
    """A run whose artifacts hold model/MLmodel (what mlflow.<flavor>.log_model wrote before MLflow 3)."""
    run_id = client.create_run(experiment_id, run_name="train").info.run_id
    client.log_text(run_id, MLMODEL, "model/MLmodel")
    client.log_bytes(run_id, b"weights", "model/model.pkl")
    return run_id


@pytest.fixture
def client(root: Path) -> MlscopeClient:
    return MlscopeClient(str(root))


# ------------------------------------------------------------ local tree, MLflow's FileStore as oracle


def test_a_registered_model_written_by_the_client_reads_back_the_same_in_mlflow(client: MlscopeClient, root: Path) -> None:
    created = client.create_registered_model("fraud", tags={"team": "risk"}, description="Scores payments")
    assert mlflow_model_fields(registry_store(root).get_registered_model("fraud")) == client_model_fields(created)
    assert created.tags == {"team": "risk"} and created.description == "Scores payments"


def test_register_model_from_a_run_folder_records_its_artifact_uri_and_run(client: MlscopeClient, root: Path) -> None:
    run_id = run_with_model_folder(client)
    version = client.register_model(f"runs:/{run_id}/model", "fraud")
    assert (version.name, version.version, version.run_id) == ("fraud", 1, run_id)
    assert version.source == client.get_artifact_uri(run_id, "model")
    assert mlflow_version_fields(registry_store(root).get_model_version("fraud", "1")) == version_fields(version)


def test_fluent_register_model_adds_versions_to_an_existing_model(client: MlscopeClient, root: Path) -> None:
    run_id = run_with_model_folder(client)
    mlscope.register_model(f"runs:/{run_id}/model", "fraud")
    second = mlscope.register_model(f"runs:/{run_id}/model", "fraud", tags={"stage": "candidate"})
    assert second.version == 2 and second.tags == {"stage": "candidate"}
    assert [int(v.version) for v in registry_store(root).search_model_versions("name = 'fraud'", 100)] == [2, 1]


def test_register_model_from_an_mlflow3_logged_model_uses_its_models_uri(root: Path) -> None:
    import mlflow
    from sklearn.linear_model import LinearRegression

    with tracking_uri(root), mlflow.start_run() as run:
        logged = mlflow.sklearn.log_model(LinearRegression().fit([[1.0], [2.0]], [2.0, 4.0]), name="model")
    version = mlscope.register_model(f"runs:/{run.info.run_id}/model", "regression")
    assert (version.source, version.model_id, version.run_id) == (f"models:/{logged.model_id}", logged.model_id, run.info.run_id)
    oracle = registry_store(root).get_model_version("regression", "1")
    assert mlflow_version_fields(oracle) == version_fields(version)
    with tracking_uri(root):
        model = mlflow.MlflowClient().get_logged_model(logged.model_id)
        tag = model.tags["mlflow.modelVersions"]
    stored = read_yaml(root / "models" / "regression" / "version-1" / "meta.yaml")["storage_location"]
    assert version.storage_location == model.artifact_location == stored
    with tracking_uri(root):
        loaded = mlflow.pyfunc.load_model("models:/regression/1")
    assert json.loads(tag) == [{"name": "regression", "version": 1}]
    assert loaded.predict([[3.0]]).tolist() == pytest.approx([6.0])


def test_register_model_without_a_model_at_the_path_is_not_found(client: MlscopeClient) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(mlscope.MlflowException) as caught:
        client.register_model(f"runs:/{run_id}/model", "nothing")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_aliases_set_move_and_delete_as_mlflow_sees_them(client: MlscopeClient, root: Path) -> None:
    run_id = run_with_model_folder(client)
    for _ in range(2):
        client.register_model(f"runs:/{run_id}/model", "fraud")
    client.set_registered_model_alias("fraud", "champion", 1)
    client.set_registered_model_alias("fraud", "champion", "2")
    client.set_registered_model_alias("fraud", "shadow", 1)
    client.delete_registered_model_alias("fraud", "shadow")
    oracle = registry_store(root)
    assert oracle.get_registered_model("fraud").aliases == {"champion": "2"} == client.get_registered_model("fraud").aliases
    assert oracle.get_model_version_by_alias("fraud", "champion").version == 2
    assert client.get_model_version_by_alias("fraud", "champion").version == 2


def test_an_unknown_alias_is_mlflows_error(client: MlscopeClient) -> None:
    client.create_registered_model("fraud")
    with pytest.raises(mlscope.MlflowException, match="Registered model alias nope not found."):
        client.get_model_version_by_alias("fraud", "nope")


def test_stages_and_latest_versions_match_mlflows(client: MlscopeClient, root: Path) -> None:
    run_id = run_with_model_folder(client)
    for _ in range(3):
        client.register_model(f"runs:/{run_id}/model", "fraud")
    client.transition_model_version_stage("fraud", 1, "Production")
    client.transition_model_version_stage("fraud", 2, "production", archive_existing_versions=True)
    client.transition_model_version_stage("fraud", 3, "Staging")
    oracle = registry_store(root)
    for stages in ([], ["Production"], ["Archived", "Staging"]):
        # MLflow lists them in the order of a set of stage names: compare by version.
        expected = sorted((mlflow_version_fields(v) for v in oracle.get_latest_versions("fraud", stages)), key=lambda f: f["version"])
        assert sorted((version_fields(v) for v in client.get_latest_versions("fraud", stages)), key=lambda f: f["version"]) == expected
    assert oracle.get_model_version("fraud", "1").current_stage == "Archived"


def test_tags_descriptions_rename_and_deletes_are_what_mlflow_reads(client: MlscopeClient, root: Path) -> None:
    run_id = run_with_model_folder(client)
    for _ in range(2):
        client.register_model(f"runs:/{run_id}/model", "fraud")
    client.set_registered_model_tag("fraud", "team", "risk")
    client.set_registered_model_tag("fraud", "drop", "me")
    client.delete_registered_model_tag("fraud", "drop")
    client.set_model_version_tag("fraud", 1, "validated", "yes")
    client.set_model_version_tag("fraud", 2, "gone", "soon")
    client.delete_model_version_tag("fraud", 2, "gone")
    client.update_registered_model("fraud", "Scores **payments**")
    client.update_model_version("fraud", 1, "first cut")
    client.rename_registered_model("fraud", "fraud-v2")
    client.delete_model_version("fraud-v2", 2)
    oracle = registry_store(root)
    assert mlflow_model_fields(oracle.get_registered_model("fraud-v2")) == client_model_fields(client.get_registered_model("fraud-v2"))
    assert oracle.get_model_version("fraud-v2", "1").tags == {"validated": "yes"}
    assert oracle.get_model_version("fraud-v2", "1").description == "first cut"
    assert [m.name for m in oracle.search_registered_models(max_results=100)] == ["fraud-v2"]
    client.delete_registered_model("fraud-v2")
    assert list(oracle.search_registered_models(max_results=100)) == []


def test_set_model_version_tag_by_stage_tags_the_newest_version_in_it(client: MlscopeClient, root: Path) -> None:
    run_id = run_with_model_folder(client)
    for _ in range(2):
        client.register_model(f"runs:/{run_id}/model", "fraud")
    client.transition_model_version_stage("fraud", 2, "Staging")
    mlscope.set_model_version_tag("fraud", key="qa", value="passed", stage="Staging")
    assert registry_store(root).get_model_version("fraud", "2").tags == {"qa": "passed"}


@pytest.mark.parametrize("filter_string, order_by", [
    (None, None), ("name LIKE 'fraud%'", None), ("tags.team = 'risk'", ["name DESC"]),
    ("name ILIKE '%MODEL%'", ["last_updated_timestamp DESC"]),
])  # fmt: skip
def test_searching_models_on_mlflows_tree_gives_mlflows_answer(registry_tree: tuple[Path, Any], filter_string: str | None,
                                                                order_by: list[str] | None) -> None:  # fmt: skip
    root, _ = registry_tree
    expected = [mlflow_model_fields(m) for m in registry_store(root).search_registered_models(filter_string, 100, order_by)]
    found = MlscopeClient(str(root)).search_registered_models(filter_string, order_by=order_by)
    assert [client_model_fields(m) for m in found] == expected


@pytest.mark.parametrize("filter_string", [None, "name = 'fraud-detector'", "version_number >= 2", "tags.validated = 'yes'"])
def test_searching_versions_on_mlflows_tree_gives_mlflows_answer(registry_tree: tuple[Path, Any], filter_string: str | None) -> None:
    root, ids = registry_tree
    expected = [mlflow_version_fields(v) for v in registry_store(root).search_model_versions(filter_string, 10_000)]
    assert [version_fields(v) for v in MlscopeClient(str(root)).search_model_versions(filter_string)] == expected


def test_fluent_searches_page_through_every_match(client: MlscopeClient) -> None:
    for i in range(3):
        client.create_registered_model(f"m{i}")
    assert [m.name for m in mlscope.search_registered_models(filter_string="name LIKE 'm%'")] == ["m0", "m1", "m2"]
    assert [m.name for m in mlscope.search_registered_models(max_results=2)] == ["m0", "m1"]
    assert mlscope.search_model_versions(filter_string="name = 'm0'") == []


def test_paging_registered_models_hands_out_mlflows_tokens(client: MlscopeClient) -> None:
    for i in range(3):
        client.create_registered_model(f"m{i}")
    first = client.search_registered_models(max_results=2)
    rest = client.search_registered_models(max_results=2, page_token=first.token)
    assert [m.name for m in first] + [m.name for m in rest] == ["m0", "m1", "m2"] and rest.token is None


def test_a_taken_name_and_a_missing_model_are_mlflows_errors(client: MlscopeClient) -> None:
    client.create_registered_model("fraud")
    with pytest.raises(mlscope.MlflowException) as taken:
        client.create_registered_model("fraud")
    with pytest.raises(mlscope.MlflowException) as missing:
        client.get_registered_model("nope")
    assert (taken.value.error_code, missing.value.error_code) == ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST")


def test_a_bad_filter_is_an_mlflow_exception(client: MlscopeClient) -> None:
    with pytest.raises(mlscope.MlflowException, match="Invalid attribute key"):
        client.search_registered_models("owner = 'x'")


def test_prompts_cannot_be_registered_as_models(client: MlscopeClient) -> None:
    client.create_registered_model("fraud")
    with pytest.raises(mlscope.MlflowException, match="Prompts cannot be registered"):
        client.create_model_version("fraud", "/tmp/x", tags={"mlflow.prompt.is_prompt": "true"})


def test_a_separate_registry_uri_gets_the_registry_writes(root: Path, tmp_path: Path) -> None:
    registry_root = tmp_path / "registry"
    client = MlscopeClient(str(root), registry_uri=str(registry_root))
    client.create_registered_model("elsewhere")
    assert [m.name for m in registry_store(registry_root).search_registered_models(max_results=10)] == ["elsewhere"]
    assert not (root / "models").exists()


def test_set_registry_uri_points_new_clients_at_that_registry(root: Path, tmp_path: Path) -> None:
    registry_root = tmp_path / "registry"
    mlscope.set_registry_uri(str(registry_root))
    try:
        MlscopeClient(str(root)).create_registered_model("elsewhere")
    finally:
        fluent._reset_for_tests()
    assert (registry_root / "models" / "elsewhere" / "meta.yaml").is_file()


# ------------------------------------------------------------ over REST: MLflow's server and mlscope's


def test_registry_calls_over_rest_read_back_in_mlflows_client(remote: Any) -> None:
    client = MlscopeClient(mlscope.get_tracking_uri())
    name = f"rest-{uuid.uuid4().hex[:8]}"
    run_id = run_with_model_folder(client, fluent.active_experiment_id())
    client.create_registered_model(name, tags={"team": "risk"}, description="over REST")
    first = client.register_model(f"runs:/{run_id}/model", name)
    client.register_model(f"runs:/{run_id}/model", name)
    client.set_registered_model_alias(name, "champion", first.version)
    client.transition_model_version_stage(name, 2, "Staging")
    client.set_model_version_tag(name, 1, "validated", "yes")
    client.update_model_version(name, 2, "second")
    model = remote.get_registered_model(name)
    assert (model.description, model.tags, model.aliases) == ("over REST", {"team": "risk"}, {"champion": "1"})
    assert remote.get_model_version_by_alias(name, "champion").source == first.source == client.get_artifact_uri(run_id, "model")
    assert client.get_model_version_by_alias(name, "champion").version == 1
    assert mlflow_version_fields(remote.get_model_version(name, "2")) == version_fields(client.get_model_version(name, 2))
    assert [int(v.version) for v in remote.search_model_versions(f"name = '{name}'")] == \
        [v.version for v in client.search_model_versions(f"name = '{name}'")] == [2, 1]  # fmt: skip
    assert [m.name for m in client.search_registered_models(f"name = '{name}'")] == [name]
    assert remote.get_model_version_download_uri(name, "1") == client.get_model_version_download_uri(name, 1)
    client.delete_model_version(name, 2)
    client.delete_registered_model_alias(name, "champion")
    assert remote.get_registered_model(name).aliases == {}
    client.delete_registered_model(name)
    assert list(remote.search_registered_models(f"name = '{name}'")) == []


def test_a_missing_model_over_rest_is_mlflows_error_code(remote: Any) -> None:
    with pytest.raises(mlscope.MlflowException) as caught:
        MlscopeClient(mlscope.get_tracking_uri()).get_registered_model(f"missing-{uuid.uuid4().hex[:6]}")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"

