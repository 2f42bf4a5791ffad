"""The experiment page's chart view in a real browser (issue 13's targets), on two generated trees.

Run from the repository root:  .venv/bin/python -m bench.bench_charts

Each tree's server starts with an empty cache directory (XDG_CACHE_HOME=bench/trees/xdg-cache, no index
cache, no reduced histories: a first ever open), then is restarted on the cache it left (the index cache and
the reduced histories kept by history/disk.py: a server start on a tree opened before).

- grid tree: 100 runs x 20 metrics (train/, val/, system/, ungrouped) x 10,000 steps.
  1. switch: the runs table with chart_n=100 is open; click "Charts"; time until every chart card in
     the first screen has drawn its lines (its note says "points shown"). Target <= 1 s. The first
     switch ever parses the metric files (first ever); the first after a restart reads the reductions
     kept on disk (after restart); later ones hit the in-memory caches (warm).
  2. x axis: with the charts shown, choose "Relative time"; time until every card on screen has
     redrawn with the new x. Target <= 200 ms.
  3. scroll: jump to the bottom of the grid; time until the cards on screen are drawn, then cards drawn
     (canvases) vs cards in the DOM (charts far from the screen are freed).
- groups tree: 1,000 runs in 10 groups (param "group"), one metric "loss" x 10,000 steps.
  4. grouping: with the chart view open on "loss", choose group by params.group; time from the
     choice until the card shows its 10 group lines with bands. Target <= 500 ms. The first grouping
     reads 1,000 histories (first ever); then the band is switched and grouping is turned off and on (warm);
     then the server restarts and the first grouping reads the kept summaries (after restart).

Every time is measured inside the page (performance.now() around the click, requestAnimationFrame
polling), median of REPEATS where repeated. Trees are cached in bench/trees/ (git-ignored).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.measure import Server, free_port  # noqa: E402
from bench.servers import compile_mlscope  # noqa: E402
from tests.conftest import CHROMIUM_ARGS  # noqa: E402

TREES = REPO / "bench" / "trees"
TREE_VERSION = "1"
STEPS = 10_000
REPEATS = 5
T0 = 1_790_000_000_000
GRID_METRICS = [
    *(f"train/{k}" for k in ("loss", "acc", "grad_norm", "lr", "throughput")),
    *(f"val/{k}" for k in ("loss", "acc", "f1", "precision", "recall")),
    *(f"system/{k}" for k in ("cpu", "gpu", "memory", "disk", "network")),
    "loss", "accuracy", "epoch_time", "tokens", "perplexity",
]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _run(exp_dir: Path, run_id: str, name: str, start: int, params: dict[str, str], metrics: dict[str, float]) -> None:
    run_dir = exp_dir / run_id
    _write(
        run_dir / "meta.yaml",
        f"artifact_uri: {(run_dir / 'artifacts').as_uri()}\nend_time: {start + STEPS * 100}\nentry_point_name: ''\n"
        f"experiment_id: '{exp_dir.name}'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: {name}\n"
        f"run_uuid: {run_id}\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {start}\n"
        f"status: 3\ntags: []\nuser_id: bench\n",
    )
    for key, value in params.items():
        _write(run_dir / "params" / key, value)
    _write(run_dir / "tags" / "mlflow.runName", name)
    steps = range(STEPS)
    for key, scale in metrics.items():
        lines = [f"{start + 100 * s} {scale * (1 + math.exp(-s / 2000)) + 0.01 * ((s * 7919) % 13):.6g} {s}\n" for s in steps]
        _write(run_dir / "metrics" / key, "".join(lines))


def _experiment(root: Path, name: str) -> Path:
    exp_dir = root / "1"
    _write(exp_dir / "meta.yaml", f"artifact_location: {exp_dir.as_uri()}\ncreation_time: {T0}\nexperiment_id: '1'\n"
                                  f"last_update_time: {T0}\nlifecycle_stage: active\nname: {name}\n")
    return exp_dir


def tree(name: str, runs: int, metrics: list[str], groups: int) -> Path:
    root = TREES / f"charts-{name}-v{TREE_VERSION}"
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(5)
    exp_dir = _experiment(root, name)
    for i in range(runs):
        run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        group = i % groups
        scales = {key: (1 + group) * (1 + 0.1 * rng.random()) for key in metrics}
        _run(exp_dir, run_id, f"run-{i:04d}", T0 + i * 1000, {"group": str(group), "lr": str(10 ** -(1 + i % 4))}, scales)
    (root / ".done").write_text("")
    return root


def fresh_cache() -> dict[str, str]:
    """An empty cache directory for the servers (a first ever open); restarts reuse it."""
    xdg = TREES / "xdg-cache"
    shutil.rmtree(xdg, ignore_errors=True)
    xdg.mkdir(parents=True)
    return {**os.environ, "XDG_CACHE_HOME": str(xdg)}


def server_cpu_s(server: Server) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    assert server.proc is not None
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(root: Path, env: dict[str, str]) -> tuple[Server, str]:
    compile_mlscope()
    port = free_port()
    log = TREES / "logs" / "bench_charts-server.log"
    server = Server("mlscope", [str(REPO / ".venv" / "bin" / "mlscope"), "ui", "--backend-store-uri", str(root), "--port", str(port)],
                    port, log, env=env)
    server.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/mlscope/status", timeout=2).json().get("ready"):
                return server, url
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    server.stop()
    raise TimeoutError("mlscope did not finish indexing the chart bench tree")


# In-page timing: click, then poll each animation frame until `done()` holds.
TIME_UNTIL = """async ([action, done]) => {
  const act = new Function(action);
  const check = new Function(done);
  const start = performance.now();
  act();
  while (performance.now() - start < 60000) {
    await new Promise((r) => requestAnimationFrame(r));
    if (check()) return performance.now() - start;
  }
  return NaN;
}"""

FIRST_SCREEN_DRAWN = """
  const pane = document.querySelector('.exp-charts-pane');
  if (!pane) return false;
  const bottom = pane.getBoundingClientRect().bottom;
  const cards = [...document.querySelectorAll('.ec-card')].filter((c) => c.getBoundingClientRect().top < bottom);
  return cards.length > 0 && cards.every((c) => /points shown|latest value/.test(c.querySelector('.mc-note')?.textContent || ''));
"""

VISIBLE_DRAWN = """
  const box = document.querySelector('.exp-charts-pane').getBoundingClientRect();
  const cards = [...document.querySelectorAll('.ec-card')].filter((c) => { const r = c.getBoundingClientRect();
    return r.top < box.bottom && r.bottom > box.top; });
  return cards.length > 0 && cards.every((c) => /points shown|latest value/.test(c.querySelector('.mc-note')?.textContent || ''));
"""

MARK_CANVASES = "document.querySelectorAll('.ec-card canvas').forEach((c) => (c.dataset.old = '1'));"
REDRAWN_ON_SCREEN = """
  const pane = document.querySelector('.exp-charts-pane');
  const bottom = pane.getBoundingClientRect().bottom;
  const cards = [...document.querySelectorAll('.ec-card')].filter((c) => c.getBoundingClientRect().top < bottom);
  return cards.every((c) => { const canvas = c.querySelector('canvas'); return canvas && !canvas.dataset.old
    && /points shown/.test(c.querySelector('.mc-note')?.textContent || ''); });
"""


GROUP_OPTION = """() => [...(document.querySelector('select[aria-label="Add a grouping field"]')?.options || [])]
  .some((o) => o.value === 'params.group')"""


def timed(page: Any, action: str, done: str) -> float:
    return float(page.evaluate(TIME_UNTIL, [action, done]))


CLICK_CHARTS = "[...document.querySelectorAll('.segmented button')].find((b) => b.textContent === 'Charts').click()"


def bench_grid(playwright: Any) -> dict[str, Any]:
    root = tree("grid", 100, GRID_METRICS, 4)
    env = fresh_cache()
    server, base = start_server(root, env)
    table = f"{base}/#/experiments/1?chart_n=100"
    out: dict[str, Any] = {}
    try:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        switch = []
        for i in range(REPEATS):
            page.goto(table)
            page.wait_for_selector(".trow[data-run-id]")
            cpu = server_cpu_s(server)
            switch.append(timed(page, CLICK_CHARTS, FIRST_SCREEN_DRAWN))
            if i == 0:
                out["switch_cold_cpu_s"] = server_cpu_s(server) - cpu
        out["switch_cold_ms"], out["switch_warm_ms"] = switch[0], statistics.median(switch[1:])
        out["cards_on_first_screen"] = page.evaluate(
            "() => { const b = document.querySelector('.exp-charts-pane').getBoundingClientRect().bottom;"
            " return [...document.querySelectorAll('.ec-card')].filter((c) => c.getBoundingClientRect().top < b).length; }")
        xs = []
        for mode in ["relative", "step"] * ((REPEATS + 1) // 2):
            action = MARK_CANVASES + (
                "const s = document.querySelector('.mc-controls select');"
                f"s.value = '{mode}'; s.dispatchEvent(new Event('change', {{bubbles: true}}));"
            )
            xs.append(timed(page, action, REDRAWN_ON_SCREEN))
        out["x_switch_ms"] = statistics.median(xs)
        out["scroll_ms"] = timed(page, "const p = document.querySelector('.exp-charts-pane'); p.scrollTop = p.scrollHeight;", VISIBLE_DRAWN)
        out["cards_in_dom"] = page.locator(".ec-card").count()
        out["canvases_after_scroll"] = page.locator(".ec-card canvas").count()
        server.stop()
        server, base = start_server(root, env)  # on the cache the first server left
        page.goto(f"{base}/#/experiments/1?chart_n=100")
        page.wait_for_selector(".trow[data-run-id]")
        cpu = server_cpu_s(server)
        out["switch_restart_ms"] = timed(page, CLICK_CHARTS, FIRST_SCREEN_DRAWN)
        out["switch_restart_cpu_s"] = server_cpu_s(server) - cpu
        browser.close()
    finally:
        server.stop()
    return out


def bench_groups(playwright: Any) -> dict[str, Any]:
    root = tree("groups", 1000, ["loss"], 10)
    env = fresh_cache()
    server, base = start_server(root, env)
    out: dict[str, Any] = {}
    lines_drawn = """
      const card = document.querySelector('.ec-card[data-card="metric:loss"]');
      return !!card && card.querySelectorAll('.mchart-legend-row').length === 10 && /groups/.test(card.querySelector('.mc-note').textContent);
    """
    try:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        chart_view = "/#/experiments/1?compareRunsMode=CHART&chart_q=loss"
        page.goto(base + chart_view)
        page.wait_for_selector('.ec-card[data-card="metric:loss"] canvas')
        page.wait_for_function(GROUP_OPTION)
        choose = ("const s = document.querySelector('select[aria-label=\"Add a grouping field\"]');"
                  "s.value = 'params.group'; s.dispatchEvent(new Event('change', {bubbles: true}));")
        cpu = server_cpu_s(server)
        out["group_cold_ms"] = timed(page, choose, lines_drawn)
        out["group_cold_cpu_s"] = server_cpu_s(server) - cpu
        warm = []
        for band, said in [("minmax", "min–max band"), ("std", "± std")] * ((REPEATS + 1) // 2):
            # The band is redrawn from the numbers on screen (no request): done when the note names it.
            action = (
                "const s = document.querySelector('select[aria-label=\"Group band\"]');"
                f"s.value = '{band}'; s.dispatchEvent(new Event('change', {{bubbles: true}}));"
            )
            warm.append(timed(page, action, lines_drawn.replace("/groups/.test(", f"/{said}/.test(")))
        out["band_switch_ms"] = statistics.median(warm)
        regroup = []
        for _ in range(REPEATS):
            page.evaluate("() => document.querySelector('.chip-x').click()")
            page.wait_for_function("() => !document.querySelector('.chip') && (document.querySelector("
                                   "'.ec-card[data-card=\"metric:loss\"] .mchart-name')?.textContent || '').startsWith('run-')",
                                   timeout=60_000)
            page.wait_for_function(GROUP_OPTION)
            regroup.append(timed(page, choose, lines_drawn))
        out["group_warm_ms"] = statistics.median(regroup)
        server.stop()
        server, base = start_server(root, env)  # on the cache the first server left
        page.goto(base + chart_view)
        page.wait_for_selector('.ec-card[data-card="metric:loss"] canvas')
        page.wait_for_function(GROUP_OPTION)
        cpu = server_cpu_s(server)
        out["group_restart_ms"] = timed(page, choose, lines_drawn)
        out["group_restart_cpu_s"] = server_cpu_s(server) - cpu
        browser.close()
    finally:
        server.stop()
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    which = set(sys.argv[1:]) or {"grid", "groups"}
    grid: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    with sync_playwright() as playwright:
        if "grid" in which:
            grid = bench_grid(playwright)
        if "groups" in which:
            groups = bench_groups(playwright)
    if grid:
        print("chart view, 100 runs x 20 metrics x 10,000 steps:")
        print(f"  switch Table -> Charts until the first screen is drawn: first ever {grid['switch_cold_ms']:.0f} ms "
              f"(server CPU {grid['switch_cold_cpu_s']:.2f} s), after a restart {grid['switch_restart_ms']:.0f} ms "
              f"(server CPU {grid['switch_restart_cpu_s']:.2f} s), warm median {grid['switch_warm_ms']:.0f} ms "
              f"({grid['cards_on_first_screen']} cards on screen; target <= 1000 ms)")
        print(f"  x axis step <-> relative until the cards on screen are redrawn: median {grid['x_switch_ms']:.0f} ms (target <= 200 ms)")
        print(f"  jump to the bottom of the grid until the cards on screen are drawn: {grid['scroll_ms']:.0f} ms; then "
              f"{grid['canvases_after_scroll']} charts drawn of {grid['cards_in_dom']} cards (lazy: only those near the screen)")
    if groups:
        print("grouping, 1,000 runs in 10 groups, 1 metric x 10,000 steps:")
        print(f"  group by params.group until 10 lines with bands are drawn: first ever {groups['group_cold_ms']:.0f} ms "
              f"(server CPU {groups['group_cold_cpu_s']:.2f} s), after a restart {groups['group_restart_ms']:.0f} ms "
              f"(server CPU {groups['group_restart_cpu_s']:.2f} s), warm median {groups['group_warm_ms']:.0f} ms (target <= 500 ms)")
        print(f"  switch the band (std <-> min-max): median {groups['band_switch_ms']:.0f} ms")
    print(json.dumps({"grid": grid, "groups": groups}))


if __name__ == "__main__":
    main()
