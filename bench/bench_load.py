"""Load: 20 HTTP clients for 60 s on mixed endpoints while two writers append to one run (issue 18, under load).

Run from the repository root:  .venv/bin/python -m bench.bench_load [--clients 20] [--seconds 60]

The tree: 1,000 runs from bench/generate.py plus one RUNNING run whose
``loss`` history is seeded with 284,000 points (the size at which MLflow's
get-history, re-reading the whole file per call, took 1.2 s and the issue's
p99 reached 19 s). ``mlscope ui`` serves it as a subprocess. For the whole
time, ``--clients`` client processes (no think time, one keep-alive
connection each, ``http.client``) cycle through: runs/search (first page,
and a filter + order), the run page (/api/mlscope/run), MLflow's
metrics/get-history (max_results=1000, and a 25,000-point page as MLflow's
client asks), get-history-bulk-interval, the chart's histories, artifact
listing and download, and /health; meanwhile MLflow's ``MlflowClient`` (over
HTTP, through the server) and ``import mlscope`` (into the tree) append to the
live run's ``loss``. Reported: requests, errors (must be 0), lines lost (must
be 0: in the file and in get-history), p50/p99 latency overall and per
endpoint (target p99 <= 500 ms), server RSS before and after, server CPU, and
the load average (2 cores shared with other jobs: latencies measure the
machine too; the server CPU seconds say what the work cost).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import generate  # noqa: E402
from bench.measure import Client  # noqa: E402
from bench.servers import mlscope_server  # noqa: E402

API = "/api/2.0/mlflow"
LIVE = "1" * 32
LIVE_EXPERIMENT = "424242"
T0 = 1_790_000_000_000

MLFLOW_WRITER = """
import sys, time
from mlflow import MlflowClient
url, run_id, start, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
client = MlflowClient(url)
end, n = time.monotonic() + seconds, 0
while time.monotonic() < end:
    client.log_metric(run_id, "loss", 0.5, timestamp=2_000_000_000_000 + n, step=start + n)
    n += 1
print(n)
"""
MLSCOPE_WRITER = """
import sys, time
import mlscope
root, run_id, start, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
mlscope.set_tracking_uri(root)
end, n = time.monotonic() + seconds, 0
with mlscope.start_run(run_id=run_id):
    while time.monotonic() < end:
        mlscope.log_metric("loss", 0.25, step=start + n)
        n += 1
        time.sleep(0.002)
print(n)
"""


def write_live_run(root: Path, points: int) -> None:
    """Experiment LIVE_EXPERIMENT with one RUNNING run: `points` lines of loss, a param, two artifacts."""
    exp = root / LIVE_EXPERIMENT
    exp.mkdir()
    (exp / "meta.yaml").write_text(generate.dump_yaml(generate.experiment_meta(LIVE_EXPERIMENT, "live", exp.as_uri(), T0)))
    run = exp / LIVE
    for sub in ("metrics", "params", "tags", "artifacts"):
        (run / sub).mkdir(parents=True)
    (run / "meta.yaml").write_text(
        f"artifact_uri: {(run / 'artifacts').as_uri()}\nend_time: null\nentry_point_name: ''\nexperiment_id: '{LIVE_EXPERIMENT}'\n"
        f"lifecycle_stage: active\nrun_id: {LIVE}\nrun_name: live\nrun_uuid: {LIVE}\nsource_name: ''\nsource_type: 4\n"
        f"source_version: ''\nstart_time: {T0}\nstatus: 1\ntags: []\nuser_id: bench\n"
    )
    (run / "params" / "lr").write_text("0.001")
    (run / "tags" / "mlflow.runName").write_text("live")
    with open(run / "metrics" / "loss", "w") as out:
        for start in range(0, points, 10_000):
            out.write("".join(f"{T0 + i * 100} {1.0 / (i + 1)} {i}\n" for i in range(start, min(points, start + 10_000))))
    (run / "artifacts" / "notes.txt").write_text("hello\n" * 2000)
    (run / "artifacts" / "config.json").write_text(json.dumps({"lr": 0.001, "layers": [64, 64]}))


def requests_for(run_ids: list[str], experiment_ids: list[str]) -> list[tuple[str, str, str, bytes | None]]:
    """(label, method, path, body) of the mixed requests the clients cycle through."""
    search = json.dumps({"experiment_ids": experiment_ids, "max_results": 100, "order_by": ["attributes.start_time DESC"]}).encode()
    filtered = json.dumps({"experiment_ids": experiment_ids, "max_results": 100, "order_by": ["metrics.val_loss ASC"],
                           "filter": "params.optimizer = 'adam' and metrics.val_accuracy > 0.8"}).encode()
    rng = random.Random(3)
    picks = rng.sample(run_ids, min(20, len(run_ids)))
    history = API + "/metrics/get-history?" + urlencode({"run_id": LIVE, "metric_key": "loss", "max_results": 1000})
    page = API + "/metrics/get-history?" + urlencode({"run_id": LIVE, "metric_key": "loss", "max_results": 25000})
    bulk = "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?" + urlencode({"run_ids": LIVE, "metric_key": "loss", "max_results": 320})
    chart = json.dumps({"run_ids": [LIVE], "metric_key": "loss"}).encode()
    out: list[tuple[str, str, str, bytes | None]] = [
        ("runs/search page", "POST", API + "/runs/search", search),
        ("runs/search filter", "POST", API + "/runs/search", filtered),
        ("run page (live)", "GET", "/api/mlscope/run?run_id=" + LIVE, None),
        ("get-history 1000", "GET", history, None),
        ("get-history 25000", "GET", page, None),
        ("history-bulk-interval", "GET", bulk, None),
        ("chart histories", "POST", "/api/mlscope/metrics/histories", chart),
        ("artifacts/list", "GET", API + "/artifacts/list?run_id=" + LIVE, None),
        ("get-artifact", "GET", "/get-artifact?" + urlencode({"run_uuid": LIVE, "path": "notes.txt"}), None),
        ("health", "GET", "/health", None),
    ]
    out += [("run page (other)", "GET", "/api/mlscope/run?run_id=" + run_id, None) for run_id in picks[:2]]
    return out


def client_loop(port: int, number: int, stop_at: float, requests: list[tuple[str, str, str, bytes | None]], results: Any) -> None:
    """One client: the requests in turn (starting at its own offset) until stop_at; (label, seconds, error) each."""
    samples: list[tuple[str, float, str | None]] = []
    conn: http.client.HTTPConnection | None = None
    i = number
    while time.time() < stop_at:
        label, method, path, body = requests[i % len(requests)]
        i += 1
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        error = None
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                error = f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as exc:
            error = repr(exc)
            conn.close()
            conn = None
        samples.append((label, time.perf_counter() - started, error))
    if conn is not None:
        conn.close()
    results.put(samples)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--points", type=int, default=284_000, help="points seeded into the live run's loss")
    parser.add_argument("--runs", type=int, default=1000, help="runs of the generated tree around the live run")
    parser.add_argument("--keep", type=Path, help="write the tree here and keep it (default: a temp folder, removed)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="mlscope-bench-load-"))
    root, cache_home = work / "mlruns", work / "xdg-cache"
    try:
        started = time.perf_counter()
        summary = generate.generate(root, args.runs)
        write_live_run(root, args.points)
        print(f"tree: {summary['runs']:,} runs (bench/generate.py) + 1 RUNNING run with {args.points:,} 'loss' points, "
              f"written in {time.perf_counter() - started:.1f} s")
        server = mlscope_server(root, cache_home).start()
        try:
            run(server, root, summary, args)
        finally:
            server.stop()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(server: Any, root: Path, summary: dict[str, Any], args: argparse.Namespace) -> None:
    url = f"http://127.0.0.1:{server.port}"
    client = Client(server.port)
    experiment_ids = [*summary["experiments"], LIVE_EXPERIMENT]
    server.first_answer(client, API + "/runs/search", {"experiment_ids": experiment_ids, "max_results": 1}, 300)
    while not _ready(client):
        time.sleep(0.1)
    run_ids = [r["info"]["run_id"] for r in client.post(API + "/runs/search", {"experiment_ids": experiment_ids, "max_results": 1000})[2]["runs"]]
    client.get(API + "/metrics/get-history?" + urlencode({"run_id": LIVE, "metric_key": "loss", "max_results": 1000}))  # the cache holds it
    rss_before, cpu_before, load_before = server.rss_mb(), server.cpu_s(), os.getloadavg()

    requests = requests_for(run_ids, experiment_ids)
    stop_at = time.time() + args.seconds
    writers = [
        subprocess.Popen([sys.executable, "-c", MLFLOW_WRITER, url, LIVE, str(args.points), str(args.seconds)], stdout=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, "-c", MLSCOPE_WRITER, str(root), LIVE, str(args.points + 10_000_000), str(args.seconds)],
                         stdout=subprocess.PIPE, text=True),
    ]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    clients = [context.Process(target=client_loop, args=(server.port, n, stop_at, requests, results)) for n in range(args.clients)]
    for process in clients:
        process.start()
    samples: list[tuple[str, float, str | None]] = []
    for _ in clients:
        samples.extend(results.get(timeout=args.seconds + 300))
    for process in clients:
        process.join(timeout=60)
    appended = []
    for writer in writers:
        out, _ = writer.communicate(timeout=300)
        appended.append(int(out.strip().splitlines()[-1]) if writer.returncode == 0 and out.strip() else -1)
    rss_after, cpu_after, load_after = server.rss_mb(), server.cpu_s(), os.getloadavg()

    expected = args.points + sum(max(0, n) for n in appended)
    in_file = sum(1 for line in (root / LIVE_EXPERIMENT / LIVE / "metrics" / "loss").read_bytes().split(b"\n") if line.strip())
    served = _served_points(client)
    client.close()

    latencies = [s[1] for s in samples]
    errors = [s for s in samples if s[2] is not None]
    print(f"load: {args.clients} clients x {args.seconds:.0f} s, no think time, mixed endpoints; writers: MlflowClient over HTTP "
          f"appended {appended[0]:,} points, import mlscope {appended[1]:,} (exit codes {[w.returncode for w in writers]})")
    print(f"requests: {len(samples):,} ({len(samples) / args.seconds:,.0f}/s), errors: {len(errors)} (must be 0)"
          + (f"; first: {errors[0][0]}: {errors[0][2]}" if errors else ""))
    print(f"lines lost: {expected - in_file} in the file, {expected - served} in get-history (must be 0; "
          f"{expected:,} expected, {in_file:,} in the file, {served:,} served)")
    print(f"latency: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
          f"max {max(latencies, default=0) * 1000:.0f} ms (target p99 <= 500 ms)")
    print(f"server RSS: before {rss_before:.0f} MB, after {rss_after:.0f} MB; server CPU {cpu_after - cpu_before:.1f} s in "
          f"{args.seconds:.0f} s ({(cpu_after - cpu_before) / max(1, len(samples)) * 1000:.1f} ms per request)")
    print(f"load average: {load_before[0]:.1f} at start, {load_after[0]:.1f} at end ({os.cpu_count()} cores)")
    print(f"{'endpoint':<24} {'n':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label in dict.fromkeys(s[0] for s in samples):
        times = [s[1] for s in samples if s[0] == label]
        print(f"{label:<24} {len(times):>7,} {statistics.median(times) * 1000:>8.0f} {percentile(times, 0.99) * 1000:>8.0f} "
              f"{max(times) * 1000:>8.0f}")


def _ready(client: Client) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
    try:
        conn.request("GET", "/api/mlscope/status")
        return bool(json.loads(conn.getresponse().read()).get("ready"))
    finally:
        conn.close()


def _served_points(client: Client) -> int:
    """Points MLflow's get-history serves for the live run's loss, page by page as MLflow's client reads them."""
    total, token = 0, None
    while True:
        query = {"run_id": LIVE, "metric_key": "loss", "max_results": 25000, **({"page_token": token} if token else {})}
        conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=300)
        try:
            conn.request("GET", API + "/metrics/get-history?" + urlencode(query))
            body = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        total += len(body.get("metrics", []))
        token = body.get("next_page_token")
        if not token:
            return total


if __name__ == "__main__":
    main()
