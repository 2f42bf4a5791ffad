"""More registry pages in the browser: comparing versions, an experiment's logged models, registering from the
artifact browser, and a read-only server showing no edit control on any of them."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mlscope.server.settings import ServerSettings
from tests.conftest import LiveServer
from tests.registry_trees import registry_store, write_registry_tree

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def shared(registry_tree: Tree, serve: Any) -> LiveServer:
    """The session's registry tree, which these tests only read."""
    return serve(registry_tree[0])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, Path]:
    from mlscope.demo import write_demo

    root = tmp_path_factory.mktemp("models-demo") / "mlruns"
    write_demo(root)
    return serve(root), root


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, Tree]:
    root = tmp_path_factory.mktemp("models-writable") / "mlruns"
    ids = write_registry_tree(root)
    return serve(root), (root, ids)


@pytest.fixture(scope="module")
def read_only(registry_tree: Tree) -> Iterator[LiveServer]:
    server = LiveServer(registry_tree[0], settings=ServerSettings(read_only=True)).start()
    yield server
    server.stop()


def rows(page: Page, table: str) -> Any:
    return page.locator(f"[data-table={table}] tbody tr")


def experiment_id(root: Path, name: str) -> str:
    return next(p.parent.name for p in root.glob("*/meta.yaml") if f"name: {name}" in p.read_text())


# ------------------------------------------------------------ compare versions


def test_selected_versions_open_side_by_side(page: Page, shared: LiveServer) -> None:
    page.goto(f"{shared.url}/#/models/fraud-detector")
    page.get_by_label("Select version 2").check()
    page.get_by_label("Select version 3").check()
    page.get_by_role("link", name="Compare 2 versions").click()
    expect(page).to_have_url(re.compile(r"#/compare-model-versions\?"))
    details = page.locator("[data-table=compare-details]")
    expect(details.locator("thead th")).to_have_text(["", "Version 2", "Version 3"])
    expect(details.locator("tr[data-key=stage]")).to_contain_text("Production")
    expect(details.locator("tr[data-key=stage]")).to_contain_text("Staging")
    expect(details.locator("tr[data-key=aliases]")).to_contain_text("@champion")


def test_mlflows_compare_link_opens_the_versions_it_names(page: Page, shared: LiveServer, registry_tree: Tree) -> None:
    runs = json.dumps({registry_tree[1]["other_run"]: "1"})
    page.goto(f'{shared.url}/#/compare-model-versions?name="Churn%20Model"&runs={urllib.parse.quote(runs)}')
    expect(page.get_by_role("heading", level=1)).to_contain_text("Churn Model")
    expect(page.locator("[data-table=compare-details] thead th")).to_have_text(["", "Version 1"])
    expect(page.locator("[data-table=compare-details] tr[data-key=run]")).to_contain_text("train-churn")


def test_signature_columns_are_compared(page: Page, shared: LiveServer) -> None:
    page.goto(f'{shared.url}/#/compare-model-versions?name="fraud-detector"&versions=["1","2"]')
    inputs = page.locator("[data-table=schema-inputs]")
    expect(inputs.locator("tr[data-key='inputs:x']")).to_contain_text("double")
    expect(inputs.locator("tr.reg-diff")).to_have_count(0)


def test_rows_that_differ_are_marked_and_can_be_shown_alone(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, _ = demo
    page.goto(f'{server.url}/#/compare-model-versions?name="cifar-classifier"&versions=["2","3"]')
    params = page.locator("[data-table=compare-params]")
    expect(params.locator("tr[data-key=lr]")).to_have_class(re.compile("reg-diff"))
    expect(params.locator("tr[data-key=epochs]")).not_to_have_class(re.compile("reg-diff"))
    page.get_by_label("Show only differences").check()
    expect(params.locator("tr[data-key=epochs]")).to_have_count(0)
    expect(params.locator("tr[data-key=lr]")).to_be_visible()
    expect(page).to_have_url(re.compile("diffs=1"))
    page.reload()
    expect(page.get_by_label("Show only differences")).to_be_checked()
    expect(page.locator("[data-table=compare-params] tr[data-key=epochs]")).to_have_count(0)
    expect(page.locator("[data-table=compare-metrics] tr[data-key='val/accuracy']")).to_be_visible()


def test_compare_versions_links_to_the_runs_compare_view(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, _ = demo
    page.goto(f'{server.url}/#/compare-model-versions?name="cifar-classifier"&versions=["2","3"]')
    page.get_by_role("link", name="Compare source runs").click()
    expect(page).to_have_url(re.compile("#/compare-runs"))


def test_a_compare_link_without_versions_says_so(page: Page, shared: LiveServer) -> None:
    page.goto(f"{shared.url}/#/compare-model-versions?name=%22fraud-detector%22")
    expect(page.get_by_role("heading", name="Nothing to compare")).to_be_visible()


def test_a_missing_version_is_reported_in_its_column(page: Page, shared: LiveServer) -> None:
    page.goto(f'{shared.url}/#/compare-model-versions?name="fraud-detector"&versions=["2","99"]')
    expect(page.locator("[data-table=compare-details] tr[data-key=stage]")).to_contain_text("version=99) not found")


def test_versions_are_compared_from_the_keyboard(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, _ = demo
    page.goto(f"{server.url}/#/models/cifar-classifier")
    for version in ("2", "3"):
        page.get_by_label(f"Select version {version}").focus()
        page.keyboard.press("Space")
    page.get_by_role("link", name="Compare 2 versions").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-table=compare-details] thead th")).to_have_text(["", "Version 2", "Version 3"])
    page.get_by_label("Show only differences").focus()
    page.keyboard.press("Space")
    expect(page.locator("[data-table=compare-params] tr[data-key=epochs]")).to_have_count(0)


def test_version_page_shows_the_signature_as_a_table_and_the_input_example(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, _ = demo
    page.goto(f"{server.url}/#/models/churn-model/versions/2")
    files = page.get_by_role("region", name="Files")
    inputs = files.locator(".af-sig-table").first
    expect(inputs.locator("tbody tr")).to_have_count(4)
    expect(inputs.locator("tbody tr").first).to_contain_text("tenure_months")
    expect(inputs.locator("tbody tr").first).to_contain_text("long")
    expect(files.locator(".reg-example")).to_contain_text('"monthly_spend"')


# ------------------------------------------------------------ logged models of an experiment


def test_logged_models_tab_shows_status_params_metrics_and_versions(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, root = demo
    page.goto(f"{server.url}/#/experiments/{experiment_id(root, 'image-classification')}/models")
    row = rows(page, "logged-models").filter(has_text="cifar-classifier")
    expect(row).to_contain_text("READY")
    expect(row).to_contain_text("lr=0.1")
    expect(row).to_contain_text("0.962")
    expect(row.get_by_role("link", name="cifar-classifier v5")).to_have_attribute("href", "#/models/cifar-classifier/versions/5")
    expect(row.get_by_role("link", name=re.compile("vit-small-lr0.1"))).to_be_visible()


def test_logged_models_tab_is_reached_from_the_experiment_page(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, root = demo
    page.goto(f"{server.url}/#/experiments/{experiment_id(root, 'image-classification')}")
    page.get_by_role("link", name="Logged models").click()
    expect(page).to_have_url(re.compile(r"/models$"))
    expect(rows(page, "logged-models")).to_have_count(1)


def test_an_experiment_without_logged_models_says_so(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, root = demo
    page.goto(f"{server.url}/#/experiments/{experiment_id(root, 'churn-prediction')}/models")
    expect(page.get_by_role("heading", name="No logged models")).to_be_visible()


def test_demo_models_page_shows_versions_and_aliases(page: Page, demo: tuple[LiveServer, Path]) -> None:
    server, _ = demo
    page.goto(f"{server.url}/#/models")
    expect(rows(page, "models")).to_have_count(3)
    expect(rows(page, "models").filter(has_text="cifar-classifier")).to_contain_text("@champion")


# ------------------------------------------------------------ register from the artifact browser


def test_a_model_folder_is_registered_from_the_artifact_browser(page: Page, writable: tuple[LiveServer, Tree]) -> None:
    server, (root, ids) = writable
    page.goto(f"{server.url}/#/experiments/{ids['experiment']}/runs/{ids['other_run']}/artifacts/model")
    form = page.get_by_role("form", name="Register model")
    form.get_by_label("Registered model name").fill("from-artifacts")
    form.get_by_role("button", name="Register model").click()
    expect(form.get_by_role("status")).to_contain_text("from-artifacts version 1")
    stored = registry_store(root).get_model_version("from-artifacts", "1")
    assert (stored.source, stored.run_id) == (ids["artifacts"][ids["other_run"]], ids["other_run"])


def test_a_logged_models_folder_is_registered_as_its_models_uri(page: Page, writable: tuple[LiveServer, Tree]) -> None:
    server, (root, ids) = writable
    page.goto(f"{server.url}/#/experiments/{ids['experiment']}/runs/{ids['run']}/artifacts/{ids['logged_model']}")
    form = page.locator(".reg-folder-register").get_by_role("form", name="Register model")
    form.get_by_label("Registered model name").fill("Churn Model")
    form.get_by_role("button", name="Register model").click()
    expect(form.get_by_role("status")).to_contain_text("Churn Model version 2")
    stored = registry_store(root).get_model_version("Churn Model", "2")
    assert (stored.source, stored.model_id) == (f"models:/{ids['logged_model']}", ids["logged_model"])


# ------------------------------------------------------------ read-only server


def test_read_only_model_page_shows_no_edit_control(page: Page, read_only: LiveServer) -> None:
    page.goto(f"{read_only.url}/#/models/fraud-detector")
    expect(page.get_by_role("heading", level=1)).to_have_text("fraud-detector")
    expect(rows(page, "versions")).to_have_count(4)
    for name in ("Edit the description of this model", "Add tag", "Set alias", "Remove alias champion", "Delete tag team"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_label("New tag key")).to_have_count(0)


def test_read_only_version_page_shows_the_stage_without_a_picker(page: Page, read_only: LiveServer) -> None:
    page.goto(f"{read_only.url}/#/models/fraud-detector/versions/2")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Production")
    expect(page.get_by_label("Stage", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Edit the description of this version")).to_have_count(0)
    expect(details.get_by_label("Alias name")).to_have_count(0)


def test_read_only_run_page_and_artifacts_offer_no_register(page: Page, read_only: LiveServer, registry_tree: Tree) -> None:
    ids = registry_tree[1]
    page.goto(f"{read_only.url}/#/experiments/{ids['experiment']}/runs/{ids['run']}")
    expect(page.locator("[data-list=registered-versions]")).to_contain_text("fraud-detector v2")
    expect(page.get_by_role("form", name="Register model")).to_have_count(0)
    page.goto(f"{read_only.url}/#/experiments/{ids['experiment']}/runs/{ids['run']}/artifacts/model")
    expect(page.locator(".af-mlmodel")).to_be_visible()
    expect(page.get_by_role("form", name="Register model")).to_have_count(0)
