"""Reading MLflow's registry folder: every model and version reads as MLflow's registry FileStore reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlscope.store.registry_reader import read_registered_model, read_registry
from tests.registry_trees import (
    mlflow_model_fields,
    mlflow_version_fields,
    model_fields,
    registry_store,
    version_fields,
)

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def read(registry_tree: Tree) -> dict[str, Any]:
    models, problems = read_registry(registry_tree[0])
    assert problems == []
    return {m.name: m for m in models}


def test_every_registered_model_in_the_folder_is_read(registry_tree: Tree, read: dict[str, Any]) -> None:
    assert sorted(read) == sorted(p.name for p in (registry_tree[0] / "models").iterdir())


def test_each_model_matches_mlflows_get_registered_model(registry_tree: Tree, read: dict[str, Any]) -> None:
    store = registry_store(registry_tree[0])
    for name, model in read.items():
        assert model_fields(model) == mlflow_model_fields(store.get_registered_model(name)), name


def test_each_live_version_matches_mlflows_get_model_version(registry_tree: Tree, read: dict[str, Any]) -> None:
    store = registry_store(registry_tree[0])
    checked = 0
    for model in read.values():
        for version in model.live_versions:
            assert version_fields(version) == mlflow_version_fields(store.get_model_version(model.name, version.version))
            checked += 1
    assert checked == 8


def test_a_deleted_version_is_kept_but_not_live(read: dict[str, Any]) -> None:
    model = read["with-deleted"]
    assert [v.version for v in model.versions] == [1, 2]
    assert [v.version for v in model.live_versions] == [2]
    assert model.version(1) is None


def test_deleting_a_version_removed_its_alias(read: dict[str, Any]) -> None:
    assert read["with-deleted"].aliases == {}


def test_aliases_are_attached_to_the_versions_they_name(read: dict[str, Any]) -> None:
    model = read["fraud-detector"]
    assert model.version(2).aliases == ("champion",)
    assert model.version(3).aliases == ("challenger",)
    assert model.version(1).aliases == ()


def test_a_version_made_from_a_logged_model_points_at_its_artifacts(registry_tree: Tree, read: dict[str, Any]) -> None:
    version = read["fraud-detector"].version(4)
    model_id = registry_tree[1]["logged_model"]
    assert version.model_id == model_id
    assert version.source == f"models:/{model_id}"
    assert version.download_uri.endswith(f"/models/{model_id}/artifacts")


def test_download_uri_matches_mlflows(registry_tree: Tree, read: dict[str, Any]) -> None:
    store = registry_store(registry_tree[0])
    for model in read.values():
        for version in model.live_versions:
            assert version.download_uri == store.get_model_version_download_uri(model.name, version.version)


def test_latest_alias_is_the_highest_live_version(registry_tree: Tree, read: dict[str, Any]) -> None:
    store = registry_store(registry_tree[0])
    for name in ("fraud-detector", "with-deleted", "Churn Model"):
        assert read[name].latest_version.version == int(store.get_model_version_by_alias(name, "latest").version)


def test_latest_versions_for_chosen_stages_match_mlflow(registry_tree: Tree, read: dict[str, Any]) -> None:
    store = registry_store(registry_tree[0])
    for stages in (["Production"], ["staging", "ARCHIVED"], ["None"]):
        ours = [v.version for v in read["fraud-detector"].latest_versions(tuple(stages))]
        theirs = sorted(int(v.version) for v in store.get_latest_versions("fraud-detector", stages))
        assert sorted(ours) == theirs


def test_a_model_without_meta_yaml_is_reported_and_the_others_still_read(tmp_path: Path) -> None:
    (tmp_path / "models" / "broken").mkdir(parents=True)
    good = tmp_path / "models" / "good"
    good.mkdir()
    (good / "meta.yaml").write_text("creation_timestamp: 1\nname: good\n")
    models, problems = read_registry(tmp_path)
    assert [m.name for m in models] == ["good"]
    assert [(Path(p.path).name, p.kind) for p in problems] == [("broken", "registry")]


def test_a_half_written_version_is_reported_not_fatal(tmp_path: Path) -> None:
    model_dir = tmp_path / "models" / "m"
    (model_dir / "version-1").mkdir(parents=True)
    (model_dir / "version-1" / "meta.yaml").write_text("")
    (model_dir / "version-2").mkdir()
    (model_dir / "version-2" / "meta.yaml").write_text("name: m\nversion: 2\ncurrent_stage: None\n")
    (model_dir / "meta.yaml").write_text("name: m\n")
    problems: list[Any] = []
    model = read_registered_model(model_dir, problems)
    assert [v.version for v in model.versions] == [2]
    assert "version-1" in problems[0].path


def test_mlscope_temp_folders_are_not_models(tmp_path: Path) -> None:
    (tmp_path / "models" / ".mlscope-tmp-abc").mkdir(parents=True)
    assert read_registry(tmp_path) == ([], [])


def test_a_tree_without_a_registry_has_no_models(tmp_path: Path) -> None:
    assert read_registry(tmp_path) == ([], [])
