"""System metrics for ``start_run(log_system_metrics=True)``: MLflow's ``system/*`` metrics from a background thread.

Every ``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL`` seconds (10) a sample is taken;
every ``MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING`` samples (1) their mean is
logged at the next step, under MLflow's names. psutil is used when installed;
on Linux without it the same figures are read from /proc.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from typing import Any

from .validation import MlscopeException

_monitors: dict[str, Monitor] = {}
_lock = threading.Lock()


def _proc_cpu_times() -> tuple[float, float]:
    with open("/proc/stat", encoding="ascii") as handle:
        values = [float(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)
    return sum(values), idle


class Sampler:
    """One reading of CPU, memory, disk and network, from psutil or /proc."""

    def __init__(self) -> None:
        try:
            import psutil
        except ImportError:
            psutil = None
        if psutil is None and not os.path.exists("/proc/stat"):
            raise MlscopeException(
                "Failed to start system metrics monitoring as package `psutil` is not installed. Please run "
                "`pip install psutil` to resolve the issue, otherwise you can disable system metrics logging by "
                "passing `log_system_metrics=False` to `start_run()`."
            )
        self.psutil = psutil
        self._cpu = _proc_cpu_times() if psutil is None else None
        self._net0 = self._net()

    def _net(self) -> tuple[float, float]:
        if self.psutil is not None:
            counters = self.psutil.net_io_counters()
            return counters.bytes_recv / 1e6, counters.bytes_sent / 1e6
        received = sent = 0.0
        with open("/proc/net/dev", encoding="ascii") as handle:
            for line in handle.readlines()[2:]:
                fields = line.split(":", 1)[1].split()
                received, sent = received + float(fields[0]), sent + float(fields[8])
        return received / 1e6, sent / 1e6

    def _cpu_percent(self) -> float:
        if self.psutil is not None:
            return float(self.psutil.cpu_percent())
        total, idle = _proc_cpu_times()
        assert self._cpu is not None
        busy = (total - self._cpu[0]) - (idle - self._cpu[1])
        span = total - self._cpu[0]
        self._cpu = (total, idle)
        return 100.0 * busy / span if span > 0 else 0.0

    def _memory(self) -> tuple[float, float]:
        if self.psutil is not None:
            memory = self.psutil.virtual_memory()
            return memory.used / 1e6, memory.used / memory.total * 100
        info: dict[str, float] = {}
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                name, value = line.split(":", 1)
                info[name] = float(value.split()[0]) * 1024
        used = info["MemTotal"] - info.get("MemAvailable", info.get("MemFree", 0.0))
        return used / 1e6, used / info["MemTotal"] * 100

    def sample(self) -> dict[str, float]:
        used, percent = self._memory()
        disk = shutil.disk_usage(os.sep)
        received, sent = self._net()
        return {
            "cpu_utilization_percentage": self._cpu_percent(),
            "system_memory_usage_megabytes": used,
            "system_memory_usage_percentage": percent,
            "disk_usage_percentage": round(disk.used / disk.total * 100, 1),
            "disk_usage_megabytes": disk.used / 1e6,
            "disk_available_megabytes": disk.free / 1e6,
            "network_receive_megabytes": received - self._net0[0],
            "network_transmit_megabytes": sent - self._net0[1],
        }


class Monitor(threading.Thread):
    def __init__(self, client: Any, run_id: str) -> None:
        super().__init__(name=f"mlscope-system-metrics-{run_id[:8]}", daemon=True)
        self.client, self.run_id = client, run_id
        self.interval = float(os.environ.get("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL") or 10)
        self.samples = int(os.environ.get("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING") or 1)
        self.sampler = Sampler()
        self.stopped = threading.Event()
        self.step = 0

    def run(self) -> None:
        while not self.stopped.is_set():
            readings: list[dict[str, float]] = []
            for _ in range(self.samples):
                if self.stopped.wait(self.interval):
                    return
                readings.append(self.sampler.sample())
            mean = {key: round(sum(r[key] for r in readings) / len(readings), 1) for key in readings[0]}
            points = [(f"system/{key}", value, int(time.time() * 1000), self.step) for key, value in mean.items()]
            try:
                self.client.log_batch(self.run_id, metrics=points)
            except MlscopeException:
                return  # the run was deleted or the server went away: stop quietly, as MLflow's monitor does
            self.step += 1


def start_monitor(client: Any, run_id: str) -> None:
    monitor = Monitor(client, run_id)
    with _lock:
        _monitors[run_id] = monitor
    monitor.start()


def stop_monitor(run_id: str) -> None:
    with _lock:
        monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stopped.set()
        monitor.join(timeout=5)
