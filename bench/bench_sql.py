"""SQL stores side by side: mlscope and ``mlflow server`` on the same database, through the same HTTP calls.

    python -m bench.bench_sql [--runs 10000] [--pg-runs 100000] [--no-mlflow] [--skip-pg]

SQLite: a database of the bench's synthetic runs (``bench.sql_db``, cached in
``bench/trees/sql-<runs>.db``); each server is started cold on it and timed to
its first runs/search page, then warm medians of the first page by start
time, a param + metric filter ordered by a metric, and a 1,000-run page; the
servers' RSS. PostgreSQL (a throwaway Debian PostgreSQL 15 cluster, as the
tests make): two mlscope replicas on one database, 20 concurrent clients
sending a filtered search each (p50/p99 across both replicas), each replica's
RSS, a write through one seen in search through the other, and ``log-batch``
throughput of 20 clients against mlscope and against ``mlflow server`` on the
same database. Results are printed as a table and written to
``bench/results-sql.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.measure import Client, Server, free_port, measure, median_ms, poll_until
from bench.sql_db import generate_database

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TREES = BENCH / "trees"
LOGS = TREES / "logs"
SEARCH = "/api/2.0/mlflow/runs/search"
FILTER = "params.optimizer = 'adam' and metrics.val_accuracy > 0.8"
CLIENTS = 20


def sqlite_database(runs: int) -> str:
    path = TREES / f"sql-{runs}.db"
    if not path.exists():
        print(f"writing {runs:,} runs into {path} ...", flush=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        generate_database(f"sqlite:///{partial}", runs, steps=20)
        partial.rename(path)
    return f"sqlite:///{path}"


def mlscope_server(uri: str, name: str, artifacts: Path) -> Server:
    port = free_port()
    exe = REPO / ".venv" / "bin" / "mlscope"
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "mlscope.cli.main"]),
           "server", "--backend-store-uri", uri, "--port", str(port), "--artifacts-destination", str(artifacts)]  # fmt: skip
    return Server(name, cmd, port, LOGS / f"{name}-{port}.log")


def mlflow_server(exe: Path, uri: str) -> Server:
    port = free_port()
    cwd = TREES / "mlflow-sql-cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "server", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return Server("MLflow", cmd, port, LOGS / f"mlflow-sql-{port}.log", env=dict(os.environ), cwd=cwd)


def experiment_ids(client: Client) -> list[str]:
    _, status, body = client.post("/api/2.0/mlflow/experiments/search", {"max_results": 1000})
    assert status == 200, body
    return [e["experiment_id"] for e in body.get("experiments", [])]


def page_calls(exps: list[str]) -> dict[str, dict[str, Any]]:
    return {
        "runs/search page 1 by start_time": {"experiment_ids": exps, "max_results": 100, "order_by": ["attributes.start_time DESC"]},
        "runs/search filter + order by metric": {"experiment_ids": exps, "max_results": 100, "filter": FILTER, "order_by": ["metrics.val_loss ASC"]},
        "runs/search 1,000-run page": {"experiment_ids": exps, "max_results": 1000, "order_by": ["attributes.start_time DESC"]},
    }


def bench_sqlite_server(server: Server, calls: int, budget_s: float, startup_s: float) -> dict[str, Any]:
    client = Client(server.port)
    server.start()
    try:
        result: dict[str, Any] = {}
        result["cold start -> first runs/search page (s)"] = server.first_answer(client, SEARCH, {"experiment_ids": ["0"], "max_results": 100}, startup_s)
        exps = experiment_ids(client)
        first_pages: dict[str, list[str]] = {}
        for name, body in page_calls(exps).items():
            def call(body: dict[str, Any] = body, name: str = name) -> float:
                elapsed, status, answer = client.post(SEARCH, body)
                assert status == 200, answer
                first_pages.setdefault(name, [r["info"]["run_id"] for r in answer.get("runs", [])])
                return elapsed

            result[name] = median_ms(measure(call, calls, budget_s))
        result["server RSS (MB)"] = server.rss_mb()
        result["_pages"] = first_pages
        return result
    finally:
        client.close()
        server.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def concurrent(servers: list[Server], body: dict[str, Any], path: str, per_client: int) -> list[float]:
    """CLIENTS threads, each on its own connection to one of the servers in turn, each sending per_client calls."""
    times: list[float] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        client = Client(servers[index % len(servers)].port)
        mine = []
        for _ in range(per_client):
            elapsed, status, answer = client.post(path, body)
            assert status == 200, answer
            mine.append(elapsed)
        client.close()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def log_batch_throughput(server: Server, run_ids: list[str], batches: int) -> float:
    """log-batch calls per second of CLIENTS clients, each logging `batches` batches of 10 metrics to its own run."""
    def body(run_id: str, i: int) -> dict[str, Any]:
        return {"run_id": run_id, "metrics": [{"key": f"m{k}", "value": i * 0.1 + k, "timestamp": 1000 + i, "step": i} for k in range(10)]}

    errors: list[Any] = []

    def work(index: int) -> None:
        client = Client(server.port)
        for i in range(batches):
            _, status, answer = client.post("/api/2.0/mlflow/runs/log-batch", body(run_ids[index], i))
            if status != 200:
                errors.append(answer)
        client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not errors, errors[:3]
    return CLIENTS * batches / elapsed


def create_runs(server: Server, count: int) -> list[str]:
    client = Client(server.port)
    ids = []
    for _ in range(count):
        _, status, answer = client.post("/api/2.0/mlflow/runs/create", {"experiment_id": "0", "start_time": int(time.time() * 1000)})
        assert status == 200, answer
        ids.append(answer["run"]["info"]["run_id"])
    client.close()
    return ids


def bench_postgres(runs: int, mlflow_exe: Path | None) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from tests.store.sql.pg_cluster import running_cluster

    result: dict[str, Any] = {}
    with running_cluster() as cluster:
        uri = cluster.database("bench")
        print(f"writing {runs:,} runs into PostgreSQL ...", flush=True)
        generate_database(uri, runs, steps=10)
        artifacts = TREES / "mlartifacts-pg"
        first, second = mlscope_server(uri, "mlscope-a", artifacts), mlscope_server(uri, "mlscope-b", artifacts)
        try:
            for server in (first, second):
                result[f"cold start -> first page, {server.name} (s)"] = server.start().first_answer(
                    Client(server.port), SEARCH, {"experiment_ids": ["0"], "max_results": 100}, 1800)
            exps = experiment_ids(Client(first.port))
            body = {"experiment_ids": exps, "max_results": 100, "filter": FILTER, "order_by": ["metrics.val_loss ASC"]}
            for server in (first, second):  # the index is built and the query warmed on both replicas
                Client(server.port).post(SEARCH, body)
            times = concurrent([first, second], body, SEARCH, per_client=25)
            result["filtered search, 20 clients over 2 replicas: p50 (ms)"] = statistics.median(times) * 1000
            result["filtered search, 20 clients over 2 replicas: p99 (ms)"] = percentile(times, 0.99) * 1000
            result["RSS per replica (MB)"] = max(first.rss_mb(), second.rss_mb())
            run_id = create_runs(first, 1)[0]
            probe = {"experiment_ids": ["0"], "filter": f"attributes.run_id = '{run_id}' and metrics.seen > 0"}
            Client(first.port).post("/api/2.0/mlflow/runs/log-metric", {"run_id": run_id, "key": "seen", "value": 1, "timestamp": 1})
            reader = Client(second.port)
            result["write through A -> in search through B (s)"] = poll_until(lambda: bool(reader.post(SEARCH, probe)[2].get("runs")), 10)
            result["log-batch calls/s, 20 clients (mlscope)"] = log_batch_throughput(first, create_runs(first, CLIENTS), 50)
        finally:
            first.stop()
            second.stop()
        if mlflow_exe is not None:
            theirs = mlflow_server(mlflow_exe, uri.replace("postgresql://", "postgresql+psycopg://"))
            try:
                theirs.start().first_answer(Client(theirs.port), "/api/2.0/mlflow/experiments/search", {"max_results": 1}, 600)
                result["log-batch calls/s, 20 clients (MLflow)"] = log_batch_throughput(theirs, create_runs(theirs, CLIENTS), 50)
            finally:
                theirs.stop()
    return result


def mlflow_executable() -> Path | None:
    """MLflow 3.17.2 from the test extras (it has the SQL drivers), else the bench's own MLflow venv."""
    local = REPO / ".venv" / "bin" / "mlflow"
    if local.exists():
        return local
    from bench.run import ensure_mlflow

    return ensure_mlflow()


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pg-runs", type=int, default=100_000)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args(argv)
    exe = None if args.no_mlflow else mlflow_executable()
    lines = [f"# SQL stores ({time.strftime('%Y-%m-%d')}, load average at start {os.getloadavg()[0]:.2f})", ""]
    uri = sqlite_database(args.runs)
    ours = bench_sqlite_server(mlscope_server(uri, "mlscope", TREES / "mlartifacts-sqlite"), 30, 20, 300)
    theirs = bench_sqlite_server(mlflow_server(exe, uri), 3, 120, 900) if exe else {}
    lines += [f"## SQLite, {args.runs:,} runs (mlscope vs mlflow server on the same file; medians in ms unless said)", "",
              "| | mlscope | MLflow | MLflow/mlscope |", "|---|---|---|---|"]  # fmt: skip
    for key, value in ours.items():
        if key.startswith("_"):
            continue
        other = theirs.get(key)
        ratio = f"{other / value:,.0f}x" if other and value else "-"
        lines.append(f"| {key} | {fmt(value)} | {fmt(other)} | {ratio} |")
    if theirs:
        same = ours["_pages"] == theirs["_pages"]
        lines += ["", f"First pages identical in both servers: {same}."]
    if not args.skip_pg:
        pg = bench_postgres(args.pg_runs, exe)
        lines += ["", f"## PostgreSQL, {args.pg_runs:,} runs (two mlscope replicas)", "", "| | value |", "|---|---|"]
        lines += [f"| {key} | {fmt(value)} |" for key, value in pg.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    (BENCH / "results-sql.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
