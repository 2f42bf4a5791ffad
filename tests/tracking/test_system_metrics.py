"""``start_run(log_system_metrics=True)`` logs MLflow's ``system/*`` metrics at increasing steps until the run ends."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import mlscope

# The metrics MLflow's CPU, disk and network monitors log (mlflow/system_metrics/metrics/*.py).
MLFLOW_SYSTEM_METRICS = {
    "system/cpu_utilization_percentage", "system/system_memory_usage_megabytes", "system/system_memory_usage_percentage",
    "system/disk_usage_percentage", "system/disk_usage_megabytes", "system/disk_available_megabytes",
    "system/network_receive_megabytes", "system/network_transmit_megabytes",
}  # fmt: skip


@pytest.fixture
def fast_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.05")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", "2")


def wait_for_steps(run_id: str, steps: int) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        history = mlscope.MlflowClient().get_metric_history(run_id, "system/cpu_utilization_percentage")
        if len(history) >= steps:
            return
        time.sleep(0.05)
    raise AssertionError("no system metrics were logged")


def test_system_metrics_are_logged_under_mlflows_names_at_increasing_steps(root: Path, fast_sampling: None) -> None:
    with mlscope.start_run(log_system_metrics=True) as run:
        wait_for_steps(run.info.run_id, 3)
    metrics = mlscope.get_run(run.info.run_id).data.metrics
    assert set(metrics) == MLFLOW_SYSTEM_METRICS
    assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100 and metrics["system/disk_available_megabytes"] > 0
    steps = [m.step for m in mlscope.MlflowClient().get_metric_history(run.info.run_id, "system/disk_usage_percentage")]
    assert steps == list(range(len(steps))) and len(steps) >= 3


def test_logging_stops_when_the_run_ends(root: Path, fast_sampling: None) -> None:
    with mlscope.start_run(log_system_metrics=True) as run:
        wait_for_steps(run.info.run_id, 1)
    count = len(mlscope.MlflowClient().get_metric_history(run.info.run_id, "system/cpu_utilization_percentage"))
    time.sleep(0.4)
    assert len(mlscope.MlflowClient().get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")) == count


def test_enable_system_metrics_logging_turns_it_on_for_new_runs(root: Path, fast_sampling: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", raising=False)
    mlscope.enable_system_metrics_logging()
    try:
        with mlscope.start_run() as run:
            wait_for_steps(run.info.run_id, 1)
    finally:
        mlscope.disable_system_metrics_logging()
    with mlscope.start_run() as quiet:
        time.sleep(0.2)
    assert mlscope.get_run(quiet.info.run_id).data.metrics == {}
