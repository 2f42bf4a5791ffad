"""Where a version's files come from: MLflow's server-side source checks, and the folder a version's files are in."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from mlscope.store.artifacts import ArtifactsUnavailable
from mlscope.store.errors import StoreError
from mlscope.store.registry_artifacts import uri_folder, version_folder
from mlscope.store.registry_reader import read_registry
from mlscope.store.registry_sources import SourceResolver, parse_models_uri
from mlscope.store.registry_writer import RegistryWriter

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def resolver(registry_tree: Tree) -> SourceResolver:
    return SourceResolver(registry_tree[0], RegistryWriter(registry_tree[0]))


def test_a_local_path_inside_the_runs_artifacts_is_accepted(resolver: SourceResolver, registry_tree: Tree) -> None:
    ids = registry_tree[1]
    resolved = resolver.resolve(ids["artifacts"][ids["run"]], ids["run"], None)
    assert (resolved.run_id, resolved.storage_location) == (ids["run"], ids["artifacts"][ids["run"]])


@pytest.mark.parametrize("source", ["/etc", "/tmp", "file:///etc/passwd"])
def test_a_local_path_outside_the_runs_artifacts_is_refused(resolver: SourceResolver, registry_tree: Tree,
                                                             source: str) -> None:
    with pytest.raises(StoreError, match="Invalid model version source"):
        resolver.resolve(source, registry_tree[1]["run"], None)


def test_a_local_path_without_a_run_is_refused(resolver: SourceResolver, registry_tree: Tree) -> None:
    ids = registry_tree[1]
    with pytest.raises(StoreError, match="run_id request parameter has to be specified"):
        resolver.resolve(ids["artifacts"][ids["run"]], None, None)


def test_another_runs_artifacts_are_refused(resolver: SourceResolver, registry_tree: Tree) -> None:
    ids = registry_tree[1]
    with pytest.raises(StoreError):
        resolver.resolve(ids["artifacts"][ids["other_run"]], ids["run"], None)


def test_a_runs_uri_must_name_the_given_run(resolver: SourceResolver, registry_tree: Tree) -> None:
    ids = registry_tree[1]
    assert resolver.resolve(f"runs:/{ids['run']}/model", ids["run"], None).source == f"runs:/{ids['run']}/model"
    with pytest.raises(StoreError, match="run_id request parameter must identify"):
        resolver.resolve(f"runs:/{ids['run']}/model", ids["other_run"], None)


def test_a_logged_model_source_takes_its_artifacts_and_run(resolver: SourceResolver, registry_tree: Tree) -> None:
    ids = registry_tree[1]
    resolved = resolver.resolve(f"models:/{ids['logged_model']}", None, ids["logged_model"])
    assert resolved.run_id == ids["run"]
    assert resolved.storage_location.endswith(f"/models/{ids['logged_model']}/artifacts")


def test_a_logged_model_source_needs_its_model_id(resolver: SourceResolver, registry_tree: Tree) -> None:
    with pytest.raises(StoreError, match="model_id request parameter must identify"):
        resolver.resolve(f"models:/{registry_tree[1]['logged_model']}", None, None)


def test_a_registered_version_source_is_resolved_to_its_number(resolver: SourceResolver, registry_tree: Tree) -> None:
    resolved = resolver.resolve("models:/fraud-detector@champion", None, None)
    assert (resolved.source, resolved.run_id) == ("models:/fraud-detector/2", registry_tree[1]["run"])


def test_a_registered_version_source_with_another_run_is_refused(resolver: SourceResolver, registry_tree: Tree) -> None:
    with pytest.raises(StoreError, match="must match the referenced model version"):
        resolver.resolve("models:/fraud-detector/2", registry_tree[1]["other_run"], None)


def test_a_prompt_cannot_be_a_source(resolver: SourceResolver) -> None:
    with pytest.raises(StoreError, match="Prompt versions cannot be used"):
        resolver.resolve("models:/my-prompt/1", None, None)


def test_remote_sources_are_accepted_but_not_with_dot_dot(resolver: SourceResolver) -> None:
    assert resolver.resolve("s3://bucket/models/fraud", None, None).storage_location == "s3://bucket/models/fraud"
    with pytest.raises(StoreError, match="absolute path must be provided"):
        resolver.resolve("s3://bucket/models/../../secrets", None, None)


def test_an_mlflow_artifacts_source_must_be_inside_the_runs_artifact_uri(resolver: SourceResolver,
                                                                         registry_tree: Tree) -> None:
    with pytest.raises(StoreError):
        resolver.resolve("mlflow-artifacts:/0/elsewhere/artifacts/model", registry_tree[1]["run"], None)


@pytest.mark.parametrize("uri,expected", [
    ("models:/m-123", {"model_id": "m-123"}),
    ("models:/fraud/3", {"name": "fraud", "version": "3"}),
    ("models:/fraud/Production", {"name": "fraud", "stage": "Production"}),
    ("models:/fraud/latest", {"name": "fraud"}),
    ("models:/fraud@champion", {"name": "fraud", "alias": "champion"}),
])
def test_models_uris_parse_as_mlflow_parses_them(uri: str, expected: dict[str, str]) -> None:
    parsed = parse_models_uri(uri)
    assert {k: v for k, v in asdict(parsed).items() if v is not None} == expected


@pytest.mark.parametrize("uri", ["models:/", "models:/a/b/c", "models:/a/", "models:/a@", "runs:/x"])
def test_malformed_models_uris_are_refused(uri: str) -> None:
    with pytest.raises(StoreError, match="Not a proper models:/ URI"):
        parse_models_uri(uri)


# ------------------------------------------------------------- version folders


def _models(root: Path) -> dict[str, Any]:
    return {m.name: m for m in read_registry(root)[0]}


def test_a_version_from_run_artifacts_has_its_files_there(registry_tree: Tree) -> None:
    models = _models(registry_tree[0])
    folder = version_folder(models["fraud-detector"].version(2), registry_tree[0], models)
    assert (folder / "MLmodel").is_file()


def test_a_version_from_a_logged_model_has_its_files_in_the_model(registry_tree: Tree) -> None:
    models = _models(registry_tree[0])
    folder = version_folder(models["fraud-detector"].version(4), registry_tree[0], models)
    assert folder.parent.name == registry_tree[1]["logged_model"]


def test_a_moved_tree_still_finds_version_files(registry_tree: Tree, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "mlruns"
    shutil.copytree(registry_tree[0], moved)
    models = _models(moved)
    folder = version_folder(models["fraud-detector"].version(2), moved, models)
    assert folder.is_relative_to(moved) and (folder / "MLmodel").is_file()


def test_runs_and_models_uris_name_folders_in_the_tree(registry_tree: Tree) -> None:
    root, ids = registry_tree
    models = _models(root)
    assert (uri_folder(f"runs:/{ids['run']}/model", root, models, None) / "MLmodel").is_file()
    assert (uri_folder("models:/fraud-detector@champion", root, models, None) / "MLmodel").is_file()


def test_remote_files_are_unavailable(registry_tree: Tree) -> None:
    with pytest.raises(ArtifactsUnavailable, match="cannot read"):
        uri_folder("s3://bucket/model", registry_tree[0], {}, None)
