"""The runs table against MLflow's reference tree and a synthetic 2,000-run tree."""

from __future__ import annotations

import re
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
def big(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, dict[str, Any]]:
    root = tmp_path_factory.mktemp("big") / "mlruns"
    info = write_synthetic_tree(root, 2000)
    return serve(root), info


def open_table(page: Page, server: LiveServer, experiment: str, query: str = "") -> None:
    page.goto(f"{server.url}/#/experiments/{experiment}{query}")
    expect(page.locator(".trow[data-run-id]").first).to_be_visible()


def names(page: Page) -> list[str]:
    return page.locator(".trow[data-run-id] .run-link").all_inner_texts()


def test_rows_show_run_names_with_status_icons(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    assert names(page) == ["still-running", "killed-run", "failed-run", "parent-sweep"]
    for name, status in [("still-running", "RUNNING"), ("killed-run", "KILLED"), ("failed-run", "FAILED"), ("parent-sweep", "FINISHED")]:
        expect(page.locator(".trow", has_text=name).locator(f".status-{status}")).to_be_visible()


def test_expanding_a_parent_shows_its_generated_name_child(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    child = page.locator(f".trow[data-run-id='{ids['runs']['child']}']")
    expect(child).to_have_count(0)
    page.get_by_role("button", name="Expand 1 child runs").click()
    expect(child).to_be_visible()
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", child.locator(".run-link").inner_text())
    page.get_by_role("button", name="Collapse 1 child runs").click()
    expect(child).to_have_count(0)


def test_clicking_a_header_sorts_on_the_server_and_keeps_it_in_the_url(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    header = page.get_by_role("columnheader", name="Run Name")
    header.click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator(".trow[data-run-id] .run-link").nth(1)).to_have_text("parent-sweep")
    assert "orderByKey=attributes.run_name" in page.url
    header.click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(".trow[data-run-id] .run-link").first).to_have_text("failed-run")
    assert names(page) == ["failed-run", "killed-run", "parent-sweep", "still-running"]


def test_a_filter_narrows_the_rows_and_lives_in_the_url(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.fill("params.optimizer = 'adam'")
    box.press("Enter")
    expect(page.locator(".trow[data-run-id]")).to_have_count(2)
    assert sorted(names(page)) == ["failed-run", "parent-sweep"]
    assert "searchFilter=" in page.url


def test_a_bad_filter_shows_the_parser_message_inline(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc > 'high'")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Expected numeric value type for metric")


def test_autocomplete_suggests_keys_and_inserts_the_chosen_one(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("metrics.tr")
    options = page.get_by_role("option")
    expect(options.first).to_have_text("metrics.`train/loss`")
    options.first.click()
    expect(box).to_have_value("metrics.`train/loss` ")


def test_quick_time_filter_hides_older_runs(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    page.get_by_label("Time range").select_option("LAST_HOUR")
    expect(page.get_by_text("No runs match.")).to_be_visible()
    assert "startTime=LAST_HOUR" in page.url


def test_deleted_runs_are_behind_the_lifecycle_toggle(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    expect(page.locator(".trow", has_text="deleted-run")).to_have_count(0)
    page.get_by_label("Run lifecycle").select_option("DELETED_ONLY")
    expect(page.locator(".trow.deleted", has_text="deleted-run")).to_be_visible()


def test_column_chooser_adds_a_column_and_remembers_it(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    page.get_by_role("button", name=re.compile(r"Columns")).click()
    page.get_by_label("Search columns").fill("stage")
    page.get_by_role("dialog", name="Choose columns").get_by_label("stage").check()
    header = page.get_by_role("columnheader", name=re.compile("stage"))
    expect(header).to_be_visible()
    expect(page.locator(".trow", has_text="parent-sweep").locator(".col-tags")).to_have_text("dev")
    page.reload()
    expect(page.get_by_role("columnheader", name=re.compile("stage"))).to_be_visible()


def test_metric_columns_show_latest_values(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    row = page.locator(".trow", has_text="parent-sweep")
    expect(row.locator(".col-metrics").first).to_have_text("0.69")  # acc is the first metric column


def test_selected_runs_lead_to_compare(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    page.get_by_label("Select failed-run").check()
    page.get_by_label("Select killed-run").check()
    link = page.get_by_role("link", name="Compare (2)")
    href = link.get_attribute("href") or ""
    assert href.startswith("#/compare-runs?")
    assert ids["runs"]["failed"] in href and ids["runs"]["killed"] in href and ids["experiment"] in href


def test_export_link_asks_for_every_match_with_the_chosen_columns(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"], "?searchFilter=params.lr+%3D+%270.01%27")
    href = page.get_by_role("link", name="Export CSV").get_attribute("href") or ""
    assert href.startswith("/api/mlscope/runs/export.csv?") and "metrics=acc" in href
    response = page.request.get(reference_server.url + href)
    lines = response.text().strip().splitlines()
    assert len(lines) == 3  # header + parent-sweep + killed-run


def test_the_table_is_virtualized_and_loads_pages_on_scroll(page: Page, big: tuple[LiveServer, dict[str, Any]]) -> None:
    server, info = big
    open_table(page, server, info["experiment"])
    expect(page.locator(".run-count")).to_contain_text("2,000 runs")
    assert page.locator(".trow").count() < 100
    page.locator(".table-scroll").evaluate("el => el.scrollTop = el.scrollHeight")
    last_top_level = [r for r in info["run_ids"] if not any(r in kids for kids in info["parents"].values())][-1]
    expect(page.locator(f".trow[data-run-id='{last_top_level}']")).to_be_visible()
    assert page.locator(".trow").count() < 100


def test_first_rows_of_a_big_tree_come_from_the_first_page_only(page: Page, big: tuple[LiveServer, dict[str, Any]]) -> None:
    """Navigation shows rows from one page request, not the whole tree (timing lives in bench/bench_ui.py)."""
    server, info = big
    sizes: list[int] = []
    page.on("request", lambda r: sizes.append(r.post_data_json["max_results"]) if "/api/mlscope/runs/search" in r.url else None)
    page.goto(server.url + f"/#/experiments/{info['experiment']}")
    page.wait_for_selector(".trow[data-run-id]")
    assert sizes and all(size <= 200 for size in sizes)
    assert page.locator(".trow[data-run-id]").count() < 100
