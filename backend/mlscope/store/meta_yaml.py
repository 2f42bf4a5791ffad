"""Reading MLflow's meta.yaml files: a fast path for the flat files MLflow writes, PyYAML for the rest."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import MalformedError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# MLflow's meta.yaml files are a few KB (a dataset's schema and profile at most a few MB).
MAX_YAML_BYTES = 16 << 20


# Opened without following a final symlink (a crafted meta.yaml -> /etc/... is never read) and without blocking on
# a FIFO; only a regular file of at most MAX_YAML_BYTES is read (a 2 GB sparse file is refused from its stat).
_SAFE_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def read_bytes(path: Path | str) -> bytes:
    """A whole small file through os.open/os.read: half the cost of open().read() for the index's many tiny files.

    MalformedError when it is not a regular file or is larger than MAX_YAML_BYTES.
    """
    fd = os.open(path, _SAFE_OPEN)
    try:
        st = os.fstat(fd)
        name = os.path.basename(path)
        if not stat.S_ISREG(st.st_mode):
            raise MalformedError(f"{name} is not a regular file")
        if st.st_size > MAX_YAML_BYTES:
            raise MalformedError(f"{name} is too large ({st.st_size:,} bytes; at most {MAX_YAML_BYTES:,})")
        chunks = [os.read(fd, 65536)]
        total = len(chunks[0])
        if total == 65536:
            while total <= MAX_YAML_BYTES and (chunk := os.read(fd, 1 << 20)):
                chunks.append(chunk)
                total += len(chunk)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_yaml(path: Path | str) -> dict[str, Any]:
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        raise MalformedError(f"{os.path.basename(path)} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MalformedError(f"{os.path.basename(path)} is a symlink (mlscope does not follow it)") from None
        raise MalformedError(f"cannot read {os.path.basename(path)}: {exc.strerror}") from None
    return parse_yaml(raw, os.path.basename(path))


def parse_yaml(raw: bytes, name: str = "meta.yaml") -> dict[str, Any]:
    """A meta.yaml's mapping; MalformedError naming the file when it is not one."""
    if len(raw) > MAX_YAML_BYTES:
        raise MalformedError(f"{name} is too large ({len(raw):,} bytes; at most {MAX_YAML_BYTES:,})")
    data = flat_yaml(raw)
    if data is None:
        try:
            if b"*" in raw and any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(raw, Loader=_Loader)):
                raise MalformedError(f"{name} uses YAML aliases, which MLflow never writes (refused: an alias bomb)")
            data = yaml.load(raw, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise MalformedError(f"{name} is not valid YAML: {_first_line(exc)}") from None
    if not isinstance(data, dict) or not data:
        raise MalformedError(f"{name} is empty or not a mapping (half-written?)")
    return data


_FLAT_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?")
_NESTED_LINE = re.compile(r"  ([A-Za-z_][A-Za-z0-9_.\-]*):(?: (.*))?")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
_EMPTY_COLLECTIONS = ("[]", "{}")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`<= \t")  # a plain scalar starting with these: let PyYAML decide
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers  # first char -> [(tag, regexp)]: what PyYAML reads as non-strings
_NOT_PLAIN = object()


def flat_yaml(raw: bytes) -> dict[str, Any] | None:
    """meta.yaml as MLflow writes it, about 10x faster than PyYAML; None means "ask PyYAML".

    Cold start reads 10,000 of these before the first page. Understood: one
    ``key: scalar`` per line (plain strings, single-quoted strings, decimal
    integers, null, true/false, [] and {}), and one level of nested mapping
    indented by two spaces (the ``tags:`` of a dataset input). Anything else
    (double quotes, lists, continuation lines, floats, dates, octal-looking
    numbers, odd whitespace) returns None so PyYAML decides: what this
    accepts, it reads exactly as PyYAML does.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    data: dict[str, Any] = {}
    block: dict[str, Any] | None = None  # the nested mapping being filled
    block_key = ""
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] == " ":
            nested = _NESTED_LINE.fullmatch(line)
            if nested is None or not block_key or nested.group(1) in (block or {}) or _scalar(nested.group(1)) != nested.group(1):
                return None
            value = _scalar(nested.group(2) or "")
            if value is _NOT_PLAIN:
                return None
            if block is None:
                block = data[block_key] = {}
            block[nested.group(1)] = value
            continue
        read = _LINES.get(line)
        if read is None:
            read = _flat_line(line)
            if read is None:
                return None
            _remember(line, read)
        key, value, opens_block = read
        if key in data:
            return None
        data[key] = value if value.__class__ is not _Fresh else value.make()
        block, block_key = None, key if opens_block else ""
    return data


class _Fresh:
    """A remembered empty list or dict: each read gets its own (callers may fill it)."""

    __slots__ = ("make",)

    def __init__(self, make: type) -> None:
        self.make = make


_FRESH_LIST, _FRESH_DICT = _Fresh(list), _Fresh(dict)

# Most lines of a tree's meta.yaml files repeat (status: 3, lifecycle_stage: active, tags: [], an experiment's
# id): a line seen twice is remembered parsed. Run ids, names and times are seen once; a bounded set of lines
# seen once keeps them out of the memo. Both are dropped and refilled when full.
_MAX_LINES = 8192
_LINES: dict[str, tuple[str, Any, bool]] = {}
_SEEN_ONCE: set[str] = set()
_PLAIN_KEYS: set[str] = set()  # keys already checked to read back as themselves


def _remember(line: str, read: tuple[str, Any, bool]) -> None:
    if line not in _SEEN_ONCE:
        if len(_SEEN_ONCE) >= _MAX_LINES:
            _SEEN_ONCE.clear()
        _SEEN_ONCE.add(line)
        return
    if len(_LINES) >= _MAX_LINES:
        _LINES.clear()
    _LINES[line] = read


def _flat_line(line: str) -> tuple[str, Any, bool] | None:
    """(key, value, opens a nested block) of one top-level ``key: scalar`` line; None means "ask PyYAML"."""
    match = _FLAT_LINE.fullmatch(line)
    if match is None:
        return None
    key, raw_value = match.group(1, 2)
    if key not in _PLAIN_KEYS:
        if _scalar(key) != key:
            return None
        if len(_PLAIN_KEYS) < _MAX_LINES:
            _PLAIN_KEYS.add(key)
    value = _scalar(raw_value or "")
    if value is _NOT_PLAIN:
        return None
    if value.__class__ is list or value.__class__ is dict:
        value = _FRESH_LIST if value.__class__ is list else _FRESH_DICT
    return key, value, not raw_value


def _scalar(value: str) -> Any:
    """A plain YAML scalar as PyYAML's safe loader reads it, or _NOT_PLAIN when unsure.

    PyYAML's own implicit resolvers say which plain scalars are not strings
    (null, booleans, numbers, dates); of those only null, true/false and
    decimal integers are read here.
    """
    if not value:
        return None
    if value in _EMPTY_COLLECTIONS:
        return [] if value == "[]" else {}
    first = value[0]
    if first == "'":
        if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", "") or not value.isprintable():
            return _NOT_PLAIN
        return value[1:-1].replace("''", "'")
    if first in _INDICATORS or value[-1] in " :" or ": " in value or " #" in value or not value.isprintable():
        return _NOT_PLAIN
    for tag, regexp in _RESOLVERS.get(first, ()):
        if regexp.match(value):
            if tag.endswith(":int") and _DECIMAL.fullmatch(value):
                return int(value)
            if tag.endswith(":null"):
                return None
            if tag.endswith(":bool") and value in ("true", "false"):
                return value == "true"
            return _NOT_PLAIN
    return value


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
