"""The registry pages in the browser: the Models list, a model's page, a version's page, and every edit on them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.registry_trees import registry_store, write_registry_tree, write_synthetic_registry

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    """A registry MLflow wrote, which these tests edit (so it is not the shared read-only one)."""
    root = tmp_path_factory.mktemp("registry-ui") / "mlruns"
    return root, write_registry_tree(root)


@pytest.fixture(scope="module")
def server(tree: Tree, serve: Any) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def many_models(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> LiveServer:
    root = tmp_path_factory.mktemp("registry-1000") / "mlruns"
    root.mkdir()
    write_synthetic_registry(root, 1000)
    return serve(root)


def rows(page: Page, table: str) -> Any:
    return page.locator(f"[data-table={table}] tbody tr")


# ------------------------------------------------------------------ models list


def test_models_list_shows_latest_version_aliases_and_tags(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models")
    row = rows(page, "models").filter(has_text="fraud-detector")
    expect(row).to_contain_text("Version 4")
    expect(row).to_contain_text("@champion")
    expect(row).to_contain_text("team=risk")
    expect(rows(page, "models").filter(has_text="my-prompt")).to_have_count(0)


def test_models_list_search_filters_by_name_and_keeps_it_in_the_url(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models")
    page.get_by_label("Search registered models").fill("churn")
    page.get_by_label("Search registered models").press("Enter")
    expect(rows(page, "models")).to_have_count(1)
    expect(rows(page, "models")).to_contain_text("Churn Model")
    expect(page).to_have_url(re.compile(r"#/models\?q=churn"))
    page.reload()
    expect(rows(page, "models")).to_have_count(1)


def test_models_list_takes_mlflow_filters(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models?q=" + "tags.team%20%3D%20'growth'")
    expect(rows(page, "models")).to_have_count(1)
    expect(rows(page, "models")).to_contain_text("Churn Model")


def test_a_bad_filter_shows_the_servers_message(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models?q=" + "name%20%3D%20'a'%20OR%20name%20%3D%20'b'")
    expect(page.get_by_role("alert")).to_contain_text("expected AND or end of filter")


def test_models_sort_by_name_descending(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models")
    expect(rows(page, "models").first).to_contain_text("Churn Model")
    page.get_by_role("button", name=re.compile("^Name")).click()
    expect(rows(page, "models").first).to_contain_text("модель-ü")
    expect(page).to_have_url(re.compile("order=-name"))


def test_a_thousand_models_are_paged_by_a_hundred(page: Page, many_models: LiveServer) -> None:
    page.goto(f"{many_models.url}/#/models")
    expect(rows(page, "models")).to_have_count(100)
    expect(rows(page, "models").first).to_contain_text("model-0000")
    page.get_by_role("button", name="Next ›").click()
    expect(rows(page, "models").first).to_contain_text("model-0100")
    expect(page).to_have_url(re.compile("page=2"))
    page.goto(f"{many_models.url}/#/models?page=10")
    expect(rows(page, "models").last).to_contain_text("model-0999")
    expect(page.get_by_role("button", name="Next ›")).to_be_disabled()


def test_last_modified_order_puts_the_newest_first(page: Page, many_models: LiveServer) -> None:
    page.goto(f"{many_models.url}/#/models")
    page.get_by_role("button", name=re.compile("^Last modified")).click()
    expect(rows(page, "models").first).to_contain_text("model-0999")


# ------------------------------------------------------------------ model page


def test_model_page_lists_versions_with_their_source_runs(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector")
    expect(page.get_by_role("heading", level=1)).to_have_text("fraud-detector")
    expect(rows(page, "versions")).to_have_count(4)
    version_2 = rows(page, "versions").filter(has_text="Version 2")
    expect(version_2).to_contain_text("Production")
    expect(version_2).to_contain_text("@champion")
    link = version_2.get_by_role("link", name=re.compile("train-fraud"))
    expect(link).to_have_attribute("href", f"#/experiments/{tree[1]['experiment']}/runs/{tree[1]['run']}")


def test_model_description_is_edited_as_markdown(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/Churn%20Model")
    page.get_by_role("button", name="Edit the description of this model").click()
    page.get_by_label("Description (markdown)").fill("Predicts **churn** weekly")
    page.get_by_label("Description (markdown)").press("Control+Enter")
    expect(page.get_by_role("region", name="Description").locator("strong")).to_have_text("churn")
    assert registry_store(tree[0]).get_registered_model("Churn Model").description == "Predicts **churn** weekly"


def test_model_tags_are_added_and_deleted(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/empty-model")
    page.get_by_label("New tag key").fill("owner")
    page.get_by_label("New tag value").fill("ana")
    page.get_by_label("New tag value").press("Enter")
    expect(rows(page, "tags")).to_contain_text("ana")
    assert registry_store(tree[0]).get_registered_model("empty-model").tags == {"owner": "ana"}
    page.get_by_role("button", name="Delete tag owner").click()
    expect(rows(page, "tags")).to_have_count(0)
    assert registry_store(tree[0]).get_registered_model("empty-model").tags == {}


def test_an_alias_is_added_moved_and_removed(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector")
    aliases = page.get_by_role("region", name="Aliases")
    aliases.get_by_label("Alias name").fill("canary")
    aliases.get_by_label("Version the alias points to").select_option("1")
    aliases.get_by_role("button", name="Set alias").click()
    expect(aliases.locator(".reg-chip", has_text="@canary")).to_contain_text("v1")
    aliases.get_by_label("Alias name").fill("canary")
    aliases.get_by_label("Version the alias points to").select_option("3")
    aliases.get_by_role("button", name="Move from v1").click()
    expect(aliases.locator(".reg-chip", has_text="@canary")).to_contain_text("v3")
    assert registry_store(tree[0]).get_model_version_by_alias("fraud-detector", "canary").version == 3
    aliases.get_by_role("button", name="Remove alias canary").click()
    expect(aliases.locator(".reg-chip", has_text="@canary")).to_have_count(0)


def test_a_refused_alias_shows_mlflows_message(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector")
    aliases = page.get_by_role("region", name="Aliases")
    aliases.get_by_label("Alias name").fill("latest")
    aliases.get_by_role("button", name="Set alias").click()
    expect(aliases.get_by_role("alert")).to_contain_text("reserved")


def test_comparing_the_runs_of_selected_versions_opens_the_runs_compare_view(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector")
    page.get_by_label("Select version 2").check()
    page.get_by_label("Select version 3").check()
    page.get_by_role("link", name="Compare their runs").click()
    expect(page).to_have_url(re.compile("#/compare-runs"))
    assert tree[1]["run"] in page.url


def test_a_missing_model_says_so(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models/no-such-model")
    expect(page.get_by_role("heading", name="Model not found")).to_be_visible()


# ---------------------------------------------------------------- version page


def test_version_page_shows_details_run_metrics_and_mlmodel(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector/versions/2")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Version 2")
    expect(page.locator(".reg-details")).to_contain_text("train-fraud")
    expect(page.get_by_label("Stage", exact=True)).to_have_value("Production")
    expect(page.get_by_role("region", name="Description")).to_contain_text("Best AUC so far")
    files = page.get_by_role("region", name="Files")
    expect(files).to_contain_text("python_function")
    expect(rows(page, "version-files").filter(has_text="MLmodel")).to_have_count(1)


def test_version_stage_transition_is_saved(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector/versions/4")
    page.get_by_label("Stage", exact=True).select_option("Staging")
    expect(page.get_by_label("Stage", exact=True)).to_have_value("Staging")
    expect(page.get_by_role("region", name="Details")).to_contain_text("Staging")
    assert registry_store(tree[0]).get_model_version("fraud-detector", "4").current_stage == "Staging"


def test_version_description_tags_and_alias_are_edited(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/models/Churn%20Model/versions/1")
    page.get_by_role("button", name="Edit the description of this version").click()
    page.get_by_label("Description (markdown)").fill("First cut")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Description")).to_contain_text("First cut")
    page.get_by_label("New tag key").fill("gate")
    page.get_by_label("New tag value").fill("passed")
    page.get_by_role("button", name="Add tag").click()
    expect(rows(page, "tags")).to_contain_text("passed")
    details = page.get_by_role("region", name="Details")
    details.get_by_label("Alias name").fill("stable")
    details.get_by_role("button", name="Set alias").click()
    expect(page.locator(".reg-meta")).to_contain_text("@stable")
    stored = registry_store(tree[0]).get_model_version("Churn Model", "1")
    assert (stored.description, stored.tags, stored.aliases) == ("First cut", {"gate": "passed"}, ["stable"])


def test_a_version_file_downloads_from_its_folder(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models/fraud-detector/versions/4")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download MLmodel").click()
    assert download.value.suggested_filename == "MLmodel"


def test_a_deleted_version_is_not_found(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/models/with-deleted/versions/1")
    expect(page.get_by_role("heading", name="Model version not found")).to_be_visible()


# ------------------------------------------------------------------ elsewhere


def test_run_page_lists_the_versions_registered_from_it(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/experiments/{tree[1]['experiment']}/runs/{tree[1]['run']}")
    card = page.locator("[data-list=registered-versions]")
    expect(card.get_by_role("link", name=re.compile("fraud-detector v2"))).to_have_attribute(
        "href", "#/models/fraud-detector/versions/2")


def test_the_top_bar_links_to_the_models_page(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/experiments")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Registered models")).to_be_visible()


def test_a_runs_logged_model_is_registered_from_the_run_page(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/experiments/{tree[1]['experiment']}/runs/{tree[1]['run']}")
    form = page.get_by_role("form", name="Register model")
    form.get_by_label("Model to register").select_option(label="fraud-logged (logged model)")
    form.get_by_label("Registered model name").fill("from-run-page")
    form.get_by_role("button", name="Register model").click()
    expect(form.get_by_role("status")).to_contain_text("from-run-page version 1")
    expect(page.locator("[data-list=registered-versions]")).to_contain_text("from-run-page v1")
    stored = registry_store(tree[0]).get_model_version("from-run-page", "1")
    assert (stored.model_id, stored.run_id) == (tree[1]["logged_model"], tree[1]["run"])


def test_registering_into_an_existing_model_adds_a_version(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/experiments/{tree[1]['experiment']}/runs/{tree[1]['run']}")
    form = page.get_by_role("form", name="Register model")
    form.get_by_label("Registered model name").fill("with-deleted")
    form.get_by_role("button", name="Register model").click()
    expect(form.get_by_role("status")).to_contain_text("with-deleted version 3")
