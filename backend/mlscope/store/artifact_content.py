"""Reading artifact files for previews, bounded: a CSV's first rows, a parsed JSON/YAML value, a text chunk.

A CSV is parsed row by row with the ``csv`` module, so a 1 GB file costs the
first N rows plus a bounded counting pass. JSON/YAML are parsed only below a
size limit, and the parsed value is made JSON-safe with a node budget (a YAML
alias bomb cannot expand into gigabytes of response). Text chunks never split
a UTF-8 character.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path
from typing import Any

import yaml

COUNT_BYTES = 32 * 1024 * 1024  # rows past the preview are counted up to here (or COUNT_SECONDS), then estimated
COUNT_SECONDS = 0.4
MAX_CELL = 10_000  # characters kept per cell in the preview
MAX_PARSE_BYTES = 16 * 1024 * 1024
MAX_NODES = 300_000
MAX_DEPTH = 200

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


SNIFF_BYTES = 8192


def read_table(path: Path, limit: int, delimiter: str | None) -> dict[str, Any]:
    """Header + first ``limit`` rows, and the row count (exact, or estimated past COUNT_BYTES)."""
    size = path.stat().st_size
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        if delimiter is None:
            sample = text.read(64 * 1024)
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
            except csv.Error:
                delimiter = ","
            text.detach()  # keep `raw` open: a dropped wrapper would close it
            raw.seek(0)
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        columns: list[str] = []
        rows: list[list[str]] = []
        counted = 0
        exact = True
        error = None
        deadline = time.monotonic() + COUNT_SECONDS
        try:
            columns = [cell[:MAX_CELL] for cell in next(reader, [])]
            for row in reader:
                counted += 1
                if len(rows) < limit:
                    rows.append([cell[:MAX_CELL] for cell in row])
                elif counted % 2048 == 0 and (raw.tell() > COUNT_BYTES or time.monotonic() > deadline):
                    exact = raw.tell() >= size
                    break
        except csv.Error as exc:
            error = f"line {reader.line_num}: {exc}"
            exact = False
        consumed = raw.tell()
    width = max([len(columns), *(len(r) for r in rows)]) if rows or columns else 0
    columns += [f"column {i + 1}" for i in range(len(columns), width)]
    estimate = counted if exact or consumed == 0 else round(counted * size / consumed)
    return {
        "columns": columns,
        "rows": [r + [""] * (width - len(r)) for r in rows],
        "row_count": estimate,
        "row_count_exact": exact and error is None,
        "delimiter": delimiter,
        "size": size,
        "error": error,
    }


class _TooBig(Exception):
    pass


def json_safe(value: Any) -> Any:
    """The parsed value as plain JSON: non-finite floats as strings, other YAML types as text.

    Walks with a node and depth budget so shared YAML aliases cannot blow up.
    """
    budget = [MAX_NODES]

    def walk(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise _TooBig
        if item is None or isinstance(item, bool | int | str):
            return item
        if isinstance(item, float):
            return (
                item
                if math.isfinite(item)
                else ("NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity")
            )
        if isinstance(item, dict):
            return {str(k): walk(v, depth + 1) for k, v in item.items()}
        if isinstance(item, list | tuple | set):
            return [walk(v, depth + 1) for v in item]
        if isinstance(item, bytes):
            return f"<{len(item)} bytes>"
        return str(item)

    return walk(value, 0)


def _parse_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


def parse_structured(path: Path, fmt: str) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_PARSE_BYTES:
        return {"format": fmt, "size": size, "too_large": True, "limit": MAX_PARSE_BYTES}
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        value = json.loads(text) if fmt == "json" else yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except (ValueError, yaml.YAMLError) as exc:
        return {"format": fmt, "size": size, "error": _parse_error(exc)}
    except RecursionError:
        return {"format": fmt, "size": size, "error": "nested too deeply to parse"}
    try:
        return {"format": fmt, "size": size, "value": json_safe(value)}
    except _TooBig:
        return {"format": fmt, "size": size, "too_large": True, "limit": MAX_PARSE_BYTES}


def _align_start(data: bytes) -> int:
    """Skip UTF-8 continuation bytes at the start of a chunk that began mid-character."""
    skip = 0
    while skip < min(3, len(data)) and (data[skip] & 0xC0) == 0x80:
        skip += 1
    return skip


def _complete_end(data: bytes) -> int:
    """Length of ``data`` without a trailing, incomplete UTF-8 sequence."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:
            continue
        if byte & 0x80 == 0:
            return len(data)
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
        return len(data) if back >= need else len(data) - back
    return len(data)


def read_text_chunk(path: Path, offset: int, length: int, tail: bool) -> dict[str, Any]:
    """At most ``length`` bytes from ``offset`` (or the file's end when tailing) as text.

    Tails start at a line boundary; chunks never split a UTF-8 character, so
    ``end`` is where the next chunk starts. Files with NUL bytes are binary.
    """
    stat = path.stat()
    size = stat.st_size
    if tail:
        offset = max(0, size - length)
    offset = min(offset, size)
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    start = 0
    if tail and offset > 0:
        newline = data.find(b"\n")
        start = newline + 1 if 0 <= newline < len(data) - 1 else _align_start(data)
    elif offset > 0:
        start = _align_start(data)
    end_in_chunk = len(data) if offset + len(data) >= size else _complete_end(data)
    body = data[start:end_in_chunk]
    binary = offset == 0 and b"\x00" in data[:SNIFF_BYTES]
    return {
        "size": size,
        "mtime": int(stat.st_mtime * 1000),
        "offset": offset + start,
        "end": offset + end_in_chunk,
        "eof": offset + end_in_chunk >= size,
        "binary": binary,
        "text": "" if binary else body.decode("utf-8", errors="replace"),
    }
