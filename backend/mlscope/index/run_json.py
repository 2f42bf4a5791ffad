"""Runs as pre-serialized JSON, kept until the run changes: a big page is a join of bytes.

MLflow's clients fetch runs 1,000 per call (``mlflow.search_runs``,
``MlflowClient.search_runs``); building and encoding each run's proto-JSON
dict took most of such a page's time. Here each run is encoded once and the
server splices the bytes into the response.

The index never changes a ``Run``: it replaces the object whenever anything in
the run changes (params, tags, metrics, status...). So the object itself is the
version key: a cached encoding is used only while it belongs to the very same
``Run`` object, which the entry holds (an id could be reused). Memory is
bounded by total bytes, least recently used first (at 10,000 runs everything, ~25 MB,
fits; at 100,000 the older pages are encoded again when asked for).

The REST shape is not decided here: the server passes its shaping function.
The encoding is what Starlette's JSONResponse writes (compact, UTF-8, no NaN:
the shapes already spell non-finite floats as strings).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from ..store.model import Run

DEFAULT_MAX_BYTES = 32 << 20  # every run of a 10,000-run tree (~2.5 KB each); a bounded share at 100,000

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode


class RunJsonCache:
    """One run's JSON bytes by run id, valid while the index holds the same Run object."""

    def __init__(self, shape: Callable[[Run], dict[str, Any]], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.shape = shape
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[Run, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.encodes = 0  # runs encoded (for tests and benchmarks)

    @property
    def size(self) -> int:
        return self._bytes

    def encoded(self, run: Run) -> bytes:
        return self.encoded_many([run])[0]

    def encoded_many(self, runs: Iterable[Run]) -> list[bytes]:
        """Each run's JSON, from the cache where the run did not change since it was encoded."""
        runs = list(runs)
        found: list[bytes | None] = []
        with self._lock:
            entries = self._entries
            for run in runs:
                entry = entries.get(run.info.run_id)
                if entry is not None and entry[0] is run:
                    entries.move_to_end(run.info.run_id)
                    found.append(entry[1])
                else:
                    found.append(None)
        missing = [i for i, data in enumerate(found) if data is None]
        if not missing:
            return found  # type: ignore[return-value]
        fresh = [(runs[i], _encode(self.shape(runs[i])).encode()) for i in missing]
        with self._lock:
            for (run, data), i in zip(fresh, missing, strict=True):
                found[i] = data
                old = self._entries.pop(run.info.run_id, None)
                if old is not None:
                    self._bytes -= len(old[1])
                self._entries[run.info.run_id] = (run, data)
                self._bytes += len(data)
            self.encodes += len(fresh)
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
        return found  # type: ignore[return-value]


def json_list(parts: list[bytes]) -> bytes:
    """A JSON array of already-encoded values."""
    return b"[" + b",".join(parts) + b"]"
