"""Model registry benchmark: 1,000 registered models (3 versions each), mlscope against MLflow's own server.

Run from the repository root:  .venv/bin/python -m bench.bench_registry [--models 1000] [--no-mlflow] [--loads 5]

Tree: ``--models`` models in MLflow's registry layout (written directly: model-<i>, a tag, alias champion,
versions 1..3 with version 2 in Production), under an otherwise empty mlruns folder.

1. REST, through each server's HTTP API (median of 20 calls, after one warm-up):
   cold start -> first registered-models/search page (100 models); the first page by name;
   a page filtered on a tag and ordered by last update (a new filter string each call: nothing cached);
   get-model-version-by-alias.
2. The Models page (#/models) in headless Chromium: navigation start -> 100 rows on screen, timed in the page
   at the first animation frame where they are present; first load and median of the next ``--loads``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.measure import Server, free_port  # noqa: E402

SEARCH = "/api/2.0/mlflow/registered-models/search"
ROWS_JS = """
(() => {
  window.__rowsAt = null;
  const tick = () => {
    if (document.querySelectorAll('[data-table=models] tbody tr').length >= 100) window.__rowsAt = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def write_registry(root: Path, models: int, t0: int = 1_790_000_000_000) -> None:
    teams = ("risk", "growth", "search")
    for i in range(models):
        name = f"model-{i:04d}"
        model_dir = root / "models" / name
        (model_dir / "tags").mkdir(parents=True)
        (model_dir / "aliases").mkdir()
        (model_dir / "meta.yaml").write_text(
            f"aliases:\n  champion: '2'\ncreation_timestamp: {t0}\ndeployment_job_id: null\ndeployment_job_state: null\n"
            f"description: Model number {i}\nlast_updated_timestamp: {t0 + i * 1000}\nname: {name}\nworkspace: default\n")
        (model_dir / "tags" / "team").write_text(teams[i % 3])
        (model_dir / "aliases" / "champion").write_text("2")
        for v in (1, 2, 3):
            (model_dir / f"version-{v}").mkdir()
            (model_dir / f"version-{v}" / "meta.yaml").write_text(
                f"creation_timestamp: {t0 + v}\ncurrent_stage: {'Production' if v == 2 else 'None'}\ndeployment_job_state: null\n"
                f"description: null\nlast_updated_timestamp: {t0 + v}\nmodel_id: null\nname: {name}\nrun_id: null\nrun_link: null\n"
                f"source: s3://bucket/{name}/{v}\nstatus: READY\nstatus_message: null\nstorage_location: s3://bucket/{name}/{v}\n"
                f"user_id: null\nversion: {v}\nworkspace: default\n")
    (root / "0").mkdir()
    (root / "0" / "meta.yaml").write_text(f"artifact_location: {(root / '0').as_uri()}\nexperiment_id: '0'\n"
                                          "lifecycle_stage: active\nname: Default\n")


def get(port: int, path: str, params: dict[str, str]) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    try:
        conn.request("GET", f"{path}?{urllib.parse.urlencode(params)}")
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return time.perf_counter() - started, response.status


def cold_first_page(server: Server, port: int) -> float:
    while True:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited; see {server.log}")
        try:
            _, status = get(port, SEARCH, {"max_results": "100"})
        except OSError:
            time.sleep(0.01)
            continue
        if status == 200:
            return time.perf_counter() - server.started
        time.sleep(0.01)


def median_ms(call: Callable[[int], tuple[float, int]], calls: int = 20) -> float:
    times = []
    for i in range(calls + 1):
        elapsed, status = call(i)
        assert status == 200, status
        times.append(elapsed)
    return statistics.median(times[1:]) * 1000


def rest(name: str, cmd: list[str], root: Path, logs: Path) -> dict[str, float]:
    port = free_port()
    server = Server(name, [*cmd, "--port", str(port)], port, logs / f"{name}.log", env={**os.environ}, cwd=root.parent).start()
    try:
        cold = cold_first_page(server, port) * 1000
        return {
            "cold start -> first Models page (100 models)": cold,
            "registered-models/search, first page by name": median_ms(lambda i: get(port, SEARCH, {"max_results": "100"})),
            "search: tag filter, newest first (new filter each call)": median_ms(lambda i: get(port, SEARCH, {
                "max_results": "100", "filter": f"tags.team = 'risk' AND name LIKE '%{i % 10}%'",
                "order_by": "last_updated_timestamp DESC"})),
            "registered-models/alias (get version by alias)": median_ms(lambda i: get(
                port, "/api/2.0/mlflow/registered-models/alias", {"name": f"model-{i:04d}", "alias": "champion"})),
        }
    finally:
        server.stop()


def page_loads(root: Path, loads: int, logs: Path) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    cmd = [sys.executable, "-m", "mlscope.cli.main", "server", "--backend-store-uri", str(root), "--port", str(port)]
    server = Server("mlscope-ui", cmd, port, logs / "mlscope-ui.log", env={**os.environ}).start()
    try:
        cold_first_page(server, port)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                        args=["--no-sandbox", "--disable-gpu"])
            times = []
            for _ in range(loads + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.add_init_script(ROWS_JS)
                page.goto(f"http://127.0.0.1:{port}/#/models")
                page.wait_for_function("() => window.__rowsAt !== null", timeout=60_000)
                times.append(page.evaluate("() => window.__rowsAt"))
                context.close()
            browser.close()
        return times[0], statistics.median(times[1:])
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow's server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlscope-bench-registry-") as tmp:
        root = Path(tmp) / "mlruns"
        write_registry(root, args.models)
        logs = Path(tmp) / "logs"
        results = {"mlscope": rest("mlscope", [sys.executable, "-m", "mlscope.cli.main", "server", "--backend-store-uri",
                                               str(root)], root, logs)}
        if not args.no_mlflow:
            results["MLflow"] = rest("mlflow", [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", str(root),
                                                "--host", "127.0.0.1", "--workers", "1"], root, logs)
        first, warm = page_loads(root, args.loads, logs)
    print(f"\nModel registry, {args.models} registered models x 3 versions (ms, medians)")
    names = list(results)
    print(f"{'':58}" + "".join(f"{n:>12}" for n in names))
    for row in results["mlscope"]:
        print(f"{row:58}" + "".join(f"{results[n][row]:>12.0f}" for n in names))
    print(f"{'Models page (Chromium): navigation -> 100 rows, first load':58}{first:>12.0f}")
    print(f"{'Models page (Chromium): navigation -> 100 rows, next loads':58}{warm:>12.0f}")
    print(json.dumps({"models": args.models, **{k: v for k, v in results.items()}, "page_first_ms": first,
                      "page_warm_ms": warm}))


if __name__ == "__main__":
    main()
