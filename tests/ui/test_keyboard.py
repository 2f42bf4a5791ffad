"""Every control works from the keyboard: sortable headers are buttons, Escape closes popovers and returns focus,
Enter in the filter's autocomplete takes the highlighted suggestion."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


def open_table(page: Page, server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{server.url}/#/experiments/{ids['experiment']}")
    expect(page.locator(".trow[data-run-id]").first).to_be_visible()


def test_a_sortable_header_is_a_button_that_sorts_from_the_keyboard(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids)
    header = page.get_by_role("columnheader", name="Run Name")
    button = header.get_by_role("button", name="Run Name")
    button.focus()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(button).to_be_focused()


def test_escape_closes_the_column_chooser_and_returns_focus_to_its_button(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids)
    button = page.get_by_role("button", name=re.compile(r"^Columns"))
    button.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Choose columns")
    expect(panel).to_be_visible()
    page.get_by_label("Search columns").focus()
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(button).to_be_focused()


def test_escape_closes_the_compare_pages_popovers(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    runs = json.dumps([ids["runs"]["parent"], ids["runs"]["child"]])
    page.goto(f"{reference_server.url}/#/compare-runs?runs={urllib.parse.quote(runs)}")
    add = page.get_by_role("button", name="+ Add run")
    add.click()
    expect(page.get_by_role("dialog", name="Add a run")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Add a run")).to_have_count(0)
    expect(add).to_be_focused()
    picker = page.get_by_role("button", name=re.compile(r"^Metrics \("))
    picker.click()
    expect(page.get_by_role("listbox", name="Metrics")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox", name="Metrics")).to_have_count(0)
    expect(picker).to_be_focused()


def test_enter_takes_the_highlighted_suggestion(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids)
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("metrics.tr")
    expect(page.locator("#filter-suggestions [aria-selected=true]")).to_have_text("metrics.`train/loss`")
    box.press("Enter")
    expect(box).to_have_value("metrics.`train/loss` ")
    assert "searchFilter" not in page.url


def test_arrow_keys_move_the_highlight_and_enter_takes_it(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids)
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("metrics.tr")
    box.press("ArrowDown")
    expect(page.locator("#filter-suggestions [aria-selected=true]")).to_have_text("metrics.trough")
    box.press("Enter")
    expect(box).to_have_value("metrics.trough ")


def test_escape_closes_the_suggestions_so_enter_runs_the_filter_as_typed(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids)
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("params.lr = '0.01'")
    box.press("Enter")  # nothing to suggest after a value: Enter runs the filter
    expect(page.locator(".trow[data-run-id]")).to_have_count(2)
    box.fill("")
    box.type("metrics.ac")
    expect(page.locator("#filter-suggestions [aria-selected=true]")).to_have_text("metrics.acc")
    box.press("Escape")
    expect(page.locator("#filter-suggestions")).to_have_count(0)
    box.press("Enter")
    expect(box).to_have_value("metrics.ac")
    expect(page.get_by_role("alert")).to_be_visible()  # the filter ran as typed (and the parser says what is wrong)


def tab_to(page: Page, target: Any, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (Shift+Tab) until `target` has the focus: it is reachable from the keyboard in the page's order."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{target} was not reached with {'Shift+' if backwards else ''}Tab in {limit} presses")


def test_a_parent_run_expands_and_runs_are_picked_for_compare_with_the_keyboard_alone(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids)
    page.get_by_label("Filter runs").focus()
    tab_to(page, page.get_by_role("button", name="Expand 1 child runs"))
    page.keyboard.press("Enter")
    child = page.locator(f'.trow[data-run-id="{ids["runs"]["child"]}"]')
    expect(child).to_be_visible()
    tab_to(page, child.get_by_role("checkbox"))
    page.keyboard.press("Space")
    failed = page.get_by_label("Select failed-run")
    tab_to(page, failed)
    page.keyboard.press("Space")
    expect(failed).to_be_checked()
    compare = page.get_by_role("link", name="Compare (2)")
    tab_to(page, compare, backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("th.cmp-run")).to_have_count(2)


def test_artifact_folders_open_and_close_with_the_arrow_keys(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}/runs/{ids['runs']['parent']}/artifacts")
    folder = page.locator(".af-tree-row[aria-expanded]").first
    expect(folder).to_have_attribute("aria-expanded", "false")
    folder.focus()
    page.keyboard.press("ArrowRight")
    expect(folder).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".af-tree-list .af-tree-list .af-tree-row").first).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(folder).to_have_attribute("aria-expanded", "false")
    expect(folder).to_be_focused()
