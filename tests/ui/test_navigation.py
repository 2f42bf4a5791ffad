"""Navigation never blanks the app: route changes between lazily loaded views, crashes, bad addresses, MLflow's links."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    """Uncaught errors and console errors of the page, collected while the test runs."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def compare_hash(ids: dict[str, Any], *roles: str) -> str:
    query = {"runs": json.dumps([ids["runs"][r] for r in roles]), "experiments": json.dumps([ids["experiment"]])}
    return "#/compare-runs?" + urllib.parse.urlencode(query)


def run_hash(ids: dict[str, Any], role: str) -> str:
    return f"#/experiments/{ids['experiment']}/runs/{ids['runs'][role]}"


def test_a_run_name_in_a_compare_header_opens_the_run_page(page: Page, reference_server: LiveServer, ids: dict[str, Any], page_errors: list[str]) -> None:
    page.goto(reference_server.url + "/" + compare_hash(ids, "parent", "failed"))
    page.locator("th.cmp-run .cmp-run-name", has_text="parent-sweep").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("parent-sweep")
    expect(page.locator(".compare")).to_have_count(0)
    assert page_errors == []


def test_back_and_forward_between_compare_and_a_run_page_show_each_page(page: Page, reference_server: LiveServer, ids: dict[str, Any], page_errors: list[str]) -> None:
    page.goto(reference_server.url + "/" + compare_hash(ids, "parent", "failed"))
    expect(page.locator("th.cmp-run")).to_have_count(2)
    page.locator("th.cmp-run .cmp-run-name", has_text="failed-run").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("failed-run")
    page.go_back()
    expect(page.locator("th.cmp-run")).to_have_count(2)
    page.go_forward()
    expect(page.get_by_role("heading", level=1)).to_contain_text("failed-run")
    assert page_errors == []


def test_opening_compare_after_a_run_page_and_going_back_sends_no_request_without_a_run_id(
    page: Page, reference_server: LiveServer, ids: dict[str, Any], page_errors: list[str]
) -> None:
    bad: list[str] = []
    page.on("response", lambda r: bad.append(r.url) if r.status >= 400 else None)
    page.goto(reference_server.url + "/" + run_hash(ids, "parent"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("parent-sweep")
    page.goto(reference_server.url + "/" + compare_hash(ids, "parent", "child"))
    expect(page.locator("th.cmp-run")).to_have_count(2)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("parent-sweep")
    assert bad == [] and page_errors == []


def test_opening_a_run_page_after_compare_and_going_back_sends_no_failing_request(
    page: Page, reference_server: LiveServer, ids: dict[str, Any], page_errors: list[str]
) -> None:
    bad: list[str] = []
    page.on("response", lambda r: bad.append(r.url) if r.status >= 400 else None)
    page.goto(reference_server.url + "/" + compare_hash(ids, "parent", "failed"))
    expect(page.locator("th.cmp-run")).to_have_count(2)
    page.goto(reference_server.url + "/" + run_hash(ids, "failed"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("failed-run")
    page.go_back()
    expect(page.locator("th.cmp-run")).to_have_count(2)
    page.go_forward()
    expect(page.get_by_role("heading", level=1)).to_contain_text("failed-run")
    assert bad == [] and page_errors == []


def test_a_view_that_crashes_shows_a_message_with_a_way_back(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.route("**/api/mlscope/run?*", lambda route: route.fulfill(status=200, content_type="application/json", body="{}"))
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()
    page.locator(".run-link", has_text="parent-sweep").click()
    expect(page.get_by_role("heading", name="This page hit an error")).to_be_visible()
    page.get_by_role("button", name="Go back").click()
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()


def test_a_malformed_address_says_so(page: Page, reference_server: LiveServer, page_errors: list[str]) -> None:
    page.goto(reference_server.url + "/#/experiments/%E0%A4%A")
    expect(page.get_by_role("heading", name="This address is malformed")).to_be_visible()
    expect(page.get_by_role("link", name="Go to experiments")).to_be_visible()
    assert page_errors == []


def test_mlflow_metric_page_link_shows_the_metric_for_its_runs(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    runs = json.dumps([ids["runs"]["parent"], ids["runs"]["child"]])
    page.goto(f"{reference_server.url}/#/metric/loss?runs={urllib.parse.quote(runs)}&experiments={urllib.parse.quote(json.dumps([ids['experiment']]))}")
    expect(page.get_by_role("heading", level=1)).to_have_text("loss")
    card = page.locator('.mc-card[data-keys="loss"]')
    expect(card.locator(".mchart-name")).to_have_count(2)


def test_mlflow_3_metric_page_parameters_become_chart_settings(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    query = urllib.parse.urlencode({
        "runs": json.dumps([ids["runs"]["parent"]]), "metric": json.dumps("acc"), "experiments": json.dumps([ids["experiment"]]),
        "plot_metric_keys": json.dumps(["acc"]), "x_axis": "relative", "y_axis_scale": "log", "line_smoothness": "1",
    })
    page.goto(f"{reference_server.url}/#/metric?{query}")
    expect(page.locator('.mc-card[data-keys="acc"] .mchart-name')).to_have_text("parent-sweep")
    expect(page.get_by_label("Log y")).to_be_checked()
    expect(page.get_by_label("X axis")).to_have_value("relative")
    assert "y_axis_scale" not in page.url and "chart_log=1" in page.url


def test_mlflow_direct_run_link_opens_the_run_page(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/runs/{ids['runs']['failed']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("failed-run")


def test_mlflow_experiment_tabs_mlscope_lacks_show_the_runs_with_a_note(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}/traces")
    expect(page.get_by_role("status").filter(has_text='no "Traces" tab')).to_be_visible()
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()


@pytest.mark.parametrize("path", ["#/models", "#/models/iris/versions/1", "#/prompts", "#/experiments/1/evaluation-runs"])
def test_other_mlflow_routes_are_not_page_not_found(page: Page, reference_server: LiveServer, path: str) -> None:
    page.goto(f"{reference_server.url}/{path}")
    expect(page.locator("main, .page-message, .layout").first).to_be_visible()
    expect(page.get_by_role("heading", name="Page not found")).to_have_count(0)
