"""The runs table in a real browser: first rows after navigation, and scrolling, on 10,000 runs.

Run from the repository root:  .venv/bin/python -m bench.bench_ui

mlscope serves the 10,000-run bench tree (bench/run.py's cached tree, or the
one named in $MLSCOPE_BENCH_TREES); headless Debian Chromium opens the
experiment's runs table. Measured (median of 5):
1. cold: a freshly started browser (empty cache) opens the table of all the
   tree's experiments; time from navigation start to the first run row in
   the DOM. Target <= 1 s.
2. warm: the same in a context that has loaded the app once (modules cached).
3. scroll: jump to the middle of the table; time until rows there are drawn,
   and how many rows the DOM holds (virtualization keeps it small).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.measure import Server, free_port  # noqa: E402
from tests.conftest import CHROMIUM_ARGS  # noqa: E402

RUNS = 10_000
REPEATS = 5
ROW = ".trow[data-run-id]"


def bench_tree() -> Path:
    trees = json.loads(os.environ.get("MLSCOPE_BENCH_TREES", "{}"))
    if str(RUNS) in trees:
        return Path(trees[str(RUNS)])
    from bench.run import tree_for

    return tree_for(RUNS)


def start_server(tree: Path) -> tuple[Server, str]:
    port = free_port()
    log = REPO / "bench" / "trees" / "logs" / "bench_ui-server.log"
    server = Server("mlscope", [str(REPO / ".venv" / "bin" / "mlscope"), "ui", "--backend-store-uri", str(tree), "--port", str(port)], port, log)
    server.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/mlscope/status", timeout=2).json().get("ready"):
                return server, url
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    server.stop()
    raise TimeoutError("mlscope did not finish indexing the bench tree within 120 s")


# Recorded in the page itself: reading performance.now() from Playwright after wait_for_selector would add the
# driver's round trip (hundreds of ms in a freshly started browser) to what the user sees.
FIRST_ROW_PROBE = """
new MutationObserver((_, observer) => {
  if (document.querySelector('ROW')) { window.__firstRowsMs = performance.now(); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
""".replace("ROW", ROW)


def first_rows_ms(page: Any, url: str) -> float:
    """Milliseconds from navigation start until the first run row is in the DOM."""
    page.add_init_script(FIRST_ROW_PROBE)
    page.goto(url, wait_until="commit")
    page.wait_for_selector(ROW)
    return float(page.evaluate("window.__firstRowsMs"))


def main() -> None:
    from playwright.sync_api import sync_playwright

    tree = bench_tree()
    experiments = sorted(p.name for p in tree.iterdir() if (p / "meta.yaml").is_file() and p.name != "0")
    server, base = start_server(tree)
    table_url = f"{base}/#/experiments?experiments={quote(json.dumps(experiments))}"  # every run in one table
    try:
        with sync_playwright() as playwright:
            def launch() -> Any:
                return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)

            cold = []
            for _ in range(REPEATS):  # a fresh browser each time: a first visit, nothing cached
                fresh = launch()
                cold.append(first_rows_ms(fresh.new_page(viewport={"width": 1440, "height": 900}), table_url))
                fresh.close()
            browser = launch()
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            first_rows_ms(page, table_url)
            warm = []
            for _ in range(REPEATS):
                page.goto("about:blank")
                warm.append(first_rows_ms(page, table_url))
            total = page.evaluate("document.querySelector('.run-count')?.textContent || ''")
            scroll = []
            for _ in range(REPEATS):
                page.goto(table_url)
                page.wait_for_selector(ROW)
                scroll.append(
                    page.evaluate(
                        """async (row) => {
                            const box = document.querySelector('.table-scroll');
                            const start = performance.now();
                            box.scrollTop = box.scrollHeight / 2;
                            const target = box.scrollTop;
                            while (performance.now() - start < 10000) {
                                await new Promise((r) => requestAnimationFrame(r));
                                const rows = [...document.querySelectorAll('.trow')];
                                const drawn = rows.filter((r) => r.dataset.runId && parseFloat(r.style.top) >= target - 2000);
                                if (drawn.length && !document.querySelector('.trow.placeholder')) return performance.now() - start;
                            }
                            return NaN;
                        }""",
                        ROW,
                    )
                )
            dom_rows = page.locator(ROW).count()
            browser.close()
    finally:
        server.stop()
    print(f"tree: {RUNS:,} runs ({tree}); all {len(experiments)} experiments in one table: {total.strip()}")
    print(f"first rows after navigation, fresh browser (cold cache): median {statistics.median(cold):.0f} ms "
          f"(each: {', '.join(f'{t:.0f}' for t in cold)}; target <= 1000 ms)")
    print(f"first rows after navigation, modules cached: median {statistics.median(warm):.0f} ms (min {min(warm):.0f}, max {max(warm):.0f})")
    print(f"scroll to the middle until its rows are drawn: median {statistics.median(scroll):.0f} ms; rows in the DOM: {dom_rows}")


if __name__ == "__main__":
    main()
