"""``mlscope.artifacts``: download and read run artifacts by run id or URI, as ``mlflow.artifacts`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlscope


@pytest.fixture
def logged(root: Path) -> str:
    with mlscope.start_run() as run:
        mlscope.log_dict({"layers": [64, 32]}, "config/model.json")
        mlscope.log_text("first line\n", "logs/train.log")
        mlscope.log_text("deep", "logs/nested/deep.txt")
    return run.info.run_id


def test_a_local_artifact_is_returned_in_place_without_a_destination(logged: str) -> None:
    path = Path(mlscope.artifacts.download_artifacts(run_id=logged, artifact_path="logs/train.log"))
    assert path.read_text() == "first line\n"
    assert path == Path(mlscope.get_run(logged).info.artifact_uri.removeprefix("file://")) / "logs" / "train.log"


def test_a_folder_is_copied_under_the_destination_with_its_path(logged: str, tmp_path: Path) -> None:
    path = Path(mlscope.artifacts.download_artifacts(f"runs:/{logged}/logs", dst_path=tmp_path / "dst"))
    assert path == tmp_path / "dst" / "logs" and (path / "nested" / "deep.txt").read_text() == "deep"


def test_the_whole_artifact_root_downloads_by_run_id(logged: str, tmp_path: Path) -> None:
    path = Path(mlscope.artifacts.download_artifacts(run_id=logged, dst_path=tmp_path / "dst"))
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == [
        "config/model.json", "logs/nested/deep.txt", "logs/train.log"]  # fmt: skip


def test_load_dict_and_load_text_read_runs_uris(logged: str) -> None:
    assert mlscope.artifacts.load_dict(f"runs:/{logged}/config/model.json") == {"layers": [64, 32]}
    assert mlscope.artifacts.load_text(f"runs:/{logged}/logs/train.log") == "first line\n"


def test_a_file_uri_is_read_directly(logged: str) -> None:
    uri = mlscope.get_run(logged).info.artifact_uri + "/logs/train.log"
    assert uri.startswith("file://") and mlscope.artifacts.load_text(uri) == "first line\n"


def test_list_artifacts_by_run_id_and_by_uri(logged: str) -> None:
    assert [(f.path, f.is_dir) for f in mlscope.artifacts.list_artifacts(run_id=logged)] == [("config", True), ("logs", True)]
    assert [f.path for f in mlscope.artifacts.list_artifacts(f"runs:/{logged}/logs")] == ["logs/nested", "logs/train.log"]


def test_load_dict_of_a_non_json_file_is_bad_request(logged: str) -> None:
    with pytest.raises(mlscope.exceptions.MlflowException, match="Unable to form a JSON object") as caught:
        mlscope.artifacts.load_dict(f"runs:/{logged}/logs/train.log")
    assert caught.value.error_code == "BAD_REQUEST"


def test_exactly_one_of_run_id_and_uri_is_required(logged: str) -> None:
    with pytest.raises(mlscope.exceptions.MlflowException, match="Exactly one of `run_id` or `artifact_uri`"):
        mlscope.artifacts.download_artifacts(f"runs:/{logged}/logs", run_id=logged)


def test_load_image_reads_a_logged_image(root: Path) -> None:
    pytest.importorskip("PIL.Image")
    mlscope.log_image([[0, 255], [255, 0]], "img.png")
    image = mlscope.artifacts.load_image(f"runs:/{mlscope.active_run().info.run_id}/img.png")
    assert image.size == (2, 2) and image.getpixel((1, 0)) == 255


def test_an_artifact_path_cannot_leave_the_run(logged: str) -> None:
    with pytest.raises(mlscope.exceptions.MlflowException, match="must stay inside"):
        mlscope.artifacts.download_artifacts(run_id=logged, artifact_path="../../meta.yaml")
