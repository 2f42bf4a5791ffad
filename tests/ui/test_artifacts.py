"""The artifacts tab in a real browser: each preview type on files MLflow wrote, safety, downloads."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.artifact_trees import write_artifact_tree
from tests.conftest import LiveServer

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("artifacts-ui")
    return base / "mlruns", write_artifact_tree(base / "mlruns", base / "outside")


@pytest.fixture(scope="module")
def server(tree: tuple[Path, dict[str, Any]], serve: Callable[..., LiveServer]) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def artifacts(tree: tuple[Path, dict[str, Any]]) -> Path:
    root, ids = tree
    return root / ids["experiment"] / ids["run"] / "artifacts"


@pytest.fixture
def open_path(page: Page, server: LiveServer, tree: tuple[Path, dict[str, Any]]) -> Callable[..., Page]:
    def go(path: str = "", run: str = "run") -> Page:
        ids = tree[1]
        suffix = f"artifactPath/{path}" if path else "artifacts"
        page.goto(f"{server.url}/#/experiments/{ids['experiment']}/runs/{ids[run]}/{suffix}")
        return page

    return go


def test_tree_lists_the_root_and_the_logged_model(open_path: Callable[..., Page]) -> None:
    page = open_path()
    tree = page.locator(".af-tree-pane")
    expect(tree.get_by_text("config.json")).to_be_visible()
    expect(tree.get_by_text("iris-classifier")).to_be_visible()
    expect(tree.get_by_text("leak.txt")).to_have_count(0)


def test_deep_link_opens_the_folders_on_the_way(open_path: Callable[..., Page]) -> None:
    page = open_path("code/train.py")
    expect(page.locator(".af-tree-row.selected")).to_contain_text("train.py")
    expect(page.locator(".af-crumbs")).to_contain_text("code/train.py")


def test_clicking_a_file_puts_its_path_in_the_url(open_path: Callable[..., Page]) -> None:
    page = open_path()
    page.locator(".af-tree-row", has_text="params.yaml").click()
    expect(page).to_have_url(re.compile(r"/artifactPath/params\.yaml$"))


def test_code_is_syntax_highlighted(open_path: Callable[..., Page]) -> None:
    page = open_path("code/train.py")
    expect(page.locator(".af-text .hljs-keyword").first).to_have_text("import")


def test_following_a_log_shows_lines_appended_later(open_path: Callable[..., Page], artifacts: Path) -> None:
    page = open_path("logs/train.log")
    expect(page.locator(".af-text")).to_contain_text("step 1999: loss=0.0005")
    page.get_by_label("Follow end").check()
    with (artifacts / "logs" / "train.log").open("a") as log:
        log.write("step 2000: appended while watching\n")
    expect(page.locator(".af-text")).to_contain_text("appended while watching", timeout=8000)


def test_json_shows_as_a_collapsible_tree(open_path: Callable[..., Page]) -> None:
    page = open_path("config.json")
    betas = page.locator(".af-node", has=page.locator(":scope > .af-key", has_text="betas"))
    expect(betas).to_contain_text("[2]")
    betas.locator(":scope > .af-toggle").click()
    expect(betas).to_contain_text("0.999")


def test_yaml_shows_as_a_tree(open_path: Callable[..., Page]) -> None:
    page = open_path("params.yaml")
    expect(page.locator(".af-tree")).to_contain_text("shuffle")
    expect(page.locator(".af-tree .af-bool")).to_have_text("true")


def test_invalid_json_shows_the_error_and_the_text(open_path: Callable[..., Page]) -> None:
    page = open_path("broken.json")
    expect(page.locator(".af-parse-error")).to_contain_text("line 1, column")
    expect(page.locator(".af-text")).to_contain_text('"layers": [1, 2')


def test_csv_is_a_sortable_table_with_a_row_count(open_path: Callable[..., Page]) -> None:
    page = open_path("data/metrics.csv")
    expect(page.locator(".af-rowcount")).to_contain_text("30 rows · 3 columns")
    first_loss = page.locator(".af-table tbody tr").first.locator("td").nth(2)
    expect(first_loss).to_have_text("1.00000")
    page.get_by_role("button", name="loss").click()
    expect(first_loss).to_have_text("0.03333")


def test_logged_table_shows_as_a_table(open_path: Callable[..., Page]) -> None:
    page = open_path("tables/eval.json")
    expect(page.locator(".af-table thead")).to_contain_text("question")
    expect(page.locator(".af-table tbody")).to_contain_text("Capital of France?")


def test_markdown_is_rendered_and_sanitized(open_path: Callable[..., Page]) -> None:
    page = open_path("notes/readme.md")
    expect(page.locator(".af-md h1")).to_have_text("Training notes")
    assert page.locator(".af-md script").count() == 0
    assert page.locator(".af-md [onerror]").count() == 0
    assert (
        page.evaluate(
            "document.body.getAttribute('data-md-script-ran') || document.body.getAttribute('data-md-onerror-ran')"
        )
        is None
    )


def test_image_zooms(open_path: Callable[..., Page]) -> None:
    page = open_path("plots/loss_curve.png")
    image = page.locator(".af-image-stage img")
    expect(image).to_have_js_property("complete", True)
    page.get_by_role("button", name="Zoom in").click()
    expect(page.locator(".af-zoom-level")).to_have_text("150%")
    assert image.evaluate("img => img.getBoundingClientRect().width") == pytest.approx(
        image.evaluate("img => img.naturalWidth") * 1.5, abs=1
    )


def test_svg_is_shown_as_an_image_only(open_path: Callable[..., Page]) -> None:
    page = open_path("plots/loss_curve.svg")
    expect(page.locator(".af-image-stage img")).to_have_js_property("complete", True)
    assert page.locator("svg, object, embed").count() == 0


def test_image_series_gallery_steps_with_a_slider(open_path: Callable[..., Page]) -> None:
    page = open_path("images")
    card = page.locator(".af-series-card", has_text="samples/grad")
    expect(card.locator(".af-step")).to_have_text("3")
    card.get_by_label("Step of samples/grad").fill("1")
    expect(card.locator(".af-step")).to_have_text("1")
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"step(%2B|\+)1(%2B|\+)"))


def test_html_renders_in_a_sandbox_where_its_script_does_not_run(open_path: Callable[..., Page]) -> None:
    page = open_path("report.html")
    frame_element = page.locator("iframe.af-frame")
    expect(frame_element).to_have_attribute("sandbox", "")
    frame = page.frame_locator("iframe.af-frame")
    expect(frame.locator("#title")).to_have_text("Evaluation report")
    assert page.evaluate("document.body.dataset.pwned") is None


def test_run_scripts_runs_the_reports_scripts_still_sandboxed(open_path: Callable[..., Page], server: LiveServer) -> None:
    page = open_path("report.html")
    page.get_by_role("button", name="Run scripts in this report").click()
    frame_element = page.locator("iframe.af-frame")
    expect(frame_element).to_have_attribute("sandbox", "allow-scripts")  # never allow-same-origin
    expect(page.frame_locator("iframe.af-frame").locator("#title")).to_have_text("SCRIPT RAN")
    assert page.evaluate("document.body.dataset.pwned") is None  # it could not reach the app's page
    response = page.request.get(server.url + (frame_element.get_attribute("src") or ""))
    assert response.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    assert "allow-same-origin" not in response.headers["content-security-policy"]
    page.get_by_role("button", name="Stop scripts").click()
    expect(page.frame_locator("iframe.af-frame").locator("#title")).to_have_text("Evaluation report")


def test_a_logged_models_zip_is_named_after_the_run_and_the_model(open_path: Callable[..., Page], tree: tuple[Path, dict[str, Any]]) -> None:
    page = open_path(tree[1]["logged_model"])
    with page.expect_download() as info:
        page.locator(".af-download-zip").click()
    assert info.value.suggested_filename == "all-previews-iris-classifier.zip"


def test_download_all_includes_the_logged_models(open_path: Callable[..., Page], tmp_path: Path) -> None:
    page = open_path()
    button = page.get_by_role("link", name="Download all (+ 1 logged model)")
    with page.expect_download() as info:
        button.click()
    assert info.value.suggested_filename == "all-previews-artifacts.zip"
    target = tmp_path / "all.zip"
    info.value.save_as(target)
    names = zipfile.ZipFile(target).namelist()
    assert "config.json" in names and "logged_models/iris-classifier/MLmodel" in names


def test_pdf_is_shown_in_the_browsers_viewer_from_a_sandboxed_response(
    open_path: Callable[..., Page], server: LiveServer
) -> None:
    page = open_path("plots/loss_curve.pdf")
    src = page.locator("iframe.af-pdf").get_attribute("src")
    assert src and "inline=1" in src
    response = page.request.get(server.url + src)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.body().startswith(b"%PDF")


def test_model_folder_summarizes_flavors_signature_and_requirements(open_path: Callable[..., Page]) -> None:
    page = open_path("model")
    summary = page.locator(".af-mlmodel")
    expect(summary.locator(".af-flavors")).to_contain_text("sklearn 1.5.2")
    expect(summary).to_contain_text("sepal length (cm)")
    expect(summary).to_contain_text("3.11.9")
    expect(summary.locator(".af-reqs")).to_contain_text("scikit-learn==1.5.2")


def test_logged_model_opens_as_a_virtual_folder(
    open_path: Callable[..., Page], tree: tuple[Path, dict[str, Any]]
) -> None:
    page = open_path()
    page.locator(".af-tree-row", has_text="iris-classifier").click()
    expect(page).to_have_url(re.compile(f"/artifactPath/{tree[1]['logged_model']}$"))
    expect(page.locator(".af-mlmodel")).to_contain_text("python_function")
    expect(page.locator(".af-folder-table")).to_contain_text("model.pkl")


def test_binary_file_offers_a_download_only(open_path: Callable[..., Page]) -> None:
    page = open_path("weights.bin")
    expect(page.locator(".af-binary")).to_contain_text("4.0 KB")
    expect(page.locator(".af-text")).to_have_count(0)


def test_download_button_saves_the_exact_bytes(open_path: Callable[..., Page], artifacts: Path, tmp_path: Path) -> None:
    page = open_path("weights.bin")
    with page.expect_download() as info:
        page.locator(".af-download").click()
    target = tmp_path / "weights.bin"
    info.value.save_as(target)
    assert target.read_bytes() == (artifacts / "weights.bin").read_bytes()


def test_folder_zip_download_equals_the_tree(open_path: Callable[..., Page], artifacts: Path, tmp_path: Path) -> None:
    page = open_path("model")
    with page.expect_download() as info:
        page.locator(".af-download-zip").click()
    target = tmp_path / "model.zip"
    info.value.save_as(target)
    archive = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    expected = {p.name: p.read_bytes() for p in (artifacts / "model").iterdir()}
    assert {name: archive.read(name) for name in archive.namelist()} == expected


def test_non_local_artifacts_are_shown_as_unavailable(open_path: Callable[..., Page]) -> None:
    page = open_path(run="remote")
    expect(page.locator(".af-unavailable")).to_contain_text("Artifacts unavailable")
    expect(page.locator(".af-unavailable")).to_contain_text("s3://some-bucket")


def test_moved_tree_still_shows_its_artifacts(open_path: Callable[..., Page]) -> None:
    page = open_path("kept.txt", run="moved")
    expect(page.locator(".af-text")).to_contain_text("kept after the move")
