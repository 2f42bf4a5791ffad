"""Logging throughput through MLflow's own client: ``mlscope server`` side by side with ``mlflow server`` (file store).

Run from the repository root:  .venv/bin/python -m bench.bench_logging [--scale 0.1] [--no-mlflow]

Both servers start empty, on the same machine, as subprocesses; the client is
MLflow 3.17.2's ``MlflowClient`` (``MLFLOW_TRACKING_URI=http://127.0.0.1:<port>``),
one call after the other:
1. 1,000 ``log_metric`` calls,
2. 100 ``log_batch`` calls of 1,000 metrics each,
3. 100 ``log_artifact`` uploads of a 1 KiB file (through the artifact proxy),
and prints calls/s for both and the ratio (mlscope / MLflow; target >= 3).
The calls go in blocks of a tenth, alternating between the servers, so both
see the same machine load; the servers' CPU time per call (``/proc``, over
every process of the server) is printed too, as it does not depend on load.

MLflow's client itself costs milliseconds per call (request headers resolved
through Databricks probes, retries set-up, proto conversion), so the same calls
also go, in the same rotation, to a stub server that answers at once: the most
any server can reach through this client (the "stub server" column). The
second table sends the same requests over a bare keep-alive ``http.client``
connection: the servers alone. Then the
read-your-writes latency: from a ``log-metric`` 200 until ``runs/search``
filtering on that value returns the run (median and max). Every write is
checked afterwards: metric histories hold every point, listings every file.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.measure import Client, Server, _descendants, free_port  # noqa: E402

BENCH = REPO / "bench"
LOG_METRIC_CALLS = 1000
LOG_BATCH_CALLS = 100
BATCH_SIZE = 1000
ARTIFACT_CALLS = 100
ARTIFACT_BYTES = 1024
VISIBILITY_SAMPLES = 20
BLOCKS = 10  # each row runs in this many blocks, alternating between the servers
TARGET_RATIO = 3.0
ROWS = ("log_metric", "log_batch", "log_artifact")
KINDS = ("client", "http")
TICK = os.sysconf("SC_CLK_TCK")


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


def mlscope_server(folder: Path) -> Server:
    (folder / "mlruns").mkdir(parents=True)
    port = free_port()
    exe = REPO / ".venv" / "bin" / "mlscope"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlscope.cli.main"]
    return start("mlscope", [*base, "server", "--backend-store-uri", str(folder / "mlruns"), "--port", str(port)], port, folder)


def mlflow_server(folder: Path, exe: Path) -> Server:
    folder.mkdir(parents=True)
    port = free_port()
    cmd = [str(exe), "server", "--backend-store-uri", "./mlruns", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return start("mlflow", cmd, port, folder)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and everything below it (MLflow runs uvicorn as a child)."""
    total = 0
    for each in _descendants(pid):
        try:
            with open(f"/proc/{each}/stat", "rb") as handle:
                fields = handle.read().decode("ascii", "replace").rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def batch_metrics(i: int, size: int) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [{"key": f"m{k % 10}", "value": float(k), "timestamp": now + i, "step": i * size + k} for k in range(size)]


def write_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"file-{i:04d}.txt" for i in range(count)]
    for path in files:
        path.write_bytes(os.urandom(ARTIFACT_BYTES // 2).hex().encode())
    return files


@dataclass
class Target:
    """One server under test, its runs, and the time and CPU its calls took, by (kind, row)."""

    name: str
    port: int
    pid: int | None
    counts: dict[str, int]
    files: list[Path]
    runs: dict[str, str] = field(default_factory=dict)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    cpu: dict[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from mlflow import MlflowClient

        self.url = f"http://127.0.0.1:{self.port}"
        self.client = MlflowClient(self.url)
        self.http = Client(self.port)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        self.runs["experiment"] = self.client.create_experiment(f"bench-logging-{time.time_ns()}")
        for row in ROWS:
            self.runs[row] = self.client.create_run(self.runs["experiment"]).info.run_id
            self.client.log_metric(self.runs[row], "warm-up", 0.0)  # connection and first-write costs out of the timing
        self.client.log_artifact(self.runs["log_artifact"], str(self.files[0]), "warm-up")
        self.proxied = self._proxied_root(self.runs["log_artifact"])
        self.blobs = [path.read_bytes() for path in self.files]

    def _proxied_root(self, run_id: str) -> str | None:
        uri = self.client.get_run(run_id).info.artifact_uri
        return uri.split(":", 1)[1].strip("/") if uri.startswith("mlflow-artifacts:") else None

    def call(self, kind: str, row: str) -> Callable[[int], object]:
        """The i-th call of a row, through MLflow's client or as a bare HTTP request."""
        runs, size = self.runs, self.counts["batch_size"]
        if kind == "client":
            from mlflow.entities import Metric

            return {
                "log_metric": lambda i: self.client.log_metric(runs["log_metric"], "loss", 1.0 / (i + 1), step=i),
                "log_batch": lambda i: self.client.log_batch(runs["log_batch"], metrics=[Metric(**m) for m in batch_metrics(i, size)]),
                "log_artifact": lambda i: self.client.log_artifact(runs["log_artifact"], str(self.files[i]), "small"),
            }[row]

        def post(path: str, body: dict[str, Any]) -> None:
            _, status, answer = self.http.post(path, body)
            assert status == 200, (path, status, answer)

        def metric(i: int) -> None:
            post("/api/2.0/mlflow/runs/log-metric", {"run_id": runs["log_metric"], "key": "raw", "value": 0.5, "timestamp": int(time.time() * 1000), "step": i})

        def upload(i: int) -> None:
            self.conn.request("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{self.proxied}/raw/file-{i:04d}.txt", body=self.blobs[i])
            response = self.conn.getresponse()
            response.read()
            assert response.status == 200, response.status

        return {
            "log_metric": metric,
            "log_batch": lambda i: post("/api/2.0/mlflow/runs/log-batch", {"run_id": runs["log_batch"], "metrics": batch_metrics(i, size)}),
            "log_artifact": upload,
        }[row]

    def run_block(self, kind: str, row: str, calls: range) -> None:
        call = self.call(kind, row)
        cpu_before = cpu_seconds(self.pid) if self.pid else 0.0
        started = time.perf_counter()
        for i in calls:
            call(i)
        key = (kind, row)
        self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started
        if self.pid:
            self.cpu[key] = self.cpu.get(key, 0.0) + cpu_seconds(self.pid) - cpu_before

    def close(self) -> None:
        self.http.close()
        self.conn.close()


def interleaved(targets: list[Target], counts: dict[str, int]) -> None:
    """Every row, in blocks that alternate between the targets (which one goes first alternates too)."""
    for row in ROWS:
        for kind in KINDS:
            total = counts[row]
            edges = [round(total * b / BLOCKS) for b in range(BLOCKS + 1)]
            for block in range(BLOCKS):
                calls = range(edges[block], edges[block + 1])
                order = targets if block % 2 == 0 else targets[::-1]
                for target in order:
                    if calls:
                        target.run_block(kind, row, calls)


@contextmanager
def stub_server() -> Iterator[int]:
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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY: no 40 ms stalls
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# -------------------------------------------------------------- visibility, losses


def visibility(target: Target, samples: int) -> list[float]:
    """ms from a log-metric 200 until runs/search filtering on the new value returns the run."""
    latencies = []
    for i in range(samples):
        value = 1000.0 + i + 0.5
        body = {"run_id": target.runs["log_metric"], "key": "probe", "value": value, "timestamp": int(time.time() * 1000), "step": i}
        _, status, _ = target.http.post("/api/2.0/mlflow/runs/log-metric", body)
        answered = time.perf_counter()
        assert status == 200, status
        query = {"experiment_ids": [target.runs["experiment"]], "filter": f"metrics.probe = {value}", "max_results": 10}
        while True:
            _, status, found = target.http.post("/api/2.0/mlflow/runs/search", query)
            if status == 200 and found.get("runs"):
                latencies.append((time.perf_counter() - answered) * 1000)
                break
            if time.perf_counter() - answered > 30:
                latencies.append(float("inf"))
                break
    return latencies


def lost_writes(target: Target) -> list[str]:
    """What the server does not give back of the client's and the bare writes (empty when all arrived)."""
    client, counts, runs = target.client, target.counts, target.runs
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


# ------------------------------------------------------------------------ report


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if value >= 100 or digits == 0 and value >= 10 else f"{value:,.{max(digits, 1)}f}"


def fmt_ms(values: list[float] | None) -> str:
    if not values:
        return "-"
    return f"median {statistics.median(values):.1f} ms, max {max(values):.1f} ms"


def summarize(target: Target | None, counts: dict[str, int]) -> dict[str, Any] | None:
    if target is None:
        return None
    rates = {f"{kind}/{row}": counts[row] / target.seconds[(kind, row)] for kind in KINDS for row in ROWS}
    cpu_ms = {f"{kind}/{row}": 1000 * target.cpu[(kind, row)] / counts[row] for kind in KINDS for row in ROWS if (kind, row) in target.cpu}
    return {"calls_per_s": rates, "server_cpu_ms_per_call": cpu_ms}


def report(ours: dict[str, Any], theirs: dict[str, Any] | None, counts: dict[str, int], ceiling: dict[str, float]) -> str:
    """Two tables (through MLflow's client, bare HTTP), visibility, losses, the target check."""
    labels = {"log_metric": f"{counts['log_metric']:,} log_metric calls",
              "log_batch": f"{counts['log_batch']:,} log_batch calls of {counts['batch_size']:,} metrics",
              "log_artifact": f"{counts['log_artifact']:,} log_artifact uploads (1 KiB)"}
    lines: list[str] = []
    for kind, title in (("client", "MLflow client call"), ("http", "same request, bare HTTP")):
        lines += [f"| {title} | mlscope calls/s | MLflow calls/s | ratio | server CPU ms/call mlscope / MLflow | CPU ratio | stub server calls/s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for row in ROWS:
            key = f"{kind}/{row}"
            mine, other = ours["calls_per_s"][key], (theirs["calls_per_s"][key] if theirs else None)
            cpu_mine = ours["server_cpu_ms_per_call"].get(key)
            cpu_other = theirs["server_cpu_ms_per_call"].get(key) if theirs else None
            ratio = f"{mine / other:.1f}x" if other else "-"
            cpu_ratio = f"{cpu_other / cpu_mine:.1f}x" if cpu_mine and cpu_other else "-"
            lines.append(f"| {labels[row]} | {fmt(mine)} | {fmt(other)} | {ratio} | {fmt(cpu_mine, 2)} / {fmt(cpu_other, 2)} | {cpu_ratio} | {fmt(ceiling[key])} |")
        lines.append("")
    lines.append(f"log-metric 200 -> visible in runs/search ({counts['visibility']} samples): "
                 f"mlscope {fmt_ms(ours['visibility_ms'])}; MLflow {fmt_ms(theirs['visibility_ms'] if theirs else None)}")
    for name, result in (("mlscope", ours), ("MLflow", theirs)):
        if result is not None:
            lost = result["lost"]
            lines.append(f"{name}: " + ("every write read back (histories, artifact listings)" if not lost else "LOST: " + "; ".join(lost)))
    if theirs:
        for kind, what in (("client", "calls/s through MLflow's client"), ("http", "calls/s over bare HTTP")):
            below = [row for row in ROWS if ours["calls_per_s"][f"{kind}/{row}"] < TARGET_RATIO * theirs["calls_per_s"][f"{kind}/{row}"]]
            lines.append(f"target >= {TARGET_RATIO:.0f}x MLflow's server, {what}: " + ("met on every row" if not below else "NOT met for " + ", ".join(below)))
    lines.append(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
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
    if not args.no_mlflow and exe is None:
        print("MLflow's server is not installed (make bench creates bench/.mlflow-venv): mlscope only")
    scratch = Path(tempfile.mkdtemp(prefix="mlscope-bench-logging-"))
    servers: list[Server] = []
    targets: list[Target] = []
    try:
        files = write_files(scratch / "files", counts["log_artifact"])
        servers.append(mlscope_server(scratch / "mlscope"))
        if exe is not None:
            servers.append(mlflow_server(scratch / "mlflow", exe))
        targets = [Target(s.name, s.port, s.proc.pid if s.proc else None, counts, files) for s in servers]
        with stub_server() as port:
            stub = Target("stub", port, None, counts, files)
            interleaved([*targets, stub], counts)  # the stub in the same rotation: its ceiling under the same load
            stub.close()
        ceiling = {f"{kind}/{row}": counts[row] / stub.seconds[(kind, row)] for kind in KINDS for row in ROWS}
        results: dict[str, Any] = {}
        for target in targets:
            results[target.name] = summarize(target, counts)
            results[target.name]["visibility_ms"] = visibility(target, counts["visibility"])
            results[target.name]["lost"] = lost_writes(target)
    finally:
        for target in targets:
            target.close()
        for server in servers:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(report(results["mlscope"], results.get("mlflow"), counts, ceiling), flush=True)
    if os.environ.get("MLSCOPE_BENCH_JSON"):
        Path(os.environ["MLSCOPE_BENCH_JSON"]).write_text(json.dumps({"counts": counts, "ceiling": ceiling, **results}, default=str))
    return results


if __name__ == "__main__":
    main()
