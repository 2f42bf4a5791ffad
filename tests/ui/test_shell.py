"""The shell: experiments sidebar, MLflow-compatible hash routes, problems and not-found pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.ui.synthetic import write_synthetic_tree


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> LiveServer:
    root = tmp_path_factory.mktemp("shell-broken") / "mlruns"
    write_synthetic_tree(root, 3)
    bad = root / "1" / "fedcba9876543210fedcba9876543210"
    bad.mkdir()
    (bad / "meta.yaml").write_text("run_id: [unclosed\n")
    return serve(root)


def test_root_lists_experiments_with_run_counts(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(reference_server.url + "/")
    item = page.locator(f".exp-item[data-experiment-id='{ids['experiment']}']")
    expect(item.locator(".exp-name")).to_have_text("demo-exp")
    expect(item.locator(".count")).to_have_text("5")
    expect(page.get_by_text("Select an experiment")).to_be_visible()


def test_deleted_experiments_are_behind_a_toggle(page: Page, reference_server: LiveServer) -> None:
    page.goto(reference_server.url + "/#/experiments")
    expect(page.locator(".exp-item", has_text="other-exp")).to_be_visible()
    expect(page.locator(".exp-item", has_text="deleted-exp")).to_have_count(0)
    page.get_by_label("Show deleted").check()
    expect(page.locator(".exp-item.deleted", has_text="deleted-exp")).to_be_visible()


def test_experiment_search_filters_by_name(page: Page, reference_server: LiveServer) -> None:
    page.goto(reference_server.url + "/#/experiments")
    page.get_by_label("Search experiments").fill("other")
    expect(page.locator(".exp-item")).to_have_count(1)
    expect(page.locator(".exp-item .exp-name")).to_have_text("other-exp")


def test_experiment_deep_link_selects_it_and_shows_its_runs(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    expect(page.locator(".exp-item.selected .exp-name")).to_have_text("demo-exp")
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()


def test_selecting_a_second_experiment_shows_both_in_one_table(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()
    page.get_by_label("Select other-exp").check()
    expect(page.locator(".trow", has_text="tie-a")).to_be_visible()
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()
    assert "compare-experiments" in page.url and ids["other"] in page.url
    expect(page.locator(".run-count")).to_contain_text("7 runs")


def test_unknown_route_says_not_found(page: Page, reference_server: LiveServer) -> None:
    page.goto(reference_server.url + "/#/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_skipped_runs_are_reported_in_the_shell(page: Page, broken_server: LiveServer) -> None:
    page.goto(broken_server.url + "/#/experiments")
    button = page.get_by_role("button", name="1 skipped item")
    expect(button).to_be_visible()
    button.click()
    panel = page.get_by_role("dialog", name="Skipped runs and experiments")
    expect(panel).to_contain_text("fedcba9876543210fedcba9876543210")


def test_app_page_is_served_with_a_strict_csp(page: Page, reference_server: LiveServer) -> None:
    response = page.goto(reference_server.url + "/")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".brand")).to_have_text("mlscope")


def test_an_unknown_experiment_id_says_it_does_not_exist(page: Page, reference_server: LiveServer) -> None:
    page.goto(reference_server.url + "/#/experiments/999999")
    expect(page.get_by_role("heading", name="Experiment not found")).to_be_visible()
    expect(page.locator(".page-message")).to_contain_text("999999")
    expect(page.locator(".run-count")).to_have_count(0)


def test_pages_have_titles_that_say_what_they_show(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    expect(page).to_have_title("demo-exp · mlscope")
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}/runs/{ids['runs']['parent']}")
    expect(page).to_have_title("parent-sweep · demo-exp · mlscope")
    runs = ",".join(f'"{ids["runs"][r]}"' for r in ("parent", "failed", "killed"))
    page.goto(f"{reference_server.url}/#/compare-runs?runs=[{runs}]")
    expect(page).to_have_title("Compare 3 runs · mlscope")


def test_escape_closes_the_problems_panel(page: Page, broken_server: LiveServer) -> None:
    page.goto(broken_server.url + "/#/experiments")
    button = page.get_by_role("button", name="1 skipped item")
    button.click()
    expect(page.get_by_role("dialog", name="Skipped runs and experiments")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Skipped runs and experiments")).to_have_count(0)
    expect(button).to_be_focused()
