"""Timing of search_runs on 10,000 synthetic runs (run by hand: .venv/bin/python tests/search/perf_search.py).

Filter on a param and a metric, order by a metric: the target is a median of 20 ms or less, warm.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "backend"))

from mlscope.search import search_runs  # noqa: E402
from mlscope.store.model import Metric, Run, RunInfo  # noqa: E402


def synthetic_runs(count: int = 10_000, seed: int = 7) -> list[Run]:
    rng = random.Random(seed)
    runs = []
    for i in range(count):
        start = 1_700_000_000_000 + rng.randrange(10_000_000)
        info = RunInfo(f"{i:032x}", "1", f"run-{i}", "alice", rng.choice(["FINISHED", "FAILED", "RUNNING"]), start,
                       start + 1000, "active", f"file:///tmp/{i}/artifacts")
        params = {f"p{k}": str(rng.randrange(10)) for k in range(10)}
        params["lr"] = rng.choice(["0.1", "0.01", "0.001"])
        metrics = {f"m{k}": Metric(f"m{k}", rng.random(), start, 10) for k in range(10)}
        metrics["acc"] = Metric("acc", rng.random(), start, 10)
        tags = {f"t{k}": f"v{rng.randrange(5)}" for k in range(10)}
        runs.append(Run(info, params, tags, metrics))
    return runs


def main() -> None:
    runs = synthetic_runs()
    args = {"filter_string": "params.lr = '0.01' AND metrics.acc > 0.5", "order_by": ["metrics.acc DESC"],
            "max_results": 100}
    page, _ = search_runs(runs, **args)  # warm the caches
    times = []
    for _ in range(30):
        begin = time.perf_counter()
        search_runs(runs, **args)
        times.append((time.perf_counter() - begin) * 1000)
    unfiltered = []
    for _ in range(10):
        begin = time.perf_counter()
        search_runs(runs, order_by=["metrics.acc DESC"], max_results=100)
        unfiltered.append((time.perf_counter() - begin) * 1000)
    print(f"10,000 runs, param+metric filter, metric order: median {statistics.median(times):.2f} ms "
          f"(min {min(times):.2f}, max {max(times):.2f}); page of {len(page)}")
    print(f"10,000 runs, no filter, metric order: median {statistics.median(unfiltered):.2f} ms")


if __name__ == "__main__":
    main()
