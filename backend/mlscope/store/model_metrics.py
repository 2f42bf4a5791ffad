"""A logged model's metrics: ``<exp>/models/<id>/metrics/<key>``, one ``ts value step run_id [dataset digest]`` line per point.

MLflow's FileStore appends there when a metric is logged with a ``model_id``
and reports, per key, the latest point of each (dataset name, digest) group,
latest being the max by (step, timestamp, value) as for runs. Lines are read
leniently (3 fields: no run id; a dataset name with spaces) instead of
failing the whole model, and a torn last line is left for the next read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .metric_files import whole_lines
from .model import ModelMetric
from .paths import key_files

_SAFE_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # no symlinks out, no FIFO waits


def parse_model_metric_line(key: str, line: str) -> ModelMetric | None:
    """One line, or None when it is not one MLflow could have written."""
    parts = line.split()
    if len(parts) < 3:
        return None
    try:
        timestamp, value, step = int(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        return None
    run_id = parts[3] if len(parts) >= 4 else None
    if len(parts) >= 6:
        return ModelMetric(key, value, timestamp, step, run_id, " ".join(parts[4:-1]), parts[-1])
    return ModelMetric(key, value, timestamp, step, run_id)


def latest_by_dataset(points: list[ModelMetric]) -> list[ModelMetric]:
    """The latest point of each (dataset name, digest) group, groups in the order they first appear.

    Python's max by (step, timestamp, value), as FileStore takes it: at equal step and time a NaN never
    compares greater or smaller, so the earlier line of the two stays.
    """
    best: dict[tuple[str | None, str | None], ModelMetric] = {}
    for point in points:
        group = (point.dataset_name, point.dataset_digest)
        current = best.get(group)
        if current is None or (point.step, point.timestamp, point.value) > (current.step, current.timestamp, current.value):
            best[group] = point
    return list(best.values())


def read_model_metrics(metrics_dir: Path) -> tuple[ModelMetric, ...]:
    """Every key's latest points; a file that cannot be read or holds no line adds nothing."""
    found: list[ModelMetric] = []
    for key, path in key_files(metrics_dir):
        data = _read_regular_file(path)
        if data is None:
            continue
        lines = whole_lines(data).decode("utf-8", errors="replace").split("\n")
        points = [p for p in (parse_model_metric_line(key, line) for line in lines if line.strip()) if p is not None]
        found.extend(latest_by_dataset(points))
    return tuple(found)


def _read_regular_file(path: str) -> bytes | None:
    try:
        fd = os.open(path, _SAFE_OPEN)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)
