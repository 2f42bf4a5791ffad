"""Artifact uploads and deletes: atomic, confined to the artifact folder, as MLflow's local repository behaves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlscope.store.artifact_writer import begin_upload, delete_artifacts, write_artifact
from mlscope.store.artifacts import UnsafePathError, list_artifacts
from mlscope.store.errors import StoreError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A run's artifact folder beside its metadata, with a way out through symlinks."""
    run = tmp_path / "run"
    (run / "artifacts").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: r\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, run / "artifacts" / "leakdir")
    os.symlink(outside / "secret.txt", run / "artifacts" / "leak.txt")
    return run / "artifacts"


def test_a_file_is_written_with_its_folders(root: Path) -> None:
    write_artifact(root, "outputs/deep/test.txt", b"hello")
    assert (root / "outputs" / "deep" / "test.txt").read_bytes() == b"hello"


def test_a_new_upload_replaces_the_old_file_whole(root: Path) -> None:
    write_artifact(root, "a.txt", b"old")
    write_artifact(root, "a.txt", b"new")
    assert (root / "a.txt").read_bytes() == b"new"


def test_uploaded_files_get_the_default_file_mode(root: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    path = write_artifact(root, "a.txt", b"x")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_an_upload_in_progress_is_invisible_and_leaves_no_file_when_aborted(root: Path) -> None:
    staged = begin_upload(root, "model.pkl")
    staged.write(b"half of it")
    assert not (root / "model.pkl").exists()
    assert staged.temp.exists() and list_artifacts(root, "")[0] == []  # the symlinks out are hidden too
    staged.abort()
    assert sorted(os.listdir(root)) == ["leak.txt", "leakdir"]


def test_an_interrupted_upload_keeps_the_previous_version(root: Path) -> None:
    write_artifact(root, "model.pkl", b"v1")
    staged = begin_upload(root, "model.pkl")
    staged.write(b"v2 partial")
    staged.abort()
    assert (root / "model.pkl").read_bytes() == b"v1"


@pytest.mark.parametrize(
    "relative",
    ["../meta.yaml", "sub/../../meta.yaml", "/etc/passwd", "C:/x", "a\x00.txt", "sub\\..\\..\\meta.yaml", "leakdir/new.txt"],
)
def test_uploads_cannot_leave_the_artifact_folder(root: Path, relative: str) -> None:
    with pytest.raises(UnsafePathError):
        write_artifact(root, relative, b"pwned")
    assert (root.parent / "meta.yaml").read_text() == "run_id: r\n"
    assert sorted(os.listdir(root.parent.parent / "outside")) == ["secret.txt"]


def test_uploading_over_a_symlink_replaces_the_link_not_its_target(root: Path) -> None:
    write_artifact(root, "leak.txt", b"mine")
    assert (root / "leak.txt").read_bytes() == b"mine" and not (root / "leak.txt").is_symlink()
    assert (root.parent.parent / "outside" / "secret.txt").read_text() == "secret"


@pytest.mark.parametrize("relative", ["", "sub/"])
def test_an_upload_needs_a_file_name(root: Path, relative: str) -> None:
    with pytest.raises(StoreError, match="file name"):
        begin_upload(root, relative)


def test_names_mlflow_reserves_for_uploads_in_progress_are_refused(root: Path) -> None:
    with pytest.raises(StoreError, match="reserved"):
        begin_upload(root, ".artifact.uploading.x")


def test_a_folder_cannot_be_overwritten_by_a_file(root: Path) -> None:
    (root / "folder").mkdir()
    with pytest.raises(StoreError, match="directory"):
        begin_upload(root, "folder")


def test_a_broken_link_cannot_be_used_as_a_folder(root: Path) -> None:
    os.symlink(root / "nowhere", root / "dangling")
    with pytest.raises(StoreError, match="link to nothing"):
        begin_upload(root, "dangling/a.txt")
    delete_artifacts(root, "dangling/a.txt")  # nothing there to delete


def test_a_file_cannot_be_used_as_a_folder(root: Path) -> None:
    write_artifact(root, "a.txt", b"x")
    with pytest.raises(StoreError, match="not a folder"):
        begin_upload(root, "a.txt/b.txt")


def test_delete_removes_a_file(root: Path) -> None:
    write_artifact(root, "a.txt", b"x")
    delete_artifacts(root, "a.txt")
    assert not (root / "a.txt").exists()


def test_delete_removes_a_folder_whole(root: Path) -> None:
    write_artifact(root, "model/MLmodel", b"x")
    write_artifact(root, "model/data/weights", b"y")
    delete_artifacts(root, "model")
    assert sorted(os.listdir(root)) == ["leak.txt", "leakdir"]


def test_deleting_the_root_empties_it_but_keeps_the_folder(root: Path) -> None:
    write_artifact(root, "a.txt", b"x")
    delete_artifacts(root, "")
    assert root.is_dir() and os.listdir(root) == []
    assert (root.parent.parent / "outside" / "secret.txt").exists()


def test_deleting_what_does_not_exist_is_not_an_error(root: Path) -> None:
    delete_artifacts(root, "missing/a.txt")
    delete_artifacts(root.parent / "no-such-folder", "a.txt")


def test_deleting_a_symlink_removes_the_link_not_its_target(root: Path) -> None:
    delete_artifacts(root, "leakdir")
    assert not (root / "leakdir").exists()
    assert (root.parent.parent / "outside" / "secret.txt").exists()


@pytest.mark.parametrize("relative", ["../meta.yaml", "leakdir/secret.txt", "/etc/passwd", "sub\\..\\meta.yaml"])
def test_deletes_cannot_leave_the_artifact_folder(root: Path, relative: str) -> None:
    with pytest.raises(UnsafePathError):
        delete_artifacts(root, relative)
    assert (root.parent / "meta.yaml").exists()
    assert (root.parent.parent / "outside" / "secret.txt").exists()
