"""Building an index in a background thread, started once.

``mlscope ui`` starts the build before it imports the server stack (a third
of a second of imports the reader processes and the snapshot load overlap);
the app's start-up calls the same function, which then does nothing.
"""

from __future__ import annotations

import gc
import threading
import weakref

from ..store.interface import RunSource

_started: weakref.WeakSet[RunSource] = weakref.WeakSet()
_lock = threading.Lock()


def build_in_background(index: RunSource) -> None:
    """Start the index's build in a daemon thread unless it was started already."""
    with _lock:
        if index in _started:
            return
        _started.add(index)
    threading.Thread(target=_build, args=(index,), name="mlscope-index-build", daemon=True).start()


def _build(index: RunSource) -> None:
    """Build the index, then take its objects out of the garbage collector's sight.

    10,000 runs are millions of long-lived objects; without gc.freeze() every
    full collection walks them all and stalls requests for hundreds of ms.
    """
    index.build()
    gc.collect()
    gc.freeze()
