"""Dark mode: follows prefers-color-scheme; the topbar toggle switches it and is remembered per browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer

LIGHT_BG = "rgb(255, 255, 255)"
DARK_BG = "rgb(13, 17, 23)"


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


def background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_a_dark_system_gets_the_dark_theme(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}/runs/{ids['runs']['parent']}/model-metrics")
    expect(page.locator(".mc-card canvas").first).to_be_visible()
    assert background(page) == DARK_BG
    page.screenshot(path="/tmp/dark_run_charts.png")
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    expect(page.locator(".trow[data-run-id]").first).to_be_visible()
    page.screenshot(path="/tmp/dark_runs_table.png")


def test_the_toggle_switches_the_theme_and_is_remembered(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    assert background(page) == LIGHT_BG
    page.get_by_role("button", name="Switch to dark mode").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BG
    page.reload()
    expect(page.get_by_role("button", name="Switch to light mode")).to_be_visible()
    assert background(page) == DARK_BG
    page.get_by_role("button", name="Switch to light mode").click()
    assert background(page) == LIGHT_BG
    assert page.evaluate("localStorage.getItem('mlscope.theme')") is None  # back to following the system


def test_charts_redraw_in_the_new_theme(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}/runs/{ids['runs']['parent']}/model-metrics?chart_q=acc")
    canvas = page.locator('.mc-card[data-keys="acc"] canvas')
    expect(canvas).to_be_visible()
    pixels = 'document.querySelector(\'.mc-card[data-keys="acc"] canvas\').toDataURL()'
    light = page.evaluate(pixels)
    page.get_by_role("button", name="Switch to dark mode").click()
    page.wait_for_function(f"{pixels} !== {light!r}")  # the axes and grid are drawn again, in the dark colours
