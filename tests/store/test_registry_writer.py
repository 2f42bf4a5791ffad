"""Writing MLflow's registry folder: MLflow reads back everything, nothing is ever half-written."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml

from mlscope.store.errors import StoreError
from mlscope.store.registry_writer import RegistryWriter
from tests.registry_trees import (
    mlflow_model_fields,
    mlflow_version_fields,
    model_fields,
    registry_store,
    version_fields,
)


@pytest.fixture
def writer(tmp_path: Path) -> RegistryWriter:
    return RegistryWriter(tmp_path)


def _with_versions(writer: RegistryWriter, name: str, count: int) -> None:
    writer.create_registered_model(name)
    for i in range(count):
        writer.create_model_version(name, f"s3://bucket/{name}/{i}", run_id=f"run{i}")


def test_mlflow_reads_a_created_model_as_written(writer: RegistryWriter, tmp_path: Path) -> None:
    ours = writer.create_registered_model("fraud", tags={"team": "risk", "a/b": "nested"}, description="*md*")
    assert mlflow_model_fields(registry_store(tmp_path).get_registered_model("fraud")) == model_fields(ours)


def test_model_meta_yaml_has_mlflows_fields(writer: RegistryWriter, tmp_path: Path) -> None:
    writer.create_registered_model("fraud")
    registry_store(tmp_path).create_registered_model("by-mlflow")
    ours = yaml.safe_load((tmp_path / "models" / "fraud" / "meta.yaml").read_text())
    theirs = yaml.safe_load((tmp_path / "models" / "by-mlflow" / "meta.yaml").read_text())
    assert sorted(ours) == sorted(theirs)


def test_version_meta_yaml_has_mlflows_fields(writer: RegistryWriter, tmp_path: Path) -> None:
    writer.create_registered_model("fraud")
    writer.create_model_version("fraud", "s3://b/m", run_id="r1")
    oracle = registry_store(tmp_path)
    oracle.create_model_version("fraud", "s3://b/m", run_id="r1")
    ours = yaml.safe_load((tmp_path / "models" / "fraud" / "version-1" / "meta.yaml").read_text())
    theirs = yaml.safe_load((tmp_path / "models" / "fraud" / "version-2" / "meta.yaml").read_text())
    assert sorted(ours) == sorted(theirs)


def test_mlflow_reads_a_created_version_as_written(writer: RegistryWriter, tmp_path: Path) -> None:
    writer.create_registered_model("fraud")
    ours = writer.create_model_version("fraud", "s3://b/m", run_id="r1", tags={"k": "v"}, description="first",
                                       run_link="http://x")
    theirs = registry_store(tmp_path).get_model_version("fraud", "1")
    assert mlflow_version_fields(theirs) == version_fields(ours)


def test_creating_an_existing_model_is_refused(writer: RegistryWriter) -> None:
    writer.create_registered_model("fraud")
    with pytest.raises(StoreError) as caught:
        writer.create_registered_model("fraud")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"


@pytest.mark.parametrize("name", ["", "  ", "a/b", "a:b", "50%", "..", ".", "a\\b"])
def test_names_that_are_not_one_folder_are_refused(writer: RegistryWriter, name: str) -> None:
    with pytest.raises(StoreError) as caught:
        writer.create_registered_model(name)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_missing_model_is_not_found(writer: RegistryWriter) -> None:
    with pytest.raises(StoreError) as caught:
        writer.update_registered_model("nope", "d")
    assert (caught.value.error_code, caught.value.message) == ("RESOURCE_DOES_NOT_EXIST",
                                                                "Registered Model with name=nope not found")


def test_version_numbers_continue_after_a_deleted_version(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 2)
    writer.delete_model_version("m", 2)
    assert writer.create_model_version("m", "s3://b/x").version == 3


def test_concurrent_writers_get_distinct_version_numbers(writer: RegistryWriter) -> None:
    writer.create_registered_model("m")
    numbers: list[int] = []

    def create() -> None:
        for _ in range(5):
            numbers.append(writer.create_model_version("m", "s3://b/x").version)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 21))


def test_a_deleted_version_is_not_found_by_mlflow_either(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "m", 1)
    writer.delete_model_version("m", "1")
    with pytest.raises(StoreError):
        writer.get_model_version("m", 1)
    with pytest.raises(Exception, match="not found"):
        registry_store(tmp_path).get_model_version("m", "1")


def test_deleting_a_version_deletes_its_aliases(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 2)
    writer.set_registered_model_alias("m", "champion", "1")
    writer.set_registered_model_alias("m", "challenger", "2")
    writer.delete_model_version("m", "1")
    assert writer.get_registered_model("m").aliases == {"challenger": "2"}


def test_an_alias_moves_to_another_version(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "m", 2)
    writer.set_registered_model_alias("m", "champion", "1")
    writer.set_registered_model_alias("m", "champion", 2)
    assert registry_store(tmp_path).get_model_version_by_alias("m", "champion").version == 2


def test_model_meta_keeps_a_copy_of_the_aliases_like_mlflow(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "m", 1)
    writer.set_registered_model_alias("m", "champion", "1")
    assert yaml.safe_load((tmp_path / "models" / "m" / "meta.yaml").read_text())["aliases"] == {"champion": "1"}


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12"])
def test_reserved_aliases_are_refused(writer: RegistryWriter, alias: str) -> None:
    _with_versions(writer, "m", 1)
    with pytest.raises(StoreError, match="reserved"):
        writer.set_registered_model_alias("m", alias, "1")


def test_an_alias_to_a_missing_version_is_refused(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 1)
    with pytest.raises(StoreError) as caught:
        writer.set_registered_model_alias("m", "champion", "7")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_transition_with_archive_moves_the_old_production_version_to_archived(writer: RegistryWriter,
                                                                               tmp_path: Path) -> None:
    _with_versions(writer, "m", 2)
    writer.transition_model_version_stage("m", "1", "production")
    writer.transition_model_version_stage("m", "2", "Production", archive_existing_versions=True)
    stages = {int(v.version): v.current_stage for v in registry_store(tmp_path).search_model_versions("name='m'", 10)}
    assert stages == {1: "Archived", 2: "Production"}


def test_archiving_into_a_non_active_stage_is_refused(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 1)
    with pytest.raises(StoreError, match="not an Active stage"):
        writer.transition_model_version_stage("m", "1", "Archived", archive_existing_versions=True)


def test_an_unknown_stage_is_refused(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 1)
    with pytest.raises(StoreError, match="Invalid Model Version stage"):
        writer.transition_model_version_stage("m", "1", "Shipping")


def test_rename_keeps_versions_tags_and_aliases(writer: RegistryWriter, tmp_path: Path) -> None:
    writer.create_registered_model("old", tags={"team": "risk"}, description="d")
    writer.create_model_version("old", "s3://b/x", tags={"k": "v"})
    writer.set_registered_model_alias("old", "champion", "1")
    renamed = writer.rename_registered_model("old", "new")
    theirs = registry_store(tmp_path).get_registered_model("new")
    assert mlflow_model_fields(theirs) == model_fields(renamed)
    assert (renamed.tags, renamed.aliases, renamed.version(1).tags) == ({"team": "risk"}, {"champion": "1"}, {"k": "v"})
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["new"]


def test_rename_onto_an_existing_model_is_refused_and_changes_nothing(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "a", 1)
    writer.create_registered_model("b")
    with pytest.raises(StoreError) as caught:
        writer.rename_registered_model("a", "b")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["a", "b"]


def test_delete_removes_the_model_folder(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "m", 2)
    writer.delete_registered_model("m")
    assert list((tmp_path / "models").iterdir()) == []


def test_tag_writes_bump_last_updated(writer: RegistryWriter) -> None:
    created = writer.create_registered_model("m")
    writer.set_registered_model_tag("m", "k", "v")
    after = writer.get_registered_model("m")
    assert after.tags == {"k": "v"}
    assert after.last_updated_timestamp >= created.last_updated_timestamp


def test_deleting_a_missing_tag_is_a_no_op_as_in_mlflow(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 1)
    writer.delete_registered_model_tag("m", "absent")
    writer.delete_model_version_tag("m", "1", "absent")
    assert writer.get_registered_model("m").tags == {}


def test_version_tags_are_set_and_deleted(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "m", 1)
    writer.set_model_version_tag("m", "1", "stage/gate", "passed")
    assert registry_store(tmp_path).get_model_version("m", "1").tags == {"stage/gate": "passed"}
    writer.delete_model_version_tag("m", "1", "stage/gate")
    assert writer.get_model_version("m", 1).tags == {}


@pytest.mark.parametrize("key", ["", "../x", "/abs", "a//b", "bad\u00a7char"])
def test_tag_keys_that_are_not_files_are_refused(writer: RegistryWriter, key: str) -> None:
    writer.create_registered_model("m")
    with pytest.raises(StoreError):
        writer.set_registered_model_tag("m", key, "v")


def test_a_non_integer_version_is_refused_with_mlflows_message(writer: RegistryWriter) -> None:
    _with_versions(writer, "m", 1)
    with pytest.raises(StoreError, match="Parameter 'version' must be an integer, got 'x'."):
        writer.get_model_version("m", "x")


def test_no_temp_files_are_left_behind(writer: RegistryWriter, tmp_path: Path) -> None:
    _with_versions(writer, "m", 3)
    writer.set_registered_model_alias("m", "a", "1")
    writer.rename_registered_model("m", "n")
    writer.set_model_version_tag("n", "2", "k", "v")
    leftovers = [p for p in tmp_path.rglob("*") if ".mlscope-tmp" in p.name]
    assert leftovers == []


def test_linking_a_logged_model_records_the_version_once(tmp_path: Path, writer: RegistryWriter) -> None:
    model_dir = tmp_path / "123" / "models" / "m-abc"
    model_dir.mkdir(parents=True)
    (tmp_path / "123" / "meta.yaml").write_text("experiment_id: '123'\nname: e\n")
    (model_dir / "meta.yaml").write_text("model_id: m-abc\n")
    writer.link_logged_model("m-abc", "fraud", 1)
    writer.link_logged_model("m-abc", "fraud", 1)
    writer.link_logged_model("m-abc", "fraud", 2)
    stored = json.loads((model_dir / "tags" / "mlflow.modelVersions").read_text())
    assert stored == [{"name": "fraud", "version": 1}, {"name": "fraud", "version": 2}]
