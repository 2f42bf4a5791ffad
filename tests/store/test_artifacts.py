"""Artifact roots, safe path resolution, one-level listings, image-series names, MLmodel summaries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlscope.store.artifacts import (
    ArtifactsUnavailable,
    UnsafePathError,
    artifact_root_for,
    list_artifacts,
    model_artifact_root,
    models_of_run,
    parse_series_image_name,
    resolve_artifact_path,
    walk_files,
)
from mlscope.store.mlmodel import summarize_mlmodel
from mlscope.store.model import LoggedModel, ModelRef, Run, RunInfo
from tests.artifact_trees import CONDA_YAML, MLMODEL, PYTHON_ENV_YAML, REQUIREMENTS_TXT


def make_run(run_dir: Path, artifact_uri: str, run_id: str = "r1", outputs: tuple[ModelRef, ...] = ()) -> Run:
    info = RunInfo(run_id, "0", "name", "user", "FINISHED", 1, 2, "active", artifact_uri)
    return Run(info=info, params={}, tags={}, metrics={}, model_outputs=outputs, path=run_dir)


def make_model(model_id: str, source_run_id: str | None, path: Path, location: str = "") -> LoggedModel:
    return LoggedModel(model_id, "0", model_id, source_run_id, "READY", 5, 5, location, None, {}, {}, path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    artifacts = tmp_path / "run" / "artifacts"
    (artifacts / "sub").mkdir(parents=True)
    (artifacts / "b.txt").write_text("bee")
    (artifacts / "a.txt").write_text("a")
    (artifacts / "sub" / "c.json").write_text("{}")
    (artifacts / ".artifact.uploading.tmp").write_text("partial")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside / "secret.txt", artifacts / "leak.txt")
    os.symlink(outside, artifacts / "leakdir")
    os.symlink(artifacts / "a.txt", artifacts / "inside-link.txt")
    return artifacts


def test_root_is_the_artifact_uri_when_it_exists(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert artifact_root_for(make_run(tmp_path / "run", elsewhere.as_uri())) == elsewhere


def test_root_falls_back_to_the_run_folder_when_the_tree_was_moved(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", "file:///nonexistent/old/mlruns/0/r1/artifacts")
    assert artifact_root_for(run) == tmp_path / "run" / "artifacts"


@pytest.mark.parametrize("uri", ["s3://bucket/0/r1/artifacts", "mlflow-artifacts:/0/r1/artifacts", "gs://b/x"])
def test_non_local_artifact_uris_are_unavailable(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ArtifactsUnavailable, match="cannot read"):
        artifact_root_for(make_run(tmp_path / "run", uri))


def test_logged_model_root_falls_back_to_its_folder(tmp_path: Path) -> None:
    model = make_model("m-1", "r1", tmp_path / "models" / "m-1", "file:///gone/models/m-1/artifacts")
    assert model_artifact_root(model) == tmp_path / "models" / "m-1" / "artifacts"


def test_models_of_a_run_come_from_outputs_and_source_run(tmp_path: Path) -> None:
    run = make_run(tmp_path, "", outputs=(ModelRef("m-out"),))
    models = [
        make_model("m-out", None, tmp_path),
        make_model("m-src", "r1", tmp_path),
        make_model("m-other", "r2", tmp_path),
    ]
    assert [m.model_id for m in models_of_run(run, models)] == ["m-out", "m-src"]


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("../meta.yaml", "'..'"),
        ("sub/../../meta.yaml", "'..'"),
        ("/etc/passwd", "relative"),
        ("C:/Windows/win.ini", "relative"),
        ("a\x00.txt", "NUL"),
        ("sub\\c.json", "backslash"),
    ],
)
def test_resolve_refuses_paths_that_are_not_plain_relative_paths(root: Path, relative: str, message: str) -> None:
    with pytest.raises(UnsafePathError, match=message):
        resolve_artifact_path(root, relative)


@pytest.mark.parametrize("relative", ["leak.txt", "leakdir", "leakdir/secret.txt"])
def test_resolve_refuses_symlinks_that_lead_outside_the_root(root: Path, relative: str) -> None:
    with pytest.raises(UnsafePathError, match="outside"):
        resolve_artifact_path(root, relative)


def test_resolve_follows_symlinks_that_stay_inside_the_root(root: Path) -> None:
    assert resolve_artifact_path(root, "inside-link.txt") == (root / "a.txt").resolve()


def test_resolve_reports_missing_files(root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        resolve_artifact_path(root, "sub/nope.txt")


def test_listing_is_one_level_sorted_with_sizes_and_without_escaping_links(root: Path) -> None:
    entries, truncated = list_artifacts(root, "")
    assert [(e.path, e.is_dir, e.size) for e in entries] == [
        ("a.txt", False, 1),
        ("b.txt", False, 3),
        ("inside-link.txt", False, 1),
        ("sub", True, None),
    ]
    assert not truncated and all(e.mtime > 0 for e in entries)


def test_listing_a_subfolder_gives_paths_relative_to_the_root(root: Path) -> None:
    entries, _ = list_artifacts(root, "sub/")
    assert [e.path for e in entries] == ["sub/c.json"]


def test_listing_is_capped(root: Path) -> None:
    entries, truncated = list_artifacts(root, "", limit=2)
    assert len(entries) == 2 and truncated


def test_listing_a_missing_root_is_empty(tmp_path: Path) -> None:
    assert list_artifacts(tmp_path / "nope", "") == ([], False)


def test_walk_files_keeps_inside_links_and_skips_escaping_ones(root: Path) -> None:
    names = [name for _, name in walk_files(root, root.resolve())]
    assert names == ["a.txt", "b.txt", "inside-link.txt", "sub/c.json"]


def test_image_series_names_parse_with_plus_delimiters() -> None:
    parsed = parse_series_image_name(
        "train~samples+step+12+timestamp+1700000000000+4404f35e-7ce3-42b5-be82-e1df12ffaf3d.png"
    )
    assert parsed is not None
    assert (parsed.key, parsed.step, parsed.timestamp, parsed.compressed) == ("train/samples", 12, 1700000000000, False)


def test_image_series_names_parse_with_legacy_percent_delimiters_and_thumbnails() -> None:
    parsed = parse_series_image_name("digits%step%3%timestamp%17%0a1b2c3d-0000-1111-2222-333344445555%compressed.webp")
    assert parsed is not None and (parsed.key, parsed.step, parsed.compressed) == ("digits", 3, True)


@pytest.mark.parametrize("name", ["plot.png", "a+step+x+timestamp+1+u.png", "a+step+1+timestamp+1+abc.txt"])
def test_other_file_names_are_not_image_series(name: str) -> None:
    assert parse_series_image_name(name) is None


def test_mlmodel_summary_has_flavors_signature_python_and_requirements() -> None:
    files = {"requirements.txt": REQUIREMENTS_TXT, "python_env.yaml": PYTHON_ENV_YAML, "conda.yaml": CONDA_YAML}
    summary = summarize_mlmodel(MLMODEL, files)
    assert set(summary["flavors"]) == {"python_function", "sklearn"}
    assert summary["flavors"]["sklearn"]["sklearn_version"] == "1.5.2"
    assert [c["name"] for c in summary["signature"]["inputs"]] == ["sepal length (cm)", "petal width (cm)"]
    assert summary["signature"]["outputs"] == [{"name": None, "type": "tensor<int64>", "required": True, "shape": [-1]}]
    assert summary["python_version"] == "3.11.9"
    assert summary["requirements"] == ["mlflow==3.17.2", "cloudpickle==3.0.0", "numpy==1.26.4", "scikit-learn==1.5.2"]


def test_mlmodel_requirements_fall_back_to_conda_yaml() -> None:
    summary = summarize_mlmodel("flavors: {}\n", {"conda.yaml": CONDA_YAML})
    assert summary["requirements"] == ["pip<=24.0", "mlflow==3.17.2", "scikit-learn==1.5.2"]
    assert (summary["requirements_source"], summary["python_version"]) == ("conda.yaml", "3.11.9")


def test_mlmodel_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(ValueError, match="mapping"):
        summarize_mlmodel("- just\n- a list\n", {})
