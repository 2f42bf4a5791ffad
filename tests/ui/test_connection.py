"""The server going away: a banner, probes with backoff (not a flood), and the page catching up by itself
when the server is back; the live channel is not aborted and reopened on every navigation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.ui.synthetic import T0, write_run, write_synthetic_tree


class RestartableServer:
    """uvicorn on one fixed port that can be stopped and started again (the page keeps its address)."""

    def __init__(self, root: Path) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.root = root
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn

        from mlscope.server.app import create_app

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        app = create_app(self.root, refresh_interval=0.5)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200 and app.state.index.ready:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        assert self.thread is not None
        self.thread.join(timeout=10)


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[tuple[RestartableServer, dict[str, Any]]]:
    root = tmp_path / "mlruns"
    info = write_synthetic_tree(root, 3, children_every=0)
    server = RestartableServer(root)
    server.start()
    yield server, info
    if server.thread is not None and server.thread.is_alive():
        server.stop()


def test_a_lost_server_shows_a_banner_backs_off_and_the_page_catches_up_when_it_returns(
    page: Page, restartable: tuple[RestartableServer, dict[str, Any]]
) -> None:
    server, info = restartable
    page.goto(f"{server.url}/#/experiments/{info['experiment']}")
    expect(page.locator(".trow[data-run-id]")).to_have_count(3)
    server.stop()
    banner = page.get_by_role("alert").filter(has_text="Connection to the mlscope server lost")
    expect(banner).to_be_visible(timeout=10_000)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url))
    page.wait_for_timeout(8_000)
    assert len(sent) <= 4, sent  # probes with backoff (1, 2, 4 s), not every poller retrying on its own
    page.screenshot(path="/tmp/connection_lost.png")
    exp_dir = Path(server.root) / info["experiment"]
    write_run(exp_dir, "feedfacefeedfacefeedfacefeedface", "written-while-away", T0 + 10**9, 3, {"lr": "0.1"}, {"loss": [0.5]}, {})
    server.start()
    expect(page.locator(".trow", has_text="written-while-away")).to_be_visible(timeout=15_000)  # no click, no reload
    expect(banner).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Reconnected")).to_be_visible()


def test_navigating_between_views_keeps_the_live_channel_open(page: Page, reference_server: LiveServer,
                                                              reference_tree: tuple[Path, dict[str, Any]]) -> None:
    ids = reference_tree[1]
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    exp, run = ids["experiment"], ids["runs"]["parent"]
    page.goto(f"{reference_server.url}/#/experiments/{exp}")
    expect(page.locator(".trow[data-run-id]").first).to_be_visible()
    for target in (f"/experiments/{exp}/runs/{run}", f"/experiments/{exp}/runs/{run}/model-metrics", f"/experiments/{exp}",
                   f"/experiments/{exp}/runs/{run}/artifacts", f"/experiments/{exp}"):
        page.evaluate("(h) => { location.hash = h; }", target)
        page.wait_for_timeout(400)
    expect(page.locator(".trow[data-run-id]").first).to_be_visible()
    assert [f for f in failed if "/api/mlscope/events" in f or "ERR_ABORTED" in f] == []
