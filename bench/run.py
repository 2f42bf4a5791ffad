"""`make bench`: mlscope against MLflow's own server (file store and SQLite) on the same synthetic trees, through the HTTP API.

For each size (default 1,000 and 10,000 runs; add 100,000 with
``--sizes 1000 10000 100000`` or ``make bench BENCH_ARGS=...``) it times, as
medians: mlscope's first open (empty index cache) and restart (with the
cache) to the first page and to the full index, pages of 100 and 1,000 runs,
every run paged 1,000 at a time (bare HTTP and through MlflowClient), a
filtered search (warm and never seen), the CSV export, how soon a change to
one run shows, ``RunIndex.refresh()``, and RSS. MLflow's server gets the same
requests on the file store and on a SQLite copy of the tree made by
``mlflow migrate-filestore``; at 100,000 runs mlscope runs alone. Prints one
table per size, writes bench/results.md, then runs the other benchmarks
(bench/bench_*.py) and appends their output.

Next to wall times it reports the server's CPU time (all its processes): on a
shared machine wall times mostly measure the queue for a core. Each server's
figures are kept per tree (bench/trees/columns-<size>.json), so ``--servers``
can re-measure only some servers and ``--tables-only`` rewrites the tables.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.measure import median_ms
from bench.scenarios import FINISHED_WAIT_S, VISIBLE_WAIT_S, bench_server, refresh_in_process
from bench.servers import (
    BENCH,
    MLFLOW_VERSION,
    REPO,
    TREE_SHAPE,
    TREES,
    mlflow_exe,
    mlflow_server,
    mlscope_server,
    sqlite_for,
    tree_facts,
    tree_for,
)

ensure_mlflow = mlflow_exe  # the name bench_sql.py imports

OTHER_BENCHES = ("bench_history", "bench_artifacts", "bench_compare", "bench_ui", "bench_logging", "bench_charts", "bench_registry",
                 "bench_sql", "bench_load")
BENCH_TIMEOUT_S = 3600  # bench_sql alone takes ~20 min (MLflow's server over SQLite, PostgreSQL at 100,000 runs)

# key, what is measured, unit, target at 10,000 runs, target at 100,000 runs
ROWS: tuple[tuple[str, str, str, float | None, float | None], ...] = (
    ("first_open_first_page", "first open (no index cache): start -> first runs/search page", "ms", 3000.0, 5000.0),
    ("first_open_full", "first open: start -> full index (first filtered page)", "ms", 3000.0, 60000.0),
    ("first_open_full_cpu", "first open: server CPU time (all its processes) until the full index answered", "CPU ms", None, None),
    ("restart_first_page", "restart with the index cache: start -> first page", "ms", None, None),
    ("restart_full", "restart with the index cache: start -> full index", "ms", 1000.0, 5000.0),
    ("restart_full_cpu", "restart: server CPU time until the full index answered", "CPU ms", None, None),
    ("page_100", "runs/search 100 runs by start_time (warm)", "ms", 20.0, None),
    ("page_100_cpu", "  server CPU per call (background refresh taken out)", "CPU ms", None, None),
    ("page_1000", "runs/search 1,000 runs by start_time (warm)", "ms", 20.0, None),
    ("page_1000_cpu", "  server CPU per call", "CPU ms", 20.0, None),
    ("all_runs_http", "all runs: runs/search paged 1,000 at a time, HTTP (warm)", "ms", None, None),
    ("all_runs_http_cpu", "  server CPU per pass over all runs", "CPU ms", None, None),
    ("all_runs_client", "all runs: MlflowClient.search_runs paged 1,000 at a time (incl. MLflow's parsing)", "ms", 200.0, None),
    ("all_runs_client_cpu", "  of which MLflow's client (CPU time in the calling process: JSON + protobuf parsing)", "CPU ms", None, None),
    ("search_filtered", "param+metric filter, by metric (warm, same query)", "ms", 20.0, None),
    ("search_filtered_cpu", "  server CPU per call", "CPU ms", None, None),
    ("search_filtered_fresh", "param+metric filter, by metric (new filter string each call: no cache)", "ms", 20.0, None),
    ("search_filtered_fresh_cpu", "  server CPU per call", "CPU ms", None, None),
    ("csv_export", "CSV export of every run (mlscope's runs table)", "ms", 1000.0, None),
    ("csv_export_cpu", "  server CPU per export", "CPU ms", 1000.0, None),
    ("visible_metric_append", "metric appended to a RUNNING run -> in search", "ms", None, None),
    ("visible_status_change", "meta.yaml RUNNING->FINISHED -> in search", "ms", None, None),
    ("visible_finished_append", "metric appended to a FINISHED run -> in search", "ms", None, None),
    ("refresh_idle", "RunIndex.refresh(), nothing changed", "ms", None, None),
    ("refresh_idle_cpu", "  CPU time", "CPU ms", None, None),
    ("refresh_one_run", "RunIndex.refresh(), one run changed", "ms", 50.0, None),
    ("refresh_one_run_cpu", "  CPU time", "CPU ms", 50.0, None),
    ("rss", "server RSS after the searches", "MB", 200.0, 700.0),
)

MLSCOPE_PLAN = {"startup_s": 900, "cold_starts": 3, "restarts": 3, "warmup": 3, "calls": 30, "big_calls": 20, "budget_s": 20,
                "all_runs": 5, "all_runs_client": 3, "csv": 5, "visibility_samples": 5, "settle": True}
# At 100,000 runs each pass over all runs re-encodes most of them (the JSON cache keeps 32 MB), and MLflow's
# client would spend about 40 s parsing them: one sample of each, no client paging, no in-process refresh build.
# The tree (15 GB of page cache) is not read before each start: its build outlasts the ~60 s after which this
# kernel pages out what was read, so a warm-up would be undone while it is measured.
MLSCOPE_100K = {**MLSCOPE_PLAN, "cold_starts": 1, "restarts": 2, "all_runs": 1, "all_runs_client": 0, "csv": 1,
                "visibility_samples": 3, "refresh": False, "warm_tree": False}
MLFLOW_PLAN = {"startup_s": 900, "cold_starts": 1, "restarts": 0, "warmup": 0, "calls": 3, "big_calls": 1, "budget_s": 100,
               "all_runs": 1, "all_runs_client": 0, "csv": 0, "visibility_samples": 1, "settle": False}
SQLITE_PLAN = {**MLFLOW_PLAN, "calls": 5, "big_calls": 3, "all_runs_client": 1, "visibility_samples": 0}


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
    rows: dict[str, tuple[float | None, int]] = {key: (median_ms(samples), len(samples)) for key, samples in result.get("times", {}).items()}
    if "rss" in result:
        rows["rss"] = (result["rss"], 1)
    return rows


def table(size: int, columns: dict[str, dict[str, tuple[float | None, int]]]) -> str:
    """One size: mlscope, each MLflow store with its ratio to mlscope, and the issue's target."""
    names = list(columns)
    head = ["measurement", names[0]]
    for name in names[1:]:
        head += [name, f"{name}/mlscope"]
    head += [f"target @{size:,}", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, unit, target10, target100 in ROWS:
        target = target10 if size == 10_000 else target100 if size == 100_000 else None
        ours = columns["mlscope"].get(key, (None, 0))
        if all(col.get(key, (None, 0))[0] is None for col in columns.values()):
            continue
        cells = [f"{label} ({unit})", f"{fmt(ours[0], unit)} (n={ours[1]})" if ours[0] is not None else "-"]
        for name in names[1:]:
            theirs = columns[name].get(key, (None, 0))
            cells.append(f"{fmt(theirs[0], unit)} (n={theirs[1]})" if theirs[0] is not None else "-")
            ok = ours[0] and theirs[0] and math.inf not in (ours[0], theirs[0])
            ratio = theirs[0] / ours[0] if ok else None  # type: ignore[operator]
            cells.append(f"{ratio:,.0f}x" if ratio and ratio >= 10 else (f"{ratio:.1f}x" if ratio else "-"))
        met = "-" if target is None or ours[0] is None else ("yes" if ours[0] <= target else "NO")
        cells += [f"<= {fmt(target, unit)}" if target is not None else "-", met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpuinfo, meminfo = Path("/proc/cpuinfo").read_text(), Path("/proc/meminfo").read_text()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    from mlscope import __version__

    return (f"{cpu}, {os.cpu_count()} cores, {mem:,} MB RAM, Linux {platform.release()}, Python {platform.python_version()}, "
            f"mlscope {__version__}, MLflow {MLFLOW_VERSION}; load average at start {os.getloadavg()[0]:.2f}")


def other_benches(trees: dict[int, Path]) -> str:
    """Run bench/bench_*.py (each a module with main()) in a subprocess; failures are reported, not raised."""
    parts = []
    small = {size: path for size, path in trees.items() if size <= 10_000}
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "MLSCOPE_BENCH_TREES": json.dumps({str(k): str(v) for k, v in small.items()})}
    for name in OTHER_BENCHES:
        if not (BENCH / f"{name}.py").exists():
            continue
        print(f"running bench/{name}.py ...", flush=True)
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", f"import bench.{name} as m; m.main()"], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
            text = done.stdout.strip() or "(no output)"
            if done.returncode != 0:
                text += f"\n\nFAILED with exit code {done.returncode}:\n" + done.stderr.strip()[-3000:]
        except subprocess.TimeoutExpired:
            text = f"FAILED: did not finish within {BENCH_TIMEOUT_S} s"
        print(text, flush=True)
        parts.append(f"### bench/{name}.py ({time.perf_counter() - started:.0f} s)\n\n```\n{text}\n```")
    return "\n\n".join(parts)


# -------------------------------------------------------------------- main


def _columns_file(size: int) -> Path:
    return TREES / f"columns-{size}.json"


def save_column(size: int, name: str, rows: dict[str, tuple[float | None, int]], pages: dict[str, Any],
                notes: list[str] | None = None, load: str = "") -> None:
    """Keep one server's figures for this tree, so a later run can measure only some servers (--servers)."""
    path = _columns_file(size)
    saved = json.loads(path.read_text()) if path.is_file() else {}
    saved[name] = {"rows": rows, "pages": pages, "notes": notes or [], "tree": tree_facts(size),
                   "when": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "load": load}
    path.write_text(json.dumps(saved))


def saved_column(size: int, name: str) -> dict[str, Any] | None:
    """A server's figures from an earlier run on the same tree (same generator), or None."""
    path = _columns_file(size)
    found = json.loads(path.read_text()).get(name) if path.is_file() else None
    if not found or found.get("tree") != tree_facts(size):
        return None
    found["rows"] = {key: (value, n) for key, (value, n) in found["rows"].items()}
    return found


def bench_size(size: int, tree: Path, exe: Path | None, servers: set[str], notes: list[str]) -> dict[str, dict[str, tuple[float | None, int]]]:
    """One tree: measure the servers asked for; the others' columns come from their last run on this tree."""
    columns: dict[str, dict[str, tuple[float | None, int]]] = {}
    pages: dict[str, dict[str, Any]] = {}
    load: dict[str, str] = {}
    if "mlscope" in servers:
        cache_home = TREES / "index-cache" / f"runs-{size}"
        print(f"\n== {size:,} runs: mlscope", flush=True)
        load_before = os.getloadavg()[0]
        plan = MLSCOPE_100K if size >= 100_000 else MLSCOPE_PLAN
        ours = bench_server(mlscope_server(tree, cache_home), tree, plan, cache_home)
        shutil.rmtree(cache_home, ignore_errors=True)
        if plan.get("refresh", True):
            ours["times"].update(refresh_in_process(tree))
        columns["mlscope"] = summarize(ours)
        pages["mlscope"] = {key: ours.get(key) for key in ("page_sorted", "page_filtered")}
        load["mlscope"] = f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
        ours_notes = [f"{size:,} runs: the filter matches {ours['matches']} runs on the first page (max 100); all runs = "
                      f"{ours.get('all_runs_count', 0):,} active runs; CSV export {ours.get('csv_bytes', 0) / 1e6:.1f} MB; "
                      f"index cache file {(ours.get('cache_bytes') or 0) / 1e6:.1f} MB"]
        for key, label, *_ in ROWS:
            if math.inf in ours["times"].get(key, []):
                wait = FINISHED_WAIT_S if key == "visible_finished_append" else VISIBLE_WAIT_S
                ours_notes.append(f"{size:,} runs: mlscope, {label}: not visible within the {wait:.0f} s the bench waits")
        save_column(size, "mlscope", columns["mlscope"], pages["mlscope"], ours_notes, load["mlscope"])
        notes.extend(ours_notes)
    stores = [("MLflow file store", "file", str(tree), MLFLOW_PLAN), ("MLflow SQLite", "sqlite", "", SQLITE_PLAN)]
    for name, key, store, plan in stores if size <= 10_000 else []:
        if key in servers and exe is not None:
            if key == "sqlite":
                db = sqlite_for(exe, tree)
                if db is None:
                    continue
                store = f"sqlite:///{db}"
            print(f"== {size:,} runs: {name}", flush=True)
            load_before = os.getloadavg()[0]
            theirs = bench_server(mlflow_server(exe, store, name, tree), tree, plan)
            columns[name] = summarize(theirs)
            pages[name] = {page: theirs.get(page) for page in ("page_sorted", "page_filtered")}
            load[name] = f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
            save_column(size, name, columns[name], pages[name], load=load[name])
    for name in ["mlscope"] + [name for name, *_ in stores if size <= 10_000]:
        if name not in columns and (found := saved_column(size, name)) is not None:
            columns[name], pages[name] = found["rows"], found["pages"]
            notes.extend(found.get("notes", []))
            how = found["load"] if isinstance(found["load"], str) else f"load average {found['load']:.1f} at end"
            load[name] = f"measured {found['when']}, {how}"
    if "mlscope" not in columns:
        return {}  # nothing to compare with yet
    columns = {"mlscope": columns.pop("mlscope"), **columns}
    for name in list(columns)[1:]:
        for page in ("page_sorted", "page_filtered"):
            if not pages[name].get(page):
                continue  # a column carried over without its pages
            same = pages["mlscope"].get(page) == pages[name].get(page)
            notes.append(f"{size:,} runs, {page.replace('page_', '')} page: mlscope and {name} return "
                         f"{'the same' if same else 'DIFFERENT'} {len(pages['mlscope'].get(page) or [])} run ids in the same order")
    notes.extend(f"{size:,} runs, {name}: {how}" for name, how in load.items())  # wall times grow with the load
    print(table(size, columns), flush=True)
    return columns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000], help="tree sizes (100000 adds the big tree)")
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow's server")
    parser.add_argument("--no-sqlite", action="store_true", help="skip MLflow's server on SQLite (migrate-filestore)")
    parser.add_argument("--servers", nargs="+", choices=("mlscope", "file", "sqlite"), default=["mlscope", "file", "sqlite"],
                        help="servers to measure now; the others' columns come from their last run on the same tree")
    parser.add_argument("--tables-only", action="store_true", help="measure nothing: write the tables from the saved columns")
    parser.add_argument("--no-others", action="store_true", help="skip bench/bench_*.py")
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = machine()
    print(info, flush=True)
    servers = set() if args.tables_only else set(args.servers) - ({"file", "sqlite"} if args.no_mlflow else set()) - ({"sqlite"} if args.no_sqlite else set())
    exe = mlflow_exe() if servers & {"file", "sqlite"} else None
    notes: list[str] = []
    trees = {size: tree_for(size) for size in sorted(args.sizes)}
    tables = []
    for size, tree in trees.items():
        columns = bench_size(size, tree, exe, servers, notes)
        if not columns:
            continue
        facts = tree_facts(size)
        tables.append(f"### {size:,} runs ({facts['files']:,} files, generated in {facts['seconds']:,.0f} s)\n\n{table(size, columns)}")
    others = "" if args.no_others else other_benches(trees)
    if not others and args.out.is_file() and "\n## Other benchmarks\n" in (previous := args.out.read_text()):
        # Not run this time: keep the last run's section, saying when it was measured.
        when = next((line for line in previous.splitlines() if line.startswith("Date: ")), "Date: unknown").strip()
        kept = previous.split("\n## Other benchmarks\n", 1)[1].strip()
        others = kept if kept.startswith("(Not run") else f"(Not run with this table: kept from the run of {when[6:]}.)\n\n{kept}"
    text = "\n\n".join([
        "# mlscope benchmark results",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  \nMachine: {info}  \n"
        + ("Tables written from the saved columns (--tables-only): when each was measured, and at what load, is in the notes."
           if args.tables_only else f"Bench time: {time.perf_counter() - started:.0f} s"),
        "Trees: bench/generate.py, " + ", ".join(f"{k}={v}" for k, v in TREE_SHAPE.items()) + ". OS page cache warm: "
        "every file of the tree is read (find | cat) right before each server start, as this machine's kernel pages out "
        "file data unread for ~60 s (DAMON reclaim); not at 100,000 runs (15 GB), whose build outlasts those 60 s, so "
        "there much of the tree is read from disk. Medians; n = number of samples. Ratio = MLflow time / mlscope time. "
        "mlscope refreshes its index every 1 s, so 'in search' is bounded by that interval; MLflow re-reads the file store "
        "on every call. mlscope's first opens start with an empty index cache (XDG_CACHE_HOME under bench/trees/index-cache).",
        *tables,
        "\n".join(f"- {note}" for note in notes),
        *(["## Other benchmarks", others] if others else []),
    ]) + "\n"
    args.out.write_text(text)
    print("\n" + "\n\n".join(tables) + "\n\n" + "\n".join(notes) + f"\n\nwrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
