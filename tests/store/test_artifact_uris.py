"""The artifact URIs a tracking server gives runs and models, and where proxied paths live on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.store.artifact_uris import (
    ArtifactLocations,
    logged_model_artifact_uri,
    proxied_path_of,
    run_artifact_uri,
)
from mlscope.store.artifacts import ArtifactsUnavailable, UnsafePathError, artifact_root_for, model_artifact_root
from mlscope.store.model import LoggedModel, Run, RunInfo


def make_owner(folder: Path, marker: str = "meta.yaml", files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / marker).write_text("x: 1\n")
    (folder / "artifacts").mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        (folder / "artifacts" / name).write_text(text)
    return folder / "artifacts"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    make_owner(root / "1" / "r1")
    make_owner(root / "1" / "models" / "m-1")
    make_owner(root / "1" / "traces" / "tr-1", "trace_info.yaml")
    make_owner(root / ".trash" / "2" / "r2")
    return root


# ------------------------------------------------------------------ URIs


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("mlflow-artifacts:/1/r1/artifacts", "1/r1/artifacts"),
        ("mlflow-artifacts://host:5000/1/r1/artifacts", "1/r1/artifacts"),
        ("http://host:5000/api/2.0/mlflow-artifacts/artifacts/1/r1/artifacts", "1/r1/artifacts"),
        ("https://h/prefix/api/2.0/mlflow-artifacts/artifacts/1/r1/artifacts/", "1/r1/artifacts"),
    ],
)
def test_proxied_uris_name_a_path_behind_the_proxy(uri: str, path: str) -> None:
    assert proxied_path_of(uri) == path


@pytest.mark.parametrize("uri", ["file:///tmp/x", "/tmp/x", "s3://bucket/x", "http://host/files/x"])
def test_other_uris_are_not_proxied(uri: str) -> None:
    assert proxied_path_of(uri) is None


def test_runs_in_an_experiment_inside_the_tree_get_a_relative_proxied_uri(tree: Path) -> None:
    location = (tree / "1").as_uri()
    assert run_artifact_uri(tree, "1", location, "abc") == "mlflow-artifacts:/1/abc/artifacts"


def test_logged_models_get_a_proxied_uri_under_models(tree: Path) -> None:
    location = (tree / "1").as_uri()
    assert logged_model_artifact_uri(tree, "1", location, "m-9") == "mlflow-artifacts:/1/models/m-9/artifacts"


def test_an_experiment_location_from_before_the_tree_was_moved_is_still_proxied(tree: Path) -> None:
    assert run_artifact_uri(tree, "1", "file:///gone/old/mlruns/1", "abc") == "mlflow-artifacts:/1/abc/artifacts"


@pytest.mark.parametrize("location", ["s3://bucket/exp", "mlflow-artifacts:/1"])
def test_locations_outside_the_tree_follow_mlflows_rule(tree: Path, location: str) -> None:
    assert run_artifact_uri(tree, "1", location, "abc") == f"{location}/abc/artifacts"


def test_a_local_folder_outside_the_tree_keeps_its_file_uri(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_artifact_uri(tree, "1", elsewhere.as_uri(), "abc") == f"{elsewhere.as_uri()}/abc/artifacts"


def test_without_serving_artifacts_runs_get_mlflows_file_uri(tree: Path) -> None:
    location = (tree / "1").as_uri()
    assert run_artifact_uri(tree, "1", location, "abc", proxied=False) == f"{location}/abc/artifacts"


# ------------------------------------------------------------- locations


def test_uploads_go_into_the_tree_by_default(tree: Path) -> None:
    folder = ArtifactLocations(tree).locate("1/r1/artifacts/sub/a.txt")
    assert folder.root == tree / "1" / "r1" / "artifacts" and folder.relative == "sub/a.txt"


def test_logged_model_and_trace_artifacts_are_their_own_folders(tree: Path) -> None:
    locations = ArtifactLocations(tree)
    assert locations.locate("1/models/m-1/artifacts/MLmodel").root == tree / "1" / "models" / "m-1" / "artifacts"
    assert locations.locate("1/traces/tr-1/artifacts/traces.json").root == tree / "1" / "traces" / "tr-1" / "artifacts"


def test_runs_of_deleted_experiments_are_found_in_the_trash(tree: Path) -> None:
    assert ArtifactLocations(tree).locate("2/r2/artifacts/x").root == tree / ".trash" / "2" / "r2" / "artifacts"


@pytest.mark.parametrize(
    "path",
    [
        "1/r1/meta.yaml",
        "1/r1/params/p",
        "1/r1",
        "1/unknown-run/artifacts/x",
        "1/tags/artifacts/x",
        "1/models/m-unknown/artifacts/x",
        ".trash/2/r2/artifacts/x",
        "1/r1/artifacts/../meta.yaml",
        "/1/r1/artifacts/x",
        "",
    ],
)
def test_nothing_but_existing_artifact_folders_is_addressable_in_the_tree(tree: Path, path: str) -> None:
    with pytest.raises(UnsafePathError):
        ArtifactLocations(tree).locate(path)


def test_files_under_mlflow_servers_mlartifacts_beside_the_tree_are_found(tree: Path) -> None:
    served = make_owner(tree.parent / "mlartifacts" / "1" / "r1", files={"model.pkl": "bytes"})
    assert ArtifactLocations(tree).locate("1/r1/artifacts/model.pkl").root == served


def test_the_tree_wins_when_it_holds_the_runs_files(tree: Path) -> None:
    (tree / "1" / "r1" / "artifacts" / "a.txt").write_text("tree")
    make_owner(tree.parent / "mlartifacts" / "1" / "r1", files={"b.txt": "served"})
    assert ArtifactLocations(tree).locate("1/r1/artifacts").root == tree / "1" / "r1" / "artifacts"


def test_an_explicit_destination_receives_uploads_of_any_artifact_path(tree: Path, tmp_path: Path) -> None:
    destination = tmp_path / "store"
    folder = ArtifactLocations(tree, destination).locate("custom/place/r9/artifacts/x.txt")
    assert folder.root == destination / "custom" / "place" / "r9" / "artifacts" and folder.relative == "x.txt"


def test_a_destination_that_is_the_tree_keeps_the_tree_rules(tree: Path) -> None:
    with pytest.raises(UnsafePathError):
        ArtifactLocations(tree, tree).locate("1/r1/params/artifacts/x")


def test_a_path_only_an_empty_fallback_could_hold_is_refused(tree: Path) -> None:
    (tree.parent / "mlartifacts").mkdir()
    with pytest.raises(UnsafePathError):
        ArtifactLocations(tree).locate("elsewhere/artifacts/x")


# --------------------------------------------------- readers of proxied runs


def make_run(run_dir: Path, artifact_uri: str) -> Run:
    info = RunInfo("r1", "1", "name", "user", "FINISHED", 1, 2, "active", artifact_uri)
    return Run(info=info, params={}, tags={}, metrics={}, path=run_dir)


def test_a_proxied_run_reads_from_the_tree(tree: Path) -> None:
    run = make_run(tree / "1" / "r1", "mlflow-artifacts:/1/r1/artifacts")
    assert artifact_root_for(run, ArtifactLocations(tree)) == tree / "1" / "r1" / "artifacts"


def test_a_run_logged_through_mlflow_server_reads_from_its_destination(tree: Path, tmp_path: Path) -> None:
    served = make_owner(tmp_path / "dest" / "1" / "r1", files={"a.txt": "a"})
    run = make_run(tree / "1" / "r1", "mlflow-artifacts:/1/r1/artifacts")
    assert artifact_root_for(run, ArtifactLocations(tree, tmp_path / "dest")) == served


def test_a_proxied_logged_model_reads_from_the_tree(tree: Path) -> None:
    path = tree / "1" / "models" / "m-1"
    model = LoggedModel("m-1", "1", "m", "r1", "READY", 1, 1, "mlflow-artifacts:/1/models/m-1/artifacts", None, {}, {}, path)
    assert model_artifact_root(model, ArtifactLocations(tree)) == path / "artifacts"


def test_a_proxied_uri_naming_nothing_here_is_unavailable(tree: Path) -> None:
    run = make_run(tree / "1" / "r1", "mlflow-artifacts:/elsewhere/r1/artifacts")
    with pytest.raises(ArtifactsUnavailable, match="artifacts-destination"):
        artifact_root_for(run, ArtifactLocations(tree))
