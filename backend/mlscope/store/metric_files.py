"""Metric files: one ``ts value [step [dataset name ... digest]]`` line per logged point.

Parsed leniently (2, 3, 5 or more fields; NaN and infinities), never as
FileStore's buggy 5-field reader does; "latest" is MLflow's max by (step,
timestamp, value), not the last line. A line after the last newline is still
being written and is left for the next read.
"""

from __future__ import annotations

from pathlib import Path

from .errors import MalformedError
from .model import Metric
from .paths import key_files


def parse_metric_line(key: str, line: str) -> Metric:
    """One metric line: ``ts value [step [dataset name ... digest]]``.

    Step is always the third field when present (FileStore reads step 0 for
    5-field lines: a bug we do not copy); a dataset name may contain spaces.
    """
    parts = line.split()
    count = len(parts)
    if count < 2:
        raise MalformedError(f"metric '{key}' has a line with {count} field(s): {line[:80]!r}")
    try:
        timestamp = int(parts[0])
        value = float(parts[1])
        step = int(parts[2]) if count >= 3 else 0
    except ValueError:
        raise MalformedError(f"metric '{key}' has an unreadable line: {line[:80]!r}") from None
    if count >= 5:
        return Metric(key, value, timestamp, step, " ".join(parts[3:-1]), parts[-1])
    return Metric(key, value, timestamp, step)


def parse_metric_lines(key: str, text: str) -> list[Metric]:
    """Every complete line of a metric file's text (a torn last line is ignored)."""
    return [parse_metric_line(key, line) for line in text.split("\n") if line.strip()]


def whole_lines(data: bytes) -> bytes:
    """Complete lines of a metric file: a writer appends ``line\\n`` in one go, so text after the
    last newline is a line still being written. A file of one line without a newline (1.x) counts
    as complete."""
    end = data.rfind(b"\n") + 1
    return data[:end] if end else data


def latest_of(points: list[Metric]) -> Metric | None:
    """MLflow's 'latest' value: max by (step, timestamp, value), NaN compared as NaN-last."""
    best: Metric | None = None
    best_key: tuple[int, int, float] | None = None
    for point in points:
        value = point.value
        key = (point.step, point.timestamp, value if value == value else float("-inf"))
        if best_key is None or key > best_key:
            best, best_key = point, key
    return best


def read_metric_file(key: str, path: str) -> list[Metric]:
    return parse_metric_lines(key, whole_lines(_read_bytes(key, path)).decode("utf-8", errors="replace"))


def _read_bytes(key: str, path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise MalformedError(f"cannot read metric '{key}': {exc.strerror}") from None


def metric_columns(data: bytes) -> tuple[list[int], list[float], list[int]] | None:
    """(timestamps, values, steps) of complete ``ts value step`` lines, parsed column-wise in C.

    About 10x faster than line by line, which matters when the index reads
    100,000 metric files or a chart asks for a 100,000-point history. None
    when any line has another shape (2 or 5+ fields, blank lines, garbage):
    callers then use the line parser, which knows every variant and reports
    garbage.
    """
    tokens = data.split()
    if not tokens or len(tokens) != 3 * len(data.splitlines()):
        return None
    try:
        return list(map(int, tokens[0::3])), list(map(float, tokens[1::3])), list(map(int, tokens[2::3]))
    except ValueError:
        return None


def latest_in_lines(key: str, data: bytes) -> Metric | None:
    """The latest point of complete metric lines, without building every point."""
    columns = metric_columns(data)
    if columns is None:
        return latest_of(parse_metric_lines(key, data.decode("utf-8", errors="replace")))
    timestamps, values, steps = columns
    top = max(steps)
    if steps.count(top) == 1:
        best = steps.index(top)
    else:
        best = max((i for i, s in enumerate(steps) if s == top), key=lambda i: (timestamps[i], _nan_low(values[i])))
    return Metric(key, values[best], timestamps[best], top)


def _nan_low(value: float) -> float:
    return value if value == value else float("-inf")


def read_latest_metrics(metrics_dir: Path) -> dict[str, Metric]:
    latest: dict[str, Metric] = {}
    for key, path in key_files(metrics_dir):
        point = latest_in_lines(key, whole_lines(_read_bytes(key, path)))
        if point is not None:
            latest[key] = point
    return latest


def read_metric_history(run_dir: Path, key: str) -> list[Metric]:
    path = metric_path(run_dir, key)
    if path is None or not path.is_file():
        return []
    return read_metric_file(key, str(path))


def metric_path(run_dir: Path, key: str) -> Path | None:
    """The file for a metric key, or None when the key would leave metrics/."""
    if not key or key.startswith("/") or ".." in key.split("/") or "\\" in key or "\0" in key:
        return None
    return run_dir / "metrics" / key
