"""SQL stores side by side: mlscope and ``mlflow server`` on the same database, through the same HTTP calls.

    python -m bench.bench_sql [--runs 10000] [--pg-runs 100000] [--no-mlflow] [--skip-sqlite] [--skip-migrate] [--skip-pg]

SQLite: MLflow's own database of the bench's tree (``mlflow migrate-filestore``
of ``bench/generate.py``'s tree, cached by ``bench.servers.sqlite_for``; a
database written by ``bench.sql_db`` when MLflow is missing). Each server is
started cold on it and timed to its first runs/search page of the biggest
experiment (wall time, and the server's own CPU seconds, which a loaded
machine does not inflate), then warm medians of the first page by start
time, a param + metric filter ordered by a metric, and a 1,000-run page; RSS.
Migration: ``mlscope migrate`` of the same tree into a new SQLite file, beside
the time ``mlflow migrate-filestore`` took to make the cached database.
PostgreSQL (a Debian PostgreSQL 15 cluster kept in bench/trees/pg-cluster, so
the 100,000-run database is written once): two mlscope replicas on a copy of
it, 20 concurrent clients sending a filtered search each (p50/p99 across both
replicas, the replicas' and the load client's CPU per search: the client is one
asyncio loop that does not parse answers), each replica's RSS, a write through one seen in search through the
other, and ``log-batch`` throughput of 20 clients against mlscope and against
``mlflow server`` on the same database. Printed as tables and written to
``bench/results-sql.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.measure import Client, Server, _descendants, free_port, measure, median_ms, poll_until
from bench.sql_db import generate_database

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TREES = BENCH / "trees"
LOGS = TREES / "logs"
SEARCH = "/api/2.0/mlflow/runs/search"
FILTER = "params.optimizer = 'adam' and metrics.val_accuracy > 0.8"
WARM_NEW_FILTERS = 12  # new filter strings each replica answers before the round that sends only new ones
DISTINCT_FILTER = "params.optimizer = 'adam' and metrics.val_accuracy > 0.8{:011d}"  # a new string per call (12th digit on)
CLIENTS = 20
SEARCHES_PER_CLIENT = 100  # 2,000 searches: enough for a p99
PG_STEPS = 5  # metric points per metric in the PostgreSQL database (histories are not what it measures)


# ------------------------------------------------------------------ stores


def bench_tree(runs: int) -> Path:
    """The bench's tree of `runs` runs: the one bench/run.py passes (MLSCOPE_BENCH_TREES), else bench.servers makes it."""
    given = json.loads(os.environ.get("MLSCOPE_BENCH_TREES", "{}")).get(str(runs))
    if given:
        return Path(given)
    from bench.servers import tree_for

    return tree_for(runs)


def sqlite_database(runs: int, exe: Path | None) -> tuple[str, str]:
    """(URI, how it was made): MLflow's migrate-filestore copy of the bench's tree, else bench.sql_db's rows."""
    if exe is not None:
        from bench.servers import sqlite_for

        db = sqlite_for(exe, bench_tree(runs))
        if db is not None:
            return f"sqlite:///{db}", f"`mlflow migrate-filestore` of bench/generate.py's {runs:,}-run tree"
    path = TREES / f"sql-{runs}.db"
    if not path.exists():
        print(f"writing {runs:,} runs into {path} ...", flush=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        generate_database(f"sqlite:///{partial}", runs, steps=20)
        partial.rename(path)
    return f"sqlite:///{path}", f"bench.sql_db ({runs:,} runs; MLflow unavailable)"


def experiments_by_size(uri: str) -> list[str]:
    """The database's experiment ids, most runs first (read before any server starts)."""
    engine = sa.create_engine(uri.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT e.experiment_id, count(r.run_uuid) FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.experiment_id "
                "GROUP BY e.experiment_id ORDER BY 2 DESC, 1"
            )).all()  # fmt: skip
    finally:
        engine.dispose()
    return [str(row[0]) for row in rows]


# ----------------------------------------------------------------- servers


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


def cpu_seconds(server: Server) -> float:
    """User + system CPU seconds the server's processes have used so far."""
    assert server.proc is not None
    total = 0
    for pid in _descendants(server.proc.pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def page_calls(exps: list[str]) -> dict[str, dict[str, Any]]:
    return {
        "runs/search page 1 by start_time": {"experiment_ids": exps, "max_results": 100, "order_by": ["attributes.start_time DESC"]},
        "runs/search filter + order by metric": {"experiment_ids": exps, "max_results": 100, "filter": FILTER, "order_by": ["metrics.val_loss ASC"]},
        "runs/search 1,000-run page": {"experiment_ids": exps, "max_results": 1000, "order_by": ["attributes.start_time DESC"]},
    }


def bench_sqlite_server(server: Server, exps: list[str], calls: int, budget_s: float, startup_s: float) -> dict[str, Any]:
    client = Client(server.port)
    server.start()
    try:
        result: dict[str, Any] = {}
        first = {"experiment_ids": exps[:1], "max_results": 100}
        result["cold start -> first runs/search page (s)"] = server.first_answer(client, SEARCH, first, startup_s)
        result["server CPU to that first page (s)"] = cpu_seconds(server)
        calls_by_name = page_calls(exps)
        _, status, answer = client.post(SEARCH, calls_by_name["runs/search filter + order by metric"])  # waits for the whole index
        assert status == 200, answer
        result["cold start -> first filtered page (whole index) (s)"] = time.perf_counter() - server.started
        first_pages: dict[str, list[str]] = {}
        for name, body in calls_by_name.items():
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


# --------------------------------------------------------------- migration


def bench_migrate(tree: Path) -> dict[str, Any]:
    """``mlscope migrate`` of the tree into a new SQLite file, beside MLflow's recorded migrate-filestore time of the same tree."""
    target = TREES / f"migrate-{tree.name}.db"
    target.unlink(missing_ok=True)
    exe = REPO / ".venv" / "bin" / "mlscope"
    started, cpu_before = time.perf_counter(), _children_cpu()
    done = subprocess.run([str(exe), "migrate", str(tree), f"sqlite:///{target}"], capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    target.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"mlscope migrate failed: {(done.stderr or done.stdout)[-1000:]}")
    stamp = tree.with_suffix(".sqlite.json")
    theirs = json.loads(stamp.read_text()).get("seconds") if stamp.is_file() else None
    return {"mlscope migrate (s)": seconds, "mlscope migrate CPU (s)": cpu, "mlflow migrate-filestore (s, when bench/trees cached it)": theirs,
            "_last_line": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""}  # fmt: skip


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -------------------------------------------------------------- PostgreSQL


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _closed_loop(port: int, requests: list[bytes], times: list[float]) -> None:
    """One client on one keep-alive connection: send, read the whole answer (Content-Length), time it, repeat."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:")
            body = await reader.readexactly(length)
            times.append(time.perf_counter() - started)
            assert status == b"200", body[:300]
    finally:
        writer.close()


def concurrent(servers: list[Server], body: dict[str, Any], path: str, per_client: int,
               distinct: str | None = None) -> tuple[list[float], float, float]:
    """CLIENTS clients, each on its own keep-alive connection to one of the servers in turn, each sending per_client
    calls one after the other; their latencies, the CPU seconds this load generator itself used, and the wall seconds.
    With ``distinct`` (a filter template with one ``{}``), every call of every client sends a filter string no call
    sent before (``distinct.format(n)``, n counting from 1,000,000 per run of the bench): no answer cache can serve it.

    The generator is one asyncio loop that never parses the answers (it reads Content-Length bytes): on a 2-core
    machine a client that parses 100-run JSON answers in 20 threads eats the CPU the servers need and its threads
    queue for the GIL, which shows up as server latency.
    """
    import asyncio

    times: list[float] = []
    counter = iter(range(_distinct_base(), 10**11))

    def request(port: int) -> bytes:
        data = json.dumps(body if distinct is None else {**body, "filter": distinct.format(next(counter))}).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        return head.encode() + data

    plans = [[request(servers[i % len(servers)].port) for _ in range(per_client)] for i in range(CLIENTS)]

    async def run() -> None:
        await asyncio.gather(*(_closed_loop(servers[i % len(servers)].port, plans[i], times) for i in range(CLIENTS)))

    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(run())
    return times, time.process_time() - cpu, time.perf_counter() - wall


_DISTINCT_CALLS = [0]


def _distinct_base() -> int:
    """A fresh block of numbers for each distinct round (the replicas keep answers across rounds)."""
    _DISTINCT_CALLS[0] += 1
    return 1_000_000 * _DISTINCT_CALLS[0]


def search_round(servers: list[Server], body: dict[str, Any], distinct: str | None, label: str) -> dict[str, Any]:
    """One round of CLIENTS x SEARCHES_PER_CLIENT searches over the replicas: latencies, CPU on both sides, rate."""
    cpu_before = sum(cpu_seconds(server) for server in servers)
    load_before = os.getloadavg()[0]
    times, client_cpu, wall = concurrent(servers, body, SEARCH, SEARCHES_PER_CLIENT, distinct)
    cpu_used = sum(cpu_seconds(server) for server in servers) - cpu_before
    return {
        f"{label}, 20 clients over 2 replicas: p50 (ms)": statistics.median(times) * 1000,
        f"{label}, 20 clients over 2 replicas: p99 (ms)": percentile(times, 0.99) * 1000,
        f"replicas' CPU per {label} (ms)": cpu_used / len(times) * 1000,
        f"load client's CPU per {label} (ms)": client_cpu / len(times) * 1000,
        f"searches answered per second ({label})": len(times) / wall,
        f"load average before / after ({label})": f"{load_before:.2f} / {os.getloadavg()[0]:.2f}",
    }


def log_batch_throughput(server: Server, run_ids: list[str], batches: int) -> tuple[float, int]:
    """Successful log-batch calls per second of CLIENTS clients, each logging `batches` batches of 10 metrics to its
    own run, and how many calls failed (MLflow's server runs out of database connections under 20 clients)."""
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
    if errors:
        print(f"{server.name}: {len(errors)} log-batch calls failed, e.g. {str(errors[0])[:300]}", flush=True)
    return (CLIENTS * batches - len(errors)) / elapsed, len(errors)


def create_runs(server: Server, count: int) -> list[str]:
    client = Client(server.port)
    ids = []
    for _ in range(count):
        _, status, answer = client.post("/api/2.0/mlflow/runs/create", {"experiment_id": "0", "start_time": int(time.time() * 1000)})
        assert status == 200, answer
        ids.append(answer["run"]["info"]["run_id"])
    client.close()
    return ids


def postgres_template(cluster: Any, runs: int) -> str:
    """The cluster's database of `runs` synthetic runs (written once, kept with the cluster); its name."""
    name, stamp_path = f"bench_{runs}", cluster.dir / f"bench_{runs}.json"
    stamp = {"runs": runs, "steps": PG_STEPS, "generator": _stamp_of("sql_db.py", "generate.py")}
    if stamp_path.is_file() and json.loads(stamp_path.read_text()) == stamp:
        return name
    stamp_path.unlink(missing_ok=True)
    cluster.admin(f'DROP DATABASE IF EXISTS "{name}"')
    uri = cluster.database(name)
    print(f"writing {runs:,} runs into PostgreSQL ({name}) ...", flush=True)
    started = time.perf_counter()
    generate_database(uri, runs, steps=PG_STEPS)
    print(f"  in {time.perf_counter() - started:.0f} s", flush=True)
    stamp_path.write_text(json.dumps(stamp))
    return name


def _stamp_of(*names: str) -> str:
    import hashlib

    return hashlib.sha256(b"".join((BENCH / name).read_bytes() for name in names)).hexdigest()[:16]


def bench_postgres(runs: int, mlflow_exe: Path | None) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from tests.store.sql.pg_cluster import running_cluster

    result: dict[str, Any] = {}
    with running_cluster(keep=TREES / "pg-cluster") as cluster:
        template = postgres_template(cluster, runs)
        cluster.admin('DROP DATABASE IF EXISTS "bench_run"')
        cluster.admin(f'CREATE DATABASE "bench_run" TEMPLATE "{template}"')  # a copy: the bench's writes leave the template as it was
        uri = cluster.uri("bench_run")
        exps = experiments_by_size(uri)
        artifacts = TREES / "mlartifacts-pg"
        first, second = mlscope_server(uri, "mlscope-a", artifacts), mlscope_server(uri, "mlscope-b", artifacts)
        try:
            for server in (first, second):
                result[f"cold start -> first page, {server.name} (s)"] = server.start().first_answer(
                    Client(server.port), SEARCH, {"experiment_ids": exps[:1], "max_results": 100}, 1800)
                result[f"server CPU to that first page, {server.name} (s)"] = cpu_seconds(server)
            body = {"experiment_ids": exps, "max_results": 100, "filter": FILTER, "order_by": ["metrics.val_loss ASC"]}
            for server in (first, second):  # the index is built and the query warmed on both replicas
                Client(server.port).post(SEARCH, body)
            result.update(search_round([first, second], body, None, "filtered search (same filter)"))
            for server in (first, second):  # lookup structures are built once scans have cost about as much (~5 at 100,000)
                for n in range(1, WARM_NEW_FILTERS + 1):
                    Client(server.port).post(SEARCH, {**body, "filter": DISTINCT_FILTER.format(n)})
            result.update(search_round([first, second], body, DISTINCT_FILTER, "filtered search (a new filter each call)"))
            result["RSS per replica (MB)"] = max(first.rss_mb(), second.rss_mb())
            run_id = create_runs(first, 1)[0]
            probe = {"experiment_ids": ["0"], "filter": f"attributes.run_id = '{run_id}' and metrics.seen > 0"}
            Client(first.port).post("/api/2.0/mlflow/runs/log-metric", {"run_id": run_id, "key": "seen", "value": 1, "timestamp": 1})
            reader = Client(second.port)
            result["write through A -> in search through B (s)"] = poll_until(lambda: bool(reader.post(SEARCH, probe)[2].get("runs")), 10)
            rate, failed = log_batch_throughput(first, create_runs(first, CLIENTS), 50)
            result["log-batch calls/s, 20 clients (mlscope)"] = rate
            result["log-batch calls failed (mlscope, of 1,000)"] = failed
        finally:
            first.stop()
            second.stop()
        if mlflow_exe is not None:
            theirs = mlflow_server(mlflow_exe, uri.replace("postgresql://", "postgresql+psycopg://"))
            try:
                theirs.start().first_answer(Client(theirs.port), "/api/2.0/mlflow/experiments/search", {"max_results": 1}, 900)
                rate, failed = log_batch_throughput(theirs, create_runs(theirs, CLIENTS), 50)
                result["log-batch calls/s, 20 clients (MLflow)"] = rate
                result["log-batch calls failed (MLflow, of 1,000)"] = failed
            finally:
                theirs.stop()
        cluster.admin('DROP DATABASE IF EXISTS "bench_run"')
    return result


# -------------------------------------------------------------------- main


def mlflow_executable() -> Path | None:
    """MLflow 3.17.2 from the test extras (it has the SQL drivers), else the bench's own MLflow venv."""
    from bench.servers import mlflow_exe

    return mlflow_exe()


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def bench_sqlite(runs: int, exe: Path | None) -> list[str]:
    """mlscope and MLflow's server on one SQLite database: the report's lines."""
    uri, made_by = sqlite_database(runs, exe)
    exps = experiments_by_size(uri)
    ours = bench_sqlite_server(mlscope_server(uri, "mlscope", TREES / "mlartifacts-sqlite"), exps, 30, 20, 300)
    print("mlscope on SQLite:", {k: v for k, v in ours.items() if not k.startswith("_")}, flush=True)
    theirs = bench_sqlite_server(mlflow_server(exe, uri), exps, 3, 120, 900) if exe else {}
    lines = [f"## SQLite, {runs:,} runs: {made_by} (mlscope vs mlflow server on the same file; medians in ms unless said)", "",
             "| | mlscope | MLflow | MLflow/mlscope |", "|---|---|---|---|"]  # fmt: skip
    for key, value in ours.items():
        if key.startswith("_"):
            continue
        other = theirs.get(key)
        ratio = f"{other / value:,.0f}x" if other and value else "-"
        lines.append(f"| {key} | {fmt(value)} | {fmt(other)} | {ratio} |")
    if theirs:
        same = ours["_pages"] == theirs["_pages"]
        lines += ["", f"First pages identical in both servers: {same}. Load average after: {os.getloadavg()[0]:.2f}."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pg-runs", type=int, default=100_000)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-migrate", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--out", type=Path, default=BENCH / "results-sql.md")
    args = parser.parse_args(argv)
    exe = None if args.no_mlflow else mlflow_executable()
    lines = [f"# SQL stores ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.2f})", ""]
    if not args.skip_sqlite:
        lines += bench_sqlite(args.runs, exe)
    if not args.skip_migrate:
        tree = bench_tree(args.runs)
        moved = bench_migrate(tree)
        ratio = moved["mlflow migrate-filestore (s, when bench/trees cached it)"]
        lines += ["", f"## Migration of the {args.runs:,}-run tree into SQLite", "", "| | seconds |", "|---|---|"]
        lines += [f"| {key} | {fmt(value)} |" for key, value in moved.items() if not key.startswith("_")]
        if ratio:
            lines += [f"| MLflow/mlscope | {ratio / moved['mlscope migrate (s)']:,.1f}x |"]
        lines += ["", f"mlscope's last line: {moved['_last_line']}"]
    if not args.skip_pg:
        pg = bench_postgres(args.pg_runs, exe)
        lines += ["", f"## PostgreSQL 15, {args.pg_runs:,} runs (two mlscope replicas; load average now {os.getloadavg()[0]:.2f})", "",
                  "| | value |", "|---|---|"]  # fmt: skip
        lines += [f"| {key} | {fmt(value)} |" for key, value in pg.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)
    shutil.rmtree(TREES / "mlartifacts-pg", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
