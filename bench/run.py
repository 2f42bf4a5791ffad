"""`make bench`: mlscope against MLflow's own server on the same synthetic trees, through the HTTP API.

For 1,000 and 10,000 runs it times, as medians of several calls: cold start to
the first runs/search page, the first page sorted by start time, a page filtered
on a param and a metric and ordered by a metric, how soon a change to one run
shows in search, and the server's RSS; then ``RunIndex.refresh()`` in-process.
MLflow's server gets the same request bodies. Prints a side-by-side table with
the MLflow/mlscope ratio, writes bench/results.md, and appends the output of
the other engineers' benchmarks (bench/bench_*.py) when they exist.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import generate
from bench.measure import Client, Server, free_port, measure, median_ms, poll_until

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TREES = BENCH / "trees"
LOGS = TREES / "logs"
MLFLOW_VENV = BENCH / ".mlflow-venv"
MLFLOW_VERSION = "3.17.2"
TREE_SHAPE = {"experiments": 5, "steps": 100, "seed": 0}
SEARCH = "/api/2.0/mlflow/runs/search"
OTHER_BENCHES = ("bench_history", "bench_artifacts", "bench_compare", "bench_ui", "bench_logging", "bench_charts", "bench_registry")
FINISHED_WAIT_S = 60.0  # how long to wait for an append to a finished run to show
MARKER = 1000.0  # metric values appended by the refresh checks: far above anything generated
SORTED = {"max_results": 100, "order_by": ["attributes.start_time DESC"]}
FILTERED = {"max_results": 100, "filter": "params.optimizer = 'adam' and metrics.val_accuracy > 0.8", "order_by": ["metrics.val_loss ASC"]}

# key, what is measured, unit, target at 10,000 runs
ROWS: tuple[tuple[str, str, str, float | None], ...] = (
    ("cold_first_page", "cold start -> first runs/search page", "ms", 3000.0),
    ("cold_filtered_page", "cold start -> first filtered page (details loaded)", "ms", None),
    ("search_sorted", "runs/search page 1 by start_time (warm)", "ms", 20.0),
    ("search_filtered", "runs/search param+metric filter, by metric (warm, same query)", "ms", 20.0),
    ("search_filtered_fresh", "runs/search param+metric filter, by metric (new filter string each call: no cache)", "ms", 20.0),
    ("visible_metric_append", "metric appended to a RUNNING run -> in search", "ms", None),
    ("visible_status_change", "meta.yaml RUNNING->FINISHED -> in search", "ms", None),
    ("visible_finished_append", "metric appended to a FINISHED run -> in search", "ms", None),
    ("refresh_idle", "RunIndex.refresh(), nothing changed", "ms", None),
    ("refresh_one_run", "RunIndex.refresh(), one run changed", "ms", 50.0),
    ("rss", "server RSS after the searches", "MB", 200.0),
)


# ------------------------------------------------------------------ set-up


def tree_for(runs: int) -> Path:
    """The cached tree of `runs` runs; (re)generated when missing, half-written or made by another generator."""
    path, stamp_path = TREES / f"runs-{runs}", TREES / f"runs-{runs}.json"
    stamp = {"runs": runs, **TREE_SHAPE, "generator": hashlib.sha256((BENCH / "generate.py").read_bytes()).hexdigest()[:16]}
    if path.is_dir() and stamp_path.is_file() and json.loads(stamp_path.read_text()).get("stamp") == stamp:
        return path
    stamp_path.unlink(missing_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    print(f"generating {runs} runs into {path} ...", flush=True)
    started = time.perf_counter()
    summary = generate.generate(path, runs, **TREE_SHAPE)
    seconds = time.perf_counter() - started
    stamp_path.write_text(json.dumps({"stamp": stamp, "files": summary["files"], "seconds": round(seconds, 1)}))
    print(f"  {summary['files']} files in {seconds:.1f} s", flush=True)
    return path


def ensure_mlflow() -> Path | None:
    """bench/.mlflow-venv/bin/mlflow, installing mlflow==3.17.2 there on first use; None (with the reason printed) if impossible."""
    exe = MLFLOW_VENV / "bin" / "mlflow"
    if exe.exists():
        return exe
    print(f"creating {MLFLOW_VENV} with mlflow=={MLFLOW_VERSION} (first run only) ...", flush=True)
    steps = [[sys.executable, "-m", "venv", "--clear", str(MLFLOW_VENV)],
             [str(MLFLOW_VENV / "bin" / "pip"), "install", "--quiet", f"mlflow=={MLFLOW_VERSION}"]]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"cannot install MLflow ({' '.join(cmd[:3])} failed): {(done.stderr or done.stdout).strip()[-800:]}", flush=True)
            return None
    return exe if exe.exists() else None


def experiment_ids(tree: Path) -> list[str]:
    return sorted(p.name for p in tree.iterdir() if p.is_dir() and (p / "meta.yaml").is_file())


def pick_runs(tree: Path) -> dict[str, Path]:
    """One active RUNNING and one active FINISHED run folder, for the refresh checks."""
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


# ------------------------------------------------------------- one server


def run_ids(answer: Any) -> list[str]:
    return [run["info"]["run_id"] for run in answer.get("runs", [])] if isinstance(answer, dict) else []


def bench_server(server: Server, tree: Path, plan: dict[str, Any], cold_starts: int) -> dict[str, Any]:
    """Every HTTP measurement against one kind of server; leaves the tree as it found it."""
    exps = experiment_ids(tree)
    sorted_body, filtered_body = {"experiment_ids": exps, **SORTED}, {"experiment_ids": exps, **FILTERED}
    times: dict[str, list[float]] = {"cold_first_page": [], "cold_filtered_page": []}
    out: dict[str, Any] = {"times": times}
    client = Client(server.port)
    for i in range(cold_starts):
        server.start()
        times["cold_first_page"].append(server.first_answer(client, SEARCH, sorted_body, plan["startup_s"]))
        _, status, _ = client.post(SEARCH, filtered_body)
        times["cold_filtered_page"].append(time.perf_counter() - server.started)
        if i < cold_starts - 1:
            client.close()
            server.stop()

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
    times["search_sorted"] = measure(timed(sorted_body, "page_sorted"), plan["calls"], plan["budget_s"])
    times["search_filtered"] = measure(timed(filtered_body, "page_filtered"), plan["calls"], plan["budget_s"])
    fresh = iter(range(1, 1_000_000))

    def fresh_filter() -> float:
        # A threshold that differs in the 12th digit: same matches, but a query no cache has seen.
        body = {**filtered_body, "filter": FILTERED["filter"].replace("0.8", f"0.8{next(fresh):012d}")}
        return timed(body, "page_filtered_fresh")()

    times["search_filtered_fresh"] = measure(fresh_filter, plan["calls"], plan["budget_s"])
    out["rss"] = server.rss_mb()
    out["matches"] = len(out["page_filtered"])
    changes, runs = TreeChanges(), pick_runs(tree)
    try:
        times.update(visibility(client, exps, runs, changes, plan))
    finally:
        changes.undo()
        client.close()
        server.stop()
    return out


def visibility(client: Client, exps: list[str], runs: dict[str, Path], changes: TreeChanges, plan: dict[str, Any]) -> dict[str, list[float]]:
    """Seconds from a change on disk until runs/search shows it (polled as fast as the server answers)."""

    def shows(run_dir: Path, condition: str) -> Callable[[], bool]:
        body = {"experiment_ids": exps, "max_results": 1, "filter": f"attributes.run_id = '{run_dir.name}' and {condition}"}
        return lambda: bool(run_ids(client.post(SEARCH, body)[2]))

    def wait(check: Callable[[], bool], timeout: float) -> float:
        """Seconds until visible; math.inf when not seen within timeout (reported as such, not raised)."""
        seconds = poll_until(check, timeout)
        return math.inf if seconds is None else seconds

    result: dict[str, list[float]] = {"visible_metric_append": [], "visible_status_change": [], "visible_finished_append": []}
    running, finished = runs["running"], runs["finished"]
    for _ in range(plan["visibility_samples"]):
        threshold = changes.append_metric(running)
        result["visible_metric_append"].append(wait(shows(running, f"metrics.val_accuracy > {threshold}"), 30))
    for _ in range(plan["visibility_samples"]):
        changes.set_status(running, "RUNNING")
        if plan["settle"] and wait(shows(running, "attributes.status = 'RUNNING'"), 30) == math.inf:
            raise RuntimeError("a status change was not visible within 30 s")
        changes.set_status(running, "FINISHED")
        result["visible_status_change"].append(wait(shows(running, "attributes.status = 'FINISHED'"), 30))
    threshold = changes.append_metric(finished)
    result["visible_finished_append"].append(wait(shows(finished, f"metrics.val_accuracy > {threshold}"), FINISHED_WAIT_S))
    return result


def refresh_in_process(tree: Path, samples: int = 10) -> dict[str, list[float]]:
    """RunIndex.refresh() timed in this process: idle, and right after one run's metric file grew."""
    from mlscope.index import RunIndex

    index = RunIndex(tree)
    index.build()
    idle, one = [], []
    for _ in range(samples):
        started = time.perf_counter()
        index.refresh()
        idle.append(time.perf_counter() - started)
    changes, running = TreeChanges(), pick_runs(tree)["running"]
    try:
        for _ in range(samples):
            changes.append_metric(running)
            started = time.perf_counter()
            changed = index.refresh()
            one.append(time.perf_counter() - started)
            if changed < 1:
                raise RuntimeError("RunIndex.refresh() did not see the appended metric line")
    finally:
        changes.undo()
    return {"refresh_idle": idle, "refresh_one_run": one}


# ------------------------------------------------------------------ servers


def mlscope_server(tree: Path) -> Server:
    port = free_port()
    cmd = [str(REPO / ".venv" / "bin" / "mlscope"), "ui", "--backend-store-uri", str(tree), "--port", str(port)]
    if not Path(cmd[0]).exists():
        cmd = [sys.executable, "-m", "mlscope.cli.main", *cmd[1:]]
    return Server("mlscope", cmd, port, LOGS / f"mlscope-{tree.name}.log")


def mlflow_server(exe: Path, tree: Path) -> Server:
    port = free_port()
    cwd = TREES / "mlflow-cwd"  # MLflow puts ./mlartifacts in its working directory
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "server", "--backend-store-uri", str(tree), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return Server("MLflow", cmd, port, LOGS / f"mlflow-{tree.name}.log", env={**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}, cwd=cwd)


MLSCOPE_PLAN = {"startup_s": 120, "warmup": 3, "calls": 30, "budget_s": 20, "visibility_samples": 5, "settle": True}
MLFLOW_PLAN = {"startup_s": 600, "warmup": 0, "calls": 3, "budget_s": 100, "visibility_samples": 1, "settle": False}


# ------------------------------------------------------------------ report


def fmt(value: float | None, unit: str = "ms") -> str:
    if value is None:
        return "-"
    if value == math.inf:
        return "not seen"
    if unit == "MB" or value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def summarize(result: dict[str, Any]) -> dict[str, tuple[float | None, int]]:
    """Per row key: (median in ms, or MB for RSS; number of samples)."""
    rows: dict[str, tuple[float | None, int]] = {}
    for key, samples in result.get("times", {}).items():
        rows[key] = (median_ms(samples), len(samples))
    if "rss" in result:
        rows["rss"] = (result["rss"], 1)
    return rows


def table(results: dict[int, dict[str, Any]]) -> str:
    sizes = sorted(results)
    head = ["measurement"]
    for size in sizes:
        head += [f"mlscope @{size:,}", f"MLflow @{size:,}", "MLflow/mlscope"]
    head += ["target @10,000", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, unit, target in ROWS:
        cells = [f"{label} ({unit})"]
        met = "-"
        for size in sizes:
            ours = results[size]["mlscope"].get(key, (None, 0))
            theirs = results[size]["mlflow"].get(key, (None, 0))
            cells.append(f"{fmt(ours[0], unit)} (n={ours[1]})" if ours[0] is not None else "-")
            cells.append(f"{fmt(theirs[0], unit)} (n={theirs[1]})" if theirs[0] is not None else "-")
            ratio = theirs[0] / ours[0] if ours[0] and theirs[0] and math.inf not in (ours[0], theirs[0]) else None
            cells.append(f"{ratio:,.0f}x" if ratio and ratio >= 10 else (f"{ratio:.1f}x" if ratio else "-"))
            if size == 10_000 and target is not None and ours[0] is not None:
                met = "yes" if ours[0] <= target else "NO"
        cells += [f"<= {fmt(target, unit)}" if target is not None else "-", met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpuinfo, meminfo = Path("/proc/cpuinfo").read_text(), Path("/proc/meminfo").read_text()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    from mlscope import __version__

    return (f"{cpu}, {os.cpu_count()} cores, {mem:,} MB RAM, Linux {platform.release()}, Python {platform.python_version()}, "
            f"mlscope {__version__}, MLflow {MLFLOW_VERSION} (file store); load average at start {os.getloadavg()[0]:.2f}")


def other_benches(trees: dict[int, Path]) -> str:
    """Run bench/bench_*.py (each a module with main()) in a subprocess; failures are reported, not raised."""
    parts = []
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "MLSCOPE_BENCH_TREES": json.dumps({str(k): str(v) for k, v in trees.items()})}
    for name in OTHER_BENCHES:
        if not (BENCH / f"{name}.py").exists():
            continue
        print(f"running bench/{name}.py ...", flush=True)
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", f"import bench.{name} as m; m.main()"], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=900)
            text = done.stdout.strip() or "(no output)"
            if done.returncode != 0:
                text += f"\n\nFAILED with exit code {done.returncode}:\n" + done.stderr.strip()[-3000:]
        except subprocess.TimeoutExpired:
            text = "FAILED: did not finish within 900 s"
        print(text, flush=True)
        parts.append(f"### bench/{name}.py ({time.perf_counter() - started:.0f} s)\n\n```\n{text}\n```")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow's server")
    parser.add_argument("--no-others", action="store_true", help="skip bench/bench_*.py")
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = machine()
    print(info, flush=True)
    exe = None if args.no_mlflow else ensure_mlflow()
    results: dict[int, dict[str, Any]] = {}
    notes: list[str] = []
    trees = {size: tree_for(size) for size in args.sizes}
    for size, tree in trees.items():
        print(f"\n== {size:,} runs: mlscope", flush=True)
        ours = bench_server(mlscope_server(tree), tree, MLSCOPE_PLAN, cold_starts=3)
        ours["times"].update(refresh_in_process(tree))
        theirs: dict[str, Any] = {}
        if exe is not None:
            print(f"== {size:,} runs: MLflow", flush=True)
            theirs = bench_server(mlflow_server(exe, tree), tree, MLFLOW_PLAN, cold_starts=1)
            for page in ("page_sorted", "page_filtered"):
                same = ours.get(page) == theirs.get(page)
                notes.append(f"{size:,} runs, {page.replace('page_', '')} page: mlscope and MLflow return "
                             f"{'the same' if same else 'DIFFERENT'} {len(ours.get(page, []))} run ids in the same order")
        notes.append(f"{size:,} runs: the filter matches {ours['matches']} runs on the first page (max 100)")
        for key, label, _, _ in ROWS:
            if math.inf in ours["times"].get(key, []):
                notes.append(f"{size:,} runs: mlscope, {label}: not visible within the {FINISHED_WAIT_S:.0f} s the bench waits")
        results[size] = {"mlscope": summarize(ours), "mlflow": summarize(theirs)}
        print(table({size: results[size]}), flush=True)
    report = table(results)
    others = "" if args.no_others else other_benches(trees)
    shapes = {size: json.loads((TREES / f"runs-{size}.json").read_text()) for size in trees}
    text = "\n\n".join([
        "# mlscope benchmark results",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  \nMachine: {info}  \nBench time: {time.perf_counter() - started:.0f} s",
        "Trees (bench/generate.py, " + ", ".join(f"{k}={v}" for k, v in TREE_SHAPE.items()) + "): "
        + "; ".join(f"{size:,} runs = {shape['files']:,} files" for size, shape in shapes.items()),
        "Medians; n = number of calls. Ratio = MLflow time / mlscope time. mlscope refreshes its index every 1 s, "
        "so 'visible in search' is bounded by that interval; MLflow re-reads the whole tree on every call.",
        report,
        "\n".join(f"- {note}" for note in notes),
        *(["## Other benchmarks", others] if others else []),
    ]) + "\n"
    args.out.write_text(text)
    print("\n" + report + "\n\n" + "\n".join(notes) + f"\n\nwrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
