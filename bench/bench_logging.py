"""Logging throughput through MLflow's own client: ``mlscope server`` side by side with ``mlflow server`` (file store).

Run from the repository root:  .venv/bin/python -m bench.bench_logging [--scale 0.1] [--no-mlflow]

Both servers start empty, on the same machine, as subprocesses; the client is
MLflow 3.17.2's ``MlflowClient`` (``MLFLOW_TRACKING_URI=http://127.0.0.1:<port>``),
one call after the other, each into its own run:
1. 1,000 ``log_metric`` calls,
2. 100 ``log_batch`` calls of 1,000 metrics each,
3. 100 ``log_artifact`` uploads of a 1 KiB file (through the artifact proxy),
and prints calls/s for both and the ratio (mlscope / MLflow; target >= 3).

MLflow's client itself costs milliseconds per call (request headers resolved
through Databricks probes, retries set-up, proto conversion), so the same calls
are also made against a stub server that answers instantly: that is the ceiling
any server can reach through this client. The second table sends the same
requests with a bare keep-alive ``http.client`` connection, which measures the
servers alone. Then the read-your-writes latency: from a ``log-metric`` 200
until ``runs/search`` filtering on that value returns the run (median and max).
Every count is checked afterwards (nothing lost): metric histories have every
point, the artifact listing every file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.measure import Client, Server, free_port  # noqa: E402

BENCH = REPO / "bench"
LOG_METRIC_CALLS = 1000
LOG_BATCH_CALLS = 100
BATCH_SIZE = 1000
ARTIFACT_CALLS = 100
ARTIFACT_BYTES = 1024
VISIBILITY_SAMPLES = 20
TARGET_RATIO = 3.0
ROWS = ("log_metric", "log_batch", "log_artifact")


def mlflow_executable() -> Path | None:
    """The ``mlflow`` with a server: bench/.mlflow-venv's (made by bench.run) or the test extras' in .venv."""
    for candidate in (BENCH / ".mlflow-venv" / "bin" / "mlflow", REPO / ".venv" / "bin" / "mlflow"):
        if candidate.exists():
            return candidate
    return None


def start(name: str, cmd: list[str], port: int, folder: Path) -> Server:
    server = Server(name, cmd, port, folder / f"{name}.log", env={**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}, cwd=folder).start()
    client = Client(port)
    try:
        server.first_answer(client, "/api/2.0/mlflow/experiments/search", {"max_results": 1}, deadline_s=180)
    finally:
        client.close()
    return server


def mlscope(folder: Path) -> Server:
    (folder / "mlruns").mkdir(parents=True)
    port = free_port()
    exe = REPO / ".venv" / "bin" / "mlscope"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlscope.cli.main"]
    return start("mlscope", [*base, "server", "--backend-store-uri", str(folder / "mlruns"), "--port", str(port)], port, folder)


def mlflow(folder: Path, exe: Path) -> Server:
    folder.mkdir(parents=True)
    port = free_port()
    cmd = [str(exe), "server", "--backend-store-uri", "./mlruns", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return start("mlflow", cmd, port, folder)


def rate(calls: int, call: Callable[[int], Any]) -> float:
    """Calls per second of ``calls`` sequential calls."""
    started = time.perf_counter()
    for i in range(calls):
        call(i)
    return calls / (time.perf_counter() - started)


def batch_metrics(i: int, size: int) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [{"key": f"m{k % 10}", "value": float(k), "timestamp": now + i, "step": i * size + k} for k in range(size)]


def write_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"file-{i:04d}.txt" for i in range(count)]
    for path in files:
        path.write_bytes(os.urandom(ARTIFACT_BYTES // 2).hex().encode())
    return files


# ----------------------------------------------------------- through MLflow's client


def client_rates(url: str, counts: dict[str, int], files: list[Path]) -> tuple[dict[str, float], dict[str, str]]:
    """calls/s of the three logging calls through MlflowClient, and the run each went into."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(url)
    experiment_id = client.create_experiment(f"bench-logging-{time.time_ns()}")
    runs: dict[str, str] = {}
    rates: dict[str, float] = {}
    for row in ROWS:
        runs[row] = client.create_run(experiment_id).info.run_id
        client.log_metric(runs[row], "warm-up", 0.0)  # connection and first-write costs out of the timing
    rates["log_metric"] = rate(counts["log_metric"], lambda i: client.log_metric(runs["log_metric"], "loss", 1.0 / (i + 1), step=i))
    size = counts["batch_size"]

    def batch(i: int) -> None:
        client.log_batch(runs["log_batch"], metrics=[Metric(**m) for m in batch_metrics(i, size)], synchronous=True)

    rates["log_batch"] = rate(counts["log_batch"], batch)
    client.log_artifact(runs["log_artifact"], str(files[0]), "warm-up")
    rates["log_artifact"] = rate(counts["log_artifact"], lambda i: client.log_artifact(runs["log_artifact"], str(files[i]), "small"))
    runs["experiment"] = experiment_id
    return rates, runs


@contextmanager
def stub_server() -> Iterator[str]:
    """A server that answers every logging call at once: what MLflow's client costs by itself."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    run_id = "0" * 32
    info = {"run_id": run_id, "run_uuid": run_id, "experiment_id": "1", "status": "RUNNING", "lifecycle_stage": "active",
            "artifact_uri": f"mlflow-artifacts:/1/{run_id}/artifacts"}

    async def answer(request: Request) -> Response:
        await request.body()
        path = request.url.path
        if path.endswith("/experiments/create"):
            return JSONResponse({"experiment_id": "1"})
        if path.endswith(("/runs/create", "/runs/get")):
            return JSONResponse({"run": {"info": info, "data": {}}})
        if request.method == "PUT":
            return Response(status_code=200)
        return JSONResponse({})

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# -------------------------------------------------------------- the servers alone


def put(conn: http.client.HTTPConnection, path: str, data: bytes) -> int:
    conn.request("PUT", path, body=data, headers={"Content-Type": "text/plain"})
    response = conn.getresponse()
    response.read()
    return response.status


def server_rates(port: int, counts: dict[str, int], runs: dict[str, str], files: list[Path]) -> dict[str, float]:
    """calls/s of the same requests on a bare keep-alive connection (no client library in the way)."""
    client = Client(port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        def check(answer: tuple[float, int, Any]) -> None:
            assert answer[1] == 200, answer

        def metric(i: int) -> None:
            body = {"run_id": runs["log_metric"], "key": "raw", "value": 0.5, "timestamp": int(time.time() * 1000), "step": i}
            check(client.post("/api/2.0/mlflow/runs/log-metric", body))

        def batch(i: int) -> None:
            check(client.post("/api/2.0/mlflow/runs/log-batch", {"run_id": runs["log_batch"], "metrics": batch_metrics(i, counts["batch_size"])}))

        uri = run_artifact_uri(port, runs["log_artifact"])
        blobs = [path.read_bytes() for path in files]

        def upload(i: int) -> None:
            assert put(conn, f"/api/2.0/mlflow-artifacts/artifacts/{uri}/raw/file-{i:04d}.txt", blobs[i]) == 200

        return {"log_metric": rate(counts["log_metric"], metric), "log_batch": rate(counts["log_batch"], batch),
                "log_artifact": rate(counts["log_artifact"], upload)}
    finally:
        client.close()
        conn.close()


def run_artifact_uri(port: int, run_id: str) -> str:
    """The path behind the artifact proxy of a run's artifact_uri (mlflow-artifacts:/<exp>/<run>/artifacts)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}")
        uri = json.loads(conn.getresponse().read())["run"]["info"]["artifact_uri"]
    finally:
        conn.close()
    assert uri.startswith("mlflow-artifacts:"), uri
    return uri.split(":", 1)[1].strip("/")


# -------------------------------------------------------------- visibility, losses


def visibility(port: int, experiment_id: str, run_id: str, samples: int) -> list[float]:
    """ms from a log-metric 200 until runs/search filtering on the new value returns the run."""
    http = Client(port)
    latencies = []
    try:
        for i in range(samples):
            value = 1000.0 + i + 0.5
            body = {"run_id": run_id, "key": "probe", "value": value, "timestamp": int(time.time() * 1000), "step": i}
            _, status, _ = http.post("/api/2.0/mlflow/runs/log-metric", body)
            answered = time.perf_counter()
            assert status == 200, status
            query = {"experiment_ids": [experiment_id], "filter": f"metrics.probe = {value}", "max_results": 10}
            while True:
                _, status, found = http.post("/api/2.0/mlflow/runs/search", query)
                if status == 200 and found.get("runs"):
                    latencies.append((time.perf_counter() - answered) * 1000)
                    break
                if time.perf_counter() - answered > 30:
                    latencies.append(float("inf"))
                    break
    finally:
        http.close()
    return latencies


def lost_writes(url: str, counts: dict[str, int], runs: dict[str, str]) -> list[str]:
    """What the server does not give back of the client's and the raw writes (empty when all arrived)."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    problems = []
    for key in ("loss", "raw"):
        history = client.get_metric_history(runs["log_metric"], key)
        if sorted(m.step for m in history) != list(range(counts["log_metric"])):
            problems.append(f"log_metric {key}: {len(history)} of {counts['log_metric']} points")
    expected = 2 * counts["log_batch"] * counts["batch_size"]
    batched = sum(len(client.get_metric_history(runs["log_batch"], f"m{k}")) for k in range(min(10, counts["batch_size"])))
    if batched != expected:
        problems.append(f"log_batch: {batched} of {expected} points")
    for folder in ("small", "raw"):
        listed = client.list_artifacts(runs["log_artifact"], folder)
        if len(listed) != counts["log_artifact"]:
            problems.append(f"log_artifact {folder}: {len(listed)} of {counts['log_artifact']} files")
    return problems


def bench_server(port: int, counts: dict[str, int], files: list[Path]) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}"
    through_client, runs = client_rates(url, counts, files)
    alone = server_rates(port, counts, runs, files)
    return {"client": through_client, "server": alone,
            "visibility_ms": visibility(port, runs["experiment"], runs["log_metric"], counts["visibility"]),
            "lost": lost_writes(url, counts, runs)}


# ------------------------------------------------------------------------ report


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def fmt_ms(values: list[float] | None) -> str:
    if not values:
        return "-"
    return f"median {statistics.median(values):.1f} ms, max {max(values):.1f} ms"


def labels(counts: dict[str, int]) -> dict[str, str]:
    return {"log_metric": f"{counts['log_metric']:,} log_metric calls",
            "log_batch": f"{counts['log_batch']:,} log_batch calls of {counts['batch_size']:,} metrics",
            "log_artifact": f"{counts['log_artifact']:,} log_artifact uploads (1 KiB)"}


def table(kind: str, ours: dict[str, Any], theirs: dict[str, Any] | None, counts: dict[str, int], ceiling: dict[str, float] | None) -> list[str]:
    head = "| " + ("MLflow client call" if kind == "client" else "same request, bare HTTP") + " | mlscope calls/s | MLflow calls/s | ratio |"
    lines = [head + (" client alone (stub server) |" if ceiling else ""), "|---|---:|---:|---:|" + ("---:|" if ceiling else "")]
    for key, label in labels(counts).items():
        mine, other = ours[kind][key], (theirs[kind][key] if theirs else None)
        ratio = f"{mine / other:.1f}x" if other else "-"
        lines.append(f"| {label} | {fmt_rate(mine)} | {fmt_rate(other)} | {ratio} |" + (f" {fmt_rate(ceiling[key])} |" if ceiling else ""))
    return lines


def report(ours: dict[str, Any], theirs: dict[str, Any] | None, counts: dict[str, int], ceiling: dict[str, float] | None) -> str:
    lines = table("client", ours, theirs, counts, ceiling) + [""] + table("server", ours, theirs, counts, None) + [""]
    lines.append(f"log-metric 200 -> visible in runs/search ({len(ours['visibility_ms'])} samples): "
                 f"mlscope {fmt_ms(ours['visibility_ms'])}; MLflow {fmt_ms(theirs['visibility_ms'] if theirs else None)}")
    for name, result in (("mlscope", ours), ("MLflow", theirs)):
        if result is not None:
            lost = result["lost"]
            lines.append(f"{name}: " + ("every write read back (histories, artifact listings)" if not lost else "LOST: " + "; ".join(lost)))
    if theirs:
        for kind, what in (("client", "through MLflow's client"), ("server", "server alone")):
            below = [key for key in ROWS if ours[kind][key] < TARGET_RATIO * theirs[kind][key]]
            lines.append(f"target >= {TARGET_RATIO:.0f}x MLflow's server, {what}: " + ("met on every row" if not below else "NOT met for " + ", ".join(below)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_logging", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every call count (e.g. 0.1 for a quick look)")
    parser.add_argument("--no-mlflow", action="store_true", help="only mlscope")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    def scaled(n: int) -> int:
        return max(1, round(n * args.scale))

    counts = {"log_metric": scaled(LOG_METRIC_CALLS), "log_batch": scaled(LOG_BATCH_CALLS), "batch_size": BATCH_SIZE,
              "log_artifact": scaled(ARTIFACT_CALLS), "visibility": max(3, scaled(VISIBILITY_SAMPLES))}
    exe = None if args.no_mlflow else mlflow_executable()
    scratch = Path(tempfile.mkdtemp(prefix="mlscope-bench-logging-"))
    results: dict[str, Any] = {}
    try:
        files = write_files(scratch / "files", counts["log_artifact"])
        with stub_server() as url:
            results["ceiling"], _ = client_rates(url, counts, files)
        for name in ("mlscope", "mlflow"):
            if name == "mlflow" and exe is None:
                continue
            server = mlscope(scratch / name) if name == "mlscope" else mlflow(scratch / name, exe)  # type: ignore[arg-type]
            try:
                results[name] = bench_server(server.port, counts, files)
            finally:
                server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not args.no_mlflow and exe is None:
        print("MLflow's server is not installed (make bench creates bench/.mlflow-venv): mlscope only")
    print(report(results["mlscope"], results.get("mlflow"), counts, results["ceiling"]), flush=True)
    if os.environ.get("MLSCOPE_BENCH_JSON"):
        Path(os.environ["MLSCOPE_BENCH_JSON"]).write_text(json.dumps({"counts": counts, **results}, default=str))
    return results


if __name__ == "__main__":
    main()
