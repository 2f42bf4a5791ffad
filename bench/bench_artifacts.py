"""Artifact previews at size: a 200 MB text file previews in <= 1 s with constant server memory.

Run from the repository root:  .venv/bin/python -m bench.bench_artifacts

A run written by MLflow gets a 200 MB log and a 200 MB CSV in its artifacts
folder. mlscope serves the tree from a subprocess; we time (median of 5,
cold first call reported too):
1. the first 1 MiB text chunk of the 200 MB log (what the preview shows first),
2. the tail (last 256 KiB, "follow end"),
3. the CSV preview (header + 500 rows + a bounded row count),
4. time to first byte of the full download, and of a zip of the folder,
and the server's RSS before, after the previews, and after streaming the
whole 200 MB file and the zip to /dev/null. Target: chunk <= 1 s, RSS flat.
"""

from __future__ import annotations

import http.client
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.measure import Server, free_port  # noqa: E402
from tests.reference_trees import mlflow_client  # noqa: E402

SIZE = 200 * 1024 * 1024
LINE = (
    "2026-01-01 00:00:00,000 INFO trainer: step={:>9} loss=0.123456 lr=0.001 grad_norm=1.2345 throughput=1234.5 it/s\n"
)


def write_tree(root: Path) -> tuple[str, Path]:
    client = mlflow_client(root)
    exp = client.create_experiment("bench-artifacts")
    run = client.create_run(exp).info.run_id
    artifacts = root / exp / run / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    block = "".join(LINE.format(i) for i in range(10_000)).encode()
    with open(artifacts / "train.log", "wb") as log:
        while log.tell() < SIZE:
            log.write(block)
    header = b"step,loss,acc,lr,note\n"
    rows = b"".join(b"%d,0.%06d,0.%04d,0.001,some text\n" % (i, i % 999_999, i % 9999) for i in range(20_000))
    with open(artifacts / "table.csv", "wb") as table:
        table.write(header)
        while table.tell() < SIZE:
            table.write(rows)
    return run, artifacts


def get(port: int, path: str, params: dict[str, str], read: bool = True) -> tuple[float, float, int, int]:
    """(seconds to first byte, seconds to the whole body, status, bytes) of one GET on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", path + "?" + urlencode(params))
    response = conn.getresponse()
    first = response.read(1)
    ttfb = time.perf_counter() - started
    total = len(first)
    while read and (block := response.read(1024 * 1024)):
        total += len(block)
    elapsed = time.perf_counter() - started
    conn.close()
    return ttfb, elapsed, response.status, total


def median_of(call, repeats: int = 5) -> tuple[float, float]:
    """(cold seconds, median seconds of the warm repeats)."""
    cold = call()
    warm = [call() for _ in range(repeats)]
    return cold, statistics.median(warm)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mlscope-bench-artifacts-") as tmp:
        root = Path(tmp) / "mlruns"
        started = time.perf_counter()
        run, artifacts = write_tree(root)
        log_size = (artifacts / "train.log").stat().st_size
        print(f"tree: 200 MB log + 200 MB CSV written in {time.perf_counter() - started:.1f} s")
        port = free_port()
        cmd = [
            sys.executable,
            "-c",
            f"import uvicorn; from pathlib import Path; from mlscope.server.app import create_app; "
            f"uvicorn.run(create_app(Path({str(root)!r})), host='127.0.0.1', port={port}, log_level='warning')",
        ]
        server = Server("mlscope", cmd, port, Path(tmp) / "server.log", cwd=REPO).start()
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if get(port, "/api/mlscope/artifacts/list", {"run_id": run})[2] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            rss_start = server.rss_mb()
            base = {"run_id": run}
            text = "/api/mlscope/artifacts/text"
            chunk = median_of(lambda: get(port, text, {**base, "path": "train.log", "length": str(1 << 20)})[1])
            tail = median_of(
                lambda: get(port, text, {**base, "path": "train.log", "tail": "1", "length": str(256 << 10)})[1]
            )
            table = median_of(
                lambda: get(port, "/api/mlscope/artifacts/table", {**base, "path": "table.csv", "limit": "500"})[1]
            )
            rss_previews = server.rss_mb()
            ttfb_file, full_file, status, size = get(port, "/api/mlscope/artifacts/file", {**base, "path": "train.log"})
            assert status == 200 and size == log_size, f"download failed: {status}, {size} of {log_size} bytes"
            rss_download = server.rss_mb()
            ttfb_zip, full_zip, status, zipped = get(port, "/api/mlscope/artifacts/zip", base)
            rss_zip = server.rss_mb()
        finally:
            server.stop()
    print(
        f"first 1 MiB chunk of a 200 MB log: cold {chunk[0] * 1000:.0f} ms, median {chunk[1] * 1000:.0f} ms  (target <= 1000 ms)"
    )
    print(f"tail (last 256 KiB):               cold {tail[0] * 1000:.0f} ms, median {tail[1] * 1000:.0f} ms")
    print(f"CSV preview (500 rows + count):    cold {table[0] * 1000:.0f} ms, median {table[1] * 1000:.0f} ms")
    print(
        f"download 200 MB: first byte {ttfb_file * 1000:.0f} ms, whole {full_file:.2f} s ({size / full_file / 2**20:.0f} MiB/s)"
    )
    print(
        f"zip of the run (400 MB in): first byte {ttfb_zip * 1000:.0f} ms, whole {full_zip:.2f} s, {zipped / 2**20:.0f} MiB out"
    )
    print(
        f"server RSS: start {rss_start:.0f} MB, after previews {rss_previews:.0f} MB, "
        f"after the 200 MB download {rss_download:.0f} MB, after the zip {rss_zip:.0f} MB"
    )


if __name__ == "__main__":
    main()
