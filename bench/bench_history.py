"""Chart-path benchmarks: history reduction in Python, the histories endpoint, and uPlot paint in Chromium.

Run from the repository root:  .venv/bin/python -m bench.bench_history

1. Reduction: a 100,000-point history to <= 2,000 points with the min/max (M4)
   downsampler (median of 15 runs). Target: <= 50 ms.
2. Endpoint: POST /api/mlscope/metrics/histories for 100 runs x 10,000 points
   (one key, 1,000 points per series), cold (files parsed) and warm (cached).
3. Paint: 100 runs x 10,000 points on one chart, drawn by lib/charts.js (uPlot)
   in headless Chromium, timed with performance.now() from createChart/setData
   until the canvas is drawn (median of 5). Target: <= 300 ms. Measured twice:
   as the app serves it (the endpoint reduces each run to 2,000 points for a
   1,200 px chart; fetch time reported separately) and as a raw stress test
   (all 1,000,000 points handed to uPlot).
"""

from __future__ import annotations

import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from array import array
from pathlib import Path

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlscope.history import downsample  # noqa: E402

T0 = 1_790_000_000_000


def bench_reduction(n: int = 100_000, target: int = 2_000, repeats: int = 15) -> tuple[float, int]:
    rng = random.Random(1)
    xs = array("q", range(n))
    values = array("d", [math.exp(-i / 30_000) + rng.random() * 0.05 for i in range(n)])
    values[n // 3] = 100.0
    times, picked = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        picked = downsample(xs, values, target)
        times.append(time.perf_counter() - start)
    assert n // 3 in picked and len(picked) <= target
    return statistics.median(times) * 1000, len(picked)


def write_tree(root: Path, runs: int, points: int) -> list[str]:
    """An mlruns tree in FileStore's exact layout: `runs` finished runs with a `points`-long "loss"."""
    exp = root / "1"
    exp.mkdir(parents=True)
    (exp / "meta.yaml").write_text(
        f"artifact_location: {exp.as_uri()}\ncreation_time: {T0}\nexperiment_id: '1'\n"
        f"last_update_time: {T0}\nlifecycle_stage: active\nname: bench\n"
    )
    ids = []
    rng = random.Random(2)
    for r in range(runs):
        run_id = f"b{r:031x}"
        run = exp / run_id
        for sub in ("metrics", "params", "tags", "artifacts"):
            (run / sub).mkdir(parents=True)
        (run / "meta.yaml").write_text(
            f"artifact_uri: {(run / 'artifacts').as_uri()}\nend_time: {T0 + 1}\nentry_point_name: ''\n"
            f"experiment_id: '1'\nlifecycle_stage: active\nrun_id: '{run_id}'\nrun_name: run-{r}\nrun_uuid: '{run_id}'\n"
            f"source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {T0}\nstatus: 3\ntags: []\nuser_id: bench\n"
        )
        scale = 1 + r / runs
        lines = [f"{T0 + s * 100} {scale * math.exp(-s / 3000) + rng.random() * 0.02} {s}\n" for s in range(points)]
        (run / "metrics" / "loss").write_text("".join(lines))
        ids.append(run_id)
    return ids


def bench_endpoint(url: str, run_ids: list[str]) -> tuple[float, float, int]:
    import httpx

    body = {"run_ids": run_ids, "keys": ["loss"], "points": 1000}
    timings = []
    shown = 0
    for _ in range(4):
        start = time.perf_counter()
        response = httpx.post(url + "/api/mlscope/metrics/histories", json=body, timeout=120)
        timings.append(time.perf_counter() - start)
        response.raise_for_status()
        shown = sum(s["shown"] for s in response.json()["series"])
    return timings[0] * 1000, statistics.median(timings[1:]) * 1000, shown


PAINT_JS = """
async ([runs, points, repeats]) => {
  const { createChart, seriesColor } = await import("/static/lib/charts.js");
  const series = [];
  for (let r = 0; r < runs; r++) {
    const xs = new Array(points), ys = new Array(points);
    let v = 1 + r / runs;
    for (let i = 0; i < points; i++) { xs[i] = i; v = v * 0.9997 + (Math.random() - 0.5) * 0.01; ys[i] = v; }
    series.push({ id: String(r), label: `run-${r}`, color: seriesColor(r), xs, ys });
  }
  const times = [];
  for (let k = 0; k < repeats; k++) {
    const box = document.createElement("div");
    box.style.width = "1200px";
    document.body.append(box);
    const t0 = performance.now();
    const chart = createChart(box, { height: 300 });
    chart.setData(series);
    await new Promise((resolve) => setTimeout(resolve, 0)); // uPlot commits its draw in a microtask
    times.push(performance.now() - t0);
    chart.destroy();
    box.remove();
  }
  times.sort((a, b) => a - b);
  return times;
}
"""


SERVED_JS = """
async ([runIds, repeats]) => {
  const { createChart, seriesColor } = await import("/static/lib/charts.js");
  const times = [];
  for (let k = 0; k < repeats; k++) {
    const box = document.createElement("div");
    box.style.width = "1200px";
    document.body.append(box);
    const t0 = performance.now();
    const response = await fetch("/api/mlscope/metrics/histories", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ run_ids: runIds, keys: ["loss"], points: 2000 }),  // what a 1200 px chart asks for
    });
    const { series } = await response.json();
    const t1 = performance.now();
    const chart = createChart(box, { height: 300 });
    chart.setData(series.map((s, i) => ({ id: s.run_id, label: s.run_id, color: seriesColor(i), xs: s.steps, ys: s.values })));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const t2 = performance.now();
    times.push([t1 - t0, t2 - t1]);
    chart.destroy();
    box.remove();
  }
  return times;
}
"""


def bench_paint(url: str, run_ids: list[str], points: int = 10_000, repeats: int = 5) -> tuple[list[float], list[list[float]]]:
    """(raw paint times of len(run_ids) x points, [fetch, paint] times of the same runs served downsampled)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(url + "/")
        raw = page.evaluate(PAINT_JS, [len(run_ids), points, repeats])
        served = page.evaluate(SERVED_JS, [run_ids, repeats])
        browser.close()
    return raw, served


def main() -> None:
    from tests.conftest import LiveServer

    ms, kept = bench_reduction()
    print(f"reduction: 100,000 -> {kept:,} points (min/max buckets) in {ms:.1f} ms (median of 15; target <= 50 ms)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mlruns"
        start = time.perf_counter()
        run_ids = write_tree(root, 100, 10_000)
        print(f"tree: 100 runs x 10,000 points written in {time.perf_counter() - start:.1f} s")
        server = LiveServer(root).start()
        try:
            cold, warm, shown = bench_endpoint(server.url, run_ids)
            print(f"endpoint: 100 runs x 10,000 points -> {shown:,} points: cold {cold:.0f} ms, warm {warm:.0f} ms (median of 3)")
            raw, served = bench_paint(server.url, run_ids)
            fetches = [f for f, _ in served]
            paints = sorted(p for _, p in served)
            print(
                f"paint, as served (100 runs x 10,000 points, downsampled to 2,000 per run): median {statistics.median(paints):.0f} ms "
                f"(min {paints[0]:.0f}, max {paints[-1]:.0f}; target <= 300 ms); fetch median {statistics.median(fetches):.0f} ms"
            )
            print(
                f"paint, raw stress (100 x 10,000 = 1,000,000 points handed to uPlot): median {statistics.median(raw):.0f} ms "
                f"(min {raw[0]:.0f}, max {raw[-1]:.0f})"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
