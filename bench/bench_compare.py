"""Compare-page benchmark: 200 runs selected, rendered and used in headless Chromium.

Run from the repository root:  .venv/bin/python -m bench.bench_compare [--runs 200] [--steps 100] [--loads 5]

Tree: bench.generate, 2 experiments, runs + 10% (deleted runs are skipped; the
first `--runs` active runs are compared, taken from both experiments), each with
8 params, ~10 tags and 8 metrics of ~steps..2*steps points.

1. Endpoint: POST /api/mlscope/compare for the selection, cold (histories parsed)
   and warm (median of 5).
2. Render: navigation start -> table (one column per run), parallel coordinates
   (one line per run) and one overlaid metric chart (a legend row per run) all
   on screen (a 1440 x 2200 window, so all three are in view: charts are only
   drawn near the viewport), timed in the page with performance.now() at the first animation
   frame where each is present. First load (server cold) and median of the
   next loads (server warm, static files cached).
3. Interaction latency, from the input to the next frame after the DOM changed
   (median of 10): toggle "only differences" (the table re-renders), and brush an
   axis of the parallel coordinates (lines restyle, table columns dim).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.generate import generate  # noqa: E402

# Installed before the app runs: records when each part of the page first appears, frame by frame.
MARKS_JS = """
(() => {
  const want = Number(new URLSearchParams(location.hash.split("?")[1] || "").get("bench_runs"));
  if (!want) return;
  window.__marks = {};
  const checks = {
    table: () => document.querySelectorAll("th.cmp-run").length === want,
    parcoords: () => {
      const el = document.querySelector(".cmp-parcoords");
      return el && el.querySelector("canvas") && Number(el.dataset.lines) === want;
    },
    chart: () => document.querySelectorAll('.mc-card .mchart-legend-row').length === want,
  };
  const tick = () => {
    for (const [name, ok] of Object.entries(checks)) {
      if (!(name in window.__marks) && ok()) window.__marks[name] = performance.now();
    }
    if (Object.keys(window.__marks).length < Object.keys(checks).length) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

# From an input to the first frame after the DOM shows its effect.
TOGGLE_JS = """
async (repeats) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const rows = () => document.querySelectorAll("tr.cmp-row").length;
  const box = document.querySelector('input[aria-label="Only differences"]');
  const times = [];
  for (let i = 0; i < repeats; i++) {
    await frame();
    const before = rows();
    const t0 = performance.now();
    box.click();
    while (rows() === before) await new Promise((r) => setTimeout(r, 0));
    await frame();
    times.push(performance.now() - t0);
  }
  return times;
}
"""

BRUSH_JS = """
async (repeats) => {
  const echarts = await import("echarts");
  const chart = echarts.getInstanceByDom(document.querySelector(".cmp-parcoords"));
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const dimmed = () => document.querySelectorAll("th.cmp-run.dim").length;
  const axis = chart.getModel().getComponent("parallelAxis", 0).axis;
  const [lo, hi] = axis.scale.getExtent();
  const span = hi - lo;
  const times = [];
  for (let i = 0; i < repeats; i++) {
    await frame();
    const before = dimmed();
    const cut = i % 2 ? 0.5 : 0.3;  // alternate two brushes so every step changes the selection
    const t0 = performance.now();
    chart.dispatchAction({ type: "axisAreaSelect", parallelAxisIndex: 0, intervals: [[lo, lo + span * cut]] });
    while (dimmed() === before) await new Promise((r) => setTimeout(r, 0));
    await frame();
    times.push(performance.now() - t0);
  }
  return { times, active: Number(document.querySelector(".cmp-parcoords").dataset.active) };
}
"""


def selection(server: Any, runs: int) -> tuple[list[str], list[str]]:
    """`runs` active run ids taken alternately from the tree's experiments, and those experiments."""
    index = server.app.state.index
    by_exp: dict[str, list[str]] = {}
    for run in sorted(index.runs(), key=lambda r: r.info.start_time or 0):
        if run.info.lifecycle_stage == "active":
            by_exp.setdefault(run.info.experiment_id, []).append(run.info.run_id)
    queues = [ids for ids in by_exp.values() if ids]
    chosen: list[str] = []
    while len(chosen) < runs and any(queues):
        for ids in queues:
            if ids and len(chosen) < runs:
                chosen.append(ids.pop(0))
    return chosen, list(by_exp)


def bench_endpoint(url: str, run_ids: list[str]) -> tuple[float, float, int]:
    import httpx

    timings, size = [], 0
    for _ in range(6):
        start = time.perf_counter()
        response = httpx.post(url + "/api/mlscope/compare", json={"run_ids": run_ids}, timeout=120)
        timings.append(time.perf_counter() - start)
        response.raise_for_status()
        size = len(response.content)
    return timings[0] * 1000, statistics.median(timings[1:]) * 1000, size


def bench_page(url: str, run_ids: list[str], experiments: list[str], loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    query = urllib.parse.urlencode(
        {"runs": json.dumps(run_ids), "experiments": json.dumps(experiments), "metrics": json.dumps(["loss"]), "bench_runs": len(run_ids)}
    )
    page_url = f"{url}/#/compare-runs?{query}"
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    out: dict[str, Any] = {"loads": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1440, "height": 2200})
        context.add_init_script(MARKS_JS)
        page = context.new_page()
        for _ in range(loads):
            page.goto("about:blank")
            page.goto(page_url)
            page.wait_for_function("() => window.__marks && Object.keys(window.__marks).length === 3", timeout=120_000)
            out["loads"].append(page.evaluate("() => window.__marks"))
        out["diff"] = page.evaluate(TOGGLE_JS, 10)
        brush = page.evaluate(BRUSH_JS, 10)
        out["brush"], out["brush_active"] = brush["times"], brush["active"]
        out["rows"] = page.evaluate("() => document.querySelectorAll('tr.cmp-row').length")
        page.screenshot(path=str(REPO / "bench" / "trees" / "logs" / "compare-200.png"))
        browser.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_compare", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args(argv)


    from tests.conftest import LiveServer

    (REPO / "bench" / "trees" / "logs").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mlruns"
        start = time.perf_counter()
        summary = generate(root, runs=int(args.runs * 1.1) + 4, experiments=2, steps=args.steps, seed=7)
        print(f"tree: {summary['runs']} runs in 2 experiments ({summary['files']:,} files) written in {time.perf_counter() - start:.1f} s")
        server = LiveServer(root).start()
        try:
            run_ids, experiments = selection(server, args.runs)
            cold, warm, size = bench_endpoint(server.url, run_ids)
            print(f"endpoint: POST /api/mlscope/compare, {len(run_ids)} runs: cold {cold:.0f} ms, warm {warm:.0f} ms (median of 5), {size / 1024:.0f} KiB")
            # The endpoint runs above warmed the server; start the page measurements from cold history caches.
            for name in ("history_cache", "compare_summaries"):
                if hasattr(server.app.state, name):
                    delattr(server.app.state, name)
            result = bench_page(server.url, run_ids, experiments, args.loads)
        finally:
            server.stop()
    first, rest = result["loads"][0], result["loads"][1:]

    def med(name: str) -> float:
        return statistics.median(m[name] for m in rest) if rest else first[name]

    print(f"render, {len(run_ids)} runs, navigation start -> on screen (first load, server cold | median of next {len(rest)}):")
    for name, label in (("table", f"table ({len(run_ids)} columns x {result['rows']} rows shown)"), ("parcoords", "parallel coordinates"), ("chart", "overlaid 'loss' chart")):
        print(f"  {label:<44} {first[name]:7.0f} ms | {med(name):7.0f} ms")
    print(f"  {'all three':<44} {max(first.values()):7.0f} ms | {statistics.median(max(m.values()) for m in rest) if rest else max(first.values()):7.0f} ms")
    diff, brush = sorted(result["diff"]), sorted(result["brush"])
    print(f"interaction: toggle 'only differences' median {statistics.median(diff):.0f} ms (max {diff[-1]:.0f}); "
          f"brush an axis median {statistics.median(brush):.0f} ms (max {brush[-1]:.0f}; {result['brush_active']} runs left inside)")
    print("screenshot: bench/trees/logs/compare-200.png")


if __name__ == "__main__":
    main()
