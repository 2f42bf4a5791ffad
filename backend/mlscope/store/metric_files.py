"""Metric files: one ``ts value [step [dataset name ... digest]]`` line per logged point.

Parsed leniently (2, 3, 5 or more fields; NaN and infinities), never as
FileStore's buggy 5-field reader does; "latest" is MLflow's max by (step,
timestamp, value), not the last line. A line after the last newline is still
being written and is left for the next read.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from .errors import MalformedError
from .model import Metric
from .paths import key_files
from .tree_names import disk_name

# What one run may cost (issue 18): a metric file past this (~25 million points; a 2 GB sparse file in a damaged
# tree) is reported as a problem instead of read whole into memory, by the index and by the history cache alike.
MAX_METRIC_FILE_BYTES = 1 << 30


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1  # MLflow's timestamps and steps are int64 (its REST and SQL stores)


def too_large(key: str, size: int) -> MalformedError:
    return MalformedError(f"metric '{key}' file is {size:,} bytes; mlscope reads metric files of at most {MAX_METRIC_FILE_BYTES:,} bytes")


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
    if not (INT64_MIN <= timestamp <= INT64_MAX and INT64_MIN <= step <= INT64_MAX):
        raise MalformedError(f"metric '{key}' has a timestamp or step outside 64-bit integers: {line[:80]!r}")
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


def _plain_line_count(data: bytes, tokens: list[bytes]) -> int:
    """How many ``ts value step`` lines data holds when every line has that plain shape, else 0.

    Three tokens and two single spaces per line (counted in C): a file whose
    lines have other shapes (2 or 5+ fields, tabs, blank lines) gives 0 and
    goes to the line parser, which knows every variant and reports garbage.
    """
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if not tokens or len(tokens) != 3 * lines or data.count(b" ") != 2 * lines:
        return 0
    return lines


def metric_columns(data: bytes) -> tuple[list[int], list[float], list[int]] | None:
    """(timestamps, values, steps) of complete ``ts value step`` lines, parsed column-wise in C.

    About 10x faster than line by line, which matters when a chart asks for a
    100,000-point history. None when any line has another shape: callers then
    use the line parser.
    """
    tokens = data.split()
    if not _plain_line_count(data, tokens):
        return None
    try:
        return list(map(int, tokens[0::3])), list(map(float, tokens[1::3])), list(map(int, tokens[2::3]))
    except ValueError:
        return None


_DECIMAL_CHARS = b"0123456789.+-eE"  # all a finite float's text needs; anything else is checked by float()

Point = tuple  # (value, timestamp, step) or (value, timestamp, step, dataset_name, dataset_digest)


def latest_point(key: str, data: bytes) -> Point | None:
    """The latest point of complete metric lines as a plain tuple, without building every point.

    The index reads every metric file of every run on first open, so the
    common file (plain ``ts value step`` lines) is checked and parsed
    column-wise in C: timestamps must be digits and only the steps are kept.
    Values are checked in one C pass for characters no finite float's text
    lacks (digits, sign, point, exponent); a file with any other character
    (nan, inf, garbage) has every value parsed, as in the line parser. So a
    value like ``1.2.3`` (only from a hand-damaged file) is not caught here but
    when the history is read. Anything else goes through the line parser, which
    raises MalformedError on garbage exactly as before.
    """
    tokens = data.split()
    if _plain_line_count(data, tokens) and b"".join(tokens[0::3]).isdigit():
        values = tokens[1::3]
        try:
            if b"".join(values).translate(None, _DECIMAL_CHARS):
                deque(map(float, values), 0)  # letters (nan, inf, garbage): every value must parse, as in the line parser
            steps = list(map(int, tokens[2::3]))
            if steps:
                top = max(steps)
                best = steps.index(top)
                if steps.count(top) > 1:
                    ties = [i for i, s in enumerate(steps) if s == top]
                    best = max(ties, key=lambda i: (int(tokens[3 * i]), _nan_low(float(values[i]))))
                return (float(values[best]), int(tokens[3 * best]), top)
        except ValueError:
            pass  # the line parser says which line is wrong
    best_metric = latest_of(parse_metric_lines(key, data.decode("utf-8", errors="replace")))
    if best_metric is None:
        return None
    if best_metric.dataset_name is not None:
        return (best_metric.value, best_metric.timestamp, best_metric.step, best_metric.dataset_name, best_metric.dataset_digest)
    return (best_metric.value, best_metric.timestamp, best_metric.step)


def later_point(a: Point | None, b: Point | None) -> Point | None:
    """The later of two latest points by MLflow's rule (step, timestamp, value; NaN lowest)."""
    if a is None or b is None:
        return a if b is None else b
    return a if (a[2], a[1], _nan_low(a[0])) >= (b[2], b[1], _nan_low(b[0])) else b


def metric_of(key: str, point: Point) -> Metric:
    return Metric(key, *point)


def latest_in_lines(key: str, data: bytes) -> Metric | None:
    """The latest point of complete metric lines, without building every point."""
    point = latest_point(key, data)
    return None if point is None else Metric(key, *point)


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
    key = disk_name(key)  # a served name whose undecodable bytes read \xNN
    if not key or key.startswith("/") or ".." in key.split("/") or "\\" in key or "\0" in key:
        return None
    return run_dir / "metrics" / key
