"""`mlscope ui/server` stop within seconds whatever is in flight, finish the writes they can, and warn when exposed (issue 18)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.handmade import write_experiment, write_run

RUN = "a" * 32
API = "/api/2.0/mlflow"
# mlscope's CLI with runs/search stuck for ten minutes in its worker thread, as a runaway request would be.
STUCK_SEARCH = """
import sys, time
from mlscope.search.queries import RunQueries

def stuck(self, *args, **kwargs):
    deadline = time.time() + 600
    while time.time() < deadline:
        sum(range(10000))
    return [], None

RunQueries.page = stuck
from mlscope.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


class Served:
    """One ``mlscope`` process serving a tree on a free port; ``url`` once its first lines are printed."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.startswith("Open http://"):
                break
        self.printed = "".join(lines)
        port = re.search(r":(\d+) ", self.printed)
        assert port, self.printed + (self.proc.stderr.read() if self.proc.stderr else "")
        self.port = int(port.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("mlscope did not answer /health")

    def stop(self, sig: int, within: float) -> tuple[float, int, str]:
        """(seconds until the process ended, exit code, everything it wrote to stderr) after ``sig``."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            pytest.fail(f"still running {within} s after signal {sig}; stderr: {err[-2000:]}")
        return time.monotonic() - started, self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    write_run(write_experiment(root), RUN, name="r", metrics={"loss": "1 0.5 0\n"})
    return root


@pytest.fixture
def launch(tree: Path) -> Iterator:  # type: ignore[type-arg]
    """launch(*flags, stuck=False) starts ``mlscope ui`` on the tree (runs/search stuck in its thread when asked)."""
    started: list[Served] = []

    def run(*flags: str, stuck: bool = False, command: str = "ui") -> Served:
        python = [sys.executable, "-c", STUCK_SEARCH] if stuck else [sys.executable, "-m", "mlscope.cli.main"]
        served = Served([*python, command, "--backend-store-uri", str(tree), "--port", "0", "--no-index-cache", *flags])
        started.append(served)
        return served

    yield run
    for served in started:
        served.kill()


def _start_stuck_search(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=30)
    body = json.dumps({"experiment_ids": ["1"]}).encode()
    sock.sendall(b"POST " + API.encode() + b"/runs/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    time.sleep(1.0)  # the search is now running in its worker thread
    return sock


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_server_stuck_in_a_request_stops_within_seconds_without_a_traceback(launch, sig: int) -> None:  # type: ignore[no-untyped-def]
    served = launch(stuck=True)
    with _start_stuck_search(served):
        seconds, code, err = served.stop(sig, within=20)
    assert seconds < 8, seconds
    assert "Traceback" not in err, err[-2000:]
    assert code in (0, 128 + sig, -sig)  # Ctrl-C exits 0; SIGTERM ends the process as SIGTERM does


def test_a_write_in_flight_when_the_server_is_stopped_still_lands(launch, tree: Path) -> None:  # type: ignore[no-untyped-def]
    served = launch(command="server")
    body = json.dumps({"run_id": RUN, "key": "late", "value": 2.5, "timestamp": 7, "step": 3}).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"POST " + API.encode() + b"/runs/log-metric HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        time.sleep(0.5)
        served.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[10:])  # the rest arrives after the stop signal, within the graceful period
        answer = sock.recv(65536).decode()
    seconds, _, err = served.stop(signal.SIGTERM, within=20)
    assert answer.startswith("HTTP/1.1 200"), answer
    assert (tree / "1" / RUN / "metrics" / "late").read_text() == "7 2.5 3\n"
    assert "Traceback" not in err


# ------------------------------------------------------------------ exposure warnings


def test_binding_every_interface_warns_that_anyone_can_write_and_which_hosts_are_refused(launch) -> None:  # type: ignore[no-untyped-def]
    served = launch("--host", "0.0.0.0")
    _, _, err = served.stop(signal.SIGINT, within=20)
    warning = [line for line in err.splitlines() if line.startswith("mlscope: warning:")]
    assert len(warning) == 1, err
    assert "0.0.0.0" in warning[0] and "without authentication" in warning[0] and "read and write" in warning[0]
    assert f"http://{socket.gethostname()}:{served.port}" in warning[0] and "refused" in warning[0] and "--allowed-hosts" in warning[0]


def test_a_read_only_server_on_every_interface_says_it_can_only_be_read(launch) -> None:  # type: ignore[no-untyped-def]
    served = launch("--host", "0.0.0.0", "--read-only")
    _, _, err = served.stop(signal.SIGINT, within=20)
    assert "anyone who can reach this port can read this tree" in err


def test_binding_loopback_prints_no_warning(launch) -> None:  # type: ignore[no-untyped-def]
    served = launch()
    _, _, err = served.stop(signal.SIGINT, within=20)
    assert "warning" not in err


def test_a_request_naming_the_machine_is_refused_as_the_warning_says(launch) -> None:  # type: ignore[no-untyped-def]
    served = launch("--host", "0.0.0.0")
    response = httpx.get(served.url + "/health", headers={"Host": f"{socket.gethostname()}:{served.port}"}, timeout=10)
    assert response.status_code == 400


def test_allowed_hosts_lets_the_machines_name_through_and_the_warning_lists_it(launch) -> None:  # type: ignore[no-untyped-def]
    name = socket.gethostname()
    served = launch("--host", "0.0.0.0", "--allowed-hosts", name)
    response = httpx.get(served.url + "/health", headers={"Host": f"{name}:{served.port}"}, timeout=10)
    _, _, err = served.stop(signal.SIGINT, within=20)
    assert response.status_code == 200
    assert f"Host is localhost, {name} are answered" in err
