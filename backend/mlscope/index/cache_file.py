"""The index's persistent snapshot: one file per tree in the user's cache directory.

Where: ``$XDG_CACHE_HOME/mlscope/index/`` (else ``~/.cache/mlscope/index/``),
named by a hash of the tree's resolved path; never inside the tree.

Format: a magic line, a JSON header line, then the payload: records of
plain tuples, dicts, strings, numbers and bytes, one after the other, each
its length (8 bytes) then its ``marshal`` encoding (the snapshot's head,
slices of run records, its tail), so a save never holds the whole encoding
in memory (at 100,000 runs that was ~250 MB more). The header names the cache
format, the mlscope version, a digest of the reading code (so a change to how
files are parsed retires every cache), the Python version and marshal format
(marshal is only stable within one Python version), the tree's path, and the
payload's length and BLAKE2b digest. A file from another version, for another
tree, truncated or corrupted is refused with the reason, and the index is
built from the tree as on a first open.

Why marshal: it is the fastest way to load 100,000 runs' worth of plain data
(several times faster than json, and it keeps strings interned). It is not
meant for untrusted input; here the file lives in the user's own cache
directory (created private, 0700; files 0600), the payload is only loaded
after its digest matched, and what comes out is only ever read as data
(marshal cannot run code; every record is type-checked as it is used).

Writes are atomic (a temp file in the same directory, then rename), so a
reader sees the old cache or the new one, never half of one. The header's
length and digest are only known at the end: its line is reserved first
(padded with spaces, which JSON allows) and filled in before the rename.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import struct
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..user_cache import code_digest, private_file, user_cache_dir

FORMAT = 2
_FRAME = struct.Struct("<Q")  # a record's length, before it
MAGIC = b"mlscope index cache\n"
_READING_MODULES = ("index/run_reads.py", "index/layout.py", "index/snapshot.py", "store/reader.py",
                    "store/metric_files.py", "store/meta_yaml.py", "store/model.py")


def default_cache_dir() -> Path:
    return user_cache_dir("index")


@lru_cache(maxsize=1)
def reader_digest() -> str:
    """A digest of the code that decides what the cached records hold: change it and old caches retire."""
    return code_digest(_READING_MODULES)


class CacheRefused(Exception):
    """The cache file cannot be used; the message says why (shown in the log, then ignored)."""


class CacheFile:
    """The snapshot file of one tree."""

    def __init__(self, root: Path, directory: Path | None = None) -> None:
        self.root = str(root)
        self.directory = directory if directory is not None else default_cache_dir()
        self.path = self.directory / (hashlib.sha256(self.root.encode()).hexdigest()[:24] + ".idx")

    def header(self, payload: bytes) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "mlscope": __version__,
            "reader": reader_digest(),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "marshal": marshal.version,
            "root": self.root,
            "length": len(payload),
            "blake2b": hashlib.blake2b(payload, digest_size=32).hexdigest(),
        }

    def load(self) -> Any:
        """The payload, or CacheRefused naming why not (missing, other version or tree, truncated, corrupt)."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            raise CacheRefused("no cache yet") from None
        except OSError as exc:
            raise CacheRefused(f"cannot read {self.path}: {exc.strerror}") from None
        if not raw.startswith(MAGIC):
            raise CacheRefused("not an mlscope index cache")
        end = raw.find(b"\n", len(MAGIC))
        if end < 0:
            raise CacheRefused("truncated header")
        try:
            header = json.loads(raw[len(MAGIC) : end])
        except ValueError:
            raise CacheRefused("unreadable header") from None
        payload = raw[end + 1 :]
        expected = self.header(payload)
        for field in ("format", "mlscope", "reader", "python", "marshal", "root"):
            if not isinstance(header, dict) or header.get(field) != expected[field]:
                raise CacheRefused(f"made with another {field} ({header.get(field) if isinstance(header, dict) else '?'!r}, "
                                   f"now {expected[field]!r})")
        if header.get("length") != len(payload):
            raise CacheRefused(f"truncated ({len(payload)} of {header.get('length')} bytes)")
        if header.get("blake2b") != expected["blake2b"]:
            raise CacheRefused("corrupt (checksum mismatch)")
        try:
            return _records(payload)
        except (ValueError, EOFError, TypeError) as exc:
            raise CacheRefused(f"corrupt payload ({exc})") from None

    def save(self, records: Iterable[Any]) -> int:
        """Write the records (marshalled one by one as they come) atomically; returns the file's size in bytes."""
        header = self.header(b"")  # length and digest are replaced once every record is written
        reserved = len(json.dumps(header, sort_keys=True)) + 32  # room for the real length and digest
        with private_file(self.path) as handle:
            handle.write(MAGIC + b" " * reserved + b"\n")
            hasher, length = hashlib.blake2b(digest_size=32), 0
            for record in records:
                chunk = marshal.dumps(record)
                framed = _FRAME.pack(len(chunk)) + chunk
                hasher.update(framed)
                length += len(framed)
                handle.write(framed)
            text = json.dumps({**header, "length": length, "blake2b": hasher.hexdigest()}, sort_keys=True).encode()
            if len(text) > reserved:
                raise OSError(f"index cache header longer than reserved ({len(text)} > {reserved} bytes)")
            handle.seek(len(MAGIC))
            handle.write(text.ljust(reserved))
        return len(MAGIC) + reserved + 1 + length

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _records(payload: bytes) -> list[Any]:
    """The records of a payload, in order: each is its length (8 bytes) then its marshal encoding.

    (``marshal.load`` on a stream would find the ends itself, but reads a
    file object a few bytes per call: 5x slower than ``loads`` on a slice.)
    """
    view, position, records = memoryview(payload), 0, []
    while position < len(view):
        (size,) = _FRAME.unpack_from(view, position)
        position += _FRAME.size
        if position + size > len(view):
            raise ValueError("a record runs past the end of the payload")
        records.append(marshal.loads(view[position : position + size]))
        position += size
    return records
