"""The measurements, made the same way against each server through its HTTP API.

Cold starts (mlscope: a first open with an empty index cache, then restarts
with the cache), pages of 100 and 1,000 runs, every run paged 1,000 at a
time (bare HTTP, and through MlflowClient.search_runs, which adds MLflow's
client-side parsing), searches, the CSV export, how soon a change shows, RSS.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import generate
from bench.measure import Client, Server, measure, poll_until

SEARCH = "/api/2.0/mlflow/runs/search"
EXPORT = "/api/mlscope/runs/export.csv"
SORTED = {"max_results": 100, "order_by": ["attributes.start_time DESC"]}
PAGE_1000 = {"max_results": 1000, "order_by": ["attributes.start_time DESC"]}
FILTERED = {"max_results": 100, "filter": "params.optimizer = 'adam' and metrics.val_accuracy > 0.8", "order_by": ["metrics.val_loss ASC"]}
MARKER = 1000.0  # metric values appended by the freshness checks: far above anything generated
FINISHED_WAIT_S = 60.0  # how long to wait for an append to a finished run to show
VISIBLE_WAIT_S = 30.0  # how long to wait for the other changes to show


def experiment_ids(tree: Path) -> list[str]:
    return sorted(p.name for p in tree.iterdir() if p.is_dir() and (p / "meta.yaml").is_file())


def run_ids(answer: Any) -> list[str]:
    return [run["info"]["run_id"] for run in answer.get("runs", [])] if isinstance(answer, dict) else []


def pick_runs(tree: Path) -> dict[str, Path]:
    """One active RUNNING and one active FINISHED run folder, for the freshness checks."""
    found: dict[str, Path] = {}
    for exp in experiment_ids(tree):
        for meta in sorted((tree / exp).glob("*/meta.yaml")):
            text = meta.read_text()
            status = re.search(r"^status: (\d)$", text, re.M)
            if "lifecycle_stage: active" in text and status and (meta.parent / "metrics" / "val_accuracy").exists():
                role = {"1": "running", "3": "finished"}.get(status.group(1))
                if role:
                    found.setdefault(role, meta.parent)
            if len(found) == 2:
                return found
    raise RuntimeError(f"{tree} has no active RUNNING and FINISHED runs with val_accuracy")


class TreeChanges:
    """Changes made to runs during the bench, undone afterwards so the cached tree stays as generated."""

    def __init__(self) -> None:
        self.saved: dict[Path, bytes] = {}
        self.count = 0

    def _save(self, path: Path) -> None:
        self.saved.setdefault(path, path.read_bytes())

    def append_metric(self, run_dir: Path) -> float:
        """Append a val_accuracy point above every other; returns the threshold that finds it."""
        path = run_dir / "metrics" / "val_accuracy"
        self._save(path)
        self.count += 1
        with open(path, "a") as handle:
            handle.write(f"{int(time.time() * 1000)} {MARKER + self.count!r} {10**6 + self.count}\n")
        return MARKER + self.count - 0.5

    def set_status(self, run_dir: Path, status: str) -> None:
        """Rewrite meta.yaml as MLflow's set_terminated / overwrite_yaml does (temp file, then rename)."""
        import yaml

        path = run_dir / "meta.yaml"
        self._save(path)
        meta = yaml.safe_load(path.read_text())
        meta["status"] = generate.STATUS[status]
        meta["end_time"] = int(time.time() * 1000) if status == "FINISHED" else None
        tmp = path.with_name("meta.yaml.bench-tmp")
        tmp.write_text(generate.dump_yaml(meta))
        os.replace(tmp, path)

    def undo(self) -> None:
        for path, data in self.saved.items():
            tmp = path.with_name(path.name + ".bench-tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        self.saved.clear()


# ------------------------------------------------------------- cold starts


def warm_page_cache(tree: Path) -> None:
    """Read every file of the tree once (``find | cat``, in C).

    The targets are for a warm page cache, but this machine's kernel runs DAMON
    reclaim, which pages out file data left unread for about 60 s: a tree
    measured minutes after it was written is partly read from disk again.
    """
    subprocess.run(["find", str(tree), "-type", "f", "-exec", "cat", "{}", "+"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)


def start_to_pages(server: Server, client: Client, bodies: tuple[dict[str, Any], dict[str, Any]],
                   deadline_s: float, tree: Path | None = None) -> tuple[float, float, float]:
    """(seconds to the first sorted page, seconds to the first filtered page: every param and metric loaded,
    CPU seconds the server had used by then). With ``tree``, its files are read first (warm page cache)."""
    if tree is not None:
        warm_page_cache(tree)
    server.start()
    first = server.first_answer(client, SEARCH, bodies[0], deadline_s)
    _, status, answer = client.post(SEARCH, bodies[1])
    if status != 200:
        raise RuntimeError(f"{server.name} answered {status}: {str(answer)[:300]}")
    return first, time.perf_counter() - server.started, server.cpu_s()


def wait_for_cache_file(cache_home: Path, timeout_s: float) -> Path | None:
    """The index cache file mlscope writes after its first build, once its size stops moving."""
    folder = cache_home / "mlscope" / "index"
    last = -1

    def settled() -> bool:
        nonlocal last
        files = sorted(folder.glob("*.idx")) if folder.is_dir() else []
        size = files[0].stat().st_size if files else -1
        done = size > 0 and size == last
        last = size
        return done

    return sorted(folder.glob("*.idx"))[0] if poll_until(settled, timeout_s, pause_s=0.5) is not None else None


def cold_starts(server: Server, client: Client, bodies: tuple[dict[str, Any], dict[str, Any]], plan: dict[str, Any],
                cache_home: Path | None, tree: Path) -> dict[str, Any]:
    """First opens (cache emptied before each) and restarts with the cache, each on a warm page cache unless the
    plan says ``warm_tree: False``; the server is left running."""
    warmed = tree if plan.get("warm_tree", True) else None
    times: dict[str, list[float]] = {"first_open_first_page": [], "first_open_full": [], "first_open_full_cpu": []}
    out: dict[str, Any] = {"times": times}
    for i in range(plan["cold_starts"]):
        if cache_home is not None:
            shutil.rmtree(cache_home, ignore_errors=True)
        first, full, cpu = start_to_pages(server, client, bodies, plan["startup_s"], warmed)
        times["first_open_first_page"].append(first)
        times["first_open_full"].append(full)
        times["first_open_full_cpu"].append(cpu)
        if cache_home is not None:
            cache = wait_for_cache_file(cache_home, plan["startup_s"])
            out["cache_bytes"] = cache.stat().st_size if cache else None
        if i < plan["cold_starts"] - 1 or plan.get("restarts"):
            client.close()
            server.stop()
    if plan.get("restarts"):
        times["restart_first_page"], times["restart_full"], times["restart_full_cpu"] = [], [], []
        for i in range(plan["restarts"]):
            first, full, cpu = start_to_pages(server, client, bodies, plan["startup_s"], warmed)
            times["restart_first_page"].append(first)
            times["restart_full"].append(full)
            times["restart_full_cpu"].append(cpu)
            if i < plan["restarts"] - 1:
                client.close()
                server.stop()
    return out


# ------------------------------------------------------------ warm measures


def all_runs_http(client: Client, exps: list[str]) -> tuple[float, int]:
    """Every active run through runs/search, 1,000 per page: (seconds, runs)."""
    started, token, count = time.perf_counter(), None, 0
    while True:
        body: dict[str, Any] = {"experiment_ids": exps, "max_results": 1000}
        if token:
            body["page_token"] = token
        _, status, answer = client.post(SEARCH, body)
        if status != 200:
            raise RuntimeError(f"runs/search answered {status}: {str(answer)[:300]}")
        count += len(answer.get("runs", []))
        token = answer.get("next_page_token")
        if not token:
            return time.perf_counter() - started, count


def all_runs_mlflow_client(port: int, exps: list[str]) -> tuple[float, float, int]:
    """Every active run through MlflowClient.search_runs, 1,000 per call: (seconds, CPU seconds spent in this
    process, i.e. by MLflow's client decoding and parsing the pages, runs)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"http://127.0.0.1:{port}")
    started, cpu, token, count = time.perf_counter(), time.process_time(), None, 0
    while True:
        page = client.search_runs(exps, max_results=1000, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            return time.perf_counter() - started, time.process_time() - cpu, count


def warm(server: Server, client: Client, tree: Path, plan: dict[str, Any], out: dict[str, Any]) -> None:
    exps = experiment_ids(tree)
    times = out["times"]
    sorted_body, filtered_body = {"experiment_ids": exps, **SORTED}, {"experiment_ids": exps, **FILTERED}

    def timed(body: dict[str, Any], key: str) -> Callable[[], float]:
        def call() -> float:
            elapsed, status, answer = client.post(SEARCH, body)
            if status != 200:
                raise RuntimeError(f"{server.name} answered {status}: {str(answer)[:300]}")
            out[key] = run_ids(answer)
            return elapsed
        return call

    for _ in range(plan["warmup"]):
        timed(sorted_body, "page_sorted")()
        timed(filtered_body, "page_filtered")()
    idle = idle_cpu_rate(server)

    def with_cpu(key: str, samples: Callable[[], list[float]]) -> None:
        """Wall time per call, and the server's CPU time per call (its background refresh taken out)."""
        cpu, started = server.cpu_s(), time.perf_counter()
        times[key] = samples()
        used = server.cpu_s() - cpu - idle * (time.perf_counter() - started)
        times[f"{key}_cpu"] = [max(used, 0.0) / len(times[key])]

    with_cpu("page_100", lambda: measure(timed(sorted_body, "page_sorted"), plan["calls"], plan["budget_s"]))
    with_cpu("page_1000", lambda: measure(timed({"experiment_ids": exps, **PAGE_1000}, "page_1000"), plan["big_calls"], plan["budget_s"]))
    with_cpu("search_filtered", lambda: measure(timed(filtered_body, "page_filtered"), plan["calls"], plan["budget_s"]))
    fresh = iter(range(1, 1_000_000))

    def fresh_filter() -> float:
        # A threshold that differs in the 12th digit: same matches, but a query no cache has seen.
        body = {**filtered_body, "filter": FILTERED["filter"].replace("0.8", f"0.8{next(fresh):012d}")}
        return timed(body, "page_filtered_fresh")()

    with_cpu("search_filtered_fresh", lambda: measure(fresh_filter, plan["calls"], plan["budget_s"]))
    if plan["all_runs"]:
        counts: list[int] = []

        def all_runs() -> list[float]:
            samples = [all_runs_http(client, exps) for _ in range(plan["all_runs"])]
            counts.append(samples[0][1])
            return [s for s, _ in samples]

        with_cpu("all_runs_http", all_runs)
        out["all_runs_count"] = counts[0]
    if plan["all_runs_client"]:
        samples_client = [all_runs_mlflow_client(server.port, exps) for _ in range(plan["all_runs_client"])]
        times["all_runs_client"] = [s for s, _, _ in samples_client]
        times["all_runs_client_cpu"] = [c for _, c, _ in samples_client]
    if plan.get("csv"):
        query = urllib.parse.urlencode([("experiment_ids", e) for e in exps] + [("metrics", "val_loss"), ("params", "lr")])

        def export() -> float:
            elapsed, status, size = client.get(f"{EXPORT}?{query}")
            if status != 200:
                raise RuntimeError(f"{EXPORT} answered {status}")
            out["csv_bytes"] = size
            return elapsed

        with_cpu("csv_export", lambda: measure(export, plan["csv"], plan["budget_s"]))
    out["rss"] = server.rss_mb()
    out["matches"] = len(out.get("page_filtered", []))


def idle_cpu_rate(server: Server, seconds: float = 3.0) -> float:
    """CPU seconds per second the server spends with no request (its index refresh), taken out of per-call CPU."""
    cpu, started = server.cpu_s(), time.perf_counter()
    time.sleep(seconds)
    return (server.cpu_s() - cpu) / (time.perf_counter() - started)


def visibility(client: Client, exps: list[str], runs: dict[str, Path], changes: TreeChanges, plan: dict[str, Any]) -> dict[str, list[float]]:
    """Seconds from a change on disk until runs/search shows it (polled as fast as the server answers)."""

    def shows(run_dir: Path, condition: str) -> Callable[[], bool]:
        body = {"experiment_ids": exps, "max_results": 1, "filter": f"attributes.run_id = '{run_dir.name}' and {condition}"}
        return lambda: bool(run_ids(client.post(SEARCH, body)[2]))

    def wait(check: Callable[[], bool], timeout: float) -> float:
        seconds = poll_until(check, timeout)
        return math.inf if seconds is None else seconds

    result: dict[str, list[float]] = {"visible_metric_append": [], "visible_status_change": [], "visible_finished_append": []}
    running, finished = runs["running"], runs["finished"]
    for _ in range(plan["visibility_samples"]):
        threshold = changes.append_metric(running)
        result["visible_metric_append"].append(wait(shows(running, f"metrics.val_accuracy > {threshold}"), VISIBLE_WAIT_S))
    for _ in range(plan["visibility_samples"]):
        changes.set_status(running, "RUNNING")
        if plan["settle"] and wait(shows(running, "attributes.status = 'RUNNING'"), VISIBLE_WAIT_S) == math.inf:
            raise RuntimeError("a status change was not visible within 30 s")
        changes.set_status(running, "FINISHED")
        result["visible_status_change"].append(wait(shows(running, "attributes.status = 'FINISHED'"), VISIBLE_WAIT_S))
    threshold = changes.append_metric(finished)
    result["visible_finished_append"].append(wait(shows(finished, f"metrics.val_accuracy > {threshold}"), FINISHED_WAIT_S))
    return result


def bench_server(server: Server, tree: Path, plan: dict[str, Any], cache_home: Path | None = None) -> dict[str, Any]:
    """Every HTTP measurement against one server; leaves the tree as it found it and the server stopped."""
    exps = experiment_ids(tree)
    bodies = ({"experiment_ids": exps, **SORTED}, {"experiment_ids": exps, **FILTERED})
    client = Client(server.port)
    try:
        out = cold_starts(server, client, bodies, plan, cache_home, tree)
        warm(server, client, tree, plan, out)
        if plan["visibility_samples"]:
            changes = TreeChanges()
            try:
                out["times"].update(visibility(client, exps, pick_runs(tree), changes, plan))
            finally:
                changes.undo()
    finally:
        client.close()
        server.stop()
    return out


def refresh_in_process(tree: Path, samples: int = 10) -> dict[str, list[float]]:
    """RunIndex.refresh() timed in this process: idle, and right after one run's metric file grew."""
    from mlscope.index import RunIndex

    index = RunIndex(tree)
    index.build()
    idle, one, idle_cpu, one_cpu = [], [], [], []
    for _ in range(samples):
        started, cpu = time.perf_counter(), time.process_time()
        index.refresh()
        idle.append(time.perf_counter() - started)
        idle_cpu.append(time.process_time() - cpu)
    changes, running = TreeChanges(), pick_runs(tree)["running"]
    try:
        for _ in range(samples):
            changes.append_metric(running)
            started, cpu = time.perf_counter(), time.process_time()
            changed = index.refresh()
            one.append(time.perf_counter() - started)
            one_cpu.append(time.process_time() - cpu)
            if changed < 1:
                raise RuntimeError("RunIndex.refresh() did not see the appended metric line")
    finally:
        changes.undo()
    return {"refresh_idle": idle, "refresh_one_run": one, "refresh_idle_cpu": idle_cpu, "refresh_one_run_cpu": one_cpu}
