"""The run page: deep links, overview sections, searchable tables, tabs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.reference_trees import mlflow_client


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


def open_run(page: Page, server: LiveServer, ids: dict[str, Any], role: str, tail: str = "") -> None:
    page.goto(f"{server.url}/#/experiments/{ids['experiment']}/runs/{ids['runs'][role]}{tail}")


def test_deep_link_loads_the_right_run(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "parent")
    expect(page.get_by_role("heading", level=1)).to_contain_text("parent-sweep")
    expect(page.locator(".details-table")).to_contain_text(ids["runs"]["parent"])
    expect(page.locator(".details-table")).to_contain_text("abc1234def")
    expect(page.locator(".details-table")).to_contain_text("alice")


def test_overview_shows_params_metrics_dataset_models_and_children(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "parent")
    expect(page.locator("[data-table=parameters]")).to_contain_text("model/depth")
    expect(page.locator("[data-table=metrics] tr", has_text="out_of_order")).to_contain_text("5")
    expect(page.locator(".card", has_text="Datasets")).to_contain_text("toy data")
    expect(page.locator(".card", has_text="Logged models")).to_contain_text("mymodel")
    child_link = page.locator(".card", has_text="Child runs").get_by_role("link")
    expect(child_link).to_have_attribute("href", f"#/experiments/{ids['experiment']}/runs/{ids['runs']['child']}")


def test_params_table_is_searchable(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "parent")
    page.get_by_label("Search parameters").fill("opt")
    expect(page.locator("[data-table=parameters] tbody tr")).to_have_count(1)
    expect(page.locator("[data-table=parameters] tbody tr")).to_contain_text("adam")


def test_child_links_to_its_parent(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "child")
    page.locator(".details-table").get_by_role("link", name="parent-sweep").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("parent-sweep")
    expect(page.locator("[data-table=metrics]")).to_contain_text("train/loss")


def test_non_finite_metrics_are_shown_as_infinity(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "child")
    expect(page.locator("[data-table=metrics] tr", has_text="peak")).to_contain_text("∞")


def test_description_is_rendered_as_markdown(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "failed")
    expect(page.locator(".markdown em")).to_have_text("broke")


def test_system_tags_are_collapsed(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "parent")
    summary = page.get_by_text("System tags (3)")
    expect(summary).to_be_visible()
    expect(page.locator(".system-tags td", has_text="mlflow.user")).to_be_hidden()
    summary.click()
    expect(page.locator(".system-tags td", has_text="mlflow.user")).to_be_visible()


def test_artifact_path_route_opens_the_artifacts_tab(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_run(page, reference_server, ids, "parent", "/artifactPath/notes/hello.txt")
    expect(page.get_by_role("tab", name="Artifacts")).to_have_attribute("aria-selected", "true")


@pytest.fixture(scope="module")
def long_values(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, dict[str, str]]:
    """A run with a logged model whose param is 5,000 characters, and a 2,000-character dataset source."""
    from mlflow.entities import Dataset, DatasetInput

    root = tmp_path_factory.mktemp("long-values") / "mlruns"
    client = mlflow_client(root)
    exp = client.create_experiment("long")
    run = client.create_run(exp, run_name="long-run").info.run_id
    client.log_param(run, "lr", "0.1")
    client.create_logged_model(exp, name="big-model", source_run_id=run, params={"config": "x" * 5000})
    source = '{"uri": "/data/' + "d" * 2000 + '.csv"}'
    client.log_inputs(run, datasets=[DatasetInput(Dataset(name="wide", digest="abc123", source_type="local", source=source))])
    return serve(root), {"exp": exp, "run": run}


def test_long_logged_model_params_and_dataset_sources_are_cut_with_show_all(page: Page, long_values: tuple[LiveServer, dict[str, str]]) -> None:
    server, ids = long_values
    page.goto(f"{server.url}/#/experiments/{ids['exp']}/runs/{ids['run']}")
    models = page.locator(".card", has_text="Logged models")
    expect(models).to_contain_text("big-model")
    cell = models.locator(".long-value")
    assert len(cell.inner_text()) < 400
    page.screenshot(path="/tmp/run_page_long_values.png")
    cell.get_by_role("button", name="show all (5,007 chars)").click()
    assert len(cell.inner_text()) > 5000
    expect(cell.get_by_role("button", name="show less")).to_be_visible()
    datasets = page.locator(".card", has_text="Datasets")
    assert len(datasets.locator(".long-value").inner_text()) < 400


def test_unknown_run_says_so(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}/runs/0000")
    expect(page.get_by_role("heading", name="Run not found")).to_be_visible()
