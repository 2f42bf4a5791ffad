"""While the first index build runs, the shell says so; descriptions from the tree cannot run scripts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.handmade import write_experiment, write_run


@pytest.fixture
def held_server(tmp_path: Path) -> Iterator[tuple[LiveServer, threading.Event]]:
    """A server whose index build waits until the test releases it."""
    root = tmp_path / "mlruns"
    write_run(
        write_experiment(root, "1", "exp"),
        "a" * 32,
        name="xss-run",
        tags={"mlflow.note.content": "hello <img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>"},
    )
    server = LiveServer(root)
    release = threading.Event()
    index = server.app.state.index
    original_build = index.build

    def held_build() -> None:
        release.wait(30)
        original_build()

    index.build = held_build  # type: ignore[method-assign]
    server.thread.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(server.url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield server, release
    release.set()
    server.stop()


def test_indexing_progress_is_shown_until_the_index_is_ready(page: Page, held_server: tuple[LiveServer, threading.Event]) -> None:
    server, release = held_server
    page.goto(server.url + "/#/experiments/1")
    expect(page.locator(".index-progress")).to_be_visible()
    release.set()
    expect(page.locator(".index-progress")).to_have_count(0, timeout=10_000)
    expect(page.get_by_text("xss-run")).to_be_visible()


def test_description_markdown_cannot_run_scripts(page: Page, held_server: tuple[LiveServer, threading.Event]) -> None:
    server, release = held_server
    release.set()
    page.goto(server.url + "/#/experiments/1/runs/" + "a" * 32)
    expect(page.locator(".markdown")).to_contain_text("hello")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".markdown script, .markdown [onerror]").count() == 0
