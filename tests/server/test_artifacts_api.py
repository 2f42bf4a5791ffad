"""mlscope's artifact endpoints and MLflow's two, over HTTP on a tree written by MLflow.

Safety first: traversal in every spelling is refused and leaks nothing; then
downloads (Range, zips equal to the tree), moved trees, non-local stores, and
each preview endpoint's shape.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.artifact_trees import CSV_TEXT, LOG_LINES, UNICODE_TEXT, write_artifact_tree
from tests.conftest import LiveServer

SECRET = "TOP SECRET"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("artifacts-api")
    return base / "mlruns", write_artifact_tree(base / "mlruns", base / "outside")


@pytest.fixture(scope="module")
def server(tree: tuple[Path, dict[str, Any]], serve: Callable[..., LiveServer]) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def client(server: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def ids(tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return tree[1]


@pytest.fixture(scope="module")
def artifacts(tree: tuple[Path, dict[str, Any]]) -> Path:
    root, ids = tree
    return root / ids["experiment"] / ids["run"] / "artifacts"


def url(endpoint: str, run_id: str, path: str, **extra: str) -> str:
    """A raw URL (no client-side normalisation), so encoded traversal reaches the server as sent."""
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    return f"/api/mlscope/artifacts/{endpoint}?run_id={run_id}&path={path}" + (f"&{query}" if query else "")


# ------------------------------------------------------------------ safety

TRAVERSALS = [
    "../meta.yaml",
    "%2e%2e/meta.yaml",
    "%2E%2E%2Fmeta.yaml",
    "notes/../../meta.yaml",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "leak.txt",
    "leakdir/secret.txt",
    "config.json%00.png",
    "notes%5C..%5C..%5Cmeta.yaml",
]


@pytest.mark.parametrize("endpoint", ["file", "text", "parsed", "table", "list", "zip", "mlmodel", "images"])
@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_attempts_are_refused_and_leak_nothing(
    client: httpx.Client, ids: dict[str, Any], endpoint: str, path: str
) -> None:
    response = client.get(url(endpoint, ids["run"], path))
    assert response.status_code in (400, 404)
    assert SECRET not in response.text and "lifecycle_stage" not in response.text and "root:" not in response.text
    assert response.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_mlflow_get_artifact_refuses_traversal(client: httpx.Client, ids: dict[str, Any], path: str) -> None:
    response = client.get(f"/get-artifact?run_uuid={ids['run']}&path={path}")
    assert response.status_code in (400, 404) and SECRET not in response.text


def test_listings_hide_symlinks_that_lead_outside(client: httpx.Client, ids: dict[str, Any]) -> None:
    names = [f["name"] for f in client.get(url("list", ids["run"], "")).json()["files"]]
    assert "leak.txt" not in names and "leakdir" not in names and "config-link.json" in names


def test_whole_run_zip_leaves_out_escaping_symlinks(client: httpx.Client, ids: dict[str, Any]) -> None:
    archive = zipfile.ZipFile(io.BytesIO(client.get(url("zip", ids["run"], "")).content))
    assert not any(name.startswith(("leak", "leakdir")) for name in archive.namelist())
    assert all(SECRET.encode() not in archive.read(name) for name in archive.namelist())


def test_downloads_are_attachments_that_never_sniff(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("file", ids["run"], "report.html"))
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("sandbox")


def test_inline_html_is_sandboxed_without_scripts(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("file", ids["run"], "report.html", inline="1"))
    csp = response.headers["content-security-policy"]
    assert response.headers["content-type"].startswith("text/html")
    assert csp.split(";")[0].strip() == "sandbox" and "allow-scripts" not in csp and "allow-same-origin" not in csp


def test_svg_is_served_inline_only_as_a_sandboxed_image(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("file", ids["run"], "plots/loss_curve.svg", inline="1"))
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-security-policy"].startswith("sandbox;")


def test_binary_files_cannot_be_shown_inline(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("file", ids["run"], "weights.bin", inline="1"))
    assert response.status_code == 400 and "download" in response.json()["message"]


# --------------------------------------------------------------- downloads


def test_file_download_is_byte_identical(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    response = client.get(url("file", ids["run"], "weights.bin"))
    assert response.status_code == 200 and response.content == (artifacts / "weights.bin").read_bytes()
    assert response.headers["accept-ranges"] == "bytes"


def test_range_request_returns_partial_content(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    response = client.get(url("file", ids["run"], "weights.bin"), headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 100-199/4096"
    assert response.content == (artifacts / "weights.bin").read_bytes()[100:200]


def test_suffix_range_returns_the_end_of_the_file(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    response = client.get(url("file", ids["run"], "weights.bin"), headers={"Range": "bytes=-10"})
    assert response.status_code == 206 and response.content == (artifacts / "weights.bin").read_bytes()[-10:]


def test_open_range_resumes_a_download(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    response = client.get(url("file", ids["run"], "weights.bin"), headers={"Range": "bytes=4000-"})
    assert response.headers["content-range"] == "bytes 4000-4095/4096" and len(response.content) == 96


@pytest.mark.parametrize("header", ["bytes=5000-", "bytes=10-5", "bytes=abc-def"])
def test_unsatisfiable_or_malformed_ranges_get_416(client: httpx.Client, ids: dict[str, Any], header: str) -> None:
    response = client.get(url("file", ids["run"], "weights.bin"), headers={"Range": header})
    assert response.status_code == 416 and response.headers["content-range"] == "bytes */4096"


def test_stale_if_range_gets_the_whole_file(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("file", ids["run"], "weights.bin"), headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert response.status_code == 200 and len(response.content) == 4096


def test_folder_zip_equals_the_tree_byte_for_byte(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    response = client.get(url("zip", ids["run"], "model"))
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="all-previews-model.zip"' in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    expected = {
        p.relative_to(artifacts / "model").as_posix(): p.read_bytes()
        for p in (artifacts / "model").rglob("*")
        if p.is_file()
    }
    assert {name: archive.read(name) for name in archive.namelist()} == expected
    assert archive.testzip() is None


def test_whole_run_zip_holds_every_artifact(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(client.get(url("zip", ids["run"], "")).content))
    expected = {
        p.relative_to(artifacts).as_posix()
        for p in artifacts.rglob("*")
        if p.is_file() and not p.relative_to(artifacts).as_posix().startswith("leak")
    }
    assert set(archive.namelist()) == expected
    assert (
        archive.read("images/" + next(n for n in (artifacts / "images").iterdir()).name)
        == next(n for n in (artifacts / "images").iterdir()).read_bytes()
    )


def test_zip_of_a_file_is_refused(client: httpx.Client, ids: dict[str, Any]) -> None:
    assert client.get(url("zip", ids["run"], "config.json")).status_code == 400


def test_logged_model_folder_downloads_as_zip(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("zip", ids["run"], "", model_id=ids["logged_model"]))
    assert sorted(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == [
        "MLmodel",
        "model.pkl",
        "requirements.txt",
    ]
    assert 'filename="all-previews-iris-classifier.zip"' in response.headers["content-disposition"]


def test_whole_run_zip_with_models_adds_each_logged_model_in_its_own_folder(client: httpx.Client, ids: dict[str, Any]) -> None:
    names = zipfile.ZipFile(io.BytesIO(client.get(url("zip", ids["run"], "", models="1")).content)).namelist()
    assert {"logged_models/iris-classifier/MLmodel", "logged_models/iris-classifier/model.pkl"} <= set(names)
    assert any(not n.startswith("logged_models/") for n in names)  # and the run's own artifacts


# ------------------------------------------------------ roots and listings


def test_moved_tree_falls_back_to_the_run_folder(client: httpx.Client, ids: dict[str, Any]) -> None:
    files = client.get(url("list", ids["moved"], "")).json()["files"]
    assert [f["path"] for f in files] == ["kept.txt"]
    assert client.get(url("file", ids["moved"], "kept.txt")).text == "kept after the move\n"


def test_non_local_artifact_store_is_reported_unavailable(client: httpx.Client, ids: dict[str, Any]) -> None:
    for endpoint in ("list", "file", "zip"):
        response = client.get(url(endpoint, ids["remote"], "x.txt"))
        assert response.status_code == 404
        assert response.json()["error_code"] == "RESOURCE_UNAVAILABLE" and "s3://" in response.json()["message"]


def test_unknown_run_is_404(client: httpx.Client) -> None:
    response = client.get(url("list", "0" * 32, ""))
    assert response.status_code == 404 and "not found" in response.json()["message"]


def test_missing_run_id_is_400(client: httpx.Client) -> None:
    assert client.get("/api/mlscope/artifacts/list").status_code == 400


def test_listing_has_sizes_mtimes_and_preview_kinds(client: httpx.Client, ids: dict[str, Any]) -> None:
    files = {f["path"]: f for f in client.get(url("list", ids["run"], "")).json()["files"]}
    kinds = {path: f["kind"] for path, f in files.items()}
    assert kinds["config.json"] == "json" and kinds["params.yaml"] == "yaml" and kinds["report.html"] == "html"
    assert kinds["weights.bin"] == "binary" and kinds["model"] == "model" and kinds["notes"] == "folder"
    assert files["weights.bin"]["size"] == 4096 and files["weights.bin"]["mtime"] > 0


def test_logged_tables_are_recognised_from_the_run_tag(client: httpx.Client, ids: dict[str, Any]) -> None:
    files = client.get(url("list", ids["run"], "tables")).json()["files"]
    assert [(f["path"], f["kind"]) for f in files] == [("tables/eval.json", "table")]


def test_root_listing_carries_the_runs_logged_models(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("list", ids["run"], "")).json()
    assert [(m["model_id"], m["name"]) for m in body["models"]] == [(ids["logged_model"], "iris-classifier")]


def test_logged_model_artifacts_list_by_model_id(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("list", ids["run"], "", model_id=ids["logged_model"])).json()
    assert [f["path"] for f in body["files"]] == ["MLmodel", "model.pkl", "requirements.txt"] and body["is_model_dir"]


def test_model_not_linked_to_the_run_is_404(client: httpx.Client, ids: dict[str, Any]) -> None:
    response = client.get(url("list", ids["moved"], "", model_id=ids["logged_model"]))
    assert response.status_code == 404


def test_listing_a_file_is_400(client: httpx.Client, ids: dict[str, Any]) -> None:
    assert client.get(url("list", ids["run"], "config.json")).status_code == 400


# ---------------------------------------------------------------- previews


def test_text_chunks_continue_where_the_last_one_ended(client: httpx.Client, ids: dict[str, Any]) -> None:
    text, offset, eof = "", 0, False
    while not eof:
        body = client.get(url("text", ids["run"], "logs/train.log", offset=str(offset), length="4096")).json()
        text, offset, eof = text + body["text"], body["end"], body["eof"]
    assert text == LOG_LINES


def test_text_chunks_never_split_utf8_characters(client: httpx.Client, ids: dict[str, Any]) -> None:
    text, offset, eof = "", 0, False
    while not eof:
        body = client.get(url("text", ids["run"], "notes/unicode.txt", offset=str(offset), length="1001")).json()
        text, offset, eof = text + body["text"], body["end"], body["eof"]
    assert text == UNICODE_TEXT


def test_tail_starts_at_a_line_boundary(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("text", ids["run"], "logs/train.log", tail="1", length="100")).json()
    assert body["eof"] and body["text"].startswith("step ") and body["text"].endswith("step 1999: loss=0.0005\n")


def test_binary_files_are_sniffed_as_binary(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("text", ids["run"], "model/model.pkl")).json()
    assert body["binary"] and body["text"] == ""


def test_chunk_length_is_bounded(client: httpx.Client, ids: dict[str, Any]) -> None:
    assert client.get(url("text", ids["run"], "logs/train.log", length="999999999")).status_code == 400


def test_csv_preview_has_header_rows_and_count(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("table", ids["run"], "data/metrics.csv", limit="5")).json()
    assert body["columns"] == ["epoch", "loss", "acc"] and len(body["rows"]) == 5
    assert body["row_count"] == CSV_TEXT.count("\n") - 1 and body["row_count_exact"]


def test_tsv_preview_splits_on_tabs(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("table", ids["run"], "data/scores.tsv")).json()
    assert body["columns"] == ["name", "score"] and body["rows"][1] == ["beta", "10"]


def test_json_parses_into_a_value(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("parsed", ids["run"], "config.json")).json()
    assert body["value"]["optimizer"] == {"name": "adam", "betas": [0.9, 0.999]}


def test_yaml_parses_into_a_value(client: httpx.Client, ids: dict[str, Any]) -> None:
    assert client.get(url("parsed", ids["run"], "params.yaml")).json()["value"]["data"]["shuffle"] is True


def test_invalid_json_reports_where_it_broke(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("parsed", ids["run"], "broken.json")).json()
    assert "value" not in body and body["error"].startswith("line 1, column")


def test_mlmodel_summary_endpoint(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get(url("mlmodel", ids["run"], "model")).json()
    assert set(body["flavors"]) == {"python_function", "sklearn"} and body["python_version"] == "3.11.9"
    assert "scikit-learn==1.5.2" in body["requirements"] and body["requirements_source"] == "requirements.txt"


def test_image_series_are_grouped_by_key_and_step(client: httpx.Client, ids: dict[str, Any]) -> None:
    (series,) = client.get(url("images", ids["run"], "images")).json()["series"]
    assert series["key"] == "samples/grad" and [i["step"] for i in series["images"]] == [0, 1, 2, 3]
    assert all(i["path"].endswith(".png") and i["thumbnail"].endswith("+compressed.webp") for i in series["images"])


# ------------------------------------------------------------- MLflow API


def test_mlflow_list_has_mlflows_shape(client: httpx.Client, ids: dict[str, Any], artifacts: Path) -> None:
    body = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": ids["run"], "path": "model"}).json()
    assert body["root_uri"].startswith("file://")
    assert body["files"][0] == {
        "path": "model/MLmodel",
        "is_dir": False,
        "file_size": (artifacts / "model" / "MLmodel").stat().st_size,
    }


def test_mlflow_list_omits_size_of_empty_files_and_of_folders(client: httpx.Client, ids: dict[str, Any]) -> None:
    files = {
        f["path"]: f
        for f in client.get("/ajax-api/2.0/mlflow/artifacts/list", params={"run_id": ids["run"]}).json()["files"]
    }
    assert files["empty.txt"] == {"path": "empty.txt", "is_dir": False} and files["model"] == {
        "path": "model",
        "is_dir": True,
    }


def test_mlflow_list_of_a_missing_folder_is_empty(client: httpx.Client, ids: dict[str, Any]) -> None:
    body = client.get("/api/2.0/mlflow/artifacts/list", params={"run_uuid": ids["run"], "path": "nope"}).json()
    assert set(body) == {"root_uri"}


def test_mlflow_get_artifact_serves_text_as_plain_attachment(
    client: httpx.Client, ids: dict[str, Any], artifacts: Path
) -> None:
    response = client.get("/get-artifact", params={"run_uuid": ids["run"], "path": "config.json"})
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        response.headers["content-disposition"].startswith("attachment;")
        and response.headers["x-content-type-options"] == "nosniff"
    )
    assert response.content == (artifacts / "config.json").read_bytes()


def test_mlflow_get_artifact_of_a_folder_is_400(client: httpx.Client, ids: dict[str, Any]) -> None:
    assert client.get("/get-artifact", params={"run_id": ids["run"], "path": "model"}).status_code == 400
