"""Reduced histories kept on disk per metric-file version, so a server start does not parse metric files again.

A chart grid of 100 runs x 20 metrics asks for 2,000 reduced series; parsing
their 10,000-line files costs ~5 ms each in Python, and every server start
used to pay it again. What a chart needs of a file is small (a few hundred
points reduced for a chart width, or a run's 512-bucket grouping summary), so
those reductions are written to the user's cache directory next to the index
cache (``$XDG_CACHE_HOME/mlscope/histories/``, never inside the tree) and read
back after a restart for the price of one small file.

One file per metric file, named by a hash of its absolute path, holding the
metric file's stat signature (mtime_ns, size, inode) and a dict of reductions
(entry key -> plain tuples of numbers and bytes). An entry is served only
when the signature still matches the metric file's: a file appended,
truncated or replaced since has another signature, so its reductions are
dropped and computed from the file again (whole, as after any restart: only
reductions are kept here, not the parsed points). The in-memory caches
(sampled.py, grouping.py) stay in front: the disk is read on their misses.

Format: a magic line, a 32-byte BLAKE2b digest of the body, then the body
(``marshal`` of (format, code digest, path, signature, entries)). The code
digest covers the modules that decide what a reduction holds and the Python
and marshal versions, so a change to them retires every file. A file that is
truncated, corrupt, from another version or for another path is ignored (a
miss) and rewritten; marshal is only loaded after the digest matched, and what
comes out is type-checked before use. Writes are atomic (temp file + rename)
and happen on a background thread, so a request never waits for the disk;
two server processes writing one file leave one of the two whole versions.
Total size is bounded (``max_bytes``): a pass on first use removes the least
recently written files beyond it.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import queue
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..index.signatures import MISSING, Signature
from ..user_cache import code_digest as modules_digest
from ..user_cache import user_cache_dir, write_private

FORMAT = 1
MAGIC = b"mlscope reduced histories\n"
DIGEST_BYTES = 32
DEFAULT_MAX_BYTES = 512 << 20  # the whole store (a 10,000-run tree's first screens are a few MB)
MAX_PENDING = 4096  # writes queued at most; beyond that a reduction is simply not persisted
MAX_ENTRIES = 16  # reductions kept per metric file (axes x widths); the oldest written go first
_CODE_MODULES = ("history/disk.py", "history/cache.py", "history/downsample.py", "history/sampled.py",
                 "history/grouping.py", "store/metric_files.py", "server/ui/histories.py")  # the last: the JSON kept shaped

Entries = dict[Any, Any]


def default_directory() -> Path:
    return user_cache_dir("histories")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code that decides what a kept reduction holds (and of the marshal format)."""
    return modules_digest(_CODE_MODULES, f"{__version__} {sys.version_info[0]}.{sys.version_info[1]} {marshal.version}")


class SeriesStore:
    """Reductions of metric files by (absolute path, signature, entry key); thread-safe."""

    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES, background: bool = True) -> None:
        self.directory = directory if directory is not None else default_directory()
        self._root = str(self.directory)
        self.max_bytes = max_bytes
        self.background = background
        self.hits = 0  # entries served from disk, for tests and benchmarks
        self.writes = 0  # files written
        self._pending: dict[str, tuple[Signature, Entries]] = {}  # path -> what its file should gain (not yet written)
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._pruned = False

    def file_for(self, path: str) -> str:
        name = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        return os.path.join(self._root, name[:2], name[2:] + ".red")

    def entries(self, path: str, sig: Signature) -> Entries:
        """Every reduction kept for this file version (read-only; {} when none): one read for several entries."""
        if sig == MISSING:
            return {}
        with self._lock:
            pending = self._pending.get(path)
            if pending is not None and pending[0] == sig:
                return dict(pending[1])
        return self._load(path, sig)

    def get(self, path: str, sig: Signature, entry: Any) -> Any | None:
        """The reduction ``entry`` of the metric file at ``path`` while its signature is ``sig``; None when not kept."""
        if sig == MISSING:
            return None
        with self._lock:
            pending = self._pending.get(path)
            if pending is not None and pending[0] == sig and entry in pending[1]:
                return pending[1][entry]
        value = self._load(path, sig).get(entry)
        if value is not None:
            with self._lock:
                self.hits += 1
        return value

    def put(self, path: str, sig: Signature, entry: Any, value: Any) -> None:
        """Keep ``value`` (plain data marshal can write) as ``entry`` of this file version; written in the background."""
        if sig == MISSING:
            return
        with self._lock:
            pending = self._pending.get(path)
            if pending is not None and pending[0] == sig:
                pending[1][entry] = value
                return
            if len(self._pending) >= MAX_PENDING:
                return
            self._pending[path] = (sig, {entry: value})
        if not self.background:
            self._write(path)
            return
        self._start_writer()
        self._queue.put(path)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued write has landed (tests, shutdown), at most ``timeout`` seconds; whether they did."""
        if self._writer is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    # ------------------------------------------------------------------ files

    def _load(self, path: str, sig: Signature) -> Entries:
        """The entries kept for (path, sig); {} for a missing, stale, foreign or damaged file."""
        try:
            with open(self.file_for(path), "rb") as handle:
                raw = handle.read()
        except (OSError, ValueError):
            return {}
        head = len(MAGIC) + DIGEST_BYTES
        if len(raw) <= head or not raw.startswith(MAGIC):
            return {}
        body = raw[head:]
        if hashlib.blake2b(body, digest_size=DIGEST_BYTES).digest() != raw[len(MAGIC) : head]:
            return {}
        try:
            loaded = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            return {}
        if not (isinstance(loaded, tuple) and len(loaded) == 5):
            return {}
        fmt, digest, kept_path, kept_sig, entries = loaded
        if fmt != FORMAT or digest != code_digest() or kept_path != path or tuple(kept_sig) != tuple(sig):
            return {}
        return entries if isinstance(entries, dict) else {}

    def _write(self, path: str) -> None:
        with self._lock:
            pending = self._pending.get(path)
        if pending is None:
            return
        sig, entries = pending
        merged = dict(self._load(path, sig))  # what another request or process kept for the same version
        with self._lock:
            for newer in entries:  # moved to the end: the newest written are the last dropped
                merged.pop(newer, None)
            merged.update(entries)
            if self._pending.get(path) is pending:
                del self._pending[path]
        for old in list(merged)[: max(0, len(merged) - MAX_ENTRIES)]:
            del merged[old]
        body = marshal.dumps((FORMAT, code_digest(), path, tuple(sig), merged))
        target = self.file_for(path)
        try:
            write_private(target, MAGIC, hashlib.blake2b(body, digest_size=DIGEST_BYTES).digest(), body)
        except (OSError, ValueError):
            return  # a full or read-only cache directory: the reductions are simply not kept
        with self._lock:
            self.writes += 1

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is not None:
                return
            self._writer = threading.Thread(target=self._write_forever, name="mlscope-history-store", daemon=True)
        self._writer.start()

    def _write_forever(self) -> None:
        if not self._pruned:
            self._pruned = True
            self.prune()
        while True:
            path = self._queue.get()
            try:
                if path is not None:
                    self._write(path)
            except Exception:  # noqa: BLE001 - a failed write only loses a cached reduction
                pass
            finally:
                self._queue.task_done()

    def prune(self) -> int:
        """Remove the least recently written files beyond ``max_bytes``; returns how many were removed."""
        files: list[tuple[int, int, str]] = []
        try:
            shards = list(os.scandir(self.directory))
        except OSError:
            return 0
        for shard in shards:
            if not shard.is_dir(follow_symlinks=False):
                continue
            try:
                for item in os.scandir(shard.path):
                    if item.name.endswith(".red"):
                        st = item.stat(follow_symlinks=False)
                        files.append((st.st_mtime_ns, st.st_size, item.path))
            except OSError:
                continue
        total = sum(size for _, size, _ in files)
        removed = 0
        for _, size, name in sorted(files):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(name)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed
