"""Timing tools for the benchmark: server processes, a bare HTTP client, medians under a time budget.

The client is ``http.client`` on one keep-alive connection, so what is timed
is the server (plus loopback), not a client library's overhead.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    """POSTs JSON to one server; ``post`` returns (seconds until the whole body arrived, status, parsed body)."""

    def __init__(self, port: int, timeout: float = 300.0) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict[str, Any]) -> tuple[float, int, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (0, 1):  # a keep-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.conn.request("POST", path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - started
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            return elapsed, response.status, parsed
        raise ConnectionError("unreachable")

    def get(self, path: str) -> tuple[float, int, int]:
        """GET path (query string included): (seconds until the whole body arrived, status, body bytes)."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                size = len(response.read())
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
                continue
            return time.perf_counter() - started, response.status, size
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Server:
    """A server subprocess in its own process group (so stopping it stops its workers too)."""

    def __init__(self, name: str, cmd: list[str], port: int, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name, self.cmd, self.port, self.log, self.env, self.cwd = name, cmd, port, log, env, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group this object created, by its id
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.proc = None

    def rss_mb(self) -> float:
        """VmRSS of the server and every process below it (MLflow runs uvicorn as a child)."""
        assert self.proc is not None
        return sum(_rss_kb(pid) for pid in _descendants(self.proc.pid)) / 1024

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server has used so far: its processes and the workers it has reaped.

        On a shared machine wall times grow with the load; CPU time barely
        does, so it tells what the work costs (on 2 idle cores, wall >= CPU / 2).
        """
        assert self.proc is not None
        return sum(_cpu_ticks(pid) for pid in _descendants(self.proc.pid)) / _CLK_TCK

    def first_answer(self, client: Client, path: str, body: dict[str, Any], deadline_s: float) -> float:
        """Seconds from process start until `path` answers 200: polls while the port is still closed."""
        end = time.perf_counter() + deadline_s
        while time.perf_counter() < end:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start-up; see {self.log}")
            try:
                _, status, answer = client.post(path, body)
            except OSError:
                time.sleep(0.01)
                continue
            if status == 200:
                return time.perf_counter() - self.started
            if status not in (502, 503):
                raise RuntimeError(f"{self.name} answered {status} during start-up: {str(answer)[:300]}")
            time.sleep(0.01)
        raise TimeoutError(f"{self.name} did not answer {path} within {deadline_s:.0f} s; see {self.log}")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of one process (children count once they are reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().decode("ascii", "replace").rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(value) for value in fields[11:15])


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(call: Callable[[], float], calls: int, budget_s: float) -> list[float]:
    """Seconds per call: at least one call, at most `calls`, and no new call once `budget_s` is spent."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < calls and (not times or time.perf_counter() - started < budget_s):
        times.append(call())
    return times


def median_ms(times: list[float]) -> float | None:
    return statistics.median(times) * 1000 if times else None


def poll_until(check: Callable[[], bool], timeout_s: float, pause_s: float = 0.005) -> float | None:
    """Seconds until check() is true (polled every `pause_s`), or None after `timeout_s`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if check():
            return time.perf_counter() - started
        time.sleep(pause_s)
    return None
